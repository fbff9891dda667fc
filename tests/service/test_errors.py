"""Errors: a typed input error is a 422 naming its parameter; anything else raised while
serving (even a ValueError from deep in a library) is a 500 that quotes the request id and
nothing of the error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from labopt.errors import InputError
from tests.service.conftest import Service

BODY = {"algorithm": "D2", "config": "10", "prevalence": 0.01}


@pytest.fixture
def quiet_client(service: Service) -> TestClient:
    """A client of the running app that gets the 500 rather than the exception."""
    return TestClient(service.app, raise_server_exceptions=False)


def test_a_value_error_inside_a_handler_is_a_500_with_the_request_id(
    service, quiet_client, monkeypatch
):
    def fault(*_args, **_kw):
        raise ValueError("secret: the library's own words")

    monkeypatch.setattr("labopt_api.routers.pooling.evaluate", fault)
    headers = {**service.key("admin"), "X-Request-ID": "fault-17"}
    r = quiet_client.post("/v1/pooling/evaluate", headers=headers, json=BODY)
    assert r.status_code == 500
    assert r.headers["x-request-id"] == "fault-17"
    assert "fault-17" in r.json()["detail"]
    assert "secret" not in r.text and "library" not in r.text


def test_an_input_error_is_a_422_naming_its_parameter(service, quiet_client, monkeypatch):
    def refuse(*_args, **_kw):
        raise InputError("config: pools of 10 are too many here", "config")

    monkeypatch.setattr("labopt_api.routers.pooling.evaluate", refuse)
    r = quiet_client.post("/v1/pooling/evaluate", headers=service.key("admin"), json=BODY)
    assert r.status_code == 422
    assert r.json() == {
        "detail": [
            {
                "loc": ["body", "config"],
                "msg": "config: pools of 10 are too many here",
                "type": "value_error",
            }
        ]
    }


def test_an_input_error_without_a_parameter_names_the_body(service, quiet_client, monkeypatch):
    monkeypatch.setattr(
        "labopt_api.routers.pooling.evaluate",
        lambda *a, **k: (_ for _ in ()).throw(InputError("nothing fits")),
    )
    r = quiet_client.post("/v1/pooling/evaluate", headers=service.key("admin"), json=BODY)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body"]


def test_the_library_names_the_parameter(service):
    """No message is parsed: the library's InputError carries the parameter."""
    r = service.client.post(
        "/v1/pooling/evaluate",
        headers=service.key("admin"),
        json={"algorithm": "D3", "config": "12:4,4,4", "prevalence": 0.01, "se": [0.99, 0.98]},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "se"], r.text
    assert "3 values, one per stage" in r.json()["detail"][0]["msg"]


# Python's JSON reader takes NaN and Infinity; no count, probability or Ct value is one
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/pooling/evaluate", '{"algorithm":"D2","config":"10","prevalence":NaN}', "prevalence"),
        (
            "/v1/pooling/evaluate",
            '{"algorithm":"D2","config":"10","prevalence":Infinity}',
            "prevalence",
        ),
        (
            "/v1/pooling/evaluate",
            '{"algorithm":"D2","config":"10","prevalence":0.01,"se":NaN}',
            "se",
        ),
        (
            "/v1/pooling/evaluate",
            '{"algorithm":"ID2","config":"3,1","prevalence":0.01,"risks":[0.1,NaN,0.1]}',
            "risks",
        ),
        ("/v1/pooling/optimize", '{"prevalence":NaN}', "prevalence"),
        ("/v1/pooling/optimize", '{"prevalence":0.01,"sp":-Infinity}', "sp"),
    ],
)
def test_nan_and_infinity_are_a_422_naming_the_field(service, quiet_client, path, body, field):
    headers = {**service.key("admin"), "Content-Type": "application/json"}
    r = quiet_client.post(path, headers=headers, content=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert any(field in d["loc"] for d in detail), detail
    assert any("finite" in d["msg"] for d in detail), detail
