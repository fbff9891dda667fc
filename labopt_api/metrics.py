"""Prometheus metrics: requests, latency (per server process, added up), plan jobs (from the
database).

With several server processes (``labopt serve --workers N``) each process writes its counters
to files in ``PROMETHEUS_MULTIPROC_DIR`` (the Prometheus client's multiprocess mode, set up
fresh for each start by ``labopt serve``), and ``/metrics`` adds them up, so every process
answers with the service's totals. Without that variable (one process, tests) the process's own
registry is read.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from labopt_api.models import PlanJob

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PLAN_STATUSES = ("queued", "running", "done", "failed", "cancelled")


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "labopt_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "labopt_http_request_seconds",
            "HTTP request duration",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    def render(self, db) -> bytes:
        """The Prometheus text: every server process's requests, the plan jobs now stored."""
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        else:
            registry = self.registry
        return generate_latest(registry) + generate_latest(_Jobs(db))


class _Jobs:
    """Plan jobs by status, counted in the database when read (the same in every process)."""

    def __init__(self, db):
        self.db = db

    def collect(self):
        counts = dict(
            self.db.execute(select(PlanJob.status, func.count()).group_by(PlanJob.status)).all()
        )
        family = GaugeMetricFamily("labopt_plan_jobs", "plan jobs by status", labels=["status"])
        for status in PLAN_STATUSES:
            family.add_metric([status], counts.get(status, 0))
        yield family
