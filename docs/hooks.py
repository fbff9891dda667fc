"""MkDocs hook: pages generated from the code at build time, so they cannot drift from it.

A page holds a marker such as ``<!-- generated: cli -->``; the marker is replaced by the text
the matching function below returns:

- ``cli``: every command of the Typer app (``labopt.cli.main.app``), its usage, arguments and
  options, from click's own help records;
- ``openapi``: every operation of the service (``labopt_api.main.create_app``), from its OpenAPI
  schema, as Markdown tables (no script, no CDN);
- ``service-settings``: the service's ``LABOPT_*`` settings, from ``ServiceSettings``;
- ``examples``: the example scenarios' READMEs (``labopt/examples/*/README.md``);
- ``benchmarks``: ``BENCHMARKS.md`` at the repository root, as ``python -m benches.report``
  writes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer.main

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<!-- generated: ([a-z-]+) -->")
# a Markdown link whose target is neither a web address nor an anchor of the same page
RELATIVE_LINK = re.compile(r"\[([^\]]+)\]\((?!https?://|#|mailto:)([^)]+)\)")


def cell(text: object) -> str:
    """Text fit for one cell of a Markdown table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def paragraphs(text: str) -> str:
    """A docstring's paragraphs, each on one line (click's \\b markers dropped)."""
    parts = [" ".join(p.replace("\b", "").split()) for p in re.split(r"\n\s*\n", text or "")]
    return "\n\n".join(p for p in parts if p)


# ----------------------------------------------------------------------------------- the CLI


# Typer ships its own copy of click, so commands are recognised by what they do (a group lists
# commands), not by click's classes


def subcommands(command: Any, ctx: Any) -> list[tuple[str, Any, Any]]:
    """(name, command, context) of each command of a group, in --help's order."""
    if not hasattr(command, "list_commands"):
        return []
    out = []
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        if sub is not None:
            out.append((name, sub, sub.context_class(sub, info_name=name, parent=ctx)))
    return out


def walk_commands(command: Any, ctx: Any) -> list[tuple[Any, Any]]:
    """The command and every visible command below it, depth first, in --help's order."""
    out = [(command, ctx)]
    for _name, sub, sub_ctx in subcommands(command, ctx):
        if not sub.hidden:
            out += walk_commands(sub, sub_ctx)
    return out


def hidden_commands(command: Any, ctx: Any) -> list[str]:
    """Full names of hidden commands (aliases kept for a release), anywhere in the tree."""
    out = []
    for _name, sub, sub_ctx in subcommands(command, ctx):
        if sub.hidden:
            out.append(sub_ctx.command_path)
        else:
            out += hidden_commands(sub, sub_ctx)
    return out


def cli_reference() -> str:
    from labopt.cli.main import app

    root = typer.main.get_command(app)
    root_ctx = root.context_class(root, info_name="labopt")
    lines = []
    for command, ctx in walk_commands(root, root_ctx):
        path = ctx.command_path
        depth = path.count(" ")
        lines.append(f"{'#' * min(depth + 2, 6)} `{path}`\n")
        if command.help:
            lines.append(paragraphs(command.help) + "\n")
        usage = " ".join(command.collect_usage_pieces(ctx))
        lines.append(f"```text\n{path} {usage}\n```\n")
        args, opts = [], []
        for param in command.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                args.append(record)
            elif not param.name or not param.name.endswith("_completion"):
                opts.append(record)
        for title, records in (("argument", args), ("option", opts)):
            if records:
                lines.append(f"| {title} | meaning |\n|---|---|")
                lines += [f"| `{cell(name)}` | {cell(text)} |" for name, text in records]
                lines.append("")
        subs = [(name, sub) for name, sub, _ in subcommands(command, ctx) if not sub.hidden]
        if subs:
            lines.append("| command | what it does |\n|---|---|")
            lines += [
                f"| `{path} {name}` | {cell(sub.get_short_help_str(limit=200))} |"
                for name, sub in subs
            ]
            lines.append("")
    hidden = hidden_commands(root, root_ctx)
    if hidden:
        lines.append("## Hidden commands\n")
        lines.append(
            "Kept so that older scripts keep working, not shown by `--help`: "
            + ", ".join(f"`{h}`" for h in hidden)
            + ".\n"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------ the service


def schema_name(schema: dict[str, Any]) -> str:
    """A short name for a request or response schema: its component, or its type."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "items" in schema:
        return f"list of {schema_name(schema['items'])}"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(schema_name(s) for s in schema[key])
    return str(schema.get("type", "any"))


def openapi_reference() -> str:
    from labopt_api.main import create_app
    from labopt_api.settings import ServiceSettings

    spec = create_app(ServiceSettings()).openapi()
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((method, path, op))
    lines = [
        f"Version {spec['info']['version']} of the schema "
        f"(OpenAPI {spec['openapi']}): {len(spec['paths'])} paths.\n"
    ]
    for tag, ops in by_tag.items():
        lines.append(f"## {tag}\n")
        lines.append("| method | path | operation id | what it does |\n|---|---|---|---|")
        for method, path, op in ops:
            lines.append(
                f"| {method.upper()} | `{path}` | `{op.get('operationId', '')}` "
                f"| {cell(op.get('summary', ''))} |"
            )
        lines.append("")
        for method, path, op in ops:
            lines.append(f"### {method.upper()} `{path}`\n")
            if op.get("description"):
                lines.append(paragraphs(op["description"]) + "\n")
            params = op.get("parameters", [])
            if params:
                lines.append("| parameter | in | required | type | meaning |")
                lines.append("|---|---|---|---|---|")
                for p in params:
                    lines.append(
                        f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'} "
                        f"| {cell(schema_name(p.get('schema', {})))} "
                        f"| {cell(p.get('description', ''))} |"
                    )
                lines.append("")
            body = op.get("requestBody", {}).get("content", {})
            if body:
                kinds = ", ".join(
                    f"`{media}` ({schema_name(c.get('schema', {}))})" for media, c in body.items()
                )
                lines.append(f"Body: {kinds}.\n")
            ok = [c for c in op.get("responses", {}) if c.startswith("2")]
            for code in ok:
                content = op["responses"][code].get("content", {})
                media = next(iter(content.items()), None)
                what = f" `{media[0]}` ({schema_name(media[1].get('schema', {}))})" if media else ""
                lines.append(f"Answer: {code}{what}.\n")
    return "\n".join(lines)


def service_settings() -> str:
    from labopt_api.settings import ServiceSettings

    prefix = ServiceSettings.model_config.get("env_prefix", "")
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in ServiceSettings.model_fields.items():
        lines.append(
            f"| `{prefix}{name.upper()}` | `{field.default}` | {cell(field.description or '')} |"
        )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------- files of the repository


def unlink_relative(text: str, rewrite: Callable[[str], str | None] = lambda t: None) -> str:
    """Links into the repository made page anchors (``rewrite``) or plain text: the site holds
    only the docs folder, and a link out of it would break the strict build."""

    def replace(m: re.Match[str]) -> str:
        target = rewrite(m.group(2))
        return f"[{m.group(1)}]({target})" if target else f"{m.group(1)} (`{m.group(2)}`)"

    return RELATIVE_LINK.sub(replace, text)


def demote(text: str, levels: int) -> str:
    """Markdown headings moved ``levels`` deeper (outside fenced code)."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"#{1,6} ", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out)


def examples() -> str:
    folder = ROOT / "labopt" / "examples"
    names = sorted(p.parent.name for p in folder.glob("*/README.md"))

    def to_anchor(target: str) -> str | None:
        m = re.fullmatch(r"\.\./([a-z_]+)/README\.md", target)
        return f"#{m.group(1)}" if m and m.group(1) in names else None

    parts = []
    for name in names:
        text = (folder / name / "README.md").read_text(encoding="utf-8")
        title, _, body = text.partition("\n")
        # "Fixture `name`: what it is" in the README; the page names the example once
        title = re.sub(r"^(Fixture|Example) `\w+`: ", "", title.lstrip("# ").strip())
        parts.append(
            f"## `{name}`: {title} {{#{name}}}\n\n`labopt example {name} DIR` copies it out.\n"
        )
        parts.append(demote(unlink_relative(body, to_anchor), 1) + "\n")
    return "\n".join(parts)


def benchmarks() -> str:
    path = ROOT / "BENCHMARKS.md"
    if not path.exists():
        return (
            "!!! note\n    `BENCHMARKS.md` has not been generated in this checkout: "
            "run the benchmarks, then `python -m benches.report`.\n"
        )
    text = path.read_text(encoding="utf-8")
    # the file's own title is the page's
    if text.startswith("# "):
        text = text.partition("\n")[2]
    return demote(unlink_relative(text), 1) + "\n"


GENERATORS: dict[str, Callable[[], str]] = {
    "cli": cli_reference,
    "openapi": openapi_reference,
    "service-settings": service_settings,
    "examples": examples,
    "benchmarks": benchmarks,
}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in GENERATORS:
            raise ValueError(f"{page.file.src_path}: no generator named {name!r}")
        return GENERATORS[name]()

    return MARKER.sub(replace, markdown)
