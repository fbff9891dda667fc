"""The data layer: one module per resource (scenarios, district_days, daily_records, plans,
batches, keys, audit). Each reads and writes its rows (create, read, list filtered in SQL to
what a key may see, replace, delete); the routers call it and never each other.

A store raises :class:`NotFound` (404) and :class:`Busy` (409); it knows nothing of HTTP
otherwise. Stores import downwards only: ``audit`` imports no other store, ``keys``,
``scenarios``, ``plans`` and ``batches`` import ``audit`` at most, ``district_days``
imports ``scenarios`` and ``audit``, and ``daily_records`` those and ``district_days`` (its
retries).
"""

from __future__ import annotations


class NotFound(LookupError):
    """No such row (or none the caller may name): 404 with this message."""


class Busy(RuntimeError):
    """Concurrent writers kept winning; the caller should send the request again: 409."""
