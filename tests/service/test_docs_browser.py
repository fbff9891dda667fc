"""/docs and /redoc in a real headless Chromium with every non-local request blocked: the
pages load only the service's packaged assets and list the operations."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from PIL import Image

from tests.service.live import LiveServer, local_only_page


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("docs") / "labopt.db"
    s = LiveServer(f"sqlite:///{db}").start()
    yield s
    s.stop()


def test_the_documentation_assets_are_in_the_package():
    static = resources.files("labopt_api") / "static"
    for name in (
        "swagger-ui/swagger-ui-bundle.js",
        "swagger-ui/swagger-ui.css",
        "swagger-ui/favicon-32x32.png",
        "swagger-ui/LICENSE",
        "redoc/LICENSE",
        "redoc/redoc.standalone.js",
        "README.md",
    ):
        assert (static / name).is_file(), name
        assert (static / name).read_bytes(), name


def test_a_built_package_ships_the_documentation_assets_and_the_pages(tmp_path):
    """What ``pip install .`` copies (setuptools' build_py: packages and package_data) holds
    every asset the documentation pages and the web app's pages load, and every template of
    the pages, byte for byte: `labopt serve` from an installed package serves the same."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "-d", str(tmp_path)],
        cwd=root,
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    package = root / "labopt_api"
    files = sorted(
        p.relative_to(package)
        for folder in ("static", "web/templates")
        for p in (package / folder).rglob("*")
        if p.is_file()
    )
    assert len(files) >= 15 and Path("static/web/app.css") in files
    for rel in files:
        built = tmp_path / "labopt_api" / rel
        assert built.is_file() and built.read_bytes() == (package / rel).read_bytes(), rel


def _open(browser, url: str):
    """A page where anything not served by 127.0.0.1 is aborted (and remembered)."""
    page, blocked, errors = local_only_page(browser)
    page.goto(url)
    return page, blocked, errors


def _not_blank(page, path) -> int:
    page.screenshot(path=str(path), full_page=False)
    colours = Image.open(path).convert("RGB").getcolors(maxcolors=1_000_000)
    return len(colours)


@pytest.mark.parametrize(
    "where,operation",
    [
        ("/docs", "Create a scenario from JSON"),  # an operation's summary, as listed
        ("/redoc", "Create a scenario from JSON"),
    ],
)
def test_docs_work_offline_in_chromium(browser, server, tmp_path, where, operation):
    page, blocked, errors = _open(browser, server.url + where)
    page.get_by_text(operation).filter(visible=True).first.wait_for(timeout=30_000)
    page.get_by_text("/v1/plans").first.wait_for(state="attached", timeout=30_000)
    assert blocked == []
    # the page's policy refuses nothing of its own; Redoc's sidebar logo, which its bundle
    # always fetches from cdn.redoc.ly, is refused by it (and the image hidden)
    refused = [e for e in errors if "Content Security Policy" in e]
    allowed = ["https://cdn.redoc.ly/redoc/logo-mini.svg"] if where == "/redoc" else []
    assert [e for e in refused if not any(url in e for url in allowed)] == [], refused
    shot = tmp_path / f"{where.strip('/')}.png"
    assert _not_blank(page, shot) > 20, f"{shot} looks blank"
    page.close()
