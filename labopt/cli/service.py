"""`labopt serve` and `labopt apikey ...`: run the coordinator service, manage its keys.

The service (labopt_api, FastAPI, SQLAlchemy, uvicorn) is imported inside these commands only:
every other command starts without loading it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Annotated

import typer

from labopt.cli.common import Json, console, print_json, reports_errors

app = typer.Typer(help="API keys of the coordinator service (stored hashed).", no_args_is_help=True)

DbUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="default: $LABOPT_DATABASE_URL, else sqlite:///labopt.db"),
]


def _db(url: str | None):
    from labopt_api.db import Database, migrate
    from labopt_api.settings import get_settings

    db = Database(url or get_settings().database_url)
    migrate(db.engine)
    return db


# a worker answers the supervisor's pings between its own work: on a loaded machine, loading
# the libraries or a long request can keep it from answering within uvicorn's 5 s, and a
# worker that does not answer is killed and replaced, for ever
WORKER_HEALTHCHECK_SECONDS = 60


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@reports_errors
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int | None, typer.Option(help="server processes (default: one per core, at most 4)")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Start the coordinator service (SQLite file labopt.db by default; see LABOPT_*)."""
    import uvicorn

    from labopt_api.protection import log_config

    _db(None)  # schema migrations once, before the worker processes start
    workers = workers or default_workers()
    metrics_dir = None
    if workers > 1:  # the processes' metrics are added up from files in a fresh folder
        metrics_dir = tempfile.mkdtemp(prefix="labopt-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "labopt_api.main:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            log_config=log_config(),
        )
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


@app.command("create")
@reports_errors
def create(
    role: Annotated[str, typer.Option(help="admin, coordinator, district or lab")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="coordinator: province code or '*'; district: province/district; "
            "lab: province/lab (repeat for several)"
        ),
    ] = None,
    label: Annotated[str, typer.Option(help="a note on who holds the key")] = "",
    database_url: DbUrl = None,
    json: Json = False,
) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    from labopt_api.store.keys import create_key

    db = _db(database_url)
    with db.sessions() as s:
        row, key = create_key(s, role, scope or [], label)
    if json:
        print_json({"id": row.id, "key": key, "role": row.role, "scopes": row.scopes})
    else:
        console.print(f"key {row.id} ({row.role}, {', '.join(row.scopes) or 'no scope'}):")
        console.print(key, highlight=False)


@app.command("list")
@reports_errors
def list_keys(database_url: DbUrl = None) -> None:
    """List keys (prefixes only)."""
    from sqlalchemy import select

    from labopt_api.models import ApiKey

    db = _db(database_url)
    with db.sessions() as s:
        for r in s.execute(select(ApiKey).order_by(ApiKey.id)).scalars():
            state = "revoked" if r.revoked_at else "active"
            console.print(
                f"{r.id:4d}  {r.prefix}...  {r.role:12s} {state:8s} "
                f"{', '.join(r.scopes)}  {r.label}",
                highlight=False,
            )


@app.command("revoke")
@reports_errors
def revoke(
    key_id: Annotated[int, typer.Argument(help="key id")], database_url: DbUrl = None
) -> None:
    """Revoke a key."""
    from labopt_api.store.keys import revoke_key

    db = _db(database_url)
    with db.sessions() as s:
        if revoke_key(s, key_id) is None:
            raise ValueError(f"key: no key {key_id}")
    console.print(f"key {key_id} revoked")
