"""Example province scenarios shipped with labopt (one folder each; see README.md here)."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).parent


def names() -> list[str]:
    """The example scenarios' names, sorted: the folders of this package with a scenario.toml."""
    return sorted(
        p.name
        for p in EXAMPLES.iterdir()
        if p.is_dir() and not p.name.startswith(("_", ".")) and (p / "scenario.toml").is_file()
    )
