"""The FastAPI application: routers, middleware, startup and shutdown."""

from __future__ import annotations

import base64
import gc
import hashlib
import re
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError

from labopt import __version__
from labopt.errors import InputError
from labopt.lab.tables import LabInputError
from labopt.scenario import ScenarioError
from labopt_api.db import Database, migrate
from labopt_api.deps import KeyCache
from labopt_api.errors import (
    handle_busy,
    handle_database_down,
    handle_input_error,
    handle_lab_input_error,
    handle_not_found,
    handle_request_validation_error,
    handle_scenario_error,
)
from labopt_api.jobs import PlanWorkers
from labopt_api.metrics import Metrics
from labopt_api.protection import STATIC_PREFIX, FailedAuth, RequestContext
from labopt_api.routers import (
    audit,
    batches,
    daily,
    health,
    keys,
    plans,
    pooling,
    scenarios,
    screening,
)
from labopt_api.settings import ServiceSettings, get_settings
from labopt_api.store import Busy, NotFound
from labopt_api.store.batches import ManifestCache
from labopt_api.web import router as web_router

DESCRIPTION = """Coordinator service of labopt: pooled RT-PCR testing designs, province
scenarios, districts' daily input, and the daily plan assigning samples to labs.

Every endpoint except `/livez`, `/readyz` and `/healthz` needs an API key
(`Authorization: Bearer <key>`); roles are `admin`, `coordinator` (its provinces), `district`
(its units' daily input) and `lab` (the plans, batches and results of its lab)."""


class BodyLimit:
    """413 for request bodies over the limit, whether announced (Content-Length) or streamed
    (chunked). A streamed body is cut where it passes the limit: the 413 is sent at once, the
    application sees the client gone, and whatever it answers to that is dropped (the body
    parsers would otherwise turn the interruption into a 400)."""

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
        started = rejected = False

        async def limited():
            nonlocal seen, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    rejected = True  # no more of the body, whatever the app does
                    if not started:
                        await self._reject(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message):
            nonlocal started
            if rejected:
                return
            started = True
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not rejected:
                raise

    async def _reject(self, scope, receive, send):
        response = JSONResponse(
            {"detail": f"request body over {self.max_bytes:,} bytes"},
            status_code=413,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


# the browser pages of the API documentation load only the packaged assets (labopt_api/static/)
DOCS_CSP = (
    "default-src 'none'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def _docs_page(page: HTMLResponse) -> HTMLResponse:
    """The page with a CSP that allows its own inline script (by hash) and nothing remote."""
    html = bytes(page.body).decode()
    hashes = " ".join(
        ["'self'"]
        + [
            "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
            for s in _INLINE_SCRIPT.findall(html)
        ]
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP.format(scripts=hashes)})


def add_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc from the packaged assets, so that they work offline."""
    app.mount(
        STATIC_PREFIX.rstrip("/"), StaticFiles(packages=[("labopt_api", "static")]), name="static"
    )

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        static = request.scope.get("root_path", "") + STATIC_PREFIX
        return _docs_page(
            get_swagger_ui_html(
                openapi_url=request.scope.get("root_path", "") + app.openapi_url,
                title=f"{app.title} - Swagger UI",
                swagger_js_url=static + "swagger-ui/swagger-ui-bundle.js",
                swagger_css_url=static + "swagger-ui/swagger-ui.css",
                swagger_favicon_url=static + "swagger-ui/favicon-32x32.png",
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        static = request.scope.get("root_path", "") + STATIC_PREFIX
        return _docs_page(
            get_redoc_html(
                openapi_url=request.scope.get("root_path", "") + app.openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=static + "redoc/redoc.standalone.js",
                redoc_favicon_url=static + "swagger-ui/favicon-32x32.png",
                with_google_fonts=False,
            )
        )


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


E = TypeVar("E", bound=Exception)


def _handle(
    app: FastAPI, kind: type[E], handler: Callable[[Request, E], Awaitable[Response]]
) -> None:
    """Answer exceptions of ``kind`` (and its subclasses without a handler of their own) with
    ``handler``: Starlette calls it with such exceptions only."""
    app.add_exception_handler(
        kind, cast(Callable[[Request, Exception], Awaitable[Response]], handler)
    )


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

    app = FastAPI(
        title="labopt coordinator service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.failed_auth = FailedAuth(settings.auth_failures_per_minute)
    app.state.metrics = Metrics()
    app.state.keys = KeyCache()
    app.state.manifests = ManifestCache()
    for r in (
        health.router,
        pooling.router,
        screening.router,
        screening.rounds_router,
        scenarios.router,
        plans.router,
        batches.router,
        batches.estimates_router,
        daily.router,
        keys.router,
        audit.router,
        web_router,
    ):
        app.include_router(r)
    # the most specific handler answers (ScenarioError and LabInputError are InputErrors);
    # any other exception is a 500 with the request id (RequestContext)
    _handle(app, ScenarioError, handle_scenario_error)
    _handle(app, LabInputError, handle_lab_input_error)
    _handle(app, InputError, handle_input_error)
    _handle(app, NotFound, handle_not_found)
    _handle(app, Busy, handle_busy)
    _handle(app, RequestValidationError, handle_request_validation_error)
    _handle(app, OperationalError, handle_database_down)
    add_docs(app)
    # outermost last: every response gets the request id and headers, and the metrics count
    # the 413 of a body cut short
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsASGI, metrics=app.state.metrics)
    app.add_middleware(RequestContext)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn: ``uvicorn labopt_api.main:app_from_env --factory``."""
    return create_app()
