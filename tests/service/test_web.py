"""The web app's pages through the app (SQLite and PostgreSQL): sign-in with an API key kept in
an HttpOnly, SameSite cookie; forms refused without their token; a unit's day entered and
stored as the API's records; what a key may not do refused server-side; both languages."""

from __future__ import annotations

import html
import io
import json
import re
import time

import pandas as pd
import pytest

from labopt.scenario import load_scenario
from labopt_api.web.page import whole_number
from labopt_api.web.session import COOKIE, form_token
from labopt_api.web.words import TEXT
from tests.service.test_daily import EXAMPLES, as_json

PROVINCE = "thanh_hoa"
DATE = "2021-10-05"


@pytest.fixture
def site(service):
    """The service with Thanh Hóa stored: (service, scenario id, keys by role)."""
    coord = service.key("coordinator", PROVINCE)
    r = service.client.post(
        "/v1/scenarios", json=as_json(load_scenario(EXAMPLES / "thanh_hoa")), headers=coord
    )
    assert r.status_code == 201, r.text
    keys = {
        "coordinator": coord["Authorization"].split()[1],
        "district": service.key("district", f"{PROVINCE}/bim-son")["Authorization"].split()[1],
        "lab": service.key("lab", f"{PROVINCE}/th-cdc")["Authorization"].split()[1],
    }
    return service, r.json()["id"], keys


def _post_form(client, url, data, **kw):
    """A day's form as the page sends it: with the mark of what the page showed (``seen``),
    read from the page of the form's date unless the test gives one."""
    if "seen" not in data:
        page = client.get(f"{url}?date={data.get('date', DATE)}")
        found = re.search(r'name="seen" value="([0-9a-f]*)"', page.text)
        data = {**data, "seen": found.group(1) if found else ""}
    return client.post(url, data=data, **kw)


def signed_in(client, key):
    client.cookies.clear()
    r = client.post("/signin", data={"key": key}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r


def test_signing_in_keeps_the_key_in_a_strict_http_only_cookie(site):
    service, _, keys = site
    client = service.client
    r = client.get("/")
    assert r.status_code == 200 and 'name="key"' in r.text and 'type="password"' in r.text
    assert "default-src 'none'" in r.headers["content-security-policy"]
    r = signed_in(client, keys["district"])
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/" in cookie
    home = client.get("/")
    assert "Thanh Hóa" in home.text and "/signout" in home.text
    assert keys["district"] not in home.text  # the page never shows the key


@pytest.mark.parametrize(("key", "status"), [("lbo_not-a-key", 401), ("", 422)])
def test_a_wrong_or_missing_key_is_refused_beside_the_field(site, key, status):
    service, _, _ = site
    service.client.cookies.clear()
    r = service.client.post("/signin", data={"key": key})
    assert r.status_code == status
    assert 'role="alert"' in r.text and 'aria-invalid="true"' in r.text
    assert COOKIE not in r.headers.get("set-cookie", "")


def test_a_revoked_key_signs_its_pages_out(site):
    service, _, keys = site
    client = service.client
    signed_in(client, keys["district"])
    admin = service.key("admin")
    listed = client.get("/v1/keys", headers=admin).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    mine = [k for k in items if k["role"] == "district"]
    assert client.delete(f"/v1/keys/{mine[0]['id']}", headers=admin).status_code in (200, 204)
    service.app.state.keys.clear()
    assert 'name="key"' in client.get("/").text  # the sign-in page again


def test_a_unit_enters_its_day_and_the_api_reads_it(site):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["district"])
    page = client.get(f"/day/{sid}?date={DATE}")
    assert page.status_code == 200
    fields = re.findall(r'name="(samples\|[^"]+)"', page.text)
    assert fields and all(f.split("|")[1] == "bim-son" for f in fields)  # its unit only
    token = re.search(r'name="token" value="([0-9a-f]+)"', page.text).group(1)
    assert token == form_token(keys["district"])
    data = {"token": token, "date": DATE, **dict.fromkeys(fields, "")}
    data[fields[0]] = "123"
    r = _post_form(client, f"/day/{sid}", data)
    assert r.status_code == 200, r.text
    assert 'role="status"' in r.text and 'value="123"' in r.text
    # saved: the page again by a GET (reloading it, or going back to it, sends nothing twice)
    assert [h.status_code for h in r.history] == [303] and r.request.method == "GET"
    assert "saved=" in str(r.url) and TEXT["en"]["saved"].split(":")[0] in r.text
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    got = _csv(client.get(f"/v1/scenarios/{sid}/records/collected?history=true", headers=coord))
    stream = fields[0].split("|")[2]
    mine = got[(got["district"] == "bim-son") & (got["date"] == DATE)].set_index("stream")
    assert mine.loc[stream, "samples"] == 123
    assert len(mine) == len(fields)  # the boxes left empty kept the day's figures
    again = _post_form(client, f"/day/{sid}", data)  # the same figures: nothing changes
    assert again.status_code == 200 and TEXT["en"]["unchanged"] in again.text


def _csv(response) -> pd.DataFrame:
    assert response.status_code == 200, response.text
    return pd.read_csv(io.StringIO(response.text))


def test_a_bad_figure_is_marked_beside_its_field_and_nothing_is_saved(site):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["district"])
    page = client.get(f"/day/{sid}?date={DATE}")
    fields = re.findall(r'name="(samples\|[^"]+)"', page.text)
    token = form_token(keys["district"])
    data = {"token": token, "date": DATE, fields[0]: "12", fields[1]: "-4"}
    r = _post_form(client, f"/day/{sid}", data)
    assert r.status_code == 422
    assert 'aria-invalid="true"' in r.text and TEXT["en"]["whole"] in r.text
    assert 'value="-4"' in r.text and 'value="12"' in r.text  # what was typed stays
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    got = _csv(client.get(f"/v1/scenarios/{sid}/records/collected?history=true", headers=coord))
    assert got.empty  # nothing recorded, not even the good figure


def test_a_form_without_its_token_is_refused(site):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["district"])
    page = client.get(f"/day/{sid}?date={DATE}")
    field = re.findall(r'name="(samples\|[^"]+)"', page.text)[0]
    for token in ("", "0" * 64, form_token(keys["coordinator"])):
        r = _post_form(client, f"/day/{sid}", {"token": token, "date": DATE, field: "5"})
        assert r.status_code == 403 and TEXT["en"]["expired"] in r.text


def test_a_unit_may_not_enter_another_units_day(site):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["district"])
    r = _post_form(
        client,
        f"/day/{sid}",
        {
            "token": form_token(keys["district"]),
            "date": DATE,
            "samples|sam-son|screening": "10",
        },
    )
    assert r.status_code == 403
    assert "sam-son" in r.text


def _form_of(page_text: str) -> dict[str, str]:
    """The day form's fields as a browser would send them untouched: each box's value, each
    select's selected option, each textarea's text."""
    fields = dict(re.findall(r'<input id="[^"]*" name="([^"]+)"[^>]*value="([^"]*)"', page_text))
    fields.update(
        re.findall(r'<select [^>]*name="([^"]+)"[^>]*>.*?value="(\d)" selected', page_text, re.S)
    )
    for name, text in re.findall(
        r'<textarea [^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', page_text
    ):
        fields[name] = html.unescape(text)
    return fields


def test_a_unit_reports_its_epidemic_level_and_notes_with_its_day(site):
    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    # the unit's own report of the day, sent through the API before: its samples are kept
    before = {"samples": {"screening": 2500}, "prevalence": {"screening": 0.01}}
    r = client.put(f"/v1/scenarios/{sid}/districts/bim-son/days/{DATE}", headers=coord, json=before)
    assert r.status_code == 200, r.text
    signed_in(client, keys["district"])
    page = client.get(f"/day/{sid}?date={DATE}")
    sent = _form_of(page.text)
    level = load_scenario(EXAMPLES / "thanh_hoa").district_by_code["bim-son"].epidemic_level
    assert sent["level|bim-son"] == str(level) and sent["notes|bim-son"] == ""
    # sent untouched with a figure: the samples are recorded, no report is added
    field = next(k for k in sent if k.startswith("samples|"))
    r = _post_form(
        client, f"/day/{sid}", {**sent, "token": form_token(keys["district"]), field: "7"}
    )
    assert r.status_code == 200, r.text
    day = client.get(f"/v1/scenarios/{sid}/districts/bim-son/days/{DATE}", headers=coord).json()
    assert len(day["history"]) == 1
    # a new level and a note of two lines
    other = "4" if level != 4 else "1"
    note = "Ổ dịch mới ở phường Ba Đình\r\nthiếu 200 bộ lấy mẫu"
    data = {**sent, "token": form_token(keys["district"]), "level|bim-son": other}
    data["notes|bim-son"] = note
    r = _post_form(client, f"/day/{sid}", data)
    assert r.status_code == 200, r.text
    assert "epidemic level and notes of 1 unit" in r.text
    day = client.get(f"/v1/scenarios/{sid}/districts/bim-son/days/{DATE}", headers=coord).json()
    assert day["current"]["epidemic_level"] == int(other)
    assert day["current"]["notes"] == note.replace("\r\n", "\n")
    assert day["current"]["samples"] == before["samples"]  # the report's own figures kept
    assert day["current"]["prevalence"] == before["prevalence"]
    # the page shows them back, and the screening rounds use the level
    shown = _form_of(client.get(f"/day/{sid}?date={DATE}").text)
    assert shown["level|bim-son"] == other and shown["notes|bim-son"] == note.replace("\r\n", "\n")
    rounds = client.get(
        f"/v1/scenarios/{sid}/districts/bim-son/screening?date={DATE}", headers=coord
    )
    assert rounds.status_code == 200 and rounds.json()["epidemic_level"] == int(other)


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("level|bim-son", "7", TEXT["en"]["level_choice"]),
        ("level|bim-son", "2.5", TEXT["en"]["level_choice"]),
        ("notes|bim-son", "a\x00b", TEXT["en"]["printable"]),
        ("notes|bim-son", "x" * 1001, "At most 1,000 characters."),
        ("notes|bim-son", "x\r\n" * 501, "At most 1,000 characters."),
    ],
)
def test_a_bad_level_or_note_is_marked_beside_its_field_and_nothing_is_saved(
    site, field, value, said
):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["district"])
    sent = _form_of(client.get(f"/day/{sid}?date={DATE}").text)
    box = next(k for k in sent if k.startswith("samples|"))
    data = {**sent, "token": form_token(keys["district"]), box: "12", field: value}
    r = _post_form(client, f"/day/{sid}", data)
    assert r.status_code == 422
    assert said in html.unescape(r.text) and 'aria-invalid="true"' in r.text
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    got = _csv(client.get(f"/v1/scenarios/{sid}/records/collected?history=true", headers=coord))
    assert got.empty  # not even the good figure
    day = client.get(f"/v1/scenarios/{sid}/districts/bim-son/days/{DATE}", headers=coord)
    assert day.status_code == 404


@pytest.mark.parametrize("unit", ["sam-son", "no-such-unit"])
def test_a_unit_may_not_report_another_units_level(site, unit):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["district"])
    units = load_scenario(EXAMPLES / "thanh_hoa").district_by_code
    level = 4 if unit not in units or units[unit].epidemic_level != 4 else 1
    data = {"token": form_token(keys["district"]), "date": DATE, f"level|{unit}": str(level)}
    r = _post_form(client, f"/day/{sid}", data)
    assert r.status_code == 403 and unit in r.text
    # a coordinator may report for every unit of the province, but not for one it lacks
    signed_in(client, keys["coordinator"])
    data["token"] = form_token(keys["coordinator"])
    r = _post_form(client, f"/day/{sid}", data)
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    day = client.get(f"/v1/scenarios/{sid}/districts/{unit}/days/{DATE}", headers=coord)
    if unit == "sam-son":
        assert r.status_code == 200 and day.json()["current"]["epidemic_level"] == level
    else:
        assert r.status_code == 422 and day.status_code == 404


def test_a_key_of_another_province_sees_no_scenario_and_no_day(site):
    service, sid, _ = site
    other = service.key("district", "nghe_an/vinh")["Authorization"].split()[1]
    signed_in(service.client, other)
    assert "Thanh Hóa" not in service.client.get("/").text
    assert service.client.get(f"/day/{sid}").status_code == 404


def test_the_coordinator_enters_for_every_unit_and_pages_speak_vietnamese(site):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["coordinator"])
    page = client.get(f"/day/{sid}?date={DATE}&lang=vi")
    assert page.status_code == 200 and '<html lang="vi">' in page.text
    assert "05/10/2021" in page.text and TEXT["vi"]["save"] in page.text
    units = {f.split("|")[1] for f in re.findall(r'name="(samples\|[^"]+)"', page.text)}
    assert {"bim-son", "sam-son", "thanh-hoa-city"} <= units
    # the choice is remembered by the next page
    assert '<html lang="vi">' in client.get("/").text
    assert '<html lang="en">' in client.get("/?lang=en").text


def test_signing_out_needs_the_token(site):
    service, _, keys = site
    client = service.client
    signed_in(client, keys["lab"])
    r = client.post("/signout", data={"token": "x"}, follow_redirects=False)
    assert COOKIE not in r.headers.get("set-cookie", "")
    r = client.post("/signout", data={"token": form_token(keys["lab"])}, follow_redirects=False)
    assert r.headers.get("set-cookie", "").startswith(f'{COOKIE}=""')


def test_every_text_in_both_languages_with_the_same_fields():
    fields = re.compile(r"{(\w+)}")
    assert TEXT["en"].keys() == TEXT["vi"].keys()
    for key, en in TEXT["en"].items():
        assert set(fields.findall(en)) == set(fields.findall(TEXT["vi"][key])), key


@pytest.mark.parametrize(
    ("text", "lang", "n"),
    [
        ("8000", "en", 8000),
        ("8,000", "en", 8000),
        ("8.000", "vi", 8000),
        ("1.234.567", "vi", 1234567),
        ("0", "vi", 0),
        ("8.000", "en", None),  # a decimal point in English
        ("1,5", "vi", None),  # a decimal comma in Vietnamese, not 15
        ("8,000", "vi", None),
        ("-4", "en", None),
        ("4.5", "en", None),
        ("12,34", "en", None),
        ("１２", "en", None),  # full-width digits
        ("1e3", "en", None),
    ],
)
def test_a_figure_is_read_as_the_language_writes_it_or_refused(text, lang, n):
    assert whole_number(text, lang) == n


def _wait_page(client, url, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        r = client.get(url)
        if "refresh" not in r.headers:
            return r
        time.sleep(0.2)
    raise AssertionError(f"{url} still refreshing after {timeout} s")


def test_the_coordinator_requests_a_plan_follows_it_and_downloads_its_tables(site):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["coordinator"])
    assert f'href="/plans/{sid}"' in client.get("/").text
    page = client.get(f"/plans/{sid}")
    assert page.status_code == 200 and TEXT["en"]["no_plans"] in page.text
    token = form_token(keys["coordinator"])
    r = client.post(
        f"/plans/{sid}",
        data={"token": token, "start_date": "2021-10-04", "days": "3"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    plan_id = url.split("?")[0].rsplit("/", 1)[1]
    first = client.get(url)
    assert first.status_code == 200
    done = _wait_page(client, url)
    assert TEXT["en"]["status_done"] in done.text, done.text[-2000:]
    # the day table from the plan's summary, as the API gives it
    api = client.get(
        f"/v1/plans/{plan_id}", headers={"Authorization": f"Bearer {keys['coordinator']}"}
    ).json()
    for d in api["summary"]["days"]:
        assert f"{d['single_samples_tested']:,} /" in done.text
    xlsx = client.get(f"/plan/{plan_id}/tables/allocations.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "attachment" in xlsx.headers["content-disposition"]
    got = pd.read_excel(io.BytesIO(xlsx.content))
    via_api = pd.read_csv(
        io.StringIO(
            client.get(
                f"/v1/plans/{plan_id}/tables/allocations.csv",
                headers={"Authorization": f"Bearer {keys['coordinator']}"},
            ).text
        )
    )
    assert len(got) == len(via_api) > 0
    listed = client.get(f"/plans/{sid}?lang=vi")
    assert f'href="/plan/{plan_id}"' in listed.text and TEXT["vi"]["status_done"] in listed.text
    assert "04/10/2021" in listed.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start_date": "2021-10-04", "days": "three"}, TEXT["en"]["days_whole"]),
        ({"start_date": "2021-10-04", "days": "0"}, "greater than or equal to 1"),
        ({"start_date": "2030-01-01"}, "start_date"),
        ({"daily": "on"}, "a daily plan needs its date"),
    ],
)
def test_a_plan_request_refused_says_why_beside_the_form(site, data, message):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["coordinator"])
    r = client.post(f"/plans/{sid}", data={"token": form_token(keys["coordinator"]), **data})
    assert r.status_code == 422, r.text[-1500:]
    alert = re.search(r'role="alert">([^<]*)<', r.text).group(1)
    assert message in alert.replace("&#39;", "'"), alert


def test_plans_are_the_coordinators_pages(site):
    service, sid, keys = site
    client = service.client
    for role in ("district", "lab"):
        signed_in(client, keys[role])
        assert f'href="/plans/{sid}"' not in client.get("/").text
        assert client.get(f"/plans/{sid}").status_code == 404
        r = client.post(f"/plans/{sid}", data={"token": form_token(keys[role]), "days": "2"})
        assert r.status_code == 404
    signed_in(client, keys["coordinator"])
    r = client.post(f"/plans/{sid}", data={"token": "", "days": "2"})
    assert r.status_code == 403 and TEXT["en"]["expired"] in r.text
    assert client.get("/plan/nope").status_code == 404
    assert client.get("/plan/nope/tables/allocations.xlsx").status_code == 404


# ---------------------------------------------------------------------- from a review
def _fields(client, sid):
    page = client.get(f"/day/{sid}?date={DATE}")
    return re.findall(r'name="(samples\|[^"]+)"', page.text)


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "2021-02-30", "garbage", ""])
def test_a_date_out_of_range_or_not_a_date_is_refused_not_a_crash(site, date):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["district"])
    if date:
        r = client.get(f"/day/{sid}?date={date}")
        assert r.status_code == 422 and TEXT["en"]["bad_date"] in r.text
    field = _fields(client, sid)[0]
    r = _post_form(
        client, f"/day/{sid}", {"token": form_token(keys["district"]), "date": date, field: "7"}
    )
    assert r.status_code == 422 and TEXT["en"]["bad_date"] in r.text
    assert 'value="7"' in r.text  # what was typed stays


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"samples|x": "3"}, "bad_field"),
        ({"samples||screening": "3"}, "bad_field"),
        ({"samples|bim-son|reactive": "9" * 5000}, "whole"),
    ],
)
def test_a_form_with_a_strange_box_is_refused_not_a_crash(site, extra, message):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["district"])
    r = _post_form(
        client, f"/day/{sid}", {"token": form_token(keys["district"]), "date": DATE, **extra}
    )
    assert r.status_code == 422
    assert TEXT["en"][message].split("(")[0][:30] in r.text


def test_a_box_sent_twice_with_two_figures_is_refused(site):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["district"])
    field = _fields(client, sid)[0]
    body = f"token={form_token(keys['district'])}&date={DATE}&{field}=1&{field}=2"
    r = client.post(
        f"/day/{sid}",
        content=body.replace("|", "%7C"),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 422 and TEXT["en"]["twice"] in r.text


def test_saving_the_day_again_keeps_its_prevalence_and_a_blank_box_keeps_its_figure(site):
    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    rows = [
        {
            "date": DATE,
            "district": "bim-son",
            "stream": "reactive",
            "samples": 100,
            "prevalence": 0.05,
        },
        {"date": DATE, "district": "bim-son", "stream": "screening", "samples": 50},
    ]
    r = client.post(f"/v1/scenarios/{sid}/records/collected", json={"rows": rows}, headers=coord)
    assert r.status_code in (200, 201), r.text
    signed_in(client, keys["district"])
    fields = _fields(client, sid)
    token = form_token(keys["district"])
    page = client.get(f"/day/{sid}?date={DATE}")
    assert 'value="100"' in page.text and 'value="50"' in page.text
    unchanged = {"token": token, "date": DATE, "samples|bim-son|reactive": "100"}
    r = _post_form(client, f"/day/{sid}", unchanged)
    assert r.status_code == 200 and TEXT["en"]["unchanged"] in r.text, r.text[-800:]
    r = _post_form(
        client, f"/day/{sid}", {"token": token, "date": DATE, "samples|bim-son|reactive": "120"}
    )
    assert r.status_code == 200 and 'role="status"' in r.text
    got = _csv(client.get(f"/v1/scenarios/{sid}/records/collected", headers=coord))
    day = got[(got["district"] == "bim-son") & (got["date"] == DATE)].set_index("stream")
    assert day.loc["reactive", "samples"] == 120
    assert day.loc["reactive", "prevalence"] == pytest.approx(0.05)
    assert day.loc["screening", "samples"] == 50  # left empty: kept
    assert sorted(day.index) == ["reactive", "screening"]  # the unit's day as it was
    assert len(fields) == 3


def test_a_cookie_is_a_key_tried_and_the_brake_on_guessing_holds(database_url):
    from fastapi.testclient import TestClient

    from labopt_api.main import create_app
    from labopt_api.store.keys import create_key
    from tests.service.conftest import settings_for

    app = create_app(settings_for(database_url, auth_failures_per_minute=3))
    with TestClient(app) as client:
        with app.state.db.sessions() as s:
            _, key = create_key(s, "district", [f"{PROVINCE}/bim-son"])
        for i in range(3):
            client.cookies.set(COOKIE, f"lbo_guess{i}")
            assert 'name="key"' in client.get("/").text
        client.cookies.set(COOKIE, key)  # braked now: even a good key is not let in
        assert 'name="key"' in client.get("/").text
        r = client.get("/v1/scenarios", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 429  # the API's brake, the same one


@pytest.mark.parametrize(
    "headers",
    [{"sec-fetch-site": "cross-site"}, {"origin": "https://evil.example"}],
)
def test_another_site_cannot_sign_a_user_in_or_post_a_form(site, headers):
    service, sid, keys = site
    client = service.client
    client.cookies.clear()
    r = client.post("/signin", data={"key": keys["district"]}, headers=headers)
    assert r.status_code == 403 and COOKIE not in r.headers.get("set-cookie", "")
    signed_in(client, keys["district"])
    field = _fields(client, sid)[0]
    data = {"token": form_token(keys["district"]), "date": DATE, field: "5"}
    r = _post_form(client, f"/day/{sid}", data, headers=headers)
    assert r.status_code == 403 and TEXT["en"]["cross_site"] in r.text
    same = {"sec-fetch-site": "same-origin", "origin": "http://testserver"}
    assert _post_form(client, f"/day/{sid}", data, headers=same).status_code == 200


def test_the_forms_addresses_opened_as_pages_lead_home(site):
    service, _, _ = site
    for path in ("/signin?lang=vi", "/signout"):
        r = service.client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/")
    assert (
        service.client.get("/signin?lang=vi", follow_redirects=False).headers["location"]
        == "/?lang=vi"
    )


def test_the_language_links_keep_the_date_and_a_form_keeps_its_language(site):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["district"])
    page = client.get(f"/day/{sid}?date={DATE}&lang=en")
    assert f"date={DATE}&amp;lang=vi" in page.text
    field = _fields(client, sid)[0]
    # filled in on a Vietnamese page, sent while the cookie says English
    data = {"token": form_token(keys["district"]), "date": DATE, "lang": "vi", field: "1.234"}
    r = _post_form(client, f"/day/{sid}", data)
    assert r.status_code == 200, r.text[-500:]
    assert '<html lang="vi">' in r.text and 'value="1234"' in r.text


def test_labs_and_units_open_their_dispatch_sheets_from_the_home_page(site):
    from tests.service.test_daily import daily_plan

    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    plan = daily_plan(client, sid, coord, "2021-10-04", days=2)
    for role in ("lab", "district"):
        signed_in(client, keys[role])
        home = client.get("/?lang=vi")
        link = f"/plan/{plan['id']}/dispatch?lang=vi"
        assert link in home.text and TEXT["vi"]["sheets"] in home.text
        sheet = client.get(link)
        assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/html")
        api = client.get(
            f"/v1/plans/{plan['id']}/dispatch?lang=vi",
            headers={"Authorization": f"Bearer {keys[role]}"},
        )
        assert sheet.text == api.text  # the API's own sheet: its rows of the plan only
        book = client.get(f"/plan/{plan['id']}/dispatch?format=xlsx")
        assert book.status_code == 200 and book.content[:2] == b"PK"
        assert f'href="/plan/{plan["id"]}?' not in home.text  # the plan is the coordinator's
    signed_in(client, keys["coordinator"])
    home = client.get("/?lang=vi")
    assert f'href="/plan/{plan["id"]}?lang=vi"' in home.text and TEXT["vi"]["the_day"] in home.text
    other = service.key("lab", "nghe_an/na-cdc")["Authorization"].split()[1]
    signed_in(client, other)
    assert f"/plan/{plan['id']}/dispatch" not in client.get("/").text
    assert client.get(f"/plan/{plan['id']}/dispatch").status_code == 403
    client.cookies.clear()
    r = client.get(f"/plan/{plan['id']}/dispatch", follow_redirects=False)
    assert r.status_code == 303  # signed out: to the sign-in page


def test_a_lab_uploads_its_results_and_reads_its_statuses(service):
    from tests.service.test_batches import csv_of, lab_results, new_batch, tiny_json

    c = service.client
    coord = service.key("coordinator", "tiny")
    lab = service.key("lab", "tiny/cdc")
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    batch, truth = new_batch(c, lab, sid, label="B7")
    key = lab["Authorization"].split()[1]
    signed_in(c, key)
    assert 'href="/batches"' in c.get("/").text
    page = c.get("/batches?lang=vi")
    assert page.status_code == 200 and "B7" in page.text and TEXT["vi"]["plate_map"] in page.text
    plates = c.get(f"/batches/{batch['id']}/plates?lang=vi")
    api = c.get(f"/v1/batches/{batch['id']}/plates.html?lang=vi", headers=lab)
    assert plates.status_code == 200 and plates.text == api.text
    results = lab_results(c, batch["id"], lab, truth)
    token = form_token(key)
    r = c.post(f"/batches/{batch['id']}/results", data={"token": token, "lang": "en"})
    assert r.status_code == 422 and TEXT["en"]["no_file"] in r.text
    bad = results.assign(result="maybe")
    r = c.post(
        f"/batches/{batch['id']}/results",
        data={"token": token, "lang": "en"},
        files={"file": ("run1.csv", bad.to_csv(index=False).encode(), "text/csv")},
    )
    assert r.status_code == 422 and 'role="alert"' in r.text and "maybe" in r.text
    r = c.post(
        f"/batches/{batch['id']}/results",
        data={"token": token, "lang": "en"},
        files={"file": ("run1.csv", results.to_csv(index=False).encode(), "text/csv")},
    )
    assert r.status_code == 200 and 'role="status"' in r.text, r.text[-1500:]
    added = re.search(r"B7: ([\d,]+) results? added", r.text)
    # every reaction of the first run (the control wells are checked, not counted)
    assert added and int(added.group(1).replace(",", "")) == batch["summary"]["reactions_next_run"]
    # the next run's pools and their samples, as the API's retest list has them
    retest = csv_of(c.get(f"/v1/batches/{batch['id']}/tables/retest.csv", headers=lab))
    assert len(retest) > 0
    table = r.text[r.text.index(TEXT["en"]["next_run_title"].format(label="B7")) :]
    table = table[: table.index("</table>")]
    assert table.count("<tr><td>") == retest["pool_id"].nunique()
    for pool, group in retest.groupby("pool_id"):
        assert f"<tr><td>{pool}</td>" in table and ", ".join(group["sample_id"]) in table
    assert 'href="/batches/' + batch["id"] + '/tables/results_template.xlsx"' in r.text
    template = c.get(f"/batches/{batch['id']}/tables/results_template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    statuses = c.get(f"/batches/{batch['id']}/tables/statuses.csv")
    assert statuses.status_code == 200
    assert csv_of(statuses).equals(
        csv_of(c.get(f"/v1/batches/{batch['id']}/tables/statuses.csv", headers=lab))
    )
    r = c.post(  # without the token: refused, nothing recorded twice
        f"/batches/{batch['id']}/results",
        data={"token": "", "lang": "en"},
        files={"file": ("run1.csv", results.to_csv(index=False).encode(), "text/csv")},
    )
    assert r.status_code == 403
    district = service.key("district", "tiny/a")["Authorization"].split()[1]
    signed_in(c, district)
    assert c.get("/batches").status_code == 404
    assert c.get(f"/batches/{batch['id']}/plates").status_code == 403


def test_the_coordinator_adds_a_scenario_from_a_workbook_and_downloads_it(site, tmp_path):
    from labopt.scenario.io import load_scenario as load

    service, sid, keys = site
    client = service.client
    signed_in(client, keys["coordinator"])
    book = client.get(f"/scenarios/{sid}/scenario.xlsx")
    assert book.status_code == 200 and book.content[:2] == b"PK"
    assert f"scenario_{sid}.xlsx" in book.headers["content-disposition"]
    path = tmp_path / "th.xlsx"
    path.write_bytes(book.content)
    again = load(path)  # the workbook loads back as the same province
    assert again.province.code == PROVINCE and len(again.districts) > 20
    token = form_token(keys["coordinator"])
    r = client.post(
        "/scenarios/upload",
        data={"token": token, "lang": "en"},
        files={"file": ("th.xlsx", book.content, "application/octet-stream")},
    )
    assert r.status_code == 200 and 'role="status"' in r.text, r.text[-1000:]
    assert r.text.count("/scenario.xlsx") == 2  # the scenario twice now
    r = client.post(
        "/scenarios/upload",
        data={"token": token, "lang": "en"},
        files={"file": ("notes.txt", b"not a scenario", "text/plain")},
    )
    assert r.status_code == 422 and 'role="alert"' in r.text and "notes.txt" in r.text
    r = client.post("/scenarios/upload", data={"token": token})
    assert r.status_code == 422 and TEXT["en"]["no_scenario_file"] in r.text
    signed_in(client, keys["district"])
    assert client.get(f"/scenarios/{sid}/scenario.xlsx").status_code == 404
    r = client.post(
        "/scenarios/upload",
        data={"token": form_token(keys["district"])},
        files={"file": ("th.xlsx", book.content, "application/octet-stream")},
    )
    assert r.status_code == 403


def test_the_history_page_shows_the_apis_days_in_the_pages_language(site):
    from tests.service.test_daily import daily_plan

    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    signed_in(client, keys["coordinator"])
    before = client.get(f"/v1/scenarios/{sid}/history", headers=coord).json()
    page = client.get(f"/history/{sid}")
    assert page.status_code == 200 and page.text.count("<tr>") - 1 == len(before["days"])
    plan = daily_plan(client, sid, coord, "2021-10-04", days=2)
    planned = pd.read_csv(
        io.StringIO(client.get(f"/v1/plans/{plan['id']}/tables/planned.csv", headers=coord).text)
    )
    lab, rows = next(iter(planned.groupby("lab")))
    body = {
        "rows": [
            {"lab": lab, "district": r.district, "stream": r.stream, "samples": r.samples}
            for r in rows.itertuples()
        ],
        "date": "2021-10-04",
    }
    assert (
        client.post(f"/v1/scenarios/{sid}/records/tested", json=body, headers=coord).status_code
        == 200
    )
    api = client.get(f"/v1/scenarios/{sid}/history", headers=coord).json()
    page = client.get(f"/history/{sid}?lang=vi")
    assert page.status_code == 200
    assert page.text.count("<tr>") - 1 == len(api["days"]) > 0  # a row per day, and the head
    assert "Xét nghiệm theo kế hoạch" in page.text and "04/10/2021" in page.text
    signed_in(client, keys["lab"])
    assert client.get(f"/history/{sid}").status_code == 404


def test_the_flow_map_draws_each_units_samples_to_each_lab():
    from labopt.scenario import scenario_to_data
    from labopt_api.web.flow_map import SIZE, flow_map

    data = json.loads(
        json.dumps(scenario_to_data(load_scenario(EXAMPLES / "thanh_hoa")), default=str)
    )
    data["districts"][0]["lat"] = None  # a unit without coordinates is left out
    alloc = pd.DataFrame(
        [
            {"day": 1, "district": data["districts"][1]["code"], "lab": "th-cdc", "samples": 40},
            {"day": 1, "district": data["districts"][1]["code"], "lab": "th-cdc", "samples": 10},
            {"day": 1, "district": data["districts"][2]["code"], "lab": "th-cdc", "samples": 200},
            {"day": 1, "district": data["districts"][0]["code"], "lab": "th-cdc", "samples": 7},
            {"day": 2, "district": data["districts"][2]["code"], "lab": "th-cdc", "samples": 9},
        ]
    )
    m = flow_map(data, alloc, 1)
    assert m.left_out == 1 and m.samples == 257
    assert sorted(f["n"] for f in m.flows) == [50, 200]  # one line per unit and lab, summed
    widest = max(m.flows, key=lambda f: f["n"])
    assert widest["w"] == max(f["w"] for f in m.flows)
    assert len(m.units) == len(data["districts"]) - 1 and len(m.labs) == len(data["labs"])
    for p in m.units + m.labs:
        assert 0 <= p["x"] <= SIZE and 0 <= p["y"] <= SIZE
    north = max(data["districts"][1:], key=lambda d: d["lat"])["name"]
    assert min(m.units, key=lambda u: u["y"])["name"] == north  # north is up
    lab = next(lab for lab in m.labs if lab["name"] == data["labs"][0]["name"])
    assert lab["n"] == 250 + 7 and flow_map(data, alloc, 3).flows == []


def test_the_plan_page_draws_day_ones_flows(site):
    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    r = client.post(
        "/v1/plans",
        json={"scenario_id": sid, "start_date": "2021-10-04", "days": 2},
        headers=coord,
    )
    plan_id = r.json()["id"]
    signed_in(client, keys["coordinator"])
    page = _wait_page(client, f"/plan/{plan_id}?day=2")
    alloc = pd.read_csv(
        io.StringIO(client.get(f"/v1/plans/{plan_id}/tables/allocations.csv", headers=coord).text)
    )
    pairs = alloc[alloc["day"] == 2].groupby(["district", "lab"])["samples"].sum()
    assert page.text.count("<line ") == int((pairs > 0).sum()) > 0
    listed = page.text[page.text.index('class="map-list"') :]
    listed = listed[: listed.index("</details>")]
    assert listed.count("<li>") == int((pairs > 0).sum())  # the same flows, readable as text
    assert '<svg class="map"' in page.text and 'role="img"' in page.text
    assert client.get(f"/plan/{plan_id}?day=abc").status_code == 200  # day 1 then


def test_the_day_page_says_what_the_days_plan_asks_of_each_unit(site):
    from tests.service.test_daily import daily_plan

    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    signed_in(client, keys["district"])

    def text(url):
        return html.unescape(client.get(url).text)

    assert TEXT["en"]["plan_asks"] not in text(f"/day/{sid}?date=2021-10-04")
    plan = daily_plan(client, sid, coord, "2021-10-04", days=2)
    units = pd.read_csv(
        io.StringIO(
            client.get(
                f"/v1/plans/{plan['id']}/tables/dispatch_units.csv",
                headers={"Authorization": f"Bearer {keys['district']}"},
            ).text
        )
    )
    page = text(f"/day/{sid}?date=2021-10-04")
    assert TEXT["en"]["plan_asks"] in page
    for r in units.itertuples():  # every row of its dispatch sheet, said in words
        assert f"{r.samples:,} sample" in page and str(r.lab_name) in page
    assert len(units) > 0 and set(units["district"]) == {"bim-son"}
    assert TEXT["en"]["plan_asks"] not in text(f"/day/{sid}?date=2021-10-06")


# ---------------------------------------------------------------------- a second review
def test_every_batch_is_reachable_page_by_page_and_results_can_be_corrected(service, monkeypatch):
    from labopt_api.web import batches as batch_pages
    from tests.service.test_batches import lab_results, new_batch, tiny_json

    monkeypatch.setattr(batch_pages, "BATCHES_SHOWN", 2)
    c = service.client
    coord = service.key("coordinator", "tiny")
    lab = service.key("lab", "tiny/cdc")
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    made = [new_batch(c, lab, sid, label=f"L{i}")[0]["label"] for i in range(5)]
    key = lab["Authorization"].split()[1]
    signed_in(c, key)
    seen, page = [], 1
    while True:
        r = c.get(f"/batches?page={page}")
        seen += re.findall(r"Batch (L\d)</h2>", r.text)
        if "?page=" + str(page + 1) not in r.text:
            break
        page += 1
    assert sorted(seen) == sorted(made) and page == 3
    # the oldest batch: its results, then one corrected
    first, truth = new_batch(c, lab, sid, label="L9")
    results = lab_results(c, first["id"], lab, truth)
    token = form_token(key)

    def send(table, correct):
        data = {"token": token, "lang": "en", "page": "1", **({"correct": "on"} if correct else {})}
        files = {"file": ("run.csv", table.to_csv(index=False).encode(), "text/csv")}
        return c.post(f"/batches/{first['id']}/results", data=data, files=files)

    assert send(results, False).status_code == 200
    flipped = results.copy()
    row = flipped.index[flipped["result"] == "negative"][0]
    flipped.loc[row, "result"] = "positive"
    refused = send(flipped, False)
    assert refused.status_code == 422 and TEXT["en"]["results_refused"] in refused.text
    fixed = send(flipped, True)
    assert fixed.status_code == 200 and "1 corrected" in fixed.text, fixed.text[-800:]
    table = c.get(f"/batches/{first['id']}/tables/statuses.xlsx")
    assert 'filename="L9_statuses.xlsx"' in table.headers["content-disposition"]


def test_a_full_queue_says_so_and_a_refused_request_keeps_what_was_typed(site, monkeypatch):
    from labopt_api.store import plans as plan_store

    service, sid, keys = site
    client = service.client
    signed_in(client, keys["coordinator"])
    token = form_token(keys["coordinator"])
    typed = {"token": token, "start_date": "2021-10-06", "days": "300", "daily": "on"}
    r = client.post(f"/plans/{sid}", data=typed)
    assert r.status_code == 422
    assert 'value="2021-10-06"' in r.text and 'value="300"' in r.text and "checked" in r.text
    monkeypatch.setattr(plan_store, "enqueue", lambda *a, **k: False)
    r = client.post(f"/plans/{sid}", data={"token": token, "days": "2"})
    assert r.status_code == 429 and r.headers["retry-after"] == "10"
    alert = re.search(r'role="alert">([^<]*)<', r.text).group(1)
    assert "already waiting" in alert and "{" not in alert


def test_a_plan_is_cancelled_from_its_page(site, monkeypatch):
    service, sid, keys = site
    client = service.client
    service.app.state.workers.stop()  # nothing picks the plan up: it stays queued
    signed_in(client, keys["coordinator"])
    token = form_token(keys["coordinator"])
    r = client.post(f"/plans/{sid}", data={"token": token, "days": "2"}, follow_redirects=False)
    url = r.headers["location"]
    page = client.get(url)
    assert "refresh" in page.headers and TEXT["en"]["cancel"] in page.text
    plan_id = url.split("?")[0].rsplit("/", 1)[1]
    r = client.post(f"/plan/{plan_id}/cancel", data={"token": ""})
    assert r.status_code == 403 and TEXT["en"]["expired"] in r.text
    r = client.post(f"/plan/{plan_id}/cancel", data={"token": token}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(url)
    assert TEXT["en"]["status_cancelled"] in page.text and "refresh" not in page.headers
    again = client.post(f"/plan/{plan_id}/cancel", data={"token": token})
    assert again.status_code == 409  # a cancelled plan: the API's answer, said on the page


def test_the_plan_page_shows_each_days_labs_and_units_with_the_estimate_they_were_planned_at(
    site,
):
    """A unit's prevalence estimate recorded one day is the prevalence the next day's plan
    assumed for it, and the plan's page says so beside the unit; the labs of the day with
    their status, reactions and reagent; what the units reported for the day."""
    from tests.service.test_daily import daily_plan

    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    estimate = {"date": "2021-10-04", "district": "bim-son", "stream": "screening"}
    r = client.post(
        f"/v1/scenarios/{sid}/records/prevalence",
        headers=coord,
        json={"rows": [{**estimate, "prevalence": 0.0375}]},
    )
    assert r.status_code == 200, r.text
    report = {"epidemic_level": 3, "notes": "Chợ đầu mối <đóng cửa>"}
    r = client.put(f"/v1/scenarios/{sid}/districts/bim-son/days/{DATE}", headers=coord, json=report)
    assert r.status_code == 200, r.text
    plan = daily_plan(client, sid, coord, DATE, days=2)
    signed_in(client, keys["coordinator"])
    page = client.get(f"/plan/{plan['id']}?lang=vi")
    text = html.unescape(page.text)
    status = _csv(client.get(f"/v1/plans/{plan['id']}/tables/status.csv", headers=coord))
    mine = status[(status["day"] == 1) & (status["district"] == "bim-son")]
    assert mine.set_index("stream").loc["screening", "prevalence"] == pytest.approx(0.0375)
    scn = load_scenario(EXAMPLES / "thanh_hoa")
    unit, stream = scn.district_by_code["bim-son"].name, scn.stream_by_id["screening"].named("vi")
    row = re.search(rf"<tr><td>{unit}</td><td>{stream}</td>(.*?)</tr>", text, re.S)
    assert row and "3,75 %" in row.group(1)  # Vietnamese decimals
    labs = _csv(client.get(f"/v1/plans/{plan['id']}/tables/labs.csv", headers=coord))
    table = text[text.index(TEXT["vi"]["labs_on_day"].format(day=1)) :]
    table = table[: table.index("</table>")]
    assert table.count("<tr><td>") == int((labs["day"] == 1).sum()) > 0
    for name in labs[labs["day"] == 1]["lab_name"]:
        assert name in table
    assert TEXT["vi"]["level_3"] in text and "Chợ đầu mối <đóng cửa>" in text
    assert "<đóng" not in page.text  # the unit's text is escaped
    # another day of the plan: its own tables, and no report of the day before
    day2 = html.unescape(client.get(f"/plan/{plan['id']}?day=2&lang=vi").text)
    assert TEXT["vi"]["units_on_day"].format(day=2) in day2 and "Chợ đầu mối" not in day2


# ---------------------------------------------------------------------- a lab's day
def _lab_boxes(page_text: str) -> dict[str, str]:
    return dict(
        re.findall(r'name="((?:tested|used|counted)\|[^"]+)"[^>]*value="([^"]*)"', page_text)
    )


def test_a_lab_sees_what_the_days_plan_sends_it_and_records_what_it_did(site):
    from tests.service.test_daily import daily_plan

    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    plan = daily_plan(client, sid, coord, DATE, days=2)
    sheet = _csv(client.get(f"/v1/plans/{plan['id']}/tables/allocations.csv", headers=coord))
    sheet = sheet[(sheet["day"] == 1) & (sheet["samples"] > 0)]
    mine = sheet[sheet["lab"] == "th-cdc"]
    assert len(mine) > 1 and sheet["lab"].nunique() > 1
    signed_in(client, keys["lab"])
    assert f'href="/lab/{sid}"' in client.get("/").text
    page = client.get(f"/lab/{sid}?date={DATE}")
    assert page.status_code == 200
    boxes = _lab_boxes(page.text)
    tested = sorted(k for k in boxes if k.startswith("tested|"))
    # the lab's own arrivals only, one box per unit and stream the plan sends it
    assert tested == sorted(f"tested|th-cdc|{r.district}|{r.stream}" for r in mine.itertuples())
    assert f"/plan/{plan['id']}/dispatch" in page.text
    text = html.unescape(page.text)
    assert f"sends {int(mine['samples'].sum()):,} samples" in text
    data = {"token": form_token(keys["lab"]), "date": DATE, **dict.fromkeys(boxes, "")}
    data[tested[0]], data[tested[1]] = "1,200", "35"
    data["used|th-cdc"], data["counted|th-cdc"] = "410", "2,000"
    r = _post_form(client, f"/lab/{sid}", data)
    assert r.status_code == 200, r.text
    assert 'role="status"' in r.text
    got = _csv(client.get(f"/v1/scenarios/{sid}/records/tested", headers=coord))
    got = got[got["date"] == DATE].set_index(["district", "stream"])["samples"]
    want = {tuple(tested[0].split("|")[2:]): 1200, tuple(tested[1].split("|")[2:]): 35}
    assert got.to_dict() == want
    reagent = _csv(client.get(f"/v1/scenarios/{sid}/records/reagent", headers=coord))
    row = reagent[(reagent["date"] == DATE) & (reagent["lab"] == "th-cdc")].iloc[0]
    assert (row["used"], row["counted"]) == (410, 2000)
    # shown back; a box left empty keeps its figure; the same figures again change nothing
    shown = _lab_boxes(client.get(f"/lab/{sid}?date={DATE}").text)
    assert shown[tested[0]] == "1200" and shown["counted|th-cdc"] == "2000"
    again = {**data, tested[0]: "", "counted|th-cdc": ""}
    r = _post_form(client, f"/lab/{sid}", again)
    assert r.status_code == 200 and TEXT["en"]["unchanged"] in r.text


@pytest.mark.parametrize(
    ("box", "value", "said"),
    [
        ("tested", "-3", TEXT["en"]["whole"]),
        ("used", "1.5", TEXT["en"]["whole_reactions"]),
        ("counted", "lots", TEXT["en"]["whole_reactions"]),
    ],
)
def test_a_bad_figure_of_a_labs_day_is_marked_and_nothing_is_saved(site, box, value, said):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["lab"])
    name = {
        "tested": "tested|th-cdc|bim-son|screening",
        "used": "used|th-cdc",
        "counted": "counted|th-cdc",
    }[box]
    data = {"token": form_token(keys["lab"]), "date": DATE, "used|th-cdc": "10"}
    data["tested|th-cdc|sam-son|screening"] = "5"
    data[name] = value
    r = _post_form(client, f"/lab/{sid}", data)
    assert r.status_code == 422 and said in html.unescape(r.text)
    assert 'aria-invalid="true"' in r.text
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    for kind in ("tested", "reagent"):
        got = _csv(client.get(f"/v1/scenarios/{sid}/records/{kind}?history=true", headers=coord))
        assert got.empty, kind


def test_a_count_needs_the_reactions_run_and_a_lab_records_only_its_own_day(site):
    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    signed_in(client, keys["lab"])
    token = form_token(keys["lab"])
    data = {"token": token, "date": DATE, "tested|th-cdc|bim-son|screening": "5"}
    r = _post_form(client, f"/lab/{sid}", {**data, "counted|th-cdc": "900"})
    assert r.status_code == 422 and TEXT["en"]["used_first"] in html.unescape(r.text)
    other = "tested|th-bv-nhi|bim-son|screening"
    r = _post_form(client, f"/lab/{sid}", {"token": token, "date": DATE, other: "5"})
    assert r.status_code == 403 and "th-bv-nhi" in r.text
    r = _post_form(client, f"/lab/{sid}", {"token": token, "date": DATE, "used|nowhere": "5"})
    assert r.status_code in (403, 422)
    for kind in ("tested", "reagent"):
        got = _csv(client.get(f"/v1/scenarios/{sid}/records/{kind}?history=true", headers=coord))
        assert got.empty, kind
    # a unit's key has no lab's day; an unknown unit or stream is the API's refusal
    signed_in(client, keys["district"])
    assert client.get(f"/lab/{sid}").status_code == 404
    signed_in(client, keys["lab"])
    bad = {"token": token, "date": DATE, "tested|th-cdc|no-such-unit|screening": "5"}
    r = _post_form(client, f"/lab/{sid}", bad)
    assert r.status_code == 422 and "no-such-unit" in r.text


# ---------------------------------------------------------------------- estimates
def test_the_coordinator_stores_the_estimates_of_a_days_batches_for_the_next_plans(service):
    from tests.service.test_batches import lab_results, new_batch, tiny_json, upload

    c = service.client
    coord = service.key("coordinator", "tiny")
    lab = service.key("lab", "tiny/cdc")
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    batch, truth = new_batch(c, lab, sid, n=600, algorithm="D2", config="10")
    assert upload(c, batch["id"], lab, lab_results(c, batch["id"], lab, truth)).status_code == 200
    # the lab sees no such button, and may not store estimates
    signed_in(c, lab["Authorization"].split()[1])
    assert f'action="/estimates/{sid}"' not in c.get("/batches").text
    token = form_token(lab["Authorization"].split()[1])
    r = c.post(f"/estimates/{sid}", data={"token": token, "date": batch["date"]})
    assert r.status_code == 403
    assert _csv(c.get(f"/v1/scenarios/{sid}/records/prevalence", headers=coord)).empty
    # the coordinator does, from the batches' page
    key = coord["Authorization"].split()[1]
    signed_in(c, key)
    page = c.get("/batches")
    assert f'action="/estimates/{sid}"' in page.text
    token = form_token(key)
    for bad in ("", "2021-13-01"):
        r = c.post(f"/estimates/{sid}", data={"token": token, "date": bad})
        assert r.status_code == 422
    r = c.post(f"/estimates/{sid}", data={"token": "", "date": batch["date"]})
    assert r.status_code == 403
    r = c.post(f"/estimates/{sid}", data={"token": token, "date": "2021-12-30"})
    assert r.status_code == 404 and TEXT["en"]["estimate_refused"] in html.unescape(r.text)
    r = c.post(f"/estimates/{sid}", data={"token": token, "date": batch["date"]})
    assert r.status_code == 200, r.text
    text = html.unescape(r.text)
    assert TEXT["en"]["estimates"] in text and "Stored: the estimates of 2 units" in text
    # what the page stored is what the API's own estimate gives, as the loop's records
    ref = c.post(
        f"/v1/scenarios/{sid}/estimates",
        headers=coord,
        json={"date": batch["date"], "store": False},
    ).json()["estimates"]
    got = _csv(c.get(f"/v1/scenarios/{sid}/records/prevalence", headers=coord))
    got = got.set_index(["district", "stream"])["prevalence"]
    for e in ref:
        want = e["prevalence"] if e["prevalence"] > 0 else e["upper"]
        assert got[e["district"], e["stream"]] == pytest.approx(want, rel=1e-12)


def test_a_lab_makes_a_batch_of_the_days_samples_from_a_file(site, tmp_path):
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["lab"])
    token = form_token(keys["lab"])
    ids = [f"BS{i:04d}" for i in range(95)]
    samples = pd.DataFrame({"sample_id": ids, "stream": "screening", "district": "bim-son"})
    file = {"file": ("samples.csv", samples.to_csv(index=False).encode(), "text/csv")}
    form = {"token": token, "date": DATE, "lab": "th-cdc", "label": "BS1005"}
    page = client.get(f"/lab/{sid}?date={DATE}")
    assert f'action="/lab/{sid}/batch"' in page.text
    # each refusal beside its field, and nothing made
    for bad, field, said in [
        ({"label": "BS 1005", "algorithm": "D2", "config": "10"}, "label", TEXT["en"]["bad_form"]),
        ({"algorithm": "D9", "config": "10"}, "algorithm", "Choose one of: 'IT', 'D2'"),
        ({"lab": "th-bv-nhi", "algorithm": "D2", "config": "10"}, None, "th-bv-nhi"),
        ({"algorithm": "D2", "config": "10:x"}, None, "config"),
    ]:
        r = client.post(f"/lab/{sid}/batch", data={**form, **bad}, files=file)
        assert r.status_code in (403, 422), (bad, r.status_code)
        text = html.unescape(r.text)
        assert said in text, (bad, text[-2000:])
        if field:
            assert f'id="batch-{field}-error"' in r.text
    r = client.post(f"/lab/{sid}/batch", data={**form, "algorithm": "D2", "config": "10"})
    assert r.status_code == 422 and 'id="batch-file-error"' in r.text
    lab = {"Authorization": f"Bearer {keys['lab']}"}
    assert client.get("/v1/batches", headers=lab).json()["items"] == []
    # made: listed with its plate map
    r = client.post(
        f"/lab/{sid}/batch", data={**form, "algorithm": "D2", "config": "10"}, files=file
    )
    assert r.status_code == 200, r.text
    assert "Batch BS1005 made: 95 samples" in html.unescape(r.text)
    made = client.get("/v1/batches", headers=lab).json()["items"]
    assert [(b["label"], b["samples"], b["algorithm"], b["config"]) for b in made] == [
        ("BS1005", 95, "D2", "10")
    ]
    assert str(made[0]["date"]) == DATE
    plates = client.get(f"/batches/{made[0]['id']}/plates")
    assert plates.status_code == 200 and "BS1005" in plates.text
    # the same label again is the API's refusal, said on the page
    r = client.post(
        f"/lab/{sid}/batch", data={**form, "algorithm": "D2", "config": "10"}, files=file
    )
    assert r.status_code == 409 and "BS1005" in html.unescape(r.text)


# ---------------------------------------------------------------------- a review of the forms
def test_a_form_from_a_page_out_of_date_puts_nothing_back(site):
    """The coordinator opens the day's page; the unit then saves a figure, a level and a note;
    the coordinator's form, sent as it was, must not put back what the page showed: it is
    refused whole (409), and the page then shows what is recorded with what was typed."""
    service, sid, keys = site
    client = service.client
    signed_in(client, keys["coordinator"])
    page = client.get(f"/day/{sid}?date={DATE}")
    stale = {**_form_of(page.text), "token": form_token(keys["coordinator"])}
    stale["seen"] = re.search(r'name="seen" value="([0-9a-f]+)"', page.text).group(1)
    # meanwhile the unit reports its day
    signed_in(client, keys["district"])
    mine = _form_of(client.get(f"/day/{sid}?date={DATE}").text)
    box = next(k for k in mine if k.startswith("samples|bim-son|"))
    level = "4" if mine["level|bim-son"] != "4" else "3"
    r = _post_form(
        client,
        f"/day/{sid}",
        {**mine, "token": form_token(keys["district"]), "date": DATE, box: "77",
         "level|bim-son": level, "notes|bim-son": "outbreak at the market"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    # the coordinator's old form, another unit's figure changed
    signed_in(client, keys["coordinator"])
    other = next(k for k in stale if k.startswith("samples|sam-son|"))
    r = client.post(f"/day/{sid}", data={**stale, "date": DATE, other: "12"})
    assert r.status_code == 409 and TEXT["en"]["stale"] in html.unescape(r.text)
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    day = client.get(f"/v1/scenarios/{sid}/districts/bim-son/days/{DATE}", headers=coord).json()
    assert day["current"]["epidemic_level"] == int(level)
    assert day["current"]["notes"] == "outbreak at the market"
    got = _csv(client.get(f"/v1/scenarios/{sid}/records/collected?history=true", headers=coord))
    assert set(got["district"]) == {"bim-son"}  # sam-son's figure not saved either
    # the page answered shows what is recorded now; the change entered again, it saves
    shown = _form_of(r.text)
    assert shown[box] == "77" and shown["level|bim-son"] == level and shown[other] == ""
    seen = re.search(r'name="seen" value="([0-9a-f]+)"', r.text).group(1)
    again = {**shown, "token": stale["token"], "date": DATE, "seen": seen, other: "12"}
    r = client.post(f"/day/{sid}", data=again)
    assert r.status_code == 200, r.text
    day = client.get(f"/v1/scenarios/{sid}/districts/bim-son/days/{DATE}", headers=coord).json()
    assert day["current"]["notes"] == "outbreak at the market" and len(day["history"]) == 1
    got = _csv(client.get(f"/v1/scenarios/{sid}/records/collected?history=true", headers=coord))
    unit, stream = other.split("|")[1:]
    assert got.set_index(["district", "stream"])["samples"][unit, stream] == 12


def test_a_report_outside_the_horizon_stores_nothing_and_a_note_alone_gives_no_level(site):
    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    signed_in(client, keys["district"])
    token = form_token(keys["district"])
    late = "2022-06-01"  # the daily records take it; the scenario's horizon does not
    r = _post_form(
        client,
        f"/day/{sid}",
        {"token": token, "date": late, "samples|bim-son|screening": "7", "level|bim-son": "4"},
    )
    assert r.status_code == 422 and "outside the scenario's horizon" in html.unescape(r.text)
    got = _csv(client.get(f"/v1/scenarios/{sid}/records/collected?history=true", headers=coord))
    assert got.empty
    # a note alone: the report keeps no level of its own (the level in force stays the rule's)
    sent = _form_of(client.get(f"/day/{sid}?date={DATE}").text)
    r = _post_form(
        client, f"/day/{sid}", {**sent, "token": token, "date": DATE, "notes|bim-son": "ok"}
    )
    assert r.status_code == 200, r.text
    day = client.get(f"/v1/scenarios/{sid}/districts/bim-son/days/{DATE}", headers=coord).json()
    assert day["current"]["notes"] == "ok" and day["current"]["epidemic_level"] is None
    # the same again: nothing changes, and the page says so
    again = _form_of(client.get(f"/day/{sid}?date={DATE}").text)
    r = _post_form(client, f"/day/{sid}", {**again, "token": token, "date": DATE})
    assert r.status_code == 200 and TEXT["en"]["unchanged"] in r.text


def test_a_labs_form_stores_nothing_when_any_part_is_refused_and_keeps_decimal_reactions(site):
    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    signed_in(client, keys["lab"])
    token = form_token(keys["lab"])
    good = {"token": token, "date": DATE, "tested|th-cdc|bim-son|screening": "5"}
    r = _post_form(client, f"/lab/{sid}", {**good, "used|th-bv-nhi": "3"})
    assert r.status_code == 403
    signed_in(client, keys["coordinator"])
    good["token"] = form_token(keys["coordinator"])
    r = _post_form(client, f"/lab/{sid}", {**good, "used|nowhere": "3"})
    assert r.status_code == 422
    for kind in ("tested", "reagent"):
        got = _csv(client.get(f"/v1/scenarios/{sid}/records/{kind}?history=true", headers=coord))
        assert got.empty, kind
    # reactions recorded with a decimal through the API are shown and kept as they are
    row = {"date": DATE, "lab": "th-cdc", "used": 12.5}
    r = client.post(f"/v1/scenarios/{sid}/records/reagent", headers=coord, json={"rows": [row]})
    assert r.status_code == 200, r.text
    for lang, shown in (("en", "12.5"), ("vi", "12,5")):
        page = client.get(f"/lab/{sid}?date={DATE}&lang={lang}")
        assert _lab_boxes(page.text)["used|th-cdc"] == shown
    page = client.get(f"/lab/{sid}?date={DATE}&lang=en")
    sent = {**_lab_boxes(page.text), "token": good["token"], "date": DATE, "counted|th-cdc": "500"}
    r = _post_form(client, f"/lab/{sid}", sent)
    assert r.status_code == 200, r.text
    got = _csv(client.get(f"/v1/scenarios/{sid}/records/reagent", headers=coord))
    assert (got["used"].iloc[0], got["counted"].iloc[0]) == (12.5, 500)


def test_a_plan_page_shows_only_the_plans_own_days(site):
    from tests.service.test_daily import daily_plan

    service, sid, keys = site
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    plan = daily_plan(service.client, sid, coord, DATE, days=2)
    signed_in(service.client, keys["coordinator"])
    for asked in ("3", "99999"):
        page = html.unescape(service.client.get(f"/plan/{plan['id']}?day={asked}").text)
        assert "Day 2: 2021-10-06" in page and f"Day {asked}" not in page


def test_figures_that_do_not_add_up_are_said_on_every_view_until_corrected(site):
    """A lab records more tests than the unit's samples: saved (what happened is recorded),
    and said on the lab's and the unit's day until corrected; the next plan's refusal names
    the lab that recorded them."""
    from tests.service.test_daily import wait_done

    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    signed_in(client, keys["lab"])
    box = "tested|th-cdc|bim-son|screening"
    r = _post_form(
        client, f"/lab/{sid}", {"token": form_token(keys["lab"]), "date": DATE, box: "999999"}
    )
    assert r.status_code == 200, r.text
    for url in (f"/lab/{sid}?date={DATE}", f"/lab/{sid}?date=2021-10-07"):
        assert 'class="warning"' in client.get(url).text, url
    signed_in(client, keys["district"])
    assert 'class="warning"' in client.get(f"/day/{sid}?date={DATE}").text
    r = client.post(
        "/v1/plans",
        json={"scenario_id": sid, "start_date": "2021-10-06", "days": 2, "daily": True},
        headers=coord,
    )
    plan = wait_done(client, r.json()["id"], coord, timeout=120)
    assert plan["status"] == "failed" and "recorded by th-cdc" in plan["error"]
    # corrected: the warning goes
    signed_in(client, keys["lab"])
    r = _post_form(
        client, f"/lab/{sid}", {"token": form_token(keys["lab"]), "date": DATE, box: "5"}
    )
    assert r.status_code == 200 and 'class="warning"' not in r.text


def test_a_plans_progress_and_the_historys_notes_are_said_in_the_pages_language(site):
    from labopt.schedule.labels import STAGES
    from labopt_api.planrun import STEPS

    # every message a plan's page may show while it is solved has its Vietnamese (a step is
    # the start of its messages: "solving the allocation (LP)")
    said = STAGES["vi"]
    assert not [
        m for m in (*STEPS, "queued", "starting", "done") if not any(k.startswith(m) for k in said)
    ]
    service, sid, keys = site
    signed_in(service.client, keys["coordinator"])
    vi = html.unescape(service.client.get(f"/history/{sid}?lang=vi").text)
    en = html.unescape(service.client.get(f"/history/{sid}?lang=en").text)
    assert "no tests recorded" in en and "no tests recorded" not in vi
    assert "chưa nhập kết quả xét nghiệm" in vi and "04/10/2021" in vi


# ---------------------------------------------------------------------- a third review
@pytest.mark.parametrize(
    "url",
    [
        "/day/{sid}?date=2021-10-05&saved=%C2%B2",
        "/lab/{sid}?date=2021-10-05&reports=%C2%B2",
        "/plans/{sid}?page=%C2%B2",
        "/batches?page=%C2%B2",
    ],
)
def test_a_number_in_an_address_that_is_not_plain_digits_is_not_read(site, url):
    service, sid, keys = site
    signed_in(service.client, keys["coordinator"])
    r = service.client.get(url.format(sid=sid))
    assert r.status_code == 200 and "Saved:" not in r.text


def test_a_level_in_force_changed_meanwhile_makes_the_form_out_of_date(site):
    """The page showed the scenario's level; a report of an earlier day then changes the level
    in force: the old form would record the level it showed as the unit's choice."""
    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    signed_in(client, keys["district"])
    page = client.get(f"/day/{sid}?date=2021-10-06")
    old = {**_form_of(page.text), "token": form_token(keys["district"]), "date": "2021-10-06"}
    old["seen"] = re.search(r'name="seen" value="([0-9a-f]+)"', page.text).group(1)
    shown = int(old["level|bim-son"])
    level = 4 if shown != 4 else 3
    r = client.put(
        f"/v1/scenarios/{sid}/districts/bim-son/days/2021-10-05",
        headers=coord,
        json={"epidemic_level": level},
    )
    assert r.status_code == 200, r.text
    box = next(k for k in old if k.startswith("samples|"))
    r = client.post(f"/day/{sid}", data={**old, box: "9"})
    assert r.status_code == 409
    day = client.get(f"/v1/scenarios/{sid}/districts/bim-son/days/2021-10-06", headers=coord)
    assert day.status_code == 404  # no report was made for the day


def test_what_the_page_does_not_show_does_not_make_its_form_out_of_date(site):
    """A prevalence stored in the unit's report of the day (estimates, the API) changes
    nothing the day's page shows: its form still saves."""
    service, sid, keys = site
    client = service.client
    coord = {"Authorization": f"Bearer {keys['coordinator']}"}
    signed_in(client, keys["district"])
    page = client.get(f"/day/{sid}?date={DATE}")
    sent = {**_form_of(page.text), "token": form_token(keys["district"]), "date": DATE}
    sent["seen"] = re.search(r'name="seen" value="([0-9a-f]+)"', page.text).group(1)
    r = client.put(
        f"/v1/scenarios/{sid}/districts/bim-son/days/{DATE}",
        headers=coord,
        json={"prevalence": {"screening": 0.02}},
    )
    assert r.status_code == 200
    box = next(k for k in sent if k.startswith("samples|"))
    r = client.post(f"/day/{sid}", data={**sent, box: "9"})
    assert r.status_code == 200, r.text
    day = client.get(f"/v1/scenarios/{sid}/districts/bim-son/days/{DATE}", headers=coord).json()
    assert day["current"]["prevalence"] == {"screening": 0.02}


def test_an_estimate_for_a_date_the_api_does_not_take_is_refused_as_a_date(service):
    from tests.service.test_batches import tiny_json

    c = service.client
    coord = service.key("coordinator", "tiny")
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    key = coord["Authorization"].split()[1]
    signed_in(c, key)
    for date in ("1900-01-01", "2100-01-01"):
        r = c.post(f"/estimates/{sid}", data={"token": form_token(key), "date": date})
        assert r.status_code == 422 and TEXT["en"]["bad_date"] in html.unescape(r.text)


def test_the_next_runs_list_shows_sample_ids_as_they_are(service):
    """Sample ids a spreadsheet would read as formulas are escaped in the files the API
    gives; the page lists them as the lab wrote them on the tubes."""
    from tests.service.test_batches import lab_results, tiny_json

    c = service.client
    coord = service.key("coordinator", "tiny")
    lab = service.key("lab", "tiny/cdc")
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    ids = ["-002", "@x", "C", "D"]
    body = {
        "scenario_id": sid,
        "lab": "cdc",
        "label": "F1",
        "date": "2021-10-04",
        "algorithm": "D2",
        "config": "2",
        "samples": [{"sample_id": i} for i in ids],
    }
    batch = c.post("/v1/batches", headers=lab, json=body)
    assert batch.status_code == 201, batch.text
    # the helper reads the API's manifest file, where the id is escaped as a spreadsheet needs
    results = lab_results(c, batch.json()["id"], lab, {"'-002"})
    key = lab["Authorization"].split()[1]
    signed_in(c, key)
    r = c.post(
        f"/batches/{batch.json()['id']}/results",
        data={"token": form_token(key), "lang": "en"},
        files={"file": ("run1.csv", results.to_csv(index=False).encode(), "text/csv")},
    )
    assert r.status_code == 200, r.text[-2000:]
    text = html.unescape(r.text)
    assert "<td>-002</td>" in text and "<td>@x</td>" in text and "'-002" not in text
