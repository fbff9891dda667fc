"""Decoding by the design's rules, the batch's result log, and bad results."""

import numpy as np
import pandas as pd
import pytest

from labopt.lab import LabBatch, LabInputError, PlateSpec, decode, make_manifest
from labopt.lab.decode import STATUSES
from labopt.lab.results import INVALID, NEGATIVE, NONE, POSITIVE

WORD = {"+": POSITIVE, "-": NEGATIVE, "?": INVALID}


def manifest(n, algorithm, config, **kw):
    return make_manifest(
        pd.DataFrame({"sample_id": [f"S{i}" for i in range(n)]}), algorithm, config, **kw
    )


def outcomes(m, results: dict[str, str]):
    out = np.full(m.n_pools, NONE, dtype=np.int8)
    for pid, w in results.items():
        out[m.pool_index.get_loc(pid)] = WORD[w]
    return out


def status_of(dec):
    return dict(
        zip(dec.manifest.samples["sample_id"], np.asarray(STATUSES)[dec.status], strict=False)
    )


def run_ids(dec):
    return dec.manifest.pool_id[dec.to_run].tolist()


# ---------------------------------------------------------------------- hierarchical rules
def test_dorfman_stage_by_stage():
    m = manifest(20, "D2", "10")
    d0 = decode(m, outcomes(m, {}))
    assert run_ids(d0) == ["P0001", "P0002"]
    assert (d0.status == 0).all()
    d1 = decode(m, outcomes(m, {"P0001": "+", "P0002": "-"}))
    assert run_ids(d1) == [f"P0001.{i}" for i in range(1, 11)]
    st = status_of(d1)
    assert [st[f"S{i}"] for i in (0, 9, 10, 19)] == ["pending", "pending", "negative", "negative"]
    res = {"P0001": "+", "P0002": "-", **{f"P0001.{i}": "-" for i in range(1, 11)}}
    res["P0001.4"] = "+"
    d2 = decode(m, outcomes(m, res))
    assert d2.complete and run_ids(d2) == []
    assert [k for k, v in status_of(d2).items() if v == "positive"] == ["S3"]
    assert d2.decided_stage[3] == 2 and d2.decided_stage[12] == 1


def test_three_stage_with_singleton_subpools_and_invalid_repeat():
    m = manifest(10, "D3", "10:5,3,1,1")
    d = decode(m, outcomes(m, {"P0001": "+"}))
    assert run_ids(d) == ["P0001.1", "P0001.2", "P0001.3", "P0001.4"]
    d = decode(
        m,
        outcomes(m, {"P0001": "+", "P0001.1": "-", "P0001.2": "+", "P0001.3": "+", "P0001.4": "?"}),
    )
    assert run_ids(d) == ["P0001.4", "P0001.2.1", "P0001.2.2", "P0001.2.3"]
    assert d.run_list()["reason"].tolist() == ["repeat_invalid"] + ["next_stage"] * 3
    st = status_of(d)
    assert st["S8"] == "positive" and st["S9"] == "pending" and st["S0"] == "negative"
    assert d.decided_stage[8] == 2


def test_results_for_pools_that_were_not_run_are_errors():
    m = manifest(20, "D2", "10")
    with pytest.raises(
        LabInputError,
        match=r"pool P0002.3 has a result but was not to be "
        r"tested: its parent pool P0002 is negative",
    ):
        decode(m, outcomes(m, {"P0001": "+", "P0002": "-", "P0002.3": "-"}))
    with pytest.raises(LabInputError, match="its parent pool P0001 is not tested yet"):
        decode(m, outcomes(m, {"P0001.1": "+"}))


# ---------------------------------------------------------------------- array rules
def grid_results(m, rows="", cols="", master=None):
    """'+' rows/columns by number, e.g. rows='13' -> rows 1 and 3 positive."""
    n = m.design.first
    res = {}
    if master:
        res["A0001"] = master
    for i in range(1, n + 1):
        res[f"A0001.R{i}"] = "+" if str(i) in rows else "-"
        res[f"A0001.C{i}"] = "+" if str(i) in cols else "-"
    return res


def test_array_retests_the_crossings():
    m = manifest(16, "A2", "4")
    d = decode(m, outcomes(m, grid_results(m, rows="13", cols="2")))
    assert run_ids(d) == ["A0001.R1C2", "A0001.R3C2"]
    assert (status_of(d)["S0"], status_of(d)["S1"]) == ("negative", "pending")


def test_array_rows_positive_but_no_column_retests_the_rows():
    m = manifest(16, "A2", "4")
    d = decode(m, outcomes(m, grid_results(m, rows="2")))
    assert run_ids(d) == [f"A0001.R2C{j}" for j in range(1, 5)]
    d = decode(m, outcomes(m, grid_results(m, cols="34")))
    assert run_ids(d) == [
        "A0001.R1C3",
        "A0001.R1C4",
        "A0001.R2C3",
        "A0001.R2C4",
        "A0001.R3C3",
        "A0001.R3C4",
        "A0001.R4C3",
        "A0001.R4C4",
    ]


def test_array_waits_for_every_line_and_repeats_invalid_ones():
    m = manifest(16, "A2", "4")
    res = grid_results(m, rows="1", cols="1")
    res["A0001.C4"] = "?"
    d = decode(m, outcomes(m, res))
    assert run_ids(d) == ["A0001.C4"]
    assert (d.status == 0).all()  # nothing decided while C4 is open
    res["A0001.C4"] = "-"
    res["A0001.R1C1"] = "+"
    d = decode(m, outcomes(m, res))
    assert d.complete and status_of(d)["S0"] == "positive"
    assert (d.status[1:] == 1).all()


def test_array_with_master_pool():
    m = manifest(9, "A2M", "3")
    d = decode(m, outcomes(m, {}))
    assert run_ids(d) == ["A0001"]
    d = decode(m, outcomes(m, {"A0001": "-"}))
    assert d.complete and (d.status == 1).all() and (d.decided_stage == 1).all()
    d = decode(m, outcomes(m, {"A0001": "+"}))
    assert run_ids(d) == ["A0001.R1", "A0001.R2", "A0001.R3", "A0001.C1", "A0001.C2", "A0001.C3"]
    d = decode(m, outcomes(m, grid_results(m, master="+")))  # master +, no line +
    assert d.complete and (d.status == 1).all() and (d.decided_stage == 2).all()
    with pytest.raises(
        LabInputError,
        match=r"A0001\.R1 has a result but was not to be tested: its parent pool A0001 is negative",
    ):
        decode(m, outcomes(m, {"A0001": "-", "A0001.R1": "-"}))
    with pytest.raises(
        LabInputError,
        match=r"A0001\.R1C1 has a result but was not to be "
        "tested: its grid's rows and columns do not",
    ):
        decode(
            m, outcomes(m, {**grid_results(m, rows="2", cols="2", master="+"), "A0001.R1C1": "-"})
        )


def test_partial_grid():
    m = manifest(5, "A2", "3")  # rows: 3 + 2 samples; columns 2, 2, 1
    d = decode(
        m,
        outcomes(
            m, {"A0001.R1": "-", "A0001.R2": "+", "A0001.C1": "-", "A0001.C2": "-", "A0001.C3": "-"}
        ),
    )
    assert run_ids(d) == ["A0001.R2C1", "A0001.R2C2"]


# ---------------------------------------------------------------------- the batch's log
def per_pool(batch, results: dict[str, str]):
    return pd.DataFrame(
        {
            "pool_id": list(results),
            "result": [
                {"+": "positive", "-": "negative", "?": "invalid"}[v] for v in results.values()
            ],
        }
    )


def test_same_results_twice_leave_the_same_state():
    b = LabBatch.start(manifest(30, "D2", "10"))
    res = per_pool(b, {"P0001": "+", "P0002": "-", "P0003": "?"})
    b1, r1 = b.apply(res)
    b1 = b1.schedule_next()
    b2, r2 = b1.apply(res)
    b2 = b2.schedule_next()
    assert (r1.added, r2.added, r2.unchanged) == (3, 0, 3)
    assert b2.runs == b1.runs == 2
    pd.testing.assert_frame_equal(b2.pools_frame(), b1.pools_frame())
    pd.testing.assert_frame_equal(b2.plates, b1.plates)
    assert b2.reactions_used == 3


def test_corrections_need_consent_and_stay_in_the_log():
    b = LabBatch.start(manifest(20, "D2", "10"))
    b, _ = b.apply(per_pool(b, {"P0001": "-", "P0002": "-"}), recorded_at="t1")
    fix = per_pool(b, {"P0001": "+"})
    with pytest.raises(
        LabInputError,
        match=r"pool P0001 already has the result 'negative' for "
        r"run 1; this table says 'positive'.*--correct",
    ):
        b.apply(fix)
    b2, rep = b.apply(fix, corrections=True, recorded_at="t2")
    assert rep.corrected == 1
    log = b2.log_frame()
    assert log["result"].tolist() == ["negative", "negative", "positive"]
    assert log["recorded_at"].tolist() == ["t1", "t1", "t2"]
    assert b2.outcome[0] == POSITIVE and b2.reactions_used == 2  # a correction is no reaction
    # a correction that would orphan later results is refused, nothing stored
    b3 = b2.schedule_next()
    b3, _ = b3.apply(per_pool(b3, {f"P0001.{i}": "-" for i in range(1, 11)}))
    with pytest.raises(LabInputError, match="its parent pool P0001 is negative"):
        b3.apply(per_pool(b3, {"P0001": "-"}), corrections=True)


def test_results_may_come_plate_by_plate():
    """The next run is laid out only when every reaction of the current one has a result."""
    b = LabBatch.start(manifest(940, "D2", "10"), PlateSpec(96))  # 94 pools: 2 plates
    plates = b.current_plates()
    assert plates["plate"].nunique() == 2
    first = plates.loc[
        (plates["plate"] == "R1-01") & (plates["content"] == "reaction"), "pool_id"
    ].tolist()
    second = plates.loc[
        (plates["plate"] == "R1-02") & (plates["content"] == "reaction"), "pool_id"
    ].tolist()
    b, _ = b.apply(per_pool(b, {p: "+" if p == first[0] else "-" for p in first}))
    b = b.schedule_next()
    assert b.runs == 1 and not b.run_complete  # plate 2 still in the machine
    assert set(b.pending_plates()["plate"]) == {"R1-02"}
    assert b.summary()["reactions_next_run"] == len(second)
    assert b.summary()["plates_next_run"] == 1
    b, _ = b.apply(per_pool(b, dict.fromkeys(second, "-")))
    b = b.schedule_next()
    assert b.runs == 2
    assert b.current_plates().query("content == 'reaction'")["pool_id"].tolist() == [
        f"{first[0]}.{i}" for i in range(1, 11)
    ]
    assert b.summary()["reactions_next_run"] == 10


def test_invalid_results_are_repeated_in_the_next_run():
    b = LabBatch.start(manifest(20, "D2", "10"))
    b, _ = b.apply(per_pool(b, {"P0001": "?", "P0002": "-"}))
    b = b.schedule_next()
    assert b.runs == 2 and b.current_plates()["pool_id"].iloc[0] == "P0001"
    b, _ = b.apply(per_pool(b, {"P0001": "-"}))
    assert b.decoding.complete and b.reactions_used == 3
    assert b.log_frame()["run"].tolist() == [1, 1, 2]


def well_results(b, overrides: dict[str, str], controls=("positive", "negative", "negative")):
    wells = b.current_plates()
    res = np.where(wells["content"] == "reaction", "negative", "")
    ctl = (
        wells["content"]
        .map(
            {
                "positive_control": controls[0],
                "negative_control": controls[1],
                "extraction_blank": controls[2],
            }
        )
        .fillna("")
        .to_numpy()
    )
    res = np.where(ctl != "", ctl, res)
    for pid, w in overrides.items():
        res[(wells["pool_id"] == pid).to_numpy()] = w
    return pd.DataFrame(
        {
            "plate": wells["plate"].to_numpy(),
            "well": wells["well"].to_numpy(),
            "result": res,
            "ct": np.where(res == "positive", "30.5", ""),
        }
    )


def test_results_by_well_with_controls():
    b = LabBatch.start(manifest(40, "D2", "10"))
    b, rep = b.apply(well_results(b, {"P0002": "positive"}))
    assert rep.notes == [] and rep.added == 4
    assert b.outcome[b.manifest.pool_index.get_loc("P0002")] == POSITIVE
    assert b.pools_frame().set_index("pool_id").loc["P0002", "ct"] == 30.5


def test_failed_control_invalidates_its_plate():
    b = LabBatch.start(manifest(40, "D2", "10"))
    b2, rep = b.apply(
        well_results(b, {"P0002": "positive"}, controls=("negative", "negative", "negative"))
    )
    assert rep.notes == [
        "plate R1-01: positive control tested negative (row 6); its 4 "
        "reaction results are treated as invalid and will be repeated"
    ]
    assert (b2.outcome[b2.manifest.first_stage] == INVALID).all()
    b2 = b2.schedule_next()
    assert b2.decoding.run_list()["reason"].unique().tolist() == ["repeat_invalid"]


@pytest.mark.parametrize(
    "table,message",
    [
        (
            pd.DataFrame({"pool_id": ["P0009"], "result": ["positive"]}),
            r"row 2, column 'pool_id': value 'P0009': unknown pool id; this batch's pools look like "
            r"P0001, P0001.1",
        ),
        (
            pd.DataFrame({"pool_id": ["P0001", "P0001"], "result": ["positive", "negative"]}),
            r"row 3, column 'pool_id': value 'P0001': pool P0001 has two results for run 1 \(also "
            r"on row 2\)",
        ),
        (
            pd.DataFrame({"pool_id": ["P0001.3"], "result": ["positive"]}),
            r"pool P0001.3 was not run: it is on no plate of this batch",
        ),
        (
            pd.DataFrame({"pool_id": ["P0001"], "result": ["maybe"]}),
            r"row 2, column 'result': value 'maybe': not a result; allowed: positive, negative, "
            r"invalid",
        ),
        (
            pd.DataFrame({"pool_id": ["P0001"], "result": ["positive"], "ct": ["75"]}),
            r"column 'ct': value '75': out of range; expected a Ct value \(cycles\) > 0 and ≤ 60",
        ),
        (
            pd.DataFrame({"pool_id": ["P0001"], "result": ["positive"], "run": ["2"]}),
            r"pool P0001 was not on the plates of run 2 \(latest run with it: 1\)",
        ),
        (
            pd.DataFrame({"plate": ["R1-07"], "well": ["A1"], "result": ["negative"]}),
            r"column 'plate': value 'R1-07': unknown plate; plates of this batch: R1-01",
        ),
        (
            pd.DataFrame({"plate": ["R1-01"], "well": ["C7"], "result": ["negative"]}),
            r"column 'well': value 'C7': no reaction or control in this well",
        ),
        (
            pd.DataFrame(
                {
                    "plate": ["R1-01", "R1-01"],
                    "well": ["A1", "a1"],
                    "result": ["negative", "negative"],
                }
            ),
            r"duplicate well",
        ),
        (
            pd.DataFrame(
                {"plate": ["R1-01"], "well": ["A1"], "pool_id": ["P0002"], "result": ["negative"]}
            ),
            r"well A1 of plate R1-01 holds pool P0001, not P0002",
        ),
        (
            pd.DataFrame({"sample": ["x"], "result": ["negative"]}),
            r"expected columns 'result' and either 'pool_id', 'plate' and 'well', or 'sample_id'",
        ),
        (pd.DataFrame({"pool_id": [], "result": []}), "no results in the table"),
    ],
)
def test_bad_results_are_rejected_and_nothing_is_stored(table, message):
    b = LabBatch.start(manifest(40, "D2", "10"))
    before = b.log.copy()
    with pytest.raises(LabInputError, match=message):
        b.apply(table, source="results.csv")
    pd.testing.assert_frame_equal(b.log, before)


def test_individual_results_by_sample_id():
    b = LabBatch.start(manifest(20, "D2", "10"))
    b, _ = b.apply(per_pool(b, {"P0001": "+", "P0002": "-"}))
    b = b.schedule_next()
    table = pd.DataFrame(
        {"sample_id": [f"S{i}" for i in range(10)], "result": ["negative"] * 9 + ["positive"]}
    )
    b2, _ = b.apply(table)
    assert b2.decoding.complete and status_of(b2.decoding)["S9"] == "positive"
    with pytest.raises(
        LabInputError,
        match=r"row 3, column 'sample_id': value 'S99': unknown "
        r"sample id",
    ):
        b.apply(pd.DataFrame({"sample_id": ["S1", "S99"], "result": ["negative"] * 2}))
    with pytest.raises(LabInputError, match=r"pool P0002\.1 was not run"):
        b.apply(pd.DataFrame({"sample_id": ["S10"], "result": ["negative"]}))


def test_every_problem_is_reported_at_once():
    b = LabBatch.start(manifest(40, "D2", "10"))
    table = pd.DataFrame(
        {"pool_id": ["P0001", "P0077", "P0003"], "result": ["positive", "negative", "sure"]}
    )
    with pytest.raises(LabInputError) as info:
        b.apply(table, source="r.csv")
    assert len(info.value.problems) == 2
    assert str(info.value).startswith("2 problems in r.csv; nothing was stored:")


def test_vietnamese_and_short_result_words():
    b = LabBatch.start(manifest(40, "D2", "10"))
    table = pd.DataFrame(
        {
            "pool_id": ["P0001", "P0002", "P0003", "P0004"],
            "result": ["Dương tính", "âm tính", "NEG", "+"],
        }
    )
    b, _ = b.apply(table)
    assert b.outcome[b.manifest.first_stage].tolist() == [POSITIVE, NEGATIVE, NEGATIVE, POSITIVE]


def test_batch_folder_round_trip(tmp_path):
    m = manifest(300, "D3", "12:4,4,4", batch="X1")
    b = LabBatch.start(m, PlateSpec(384, blank=0))
    first = b.current_plates()
    pos = first.loc[first["content"] == "reaction", "pool_id"].iloc[[0, 5]].tolist()
    b, _ = b.apply(
        pd.DataFrame(
            {"pool_id": first.loc[first["content"] == "reaction", "pool_id"], "result": "negative"}
        ).assign(result=lambda t: np.where(t["pool_id"].isin(pos), "positive", "negative"))
    )
    b = b.schedule_next()
    b.save(tmp_path / "batch")
    back = LabBatch.load(tmp_path / "batch")
    assert back.spec == b.spec and back.runs == 2
    pd.testing.assert_frame_equal(back.pools_frame(), b.pools_frame())
    pd.testing.assert_frame_equal(back.decoding.statuses_frame(), b.decoding.statuses_frame())
    pd.testing.assert_frame_equal(back.log_frame().astype(str), b.log_frame().astype(str))
