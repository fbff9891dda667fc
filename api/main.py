"""The FastAPI application: routers, middleware, startup and shutdown."""
from __future__ import annotations

import gc
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from labopt import __version__
from labopt.lab.tables import LabInputError
from labopt.scenario import ScenarioError
from labopt_api.db import Database, migrate
from labopt_api.deps import KeyCache
from labopt_api.errors import (handle_database_down, handle_lab_input_error,
                               handle_scenario_error, handle_value_error)
from labopt_api.jobs import PlanWorkers
from labopt_api.lab_store import ManifestCache
from labopt_api.metrics import Metrics
from labopt_api.routers import batches, health, keys, plans, pooling, scenarios
from labopt_api.settings import ServiceSettings, get_settings

DESCRIPTION = """Coordinator service of labopt: pooled RT-PCR testing designs, province
scenarios, districts' daily input, and the daily plan assigning samples to labs.

Every endpoint except `/livez`, `/readyz` and `/healthz` needs an API key (`Authorization: Bearer <key>`); roles are
`admin`, `coordinator` (its provinces), `district` (its units' daily input) and `lab` (the plans,
batches and results of its lab)."""


class BodyLimit:
    """413 for request bodies over the limit, whether announced or streamed."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                return await self._reject(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._reject(scope, receive, send)

    async def _reject(self, scope, receive, send):
        response = JSONResponse({"detail": f"request body over {self.max_bytes:,} bytes"},
                                status_code=413)
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class MetricsASGI:
    """Count requests and time them, by route template."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = [500]

        async def capture(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(scope["method"], path, str(status[0])).inc()
            self.metrics.latency.labels(scope["method"], path).observe(time.perf_counter() - t0)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        db = Database(settings.database_url)
        migrate(db.engine)
        app.state.db = db
        app.state.workers = PlanWorkers(db, settings)
        app.state.workers.start()
        # the libraries loaded at start-up (pandas, OR-Tools, ...) make many long-lived
        # objects: keep them out of the garbage collector's full passes (latency spikes)
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            app.state.workers.stop()
            db.engine.dispose()

    app = FastAPI(title="labopt coordinator service", version=__version__,
                  description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.keys = KeyCache()
    app.state.manifests = ManifestCache()
    for r in (health.router, pooling.router, scenarios.router, plans.router, batches.router,
              batches.estimates_router, keys.router):
        app.include_router(r)
    app.add_exception_handler(ScenarioError, handle_scenario_error)
    app.add_exception_handler(LabInputError, handle_lab_input_error)
    app.add_exception_handler(ValueError, handle_value_error)
    app.add_exception_handler(OperationalError, handle_database_down)
    app.add_middleware(MetricsASGI, metrics=app.state.metrics)
    app.add_middleware(BodyLimit, max_bytes=int(settings.max_body_mb * 1024 * 1024))
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn: ``uvicorn labopt_api.main:app_from_env --factory``."""
    return create_app()
