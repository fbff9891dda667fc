"""Entry point of the `labopt` command."""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from labopt import __version__
from labopt.cli import day, example, lab, plan, pool, scenario, screen, service

app = typer.Typer(
    help="labopt: RT-PCR testing capacity and sample pooling for a province's lab network.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(pool.app, name="pool")
app.add_typer(scenario.app, name="scenario")
app.command("capacity")(scenario.capacity)
app.command("synth")(scenario.synth)
app.command("example")(example.example)
app.command("plan")(plan.plan)
app.command("serve")(service.serve)
app.add_typer(lab.app, name="batch")
# the lab workflow's old name (one letter from `pool`): hidden, kept for one release
app.add_typer(lab.app, name="pools", hidden=True, callback=lab.old_name)
app.command("estimate")(lab.estimate)
app.add_typer(service.app, name="apikey")
app.add_typer(day.app, name="day")
app.add_typer(screen.app, name="screen")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"labopt {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="show the version")
    ] = False,
) -> None:
    """labopt command line."""
    # a command runs once and ends: the modules just imported stay (frozen, the collector
    # skips them), and its many long-lived objects are scanned less often
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


if __name__ == "__main__":
    app()
