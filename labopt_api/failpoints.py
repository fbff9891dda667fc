"""Failpoints: a deliberate stop at a named place, to test what a killed server leaves behind.

``LABOPT_FAILPOINTS`` lists ``name=action`` items, comma-separated; actions:

- ``exit``: the process ends at once (``os._exit``), as if killed;
- ``pause:<file>``: the marker file is created, then the request waits (for up to an hour), so
  that a test can kill the server at exactly that point;
- ``raise``: a RuntimeError naming the failpoint, as a fault of labopt would.

Unset (always, outside tests), a failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def _actions() -> dict[str, str]:
    items = (i.strip() for i in os.environ.get("LABOPT_FAILPOINTS", "").split(","))
    return dict(i.split("=", 1) for i in items if "=" in i)


def failpoint(name: str) -> None:
    action = _actions().get(name)
    if action is None:
        return
    if action == "exit":
        os._exit(137)
    if action == "raise":
        raise RuntimeError(f"failpoint {name}: a deliberate fault")
    if action.startswith("pause:"):
        Path(action[len("pause:") :]).touch()
        time.sleep(3600)
