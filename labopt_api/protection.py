"""What every response carries (a request id, security headers) and the brake on guessing keys.

- ``X-Request-ID``: the caller's own when it is sane (1-128 characters of letters, digits and
  ``._:-``), else a new one; the same id is in the access and error logs (:func:`log_config`).
- Security headers: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
  ``X-Frame-Options: DENY`` and a Content-Security-Policy on every response (HTML pages get
  one that allows their inline styles; /docs and /redoc set their own), and
  ``Cache-Control: no-store`` on everything but the packaged static files.
- :class:`FailedAuth`: a client address with too many failed authentications in the last
  minute gets 429 with ``Retry-After`` on every request needing a key, valid or not (else the
  answer would still tell a right guess from a wrong one). Counted per server process: with
  N workers a client may fail up to N times the limit before every worker refuses it.
"""

from __future__ import annotations

import collections
import contextvars
import copy
import logging
import math
import re
import threading
import time
import uuid

from fastapi.responses import JSONResponse
from uvicorn.config import LOGGING_CONFIG

REQUEST_ID = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
HTML_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
STATIC_PREFIX = "/static/"
log = logging.getLogger("labopt_api")


class RequestContext:
    """ASGI middleware: the request id and the security headers on every response, including
    the 500 of an unexpected error (logged with the request id)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = dict(scope.get("headers", ())).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        REQUEST_ID.set(rid)  # the task serving this request only: no reset needed
        static = scope.get("path", "").startswith(STATIC_PREFIX)
        started = False

        async def with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = _secured(list(message.get("headers", ())), rid, static)
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            log.exception("unexpected error in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                response = JSONResponse(
                    {"detail": f"internal error; quote the request id {rid} when reporting it"},
                    status_code=500,
                )
                await response(scope, receive, with_headers)
            raise


def _secured(
    headers: list[tuple[bytes, bytes]], rid: str, static: bool
) -> list[tuple[bytes, bytes]]:
    names = {k.lower() for k, _ in headers}
    ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    add = {
        b"x-request-id": rid.encode(),
        b"x-content-type-options": b"nosniff",
        b"referrer-policy": b"no-referrer",
        b"x-frame-options": b"DENY",
        b"content-security-policy": (
            HTML_CSP if ctype.startswith(b"text/html") else API_CSP
        ).encode(),
    }
    if not static:
        add[b"cache-control"] = b"no-store"
    return headers + [(k, v) for k, v in add.items() if k not in names]


class FailedAuth:
    """Failed authentications per client address in the last ``window`` seconds (this
    process only; see the module docstring)."""

    def __init__(self, limit: int, window: float = 60.0):
        self.limit = limit
        self.window = window
        self._failures: dict[str, collections.deque] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> collections.deque:
        times = self._failures.get(client)
        if times is None:
            return collections.deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or None when it may now."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.limit:
                return None
            return max(1, math.ceil(times[-self.limit] + self.window - now))

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:  # bounded memory under a wide attack
                self._failures = {
                    c: t for c, t in self._failures.items() if t and t[-1] > now - self.window
                }
            times = self._failures.setdefault(client, collections.deque())
            times.append(now)
            while len(times) > self.limit:
                times.popleft()


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (``-`` outside a request) to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def log_config() -> dict:
    """uvicorn's logging configuration with the request id in the access and error logs, and
    labopt_api's own messages (unexpected errors) on the error log's handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"request_id": {"()": RequestIdFilter}}
    config["formatters"]["default"]["fmt"] = "%(levelprefix)s [%(request_id)s] %(message)s"
    config["formatters"]["access"]["fmt"] = (
        '%(levelprefix)s [%(request_id)s] %(client_addr)s - "%(request_line)s" %(status_code)s'
    )
    for handler in config["handlers"].values():
        handler["filters"] = ["request_id"]
    config["loggers"]["labopt_api"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
