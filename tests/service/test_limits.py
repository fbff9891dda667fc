"""Uploads that expand to a lot of work are refused quickly (413 too big, 422 too many rows,
cells or characters), with the same limits as JSON; request bodies over the limit are 413
however they are sent; a 422 never echoes a large input."""

from __future__ import annotations

import io
import json
import time
import zipfile
from functools import lru_cache

import httpx
import pytest
from fastapi.testclient import TestClient

from labopt_api.main import create_app
from labopt_api.schemas import MAX_ROWS, MAX_TEXT
from labopt_api.uploads import MAX_CELLS, MAX_EXPANDED_BYTES, MAX_MEMBERS, check_csv
from tests.service.conftest import settings_for
from tests.service.live import LiveServer
from tests.service.test_api import TINY, tiny_json, zip_folder
from tests.service.test_batches import START

# a refusal must not wait for the parse: unchecked, these files took 15-65 s (0.1-0.5 s
# checked); the bound leaves room for a machine loaded by other work
FAST = 5.0


# ---------------------------------------------------------------------- hostile files
@lru_cache
def zip_bomb() -> bytes:
    """A scenario zip (~1 MB) whose demand.csv expands to 1 GiB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for f in TINY.iterdir():
            if f.name != "demand.csv":
                z.write(f, f"tiny/{f.name}")
        line = b"a,2021-10-04,screening,1\n" * 40_000
        with z.open("tiny/demand.csv", "w", force_zip64=True) as out:
            out.write(b"district,date,stream,samples\n")
            for _ in range(2**30 // len(line) + 1):
                out.write(line)
    return buf.getvalue()


def workbook(rows: int, columns: int) -> bytes:
    """An XLSX workbook (written as its XML parts) with one sheet of rows x columns cells."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
        'formats-package.relationships+xml"/><Default Extension="xml" ContentType="appli'
        'cation/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-office'
        'document.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/pack'
        'age/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
        'formats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook'
        '.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheet'
        'ml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships"><sheets><sheet name="samples" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>",
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/pack'
        'age/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
        'formats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/'
        'sheet1.xml"/></Relationships>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(
                b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.'
                b'org/spreadsheetml/2006/main"><sheetData>'
            )
            header = "".join(f'<c t="inlineStr"><is><t>c{j}</t></is></c>' for j in range(columns))
            out.write(f"<row>{header.replace('c0<', 'sample_id<')}</row>".encode())
            cells = "<c><v>{}</v></c>" * columns
            for start in range(0, rows, 10_000):  # numbers: each row its own
                out.write(
                    "".join(
                        f"<row>{cells.format(*[i] * columns)}</row>"
                        for i in range(start, min(rows, start + 10_000))
                    ).encode()
                )
            out.write(b"</sheetData></worksheet>")
    return buf.getvalue()


def many_members(n: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(n):
            z.writestr(f"t/{i}.txt", b"")
    return buf.getvalue()


def timed(call):
    t0 = time.perf_counter()
    r = call()
    return r, time.perf_counter() - t0


# ---------------------------------------------------------------------- scenario uploads
@pytest.fixture
def coordinator(service):
    return service.client, service.key("coordinator", "*")


def test_a_zip_bomb_scenario_is_413_at_once(coordinator):
    c, h = coordinator
    bomb = zip_bomb()
    assert len(bomb) < 10 * 2**20  # half the body limit
    r, seconds = timed(
        lambda: c.post("/v1/scenarios/upload", headers=h, files={"file": ("tiny.zip", bomb)})
    )
    assert r.status_code == 413, r.text[:500]
    assert "expands to 1,024 MiB" in r.json()["detail"]
    assert f"at most {MAX_EXPANDED_BYTES // 2**20} MiB" in r.json()["detail"]
    assert seconds < FAST
    assert c.get("/v1/scenarios", headers=h).json()["items"] == []  # nothing stored


def test_a_scenario_zip_with_too_many_files_or_rows_is_refused(coordinator):
    c, h = coordinator
    for n in (MAX_MEMBERS + 1, 70_000):  # the second: counted before zipfile lists them
        archive = many_members(n)
        r, seconds = timed(
            lambda archive=archive: c.post(
                "/v1/scenarios/upload", headers=h, files={"file": ("t.zip", archive)}
            )
        )
        assert r.status_code == 413 and f"at most {MAX_MEMBERS}" in r.json()["detail"]
        assert seconds < FAST
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in TINY.iterdir():
            z.write(f, f"tiny/{f.name}")
        z.writestr("tiny/travel.csv", b"from,to,minutes\n" + b"a,b,1\n" * (MAX_ROWS + 1))
    archive = buf.getvalue()
    r, seconds = timed(
        lambda: c.post("/v1/scenarios/upload", headers=h, files={"file": ("t.zip", archive)})
    )
    assert r.status_code == 422, r.text[:500]
    item = r.json()["detail"][0]
    assert item["loc"] == ["body", "file"] and "t.zip/tiny/travel.csv" in item["msg"]
    assert f"more than {MAX_ROWS:,} rows" in item["msg"]
    assert seconds < FAST
    # the same scenario within the limits is still accepted
    r = c.post("/v1/scenarios/upload", headers=h, files={"file": ("t.zip", zip_folder(TINY))})
    assert r.status_code == 201, r.text


def test_a_workbook_with_millions_of_cells_is_422_at_once(coordinator):
    c, h = coordinator
    book = workbook(100_000, 20)  # 2 million cells in 100,000 rows
    assert len(book) < 1 * 2**20
    r, seconds = timed(
        lambda: c.post("/v1/scenarios/upload", headers=h, files={"file": ("big.xlsx", book)})
    )
    assert r.status_code == 422, r.text[:500]
    assert f"more than {MAX_CELLS:,} cells" in r.json()["detail"][0]["msg"]
    assert seconds < FAST


def test_scenario_json_tables_have_the_same_row_limit(coordinator):
    c, h = coordinator
    data = tiny_json()
    data["travel"] = [{"from": "a", "to": "b", "minutes": 1}] * (MAX_ROWS + 1)
    r = c.post("/v1/scenarios", headers=h, json=data)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "travel"]
    assert f"at most {MAX_ROWS}" in r.json()["detail"][0]["msg"]


# ---------------------------------------------------------------------- batch uploads
@pytest.fixture
def lab_setup(service):
    c = service.client
    coord = service.key("coordinator", "tiny")
    lab = service.key("lab", "tiny/cdc")
    sid = c.post("/v1/scenarios", headers=coord, json=tiny_json()).json()["id"]
    form = {
        "scenario_id": sid,
        "lab": "cdc",
        "label": "B1",
        "date": str(START),
        "algorithm": "D2",
        "config": "10",
    }
    return c, lab, form


def post_samples(c, lab, form, name, data):
    return timed(
        lambda: c.post(
            "/v1/batches/upload",
            headers=lab,
            data=form,
            files={"file": (name, data, "application/octet-stream")},
        )
    )


def test_a_csv_batch_over_the_json_limit_is_422_at_once(lab_setup):
    c, lab, form = lab_setup
    rows = b"sample_id\n" + b"".join(b"S%07d\n" % i for i in range(700_000))
    r, seconds = post_samples(c, lab, form, "s.csv", rows)
    assert r.status_code == 422, r.text[:500]
    assert f"more than {MAX_ROWS:,} rows below the header" in r.json()["detail"][0]["msg"]
    assert seconds < FAST
    r, seconds = post_samples(c, lab, form, "s.csv", b"x," * 60 + b"sample_id\n1\n")
    assert r.status_code == 422 and "61 columns in the header" in r.text
    # exactly the limit passes the check
    check_csv(b"sample_id\n" + b"".join(b"S%07d\n" % i for i in range(MAX_ROWS)), "s.csv")


def test_a_workbook_batch_over_the_row_limit_is_422_at_once(lab_setup):
    c, lab, form = lab_setup
    r, seconds = post_samples(c, lab, form, "s.xlsx", workbook(700_000, 1))
    assert r.status_code == 422, r.text[:500]
    assert f"more than {MAX_ROWS:,} rows" in r.json()["detail"][0]["msg"]
    assert seconds < FAST
    ok, _ = post_samples(c, lab, {**form, "label": "B2"}, "s.xlsx", workbook(30, 1))
    assert ok.status_code == 201, ok.text
    assert ok.json()["samples"] == 30


def test_a_long_cell_is_422_naming_it_without_echoing_it(lab_setup):
    c, lab, form = lab_setup
    huge = "x" * (5 * 2**20)
    data = f"sample_id,district\nS1,a\n{huge},a\nS3,{'y' * (MAX_TEXT + 1)}\n".encode()
    r, seconds = post_samples(c, lab, form, "s.csv", data)
    assert r.status_code == 422, r.text[:500]
    assert len(r.content) < 5000
    # a cell beyond what any CSV reader keeps is refused by the reader, named
    assert r.json()["detail"][0]["msg"].startswith(
        "row 3, column 'sample_id': a cell longer than 131,072 characters"
    )
    assert seconds < FAST
    data = f"sample_id,district\nS1,a\n{'x' * 5000},a\nS3,{'y' * (MAX_TEXT + 1)}\n".encode()
    r, _ = post_samples(c, lab, form, "s.csv", data)
    assert r.status_code == 422 and len(r.content) < 5000, r.text[:500]
    locs = [d["loc"] for d in r.json()["detail"]]
    assert ["s.csv", 3, "sample_id"] in locs and ["s.csv", 4, "district"] in locs
    assert f"longer than {MAX_TEXT} characters" in r.json()["detail"][0]["msg"]
    ok = f"sample_id\nS1\n{'z' * MAX_TEXT}\n".encode()  # exactly the limit
    r, _ = post_samples(c, lab, form, "s.csv", ok)
    assert r.status_code == 201, r.text[:500]


def test_results_uploads_have_the_same_limits(lab_setup):
    c, lab, form = lab_setup
    r, _ = post_samples(c, lab, form, "s.csv", b"sample_id\n" + b"S1\nS2\nS3\n")
    bid = r.json()["id"]
    rows = b"pool_id,result\n" + b"B1-P0001,negative\n" * 700_000
    r, seconds = timed(
        lambda: c.post(
            f"/v1/batches/{bid}/results/upload",
            headers=lab,
            files={"file": ("run.csv", rows, "text/csv")},
        )
    )
    assert r.status_code == 422 and f"more than {MAX_ROWS:,} rows" in r.text
    assert seconds < FAST
    long_id = b"pool_id,result\n" + b"P" * 10_000 + b",negative\n"
    r = c.post(
        f"/v1/batches/{bid}/results/upload",
        headers=lab,
        files={"file": ("run.csv", long_id, "text/csv")},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["run.csv", 2, "pool_id"]
    assert len(r.content) < 5000


# ---------------------------------------------------------------------- bodies and echoes
def test_a_huge_unknown_field_is_not_echoed(service):
    c, h = service.client, service.key("admin")
    body = {"algorithm": "D2", "config": "10", "prevalence": 0.01, "bogus": "x" * 12_000_000}
    r = c.post("/v1/pooling/evaluate", headers=h, json=body)
    assert r.status_code == 422
    assert len(r.content) < 2000, len(r.content)
    item = r.json()["detail"][0]
    assert item["loc"] == ["body", "bogus"] and item["input"].startswith("xxx")
    assert "12,000,000 characters" in item["input"]
    # a huge field name, and a huge value of the wrong type
    r = c.post(
        "/v1/pooling/evaluate",
        headers=h,
        json={"algorithm": "D2", "config": "10", "p" * 1_000_000: 1},
    )
    assert r.status_code == 422 and len(r.content) < 2000
    r = c.post(
        "/v1/pooling/evaluate",
        headers=h,
        json={"algorithm": "D2", "config": list(range(1_000_000))},
    )
    assert r.status_code == 422 and len(r.content) < 2000


@pytest.fixture(scope="module")
def small_body_server(tmp_path_factory):
    db = tmp_path_factory.mktemp("limits") / "labopt.db"
    server = LiveServer(f"sqlite:///{db}", max_body_mb=1).start()
    server.admin = server.key("admin")
    yield server
    server.stop()


def _chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


@pytest.mark.parametrize(
    "path,content_type",
    [
        ("/v1/batches/upload", "multipart/form-data; boundary=b0undary"),
        ("/v1/scenarios/upload", "multipart/form-data; boundary=b0undary"),
        ("/v1/scenarios", "application/json"),
        ("/v1/pooling/evaluate", "application/json"),
    ],
)
def test_a_chunked_body_over_the_limit_is_413(small_body_server, path, content_type):
    key = small_body_server.admin

    def body():
        if content_type.startswith("multipart"):
            yield (
                b'--b0undary\r\nContent-Disposition: form-data; name="file"; '
                b'filename="s.csv"\r\nContent-Type: text/csv\r\n\r\n'
            )
        else:
            yield b'{"x": "'
        yield from _chunks(3 * 2**20)

    r = httpx.post(
        small_body_server.url + path,
        content=body(),
        timeout=30,
        headers={**key, "Content-Type": content_type},
    )
    assert r.status_code == 413, (r.status_code, r.text[:300])
    assert "request body over 1,048,576 bytes" in r.json()["detail"]


def test_an_announced_body_over_the_limit_is_413(database_url):
    with TestClient(create_app(settings_for(database_url, max_body_mb=0.01))) as c:
        r = c.post("/v1/scenarios/upload", files={"file": ("t.zip", b"x" * 20_000)})
        assert r.status_code == 413


# ---------------------------------------------------------------------- hostile cells
def test_a_csv_cell_beyond_the_field_limit_is_422_naming_file_and_row(lab_setup):
    c, lab, form = lab_setup
    r, _ = post_samples(c, lab, form, "s.csv", b"sample_id\n" + b"x" * 140_000)
    assert r.status_code == 422, r.text[:500]
    assert "s.csv" in r.text and "row 2" in r.text and "131,072 characters" in r.text
    r, _ = post_samples(c, lab, form, "s.csv", b"sample_id\nS1\nS2\nS3\n")
    bid = r.json()["id"]
    r = c.post(
        f"/v1/batches/{bid}/results/upload",
        headers=lab,
        files={"file": ("run.csv", b"pool_id,result\nB1-P0001," + b"n" * 140_000, "text/csv")},
    )
    assert r.status_code == 422, r.text[:500]
    assert "run.csv" in r.text and "row 2, column 'result'" in r.text
    assert len(r.content) < 5000


def _zip_with(edits: dict[str, tuple[str, str]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in TINY.iterdir():
            text = f.read_text(encoding="utf-8")
            if f.name in edits:
                text = text.replace(*edits[f.name], 1)
            z.writestr(f"tiny/{f.name}", text)
    return buf.getvalue()


@pytest.mark.parametrize(
    "edits,message",
    [
        (
            {"districts.csv": ("Huyện Bê", "x" * 140_000)},
            ("districts.csv", "row 3, column 'name': a cell longer than 131,072 characters"),
        ),
        (
            {"demand.csv": ("1,a,reactive,500,", "7" * 3_000_000)},
            ("demand.csv", "row 2, column 'day': a cell longer than 131,072 characters"),
        ),
        (
            {"scenario.toml": ("days = 3", "days = 3\n[x]\ny = " + "[" * 5000 + "]" * 5000)},
            ("scenario.toml", "arrays or tables nested too deeply"),
        ),
    ],
)
def test_a_scenario_zip_with_a_huge_cell_or_deep_toml_is_422(coordinator, edits, message):
    c, h = coordinator
    r = c.post("/v1/scenarios/upload", headers=h, files={"file": ("t.zip", _zip_with(edits))})
    assert r.status_code == 422, r.text[:500]
    item = r.json()["detail"][0]
    assert item["loc"] == [message[0]] and item["msg"].startswith(message[1]), item
    assert len(r.content) < 10_000


def test_a_deeply_nested_json_scenario_body_is_422(coordinator):
    c, h = coordinator
    data = tiny_json()
    body = json.dumps(data)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    r = c.post(
        "/v1/scenarios", headers={**h, "content-type": "application/json"}, content=body.encode()
    )
    assert r.status_code in (400, 422), r.text[:500]
    assert len(r.content) < 5000
