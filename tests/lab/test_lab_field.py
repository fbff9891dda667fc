"""Field pooling: tubes formed at collection, re-collection lists and the added delay."""

import numpy as np
import pandas as pd
import pytest

from labopt.lab import (
    LabBatch,
    make_manifest,
    recollection_list,
    recollection_summary,
    run_lab,
    turnaround_hours,
)
from labopt.lab.decode import DETECTED
from labopt.pooling import Design


def people(n_per_group=(7, 12, 5), districts=("Sầm Sơn", "Sầm Sơn", "Thọ Xuân")):
    rows = []
    for g, (n, d) in enumerate(zip(n_per_group, districts, strict=False)):
        rows += [
            {
                "sample_id": f"{d[:2]}-{g}-{i}",
                "district": d,
                "address_group": f"tổ {g + 1}",
                "stream": "screening",
            }
            for i in range(n)
        ]
    return pd.DataFrame(rows)


def apply(batch, results):
    return batch.apply(pd.DataFrame({"pool_id": list(results), "result": list(results.values())}))


def test_positive_tube_sends_a_team_back_to_its_people():
    m = make_manifest(people(), "D2", "5", field=True)
    tubes = m.pool_id[m.first_stage].tolist()
    assert tubes == ["P0001", "P0002", "P0003", "P0004", "P0005", "P0006"]  # 5+2 | 5+5+2 | 5
    b = LabBatch.start(m, recollection_hours=30)
    b, _ = apply(
        b,
        dict.fromkeys(tubes, "negative")
        | {"P0002": "positive", "P0004": "positive", "P0006": "invalid"},
    )
    b = b.schedule_next()
    dec = b.decoding
    rec = recollection_list(dec, b.recollection_hours)
    assert len(rec) == 7  # 2 people in P0002, 5 in P0004
    assert rec["field_pool"].unique().tolist() == ["P0002", "P0004"]
    assert (rec["added_delay_hours"] == 30).all()
    assert rec[["district", "address_group"]].drop_duplicates().values.tolist() == [
        ["Sầm Sơn", "tổ 1"],
        ["Sầm Sơn", "tổ 2"],
    ]
    summary = recollection_summary(rec)
    assert summary[["address_group", "people", "field_pools"]].values.tolist() == [
        ["tổ 1", 2, 1],
        ["tổ 2", 5, 1],
    ]
    # the invalid tube is re-run in the lab, nobody is re-sampled for it
    runs = dec.run_list()
    assert runs.loc[runs["pool_id"] == "P0006", ["reason", "recollect"]].values.tolist() == [
        ["repeat_invalid", False]
    ]
    st = dec.statuses_frame().set_index("sample_id")
    assert set(st.loc[rec["sample_id"], "action"]) == {"recollect"}
    assert set(st.loc[st["next_pool"].str.startswith("P0006"), "action"]) == {"retest"}
    assert b.tables()["recollect.csv"].equals(rec)


def test_three_stage_field_pooling_puts_the_new_swabs_into_sub_pools():
    m = make_manifest(people((12,), ("Thọ Xuân",)), "D3", "12:4,4,4", field=True)
    b = LabBatch.start(m)
    b, _ = apply(b, {"P0001": "positive"})
    rec = recollection_list(b.decoding)
    assert rec["next_pool"].unique().tolist() == ["P0001.1", "P0001.2", "P0001.3"]
    assert (rec["stage"] == 2).all() and len(rec) == 12
    b, _ = apply(
        b.schedule_next(), {"P0001.1": "negative", "P0001.2": "positive", "P0001.3": "negative"}
    )
    assert len(recollection_list(b.decoding)) == 0  # stage 3 is in the lab again
    assert b.decoding.counts["reactions_next_run"] == 4


def test_lab_pooling_has_no_recollection_list():
    m = make_manifest(people(), "D2", "5")
    b, _ = apply(LabBatch.start(m), {"P0001": "positive"})
    assert recollection_list(b.decoding).empty and "recollect.csv" not in b.tables()


def test_field_batches_decode_exactly_with_a_perfect_assay():
    rng = np.random.default_rng(8)
    n = 3000
    df = pd.DataFrame(
        {
            "sample_id": np.arange(n).astype(str),
            "district": rng.choice(["a", "b", "c"], n),
            "address_group": rng.integers(0, 150, n).astype(str),
        }
    )
    m = make_manifest(df, "D3", "9:3,3,3", field=True)
    assert (m.samples.groupby("block")[["district", "address_group"]].nunique() == 1).all().all()
    truth = rng.random(n) < 0.03
    b = run_lab(m, truth, se=1, sp=1, seed=1)
    np.testing.assert_array_equal(b.decoding.status == DETECTED, truth)


def test_turnaround():
    d2 = Design.parse("D2", "10")
    lab = turnaround_hours(d2, run_hours=2, transport_hours=1)
    field = turnaround_hours(d2, run_hours=2, transport_hours=1, field=True, recollection_hours=24)
    assert (lab.cleared, lab.worst_case, lab.added_by_field) == (3, 5, 0)
    assert (field.cleared, field.worst_case, field.added_by_field) == (3, 29, 24)
    it = turnaround_hours(Design.parse("IT", "1"), run_hours=2, field=True)
    assert it.added_by_field == 0
    with pytest.raises(ValueError, match="recollection_hours: must be a number of hours ≥ 0"):
        turnaround_hours(d2, run_hours=2, field=True, recollection_hours=-1)
