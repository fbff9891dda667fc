"""Property-based tests from the OpenAPI schema, against a real server: no 5xx, and every
response conforms to the schema (status codes, content types, bodies)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from labopt.scenario import load_scenario, scenario_to_data
from tests.service.live import LiveServer

TINY = Path(__file__).parent.parent / "data" / "tiny"


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    db = tmp_path_factory.mktemp("schemathesis") / "labopt.db"
    server = LiveServer(f"sqlite:///{db}").start()
    headers = server.key("admin")
    data = json.loads(json.dumps(scenario_to_data(load_scenario(TINY)), default=str))
    with httpx.Client(base_url=server.url, timeout=60) as c:  # something to find and plan
        sid = c.post("/v1/scenarios", headers=headers, json=data).json()["id"]
        c.post("/v1/plans", headers=headers, json={"scenario_id": sid, "days": 1})
    yield server, headers
    server.stop()


@pytest.fixture(scope="module")
def api_schema(api_server):
    server, _headers = api_server
    return schemathesis.openapi.from_url(server.url + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_api_conforms_to_its_schema(case, api_server):
    server, headers = api_server
    case.call_and_validate(
        base_url=server.url,
        headers=headers,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
