"""Packaging: what the sdist and the wheel hold, and the configuration that decides it.

The tests here build only the sdist (no compiler: seconds) from a copy of the source tree, and
read the wheel's package data from setuptools' build_py. The full check (sdist and wheel built,
the wheel installed into a fresh environment outside the repository, an example planned there)
is .ci/package-check, which also runs this file as a script on the files it built:

    python tests/test_packaging.py dist/labopt-X.tar.gz dist/labopt-X-*.whl
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KERNELS = sorted(p.stem for p in (ROOT / "ext").glob("*.pyx"))
# build outputs and caches a copy of the tree leaves behind
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", "*.so", "*.pyd", "*.o", "*.c", "__pycache__", "build", "dist", "*.egg-info",
    ".pytest_cache", ".hypothesis", ".benchmarks", ".venv",
)  # fmt: skip


def _data_files() -> list[str]:
    """Package data every distribution must hold: the examples, migrations, static assets."""
    files = []
    for folder in ("labopt/examples", "labopt_api/migrations", "labopt_api/static"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.append(path.relative_to(ROOT).as_posix())
    return files


def sdist_problems(names: list[str]) -> list[str]:
    """What is wrong with an sdist's member names (the top folder stripped); [] if nothing."""
    have = set(names)
    required = ["README.md", "LICENSE", "CHANGELOG.md", "pyproject.toml", "setup.py"]
    required += [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "ext").glob("*.p[xy][xd]"))]
    required += _data_files()
    problems = [f"missing {name}" for name in required if name not in have]
    for name in sorted(have):
        if re.search(r"\.(c|cpp|so|pyd|o|pyc)$", name):
            problems.append(f"generated file {name}")
    return problems


def wheel_problems(names: list[str]) -> list[str]:
    """What is wrong with a wheel's member names; [] if nothing."""
    have = set(names)
    problems = [f"missing {name}" for name in _data_files() if name not in have]
    for kernel in KERNELS:
        if not any(re.fullmatch(rf"labopt/{kernel}\..*\.(so|pyd)", n) for n in have):
            problems.append(f"missing the compiled kernel labopt.{kernel}")
    if not any(re.fullmatch(r"labopt-[^/]+\.dist-info/licenses/LICENSE", n) for n in have):
        problems.append("missing the licence file in .dist-info/licenses")
    for name in sorted(have):
        if name.startswith("ext/") or re.search(r"\.(pyx|pxd|c)$", name):
            problems.append(f"source file {name}")
    return problems


def sdist_names(path: Path) -> list[str]:
    """Member names of an sdist, without the top folder (labopt-X/)."""
    with tarfile.open(path) as tar:
        return [m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile() and "/" in m.name]


def wheel_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as whl:
        return [n for n in whl.namelist() if not n.endswith("/")]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _version_literals(path: Path) -> list[str]:
    """String literals assigned to __version__ at the top level of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and [getattr(t, "id", None) for t in node.targets] == ["__version__"]
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]


def test_the_version_is_defined_once_as_a_literal_setuptools_reads():
    config = _pyproject()
    assert "version" not in config["project"] and config["project"]["dynamic"] == ["version"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "labopt.__version__"}
    found = {
        path.relative_to(ROOT).as_posix(): literals
        for package in ("labopt", "labopt_api")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (literals := _version_literals(path))
    }
    assert list(found) == ["labopt/__init__.py"], found
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", found["labopt/__init__.py"][0])


def test_the_licence_is_an_spdx_string_with_its_text_shipped():
    config = _pyproject()
    assert config["project"]["license"] == "MIT"
    assert config["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "labopt contributors" in text
    # SPDX licence strings need setuptools 77 (PEP 639)
    requires = config["build-system"]["requires"]
    assert "setuptools>=77" in requires and "Cython>=3.0.10" in requires


def test_the_manifest_ships_cython_sources_and_not_generated_c():
    lines = (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
    assert "include ext/*.pyx ext/*.pxd" in lines and "exclude ext/*.c" in lines


def test_the_checks_see_a_missing_kernel_source_and_a_generated_file():
    good = sdist_problems(
        ["README.md", "LICENSE", "CHANGELOG.md", "pyproject.toml", "setup.py"]
        + [f"ext/{p.name}" for p in (ROOT / "ext").glob("*.p[xy][xd]")]
        + _data_files()
    )
    assert good == []
    bad = sdist_problems(["README.md", "ext/_search.c", *_data_files()])
    assert "missing ext/_search.pyx" in bad and "generated file ext/_search.c" in bad
    assert "missing the compiled kernel labopt._search" in wheel_problems(_data_files())


@pytest.mark.skipif(
    importlib.util.find_spec("build") is None or importlib.util.find_spec("Cython") is None,
    reason="needs the test extras' build and Cython",
)
def test_an_sdist_built_from_the_tree_holds_the_sources_and_the_data(tmp_path):
    """Builds the sdist (no compiler) from a copy of the tree, so the repository stays as it
    is; then setuptools' build_py in the same copy lists the wheel's Python part."""
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=_NOT_SOURCE)
    out = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", "dist", "."],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    (sdist,) = (src / "dist").glob("labopt-*.tar.gz")
    assert sdist_problems(sdist_names(sdist)) == []
    assert not any(n.startswith(("tests/", "benches/")) for n in sdist_names(sdist))

    out = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "-d", str(tmp_path / "wheel")],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    built = tmp_path / "wheel"
    names = [p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()]
    assert [p for p in wheel_problems(names) if not p.startswith("missing the")] == []


def main(argv: list[str]) -> int:
    """Check a built sdist and wheel; print what is wrong and return 1, else 0."""
    sdist, wheel = (Path(a) for a in argv)
    problems = [f"{sdist.name}: {p}" for p in sdist_problems(sdist_names(sdist))]
    problems += [f"{wheel.name}: {p}" for p in wheel_problems(wheel_names(wheel))]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
