"""The OpenAPI document: every operation has a clean, stable id, and a client generated from
the document (openapi-python-client) builds and calls the service."""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import subprocess
import sys

import httpx
import pytest

from labopt.pooling import evaluate
from labopt_api.main import create_app
from tests.service.conftest import settings_for
from tests.service.test_api import tiny_json

# (method, path) -> operation id: a client's function names; changing one breaks clients
OPERATIONS = {
    ("get", "/livez"): "health-live",
    ("get", "/readyz"): "health-ready",
    ("get", "/healthz"): "health-check",
    ("get", "/metrics"): "metrics-read",
    ("post", "/v1/pooling/evaluate"): "pooling-evaluate",
    ("post", "/v1/pooling/optimize"): "pooling-optimize",
    ("post", "/v1/pooling/frontier"): "pooling-frontier",
    ("post", "/v1/pooling/multiplex/evaluate"): "pooling-multiplex-evaluate",
    ("post", "/v1/pooling/multiplex/optimize"): "pooling-multiplex-optimize",
    ("post", "/v1/screening/size"): "screening-size",
    ("post", "/v1/screening/precision"): "screening-precision",
    ("get", "/v1/scenarios/{scenario_id}/screening"): "screening-rounds",
    ("get", "/v1/scenarios/{scenario_id}/districts/{code}/screening"): "district-screening",
    ("post", "/v1/scenarios"): "scenarios-create",
    ("get", "/v1/scenarios"): "scenarios-list",
    ("post", "/v1/scenarios/upload"): "scenarios-upload",
    ("get", "/v1/scenarios/{scenario_id}"): "scenarios-read",
    ("put", "/v1/scenarios/{scenario_id}"): "scenarios-replace",
    ("delete", "/v1/scenarios/{scenario_id}"): "scenarios-delete",
    ("put", "/v1/scenarios/{scenario_id}/upload"): "scenarios-replace-upload",
    ("get", "/v1/scenarios/{scenario_id}/capacity"): "scenarios-capacity",
    ("post", "/v1/scenarios/{scenario_id}/estimates"): "scenarios-estimates",
    ("put", "/v1/scenarios/{scenario_id}/districts/{code}/days/{date}"): "district-days-submit",
    ("get", "/v1/scenarios/{scenario_id}/districts/{code}/days/{date}"): "district-days-read",
    ("post", "/v1/plans"): "plans-submit",
    ("get", "/v1/plans"): "plans-list",
    ("get", "/v1/plans/{plan_id}"): "plans-read",
    ("post", "/v1/plans/{plan_id}/cancel"): "plans-cancel",
    ("get", "/v1/plans/{plan_id}/tables/{name}"): "plans-table",
    ("get", "/v1/plans/{plan_id}/dispatch"): "plans-dispatch",
    ("post", "/v1/scenarios/{scenario_id}/records/{kind}"): "records-submit",
    ("post", "/v1/scenarios/{scenario_id}/records/{kind}/upload"): "records-upload",
    ("get", "/v1/scenarios/{scenario_id}/records/{kind}"): "records-read",
    ("delete", "/v1/scenarios/{scenario_id}/records/{kind}/{date}/{code}"): "records-withdraw",
    ("get", "/v1/scenarios/{scenario_id}/history/{table}"): "records-history",
    ("get", "/v1/scenarios/{scenario_id}/history"): "records-history-json",
    ("post", "/v1/batches"): "batches-create",
    ("get", "/v1/batches"): "batches-list",
    ("post", "/v1/batches/upload"): "batches-upload",
    ("get", "/v1/batches/{batch_id}"): "batches-read",
    ("delete", "/v1/batches/{batch_id}"): "batches-delete",
    ("get", "/v1/batches/{batch_id}/tables/{name}"): "batches-table",
    ("get", "/v1/batches/{batch_id}/plates.html"): "batches-plate-map",
    ("post", "/v1/batches/{batch_id}/results"): "batches-results",
    ("post", "/v1/batches/{batch_id}/results/upload"): "batches-results-upload",
    ("post", "/v1/keys"): "keys-create",
    ("get", "/v1/keys"): "keys-list",
    ("delete", "/v1/keys/{key_id}"): "keys-revoke",
    ("get", "/v1/audit"): "audit-list",
}
KEBAB = re.compile(r"^[a-z]+(-[a-z]+)*$")


def _operations(schema: dict) -> dict[tuple[str, str], str]:
    return {
        (method, path): op.get("operationId", "")
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    }


def test_every_operation_has_a_clean_stable_id(tmp_path):
    schema = create_app(settings_for(f"sqlite:///{tmp_path / 'x.db'}")).openapi()
    ops = _operations(schema)
    ids = list(ops.values())
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    assert [i for i in ids if not KEBAB.match(i)] == []
    assert ops == OPERATIONS


def _generate(schema: dict, folder) -> None:
    """The client package ``labopt_client`` in ``folder``, as openapi-python-client writes it."""
    (folder / "openapi.json").write_text(json.dumps(schema))
    # no post hooks: the generated code is imported, not linted
    (folder / "config.yaml").write_text("package_name_override: labopt_client\npost_hooks: []\n")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(folder / "openapi.json"),
            "--meta",
            "none",
            "--config",
            str(folder / "config.yaml"),
            "--output-path",
            str(folder / "labopt_client"),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.fixture
def generated_client(service, tmp_path):
    """The generated package, imported (and forgotten afterwards)."""
    pytest.importorskip("openapi_python_client")
    _generate(service.app.openapi(), tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("labopt_client")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == "labopt_client"]:
            del sys.modules[name]


def test_a_generated_client_builds_and_calls_the_service(service, generated_client):
    client_mod = importlib.import_module("labopt_client.client")
    pooling = importlib.import_module("labopt_client.api.pooling.pooling_evaluate")
    create = importlib.import_module("labopt_client.api.scenarios.scenarios_create")
    listing = importlib.import_module("labopt_client.api.scenarios.scenarios_list")
    models = importlib.import_module("labopt_client.models")
    token = service.key("coordinator", "tiny")["Authorization"].removeprefix("Bearer ")
    # the generated functions over HTTP to the app, its lifespan started by the fixture
    client = client_mod.AuthenticatedClient(
        base_url="http://testserver",
        token=token,
        httpx_args={"transport": httpx.ASGITransport(app=service.app)},
    )

    async def calls():
        async with client:
            design = await pooling.asyncio(
                client=client,
                body=models.EvaluateRequest(
                    algorithm=models.EvaluateRequestAlgorithm.D3,
                    config="12:4,4,4",
                    prevalence=0.01,
                ),
            )
            created = await create.asyncio(
                client=client, body=models.ScenarioData.from_dict(tiny_json())
            )
            page = await listing.asyncio(client=client)
            anonymous = client_mod.Client(
                base_url="http://testserver",
                httpx_args={"transport": httpx.ASGITransport(app=service.app)},
            )
            async with anonymous:
                refused = await listing.asyncio_detailed(client=anonymous)
        return design, created, page, refused

    design, created, page, refused = asyncio.run(calls())
    ref = evaluate("D3", "12:4,4,4", prevalence=0.01)
    assert isinstance(design, models.DesignOut)
    assert design.expected_tests_per_sample == pytest.approx(
        ref.to_dict()["expected_tests_per_sample"]
    )
    assert isinstance(created, models.ScenarioSummary) and created.units == 2
    assert [s.id for s in page.items] == [created.id]
    assert refused.status_code == 401 and isinstance(refused.parsed, models.ErrorOut)
