"""POST /v1/screening/size: the library's answer, bad values as 422 naming the field."""

from __future__ import annotations

import json

from labopt.screening import size_for_detection
from labopt.screening.precision import size_for_estimate


def test_the_service_answers_as_the_library(service):
    c, h = service.client, service.key("district", "tiny/a")
    body = {
        "design_prevalence": 0.01,
        "pool_size": 10,
        "se": 0.95,
        "sp": 0.99,
        "population": 50_000,
    }
    r = c.post("/v1/screening/size", headers=h, json=body)
    assert r.status_code == 200, r.text
    ref = size_for_detection(0.95, 0.01, pool_size=10, se=0.95, sp=0.99, population=50_000)
    assert r.json() == json.loads(json.dumps(ref.to_dict()))
    r = c.post("/v1/screening/size", headers=h, json={"design_prevalence": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "design_prevalence"]
    r = c.post(
        "/v1/screening/size",
        headers=h,
        json={"design_prevalence": 0.01, "pool_size": 5, "population": 100},
    )
    assert r.status_code == 422 and "more than the 100 people here" in r.text
    assert c.post("/v1/screening/size", json=body).status_code == 401
    certain = {"design_prevalence": 1, "se": 1, "sp": 1}  # one sample: certainly positive
    r = c.post("/v1/screening/size", headers=h, json=certain)
    assert r.status_code == 200 and r.json()["samples"] == 1


def test_the_precision_endpoint_answers_as_the_library(service):
    c, h = service.client, service.key("lab", "tiny/cdc")
    body = {"prevalence": 0.01, "precision": 0.5, "relative": True, "max_pool_size": 16}
    r = c.post("/v1/screening/precision", headers=h, json=body)
    assert r.status_code == 200, r.text
    ref = size_for_estimate(0.01, 0.5, relative=True, max_pool_size=16)
    assert r.json() == json.loads(json.dumps(ref.to_dict()))
    r = c.post("/v1/screening/precision", headers=h, json={"prevalence": 0.01, "precision": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "precision"]
    bad = {"prevalence": 0.01, "precision": 0.01, "se": 0.5, "sp": 0.5}
    r = c.post("/v1/screening/precision", headers=h, json=bad)
    assert r.status_code == 422 and "se + sp must exceed 1" in r.text
