"""The documentation: the site builds strictly, its generated CLI reference lists every command,
every relative link resolves, the README stays short and quotes CI's test command, and the JSON
output page matches what the commands print."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer.main
from typer.testing import CliRunner

from labopt.cli.main import app
from labopt.examples import EXAMPLES

TINY = Path(__file__).parent / "data" / "tiny"

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return out


def visible_commands() -> list[str]:
    """Full names of the app's commands as `labopt --help` shows them (hidden ones left out)."""
    root = typer.main.get_command(app)
    found = []

    def walk(command: Any, ctx: Any) -> None:
        found.append(ctx.command_path)
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, sub.context_class(sub, info_name=name, parent=ctx))

    walk(root, root.context_class(root, info_name="labopt"))
    return found


def test_site_builds_strictly_and_offline(site):
    pages = list(site.rglob("*.html"))
    assert len(pages) > 15
    for page in pages:
        text = page.read_text(encoding="utf-8")
        # no web fonts, no scripts or styles from elsewhere: the site works without a network
        assert "fonts.googleapis" not in text, page
        assert not re.search(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", text), page


def test_cli_reference_lists_every_command(site):
    html = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    commands = visible_commands()
    assert len(commands) > 10
    for path in commands:
        assert f"<code>{path}</code>" in html, f"{path} is missing from the CLI reference"


def test_openapi_page_lists_every_operation(site):
    from labopt_api.main import create_app
    from labopt_api.settings import ServiceSettings

    html = (site / "reference" / "openapi" / "index.html").read_text(encoding="utf-8")
    spec = create_app(ServiceSettings()).openapi()
    for path, operations in spec["paths"].items():
        for op in operations.values():
            assert f"<code>{op['operationId']}</code>" in html, (path, op["operationId"])


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines; move detail to docs/"


def test_readme_test_command_is_the_one_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [
        line.strip() for line in ci if "pytest" in line and not line.lstrip().startswith("#")
    ]
    assert len(commands) == 1, commands
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert commands[0] in [line.strip() for line in readme]


def markdown_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "labopt/examples/README.md"]
    return files + sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        file = target.split("#", 1)[0]
        assert (path.parent / file).exists(), f"{path.relative_to(ROOT)}: {target} not found"


# ---------------------------------------------------------------------------- JSON output


def documented_keys() -> dict[str, list[str]]:
    """Per command of docs/reference/json-output.md, the keys in its tables' first column."""
    text = (DOCS / "reference" / "json-output.md").read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        title, _, body = section.partition("\n")
        keys = re.findall(r"^\| `([^`]+)` \|", body, flags=re.M)
        out[title.strip().strip("`")] = keys
    return out


def resolves(data: Any, path: str) -> bool:
    """Whether a documented key path (`a`, `a.b`, `a[].b`) exists in the output."""
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        items = data.get(head[:-2])
        return (
            isinstance(items, list)
            and len(items) > 0
            and all(resolves(item, rest) for item in items if isinstance(item, dict))
        )
    if not isinstance(data, dict) or head not in data:
        return False
    return resolves(data[head], rest) if rest else True


def lab_group() -> str:
    """The lab workflow's command group: `batch`, or `pools` before it was renamed."""
    names = typer.main.get_command(app).list_commands(None)  # type: ignore[arg-type]
    return "batch" if "batch" in names else "pools"


def run_json(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    result = CliRunner().invoke(app, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def run_ok(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Each documented command's real --json output, on small inputs."""
    tmp = tmp_path_factory.mktemp("json")
    thanh_hoa = str(EXAMPLES / "thanh_hoa")
    # its week with a smaller store: shipments, labs still running dry, what it takes
    short = tmp / "thanh_hoa_short"
    shutil.copytree(EXAMPLES / "thanh_hoa", short)
    stores = short / "stores.csv"
    stores.write_text(stores.read_text(encoding="utf-8").replace("20000", "3000"), "utf-8")
    samples = tmp / "samples.csv"
    samples.write_text(
        "sample_id,district,stream\n" + "".join(f"s{i},a,screening\n" for i in range(40)),
        encoding="utf-8",
    )
    group = lab_group()
    made = run_json([group, "make", str(samples), "-a", "D2", "-c", "10", "--out", str(tmp / "b")])
    # the first run's results: the first pool positive, the positive control positive
    with open(tmp / "b" / "results_template.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        positive = row["pool_id"] == "P0001" or row["content"] == "positive_control"
        row["result"] = "positive" if positive else "negative"
    with open(tmp / "results.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    decoded = run_json([group, "decode", str(tmp / "b"), str(tmp / "results.csv")])
    # a workspace of the tiny fixture: its first day planned, the labs test 90 % of it
    ws = tmp / "ws"
    run_ok(["day", "init", str(ws), "--from", str(TINY)])
    day_plan = run_json(["day", "plan", str(ws), "--date", "2021-10-04", "--days", "2"])
    planned = pd.read_csv(ws / "plans" / "2021-10-04" / "planned.csv")
    tested = planned.assign(samples=(planned["samples"] * 0.9).astype(int))
    tested[["lab", "district", "stream", "samples"]].to_csv(tmp / "tested.csv", index=False)
    run_ok(["day", "record", str(ws), "tested", str(tmp / "tested.csv"), "--date", "2021-10-04"])
    return {
        "labopt plan": run_json(["plan", str(short), "--compare"]),
        "labopt capacity": run_json(["capacity", thanh_hoa, "--day", "4"]),
        "labopt pool evaluate": run_json(
            ["pool", "evaluate", "-a", "D3", "-c", "12:4,4,4", "-p", "0.01"]
        ),
        "labopt pool optimize": run_json(["pool", "optimize", "-p", "0.01", "--max-size", "16"]),
        "labopt pool simulate": run_json(
            ["pool", "simulate", "-a", "D2", "-c", "10", "-p", "0.01", "--samples", "10000"]
        ),
        "labopt batch make": made,
        "labopt batch decode": decoded,
        "labopt estimate": run_json(["estimate", str(tmp / "b")]),
        "labopt day plan": day_plan,
        "labopt day history": run_json(["day", "history", str(ws), "--until", "2021-10-04"]),
        "labopt apikey create": run_json(
            ["apikey", "create", "--role", "admin"],
            env={"LABOPT_DATABASE_URL": f"sqlite:///{tmp / 'keys.db'}"},
        ),
    }


# a section that documents only what it adds to another command's keys
EXTENDS = {"labopt batch decode": "labopt batch make"}


def test_json_page_documents_every_command(outputs):
    assert set(documented_keys()) == set(outputs)


@pytest.mark.parametrize("command", sorted(documented_keys()))
def test_json_output_matches_the_page(outputs, command):
    docs = documented_keys()
    keys = docs[command] + docs.get(EXTENDS.get(command, ""), [])
    data = outputs[command]
    top = {k.split(".")[0].removesuffix("[]") for k in keys}
    assert set(data) - top == set(), f"{command} prints keys docs/reference/json-output.md lacks"
    missing = [k for k in keys if not resolves(data, k)]
    assert not missing, f"{command}: documented keys not in the output: {missing}"
