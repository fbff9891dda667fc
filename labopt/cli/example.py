"""`labopt example`: list the example scenarios shipped with labopt, or copy one out."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from labopt.cli.common import Force, console, reports_errors, starting_point_folder
from labopt.errors import InputError
from labopt.examples import EXAMPLES, names
from labopt.files import write_output_folder


@reports_errors
def example(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME", help="the example to copy (labopt example --list names them)"
        ),
    ] = None,
    folder: Annotated[
        Path | None, typer.Argument(metavar="DIR", help="folder to write (new or empty)")
    ] = None,
    list_names: Annotated[
        bool, typer.Option("--list", help="list the examples, one line each (as with no NAME)")
    ] = False,
    force: Force = False,
) -> None:
    """Copy an example scenario shipped with labopt into DIR, to plan it or to start from;
    with no NAME (or --list), list the examples. A folder labopt wrote before is replaced
    only with --force (it may hold edits)."""
    known = names()
    if list_names or name is None:
        width = max(map(len, known), default=0)
        for n in known:
            typer.echo(f"{n:<{width}}  {describe(n)}")
        return
    if name not in known:
        raise InputError(
            f"NAME: no example named {name!r}; the examples are: {', '.join(known)}", "NAME"
        )
    if folder is None:
        raise InputError(f"DIR: missing: the folder to copy {name} into", "DIR")
    source = EXAMPLES / name
    starting_point_folder(folder, "DIR", force)
    files = write_output_folder(
        folder, _copies(source), force=force, what="DIR", kind="scenario", reads=[source]
    )
    console.print(
        f"wrote {folder}/: {', '.join(sorted(f.name for f in files))}\n"
        f"Plan it with `labopt plan {folder}`; its README.md says where the numbers come from.",
        highlight=False,
        markup=False,
    )


def describe(name: str) -> str:
    """One line about an example: the title of its README.md without the leading
    "Fixture `name`: " (or the name when there is no title)."""
    try:
        first = (EXAMPLES / name / "README.md").read_text(encoding="utf-8").partition("\n")[0]
    except OSError:
        return name
    title = first.lstrip("#").strip()
    return re.sub(r"^\w+ `[^`]*`:\s*", "", title) or name


def _copies(source: Path) -> dict[str, Callable[[Path], None]]:
    """A writer per file of the example folder (relative path -> copy it to the path)."""
    files: dict[str, Callable[[Path], None]] = {}
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not any(p.startswith((".", "_")) for p in rel.parts):
            files[rel.as_posix()] = _copier(path)
    return files


def _copier(source: Path) -> Callable[[Path], None]:
    def copy(target: Path) -> None:
        shutil.copyfile(source, target)

    return copy
