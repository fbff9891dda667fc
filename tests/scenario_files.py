"""Scenario folders for tests: the tiny test scenario copied to a temporary folder, edited in
place."""

from __future__ import annotations

import shutil
from pathlib import Path

from labopt.examples import EXAMPLES

TINY = Path(__file__).parent / "data" / "tiny"
FIXTURES = EXAMPLES


def copy_tiny(tmp_path: Path) -> Path:
    """A copy of the tiny scenario folder in ``tmp_path``."""
    dst = tmp_path / "tiny"
    shutil.copytree(TINY, dst)
    return dst


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in the text file ``path`` by ``new`` (``old`` must be there)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
