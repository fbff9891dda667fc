"""Prometheus metrics: requests, latency, plan jobs."""
from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request

from labopt_api.models import PlanJob


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("labopt_http_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("labopt_http_request_seconds", "HTTP request duration",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                          2.5, 5, 10))
        self.jobs = Gauge("labopt_plan_jobs", "plan jobs by status", ["status"],
                          registry=self.registry)

    def render(self, db) -> bytes:
        counts = dict(db.execute(select(PlanJob.status, func.count()).group_by(PlanJob.status))
                      .all())
        for status in ("queued", "running", "done", "failed"):
            self.jobs.labels(status).set(counts.get(status, 0))
        return generate_latest(self.registry)


class MetricsMiddleware(BaseHTTPMiddleware):
    def __init__(self, app, metrics: Metrics):
        super().__init__(app)
        self.metrics = metrics

    async def dispatch(self, request: Request, call_next):
        t0 = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        self.metrics.requests.labels(request.method, path, str(response.status_code)).inc()
        self.metrics.latency.labels(request.method, path).observe(time.perf_counter() - t0)
        return response
