"""`labopt batch make`, `labopt batch decode` and `labopt estimate` on CSV files.

The commands are called through their typer apps (labopt.cli.lab.app, and a small app around
labopt.cli.lab.estimate), as `labopt batch ...` and `labopt estimate` will run them.
"""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from labopt.cli import lab
from labopt.examples import EXAMPLES
from labopt.scenario import load_scenario

runner = CliRunner()
estimate_app = typer.Typer()
estimate_app.command()(lab.estimate)
FIXTURES = EXAMPLES


def lab_batch(*args):
    return runner.invoke(lab.app, [str(a) for a in args])


def estimate(*args):
    return runner.invoke(estimate_app, [str(a) for a in args])


@pytest.fixture
def samples(tmp_path):
    rng = np.random.default_rng(4)
    n = 400
    df = pd.DataFrame(
        {
            "sample_id": [f"TH{i:05d}" for i in range(n)],
            "district": rng.choice(["sam-son", "tho-xuan"], n),
            "stream": "screening",
            "address_group": rng.choice(["tổ 1", "tổ 2", "tổ 3"], n),
            "note": "ignored",
        }
    )
    path = tmp_path / "samples.csv"
    df.to_csv(path, index=False)
    return path


def fill(template: Path, positive=(), invalid=(), out=None, ct=31.0):
    """The lab fills in the results sheet: controls pass, reactions negative unless listed."""
    t = pd.read_csv(template, dtype=str, keep_default_na=False)
    t["result"] = np.where(t["content"] == "positive_control", "positive", "negative")
    t.loc[t["pool_id"].isin(positive), "result"] = "positive"
    t.loc[t["pool_id"].isin(positive), "ct"] = str(ct)
    t.loc[t["pool_id"].isin(invalid), "result"] = "invalid"
    t.to_csv(out, index=False)
    return out


def test_make_decode_to_the_end(tmp_path, samples):
    out = tmp_path / "batch"
    r = lab_batch("make", samples, "-a", "D3", "-c", "12:4,4,4", "--out", out, "--batch", "TH0801")
    assert r.exit_code == 0, r.output
    for name in (
        "manifest.csv",
        "plates.csv",
        "plates.html",
        "pools.csv",
        "statuses.csv",
        "results_template.csv",
        "batch.json",
        "results_log.csv",
    ):
        assert (out / name).is_file(), name
    manifest = pd.read_csv(out / "manifest.csv")
    assert len(manifest) == 400 and manifest["pool_1"].str.startswith("TH0801-P").all()
    first = manifest["pool_1"].unique()
    run1 = fill(
        out / "results_template.csv",
        positive=[first[0], first[3]],
        invalid=[first[5]],
        out=tmp_path / "run1.csv",
    )
    r = lab_batch("decode", out, run1)
    assert r.exit_code == 0, r.output
    assert "pending" in r.output
    retest = pd.read_csv(out / "retest.csv")
    assert set(retest["reason"]) == {"next_stage", "repeat_invalid"}
    assert (
        retest["pool_id"].str.startswith(f"{first[0]}.")
        | retest["pool_id"].str.startswith(f"{first[3]}.")
        | (retest["pool_id"] == first[5])
    ).all()
    # run 2: one sub-pool positive; run 3: one person positive
    tpl = pd.read_csv(out / "results_template.csv")
    sub = f"{first[0]}.2"
    assert sub in set(tpl["pool_id"])
    r = lab_batch(
        "decode", out, fill(out / "results_template.csv", positive=[sub], out=tmp_path / "run2.csv")
    )
    assert r.exit_code == 0, r.output
    r = lab_batch(
        "decode",
        out,
        fill(
            out / "results_template.csv", positive=[f"{sub}.3"], out=tmp_path / "run3.csv", ct=27.5
        ),
        "--json",
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert (summary["positive"], summary["pending"], summary["negative"]) == (1, 0, 399)
    assert summary["reactions_next_run"] == 0
    st = pd.read_csv(out / "statuses.csv")
    hit = st[st["status"] == "positive"]
    assert len(hit) == 1 and hit["ct"].iloc[0] == 27.5 and hit["decided_stage"].iloc[0] == 3
    est = estimate(out)
    assert est.exit_code == 0, est.output
    assert "sam-son" in est.output and "tho-xuan" in est.output


def test_decode_twice_is_idempotent(tmp_path, samples):
    out = tmp_path / "b"
    lab_batch("make", samples, "-a", "D2", "-c", "10", "--out", out)
    first = pd.read_csv(out / "manifest.csv")["pool_1"].unique()
    run1 = fill(
        out / "results_template.csv",
        positive=[first[1]],
        invalid=[first[2]],
        out=tmp_path / "r1.csv",
    )
    assert lab_batch("decode", out, run1).exit_code == 0
    snapshot = {
        p.name: p.read_bytes()
        for p in out.iterdir()
        if p.suffix == ".csv" and p.name != "results_log.csv"
    }
    log = pd.read_csv(out / "results_log.csv")
    r = lab_batch("decode", out, run1, "--json")
    assert r.exit_code == 0
    assert json.loads(r.output)["applied"]["added"] == 0
    assert {
        p.name: p.read_bytes()
        for p in out.iterdir()
        if p.suffix == ".csv" and p.name != "results_log.csv"
    } == snapshot
    pd.testing.assert_frame_equal(pd.read_csv(out / "results_log.csv"), log)


def test_corrections_need_the_flag(tmp_path, samples):
    out = tmp_path / "b"
    lab_batch("make", samples, "-a", "D2", "-c", "10", "--out", out)
    first = pd.read_csv(out / "manifest.csv")["pool_1"].unique()
    lab_batch("decode", out, fill(out / "results_template.csv", out=tmp_path / "r1.csv"))
    fix = pd.DataFrame({"pool_id": [first[0]], "result": ["positive"], "run": [1]})
    fix.to_csv(tmp_path / "fix.csv", index=False)
    r = lab_batch("decode", out, tmp_path / "fix.csv")
    assert r.exit_code == 2 and "--correct" in r.output
    r = lab_batch("decode", out, tmp_path / "fix.csv", "--correct")
    assert r.exit_code == 0, r.output
    log = pd.read_csv(out / "results_log.csv")
    assert log.loc[log["pool_id"] == first[0], "result"].tolist() == ["negative", "positive"]


def test_arrays_384_wells_and_png_maps(tmp_path, samples):
    out = tmp_path / "arr"
    r = lab_batch(
        "make",
        samples,
        "-a",
        "A2M",
        "-c",
        "5",
        "--out",
        out,
        "--plate",
        "384",
        "--controls",
        "positive=2,negative=2",
        "--order",
        "row",
        "--map",
        "both",
    )
    assert r.exit_code == 0, r.output
    plates = pd.read_csv(out / "plates.csv")
    assert set(plates["content"]) == {"reaction", "positive_control", "negative_control"}
    assert plates["well"].iloc[:2].tolist() == ["A1", "A2"]
    assert list((out / "plate_maps" / "run1").glob("*.png"))
    manifest = pd.read_csv(out / "manifest.csv")
    assert {"master_pool", "row_pool", "column_pool", "individual_pool"} <= set(manifest)


def test_field_pooling_writes_the_recollection_list(tmp_path, samples):
    out = tmp_path / "field"
    r = lab_batch(
        "make",
        samples,
        "-a",
        "D2",
        "-c",
        "6",
        "--field",
        "--out",
        out,
        "--recollection-hours",
        "36",
    )
    assert r.exit_code == 0, r.output
    m = pd.read_csv(out / "manifest.csv")
    assert (m.groupby("pool_1")["address_group"].nunique() == 1).all()
    tube = m["pool_1"].iloc[0]
    r = lab_batch(
        "decode", out, fill(out / "results_template.csv", positive=[tube], out=tmp_path / "r.csv")
    )
    assert r.exit_code == 0, r.output
    assert "re-collect" in r.output and "36 h later" in r.output
    rec = pd.read_csv(out / "recollect.csv")
    assert (rec["field_pool"] == tube).all() and (rec["added_delay_hours"] == 36).all()


def test_decode_a_bare_manifest_with_per_pool_results(tmp_path, samples):
    out = tmp_path / "b"
    lab_batch("make", samples, "-a", "D2", "-c", "10", "--out", out, "--map", "none")
    lone = tmp_path / "elsewhere"
    lone.mkdir()
    shutil.copy(out / "manifest.csv", lone / "manifest.csv")
    first = pd.read_csv(lone / "manifest.csv")["pool_1"].unique()
    pd.DataFrame({"pool_id": first, "result": "negative"}).to_csv(tmp_path / "r.csv", index=False)
    r = lab_batch("decode", lone / "manifest.csv", tmp_path / "r.csv", "--out", tmp_path / "new")
    assert r.exit_code == 0, r.output
    assert (pd.read_csv(tmp_path / "new" / "statuses.csv")["status"] == "negative").all()
    assert not (lone / "statuses.csv").exists()  # --out elsewhere: source untouched


@pytest.mark.parametrize(
    "args,message",
    [
        (["-a", "D2", "-c", "10", "--plate", "48"], "48 wells is not a supported plate"),
        (["-a", "D2", "-c", "10", "--controls", "positive=96"], "leave no well for reactions"),
        (["-a", "D3", "-c", "12:5,5"], "must add up to the first-stage pool size 12"),
        (["-a", "ID2", "-c", "5,3,2"], "missing column 'risk': ID2 sorts samples by individual"),
        (["-a", "A2", "-c", "4", "--field"], "field pooling needs a pooled hierarchical design"),
        (["-a", "D2", "-c", "10", "--map", "pdf"], "--map: 'pdf' is not a plate-map format"),
    ],
)
def test_make_errors_exit_2_and_write_nothing(tmp_path, samples, args, message):
    out = tmp_path / "never"
    r = lab_batch("make", samples, "--out", out, *args)
    assert r.exit_code == 2
    assert message in " ".join(r.output.split())
    assert not out.exists()


def test_make_refuses_to_overwrite_a_batch(tmp_path, samples):
    out = tmp_path / "b"
    assert lab_batch("make", samples, "-a", "D2", "-c", "10", "--out", out).exit_code == 0
    r = lab_batch("make", samples, "-a", "D2", "-c", "5", "--out", out)
    assert r.exit_code == 2 and "already holds a batch" in r.output


def test_bad_samples_file_names_file_row_and_column(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("sample_id,risk\nA,0.1\nB,2\nA,0.3\n", encoding="utf-8")
    r = lab_batch("make", path, "-a", "ID2", "-c", "2,1", "--out", tmp_path / "o")
    assert r.exit_code == 2
    text = " ".join(r.output.split())
    assert f"{path}, row 3, column 'risk': value '2': out of range" in text
    assert f"{path}, row 4, column 'sample_id': duplicate sample id 'A' (also on row 2)" in text
    assert not (tmp_path / "o").exists()


def test_bad_results_leave_the_batch_folder_unchanged(tmp_path, samples):
    out = tmp_path / "b"
    lab_batch("make", samples, "-a", "D2", "-c", "10", "--out", out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    bad = pd.DataFrame({"pool_id": ["P0001", "P0001", "NOPE"], "result": ["positive"] * 3})
    bad.to_csv(tmp_path / "bad.csv", index=False)
    r = lab_batch("decode", out, tmp_path / "bad.csv")
    assert r.exit_code == 2
    text = " ".join(r.output.split())
    assert "bad.csv, row 3, column 'pool_id'" in text and "two results for run 1" in text
    assert "unknown pool id" in text
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert not list(tmp_path.glob(".b.*"))  # no temporary folder left behind


def test_estimate_writes_the_scenarios_prevalence_table(tmp_path):
    """results -> estimate -> prevalence.csv the next plan reads -> pool size."""
    scn_dir = tmp_path / "scenario"
    shutil.copytree(FIXTURES / "thanh_hoa", scn_dir)
    prev = pd.read_csv(scn_dir / "prevalence.csv")
    screening = prev[prev["stream"] == "screening"].head(4)
    rng = np.random.default_rng(9)
    rows = []
    for r in screening.itertuples():
        size = rng.choice([5, 10], 300)
        inf = rng.random(300) < 1 - (1 - r.prevalence) ** size
        res = np.where(rng.random(300) < np.where(inf, 0.99, 0.01), "positive", "negative")
        rows.append(
            pd.DataFrame(
                {"size": size, "result": res, "district": r.district, "stream": "screening"}
            )
        )
    pd.concat(rows).to_csv(tmp_path / "first_stage.csv", index=False)
    res = estimate(
        tmp_path / "first_stage.csv",
        "--out",
        tmp_path / "est",
        "--design",
        "--max-size",
        "16",
        "--json",
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)["estimates"]
    assert len(data) == 4
    for d in data:
        truth = float(screening.loc[screening["district"] == d["district"], "prevalence"].iloc[0])
        assert d["lower"] <= truth <= d["upper"]
        assert d["algorithm"] in ("D2", "D3", "A2", "A2M") and d["expected_tests_per_sample"] < 1
    new = pd.read_csv(tmp_path / "est" / "prevalence.csv")
    assert new.columns.tolist() == ["district", "stream", "prevalence"]
    merged = prev.set_index(["district", "stream"])
    merged.update(new.set_index(["district", "stream"]))
    merged.reset_index().to_csv(scn_dir / "prevalence.csv", index=False)
    scn = load_scenario(scn_dir)  # tomorrow's plan reads it
    got = scn.prevalence.set_index(["district", "stream"])["prevalence"]
    for d in data:
        assert got[(d["district"], "screening")] == pytest.approx(d["prevalence"], rel=1e-9)


def test_estimate_several_files_and_errors(tmp_path):
    a = pd.DataFrame(
        {
            "size": [10] * 40,
            "result": ["negative"] * 36 + ["positive"] * 4,
            "district": "x",
            "stream": "s",
        }
    )
    a.to_csv(tmp_path / "a.csv", index=False)
    a.assign(district="y").to_csv(tmp_path / "b.csv", index=False)
    r = estimate(tmp_path / "a.csv", tmp_path / "b.csv", "--se", "1", "--sp", "1", "--json")
    assert r.exit_code == 0, r.output
    assert [e["district"] for e in json.loads(r.output)["estimates"]] == ["x", "y"]
    pd.DataFrame({"size": ["ten"], "result": ["positive"]}).to_csv(tmp_path / "c.csv", index=False)
    r = estimate(tmp_path / "a.csv", tmp_path / "c.csv")
    assert r.exit_code == 2
    assert f"{tmp_path / 'c.csv'}, row 2, column 'size'" in " ".join(r.output.split())
    r = estimate(tmp_path / "a.csv", "--se", "0.3", "--sp", "0.5")
    assert r.exit_code == 2 and "must exceed 1 - specificity" in r.output


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_plate_maps_show_the_lab_the_date_and_each_pools_district(tmp_path, samples, lang):
    from labopt.lab import words
    from tests.cli.test_vietnamese import ENGLISH, vocabulary

    out = tmp_path / "b"
    r = lab_batch(
        "make", samples, "--out", out, "-a", "D2", "-c", "10", "--batch", "TH0801",
        "--lab", "th-cdc", "--date", "2021-10-04", "--lang", lang, "--map", "both",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    page = (out / "plates.html").read_text(encoding="utf-8")
    day = "2021-10-04" if lang == "en" else "04/10/2021"
    assert "th-cdc" in page and day in page
    manifest = pd.read_csv(out / "manifest.csv", dtype=str)
    first = manifest[manifest["stage"] == "1"] if "stage" in manifest else manifest
    assert "sam-son" in page and "tho-xuan" in page  # each pool's district in its well
    meta = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert (meta["lab"], meta["date"]) == ("th-cdc", "2021-10-04")
    pngs = list((out / "plate_maps" / "run1").glob("plate_*.png"))
    assert len(first) and pngs
    assert f"plate_maps/run1/ ({len(pngs)} PNG)" in " ".join(r.stdout.split())  # all it wrote
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", " ", page, flags=re.S))
    text = re.sub(r"TH0801-\S+|sam-son|tho-xuan|th-cdc|D2", " ", text)
    found = vocabulary([text]) & (ENGLISH | vocabulary(words.TEXT["en"].values()))
    found -= vocabulary(words.TEXT["vi"].values())
    if lang == "vi":
        assert not found, found
        assert "giếng" in text
    else:
        assert {"plate", "reactions"} <= found
    # decoding keeps the lab and date on the next run's map, in the language asked
    template = out / "results_template.csv"
    pools = pd.read_csv(template, dtype=str)
    positive = pools.loc[pools["content"] == "reaction", "pool_id"].iloc[:1].tolist()
    results = fill(template, positive=positive, out=tmp_path / "results.csv")
    r = lab_batch("decode", out, results, "--lang", lang)
    assert r.exit_code == 0, r.output
    again = (out / "plates.html").read_text(encoding="utf-8")
    assert "th-cdc" in again and day in again
    if lang == "vi":
        assert "thêm 1" in " ".join(r.output.split()) or "kết quả" in r.output


def test_a_batch_date_must_be_a_date(tmp_path, samples):
    r = lab_batch("make", samples, "--out", tmp_path / "b", "-a", "D2", "-c", "10",
                  "--date", "04/10/2021")  # fmt: skip
    assert r.exit_code == 2 and "--date" in r.output and not (tmp_path / "b").exists()


def test_a_vietnamese_batch_takes_a_vietnamese_date(tmp_path, samples):
    out = tmp_path / "b"
    r = lab_batch("make", samples, "--out", out, "-a", "D2", "-c", "10", "--lab", "th-cdc",
                  "--date", "04/10/2021", "--lang", "vi")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads((out / "batch.json").read_text(encoding="utf-8"))["date"] == "2021-10-04"
    assert "(chưa đặt tên)" in r.output  # a batch without --batch
