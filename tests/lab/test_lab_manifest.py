"""Pool manifests: the design's pools for every block, risk sorting, arrays, files, bad input."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labopt.lab import LabInputError, make_manifest, read_manifest
from labopt.lab.manifest import FIELD, INDIVIDUAL, KINDS, write_manifest
from labopt.pooling import Design

DESIGNS = [
    ("IT", "1"),
    ("D2", "10"),
    ("D3", "12:4,4,4"),
    ("D3", "10:5,3,1,1"),
    ("D4", "16:8,8:4,4,4,4"),
    ("A2", "4"),
    ("A2M", "3"),
    ("ID2", "6,3,1"),
    ("ID3", "6,3,1:3,3,2,1"),
]


def batch(n, **cols):
    df = pd.DataFrame({"sample_id": [f"S{i:05d}" for i in range(n)]})
    for k, v in cols.items():
        df[k] = v
    return df


def members_by_pool(m):
    p, s = m.members(np.arange(m.n_pools))
    return {m.pool_id[i]: set(m.samples["sample_id"].to_numpy()[s[p == i]]) for i in np.unique(p)}


@pytest.mark.parametrize("algorithm,config", [d for d in DESIGNS if d[0] not in ("A2", "A2M")])
def test_full_blocks_follow_the_design_tree(algorithm, config):
    d = Design.parse(algorithm, config)
    rng = np.random.default_rng(0)
    m = make_manifest(batch(3 * d.block_size, risk=rng.random(3 * d.block_size)), d)
    t = d.tree()
    assert m.n_pools == 3 * t.start.size
    for b in range(3):
        sel = slice(b * t.start.size, (b + 1) * t.start.size)
        np.testing.assert_array_equal(m.size[sel], t.size)
        np.testing.assert_array_equal(m.stage[sel], t.stage)
        par = m.parent[sel]
        np.testing.assert_array_equal(np.where(par >= 0, par - b * t.start.size, -1), t.parent)
    # every sample's path: one pool per stage down to its individual test, nested
    for i in range(m.n_samples):
        path = [v for v in m.path[i] if v >= 0]
        assert m.size[path[-1]] == 1 and m.kind[path[-1]] == INDIVIDUAL
        assert all(m.parent[path[j + 1]] == path[j] for j in range(len(path) - 1))
        assert list(m.stage[path]) == list(range(1, len(path) + 1))


def test_pool_ids_are_readable_paths():
    m = make_manifest(batch(24), "D3", "12:4,4,4", batch="TH0801")
    f = m.to_frame()
    assert f.loc[0, ["pool_1", "pool_2", "pool_3"]].tolist() == [
        "TH0801-P0001",
        "TH0801-P0001.1",
        "TH0801-P0001.1.1",
    ]
    assert f.loc[23, ["pool_1", "pool_2", "pool_3"]].tolist() == [
        "TH0801-P0002",
        "TH0801-P0002.3",
        "TH0801-P0002.3.4",
    ]
    a = make_manifest(batch(9), "A2M", "3").to_frame()
    assert a.loc[
        5, ["row", "column", "master_pool", "row_pool", "column_pool", "individual_pool"]
    ].tolist() == [2, 3, "A0001", "A0001.R2", "A0001.C3", "A0001.R2C3"]


def test_id2_sorts_by_risk_and_deals_blocks_by_quantile():
    risks = np.array([0.3, 0.01, 0.2, 0.05, 0.0, 0.1, 0.02, 0.15, 0.03, 0.4])  # one block's
    rng = np.random.default_rng(3)
    many = np.tile(risks, 4)[rng.permutation(40)]  # four copies, shuffled
    m = make_manifest(batch(40, risk=many), "ID2", "6,3,1")
    for b in range(1, 5):
        r = m.samples.loc[m.samples["block"] == b, "risk"].to_numpy()
        np.testing.assert_array_equal(r, np.sort(risks))  # every block: the same, sorted
    first = m.first_stage
    assert m.size[first].tolist() == [6, 3, 1] * 4
    # the highest-risk sample of each block is tested alone in the first run
    top = m.samples.index[m.samples["risk"] == 0.4]
    assert all(m.kind[m.path[i, 0]] == INDIVIDUAL for i in top)


def test_single_id2_block_is_the_plain_sort():
    r = np.random.default_rng(1).random(10)
    m = make_manifest(batch(10, risk=r), "ID2", "5,3,2")
    np.testing.assert_array_equal(m.samples["risk"].to_numpy(), np.sort(r))


def test_arrays_fill_rows_then_columns_and_partial_grids():
    m = make_manifest(batch(11), "A2", "3")  # one full grid and 2 samples
    pools = m.pools_frame()
    g2 = pools[pools["block"] == 2]
    assert g2["kind"].tolist() == ["row", "column", "column", "individual", "individual"]
    assert g2["size"].tolist() == [2, 1, 1, 1, 1]
    mem = members_by_pool(m)
    assert mem["A0001.R1"] == {"S00000", "S00001", "S00002"}
    assert mem["A0001.C2"] == {"S00001", "S00004", "S00007"}
    assert mem["A0002.R1"] == {"S00009", "S00010"}


def test_rectangular_arrays_fill_rows_of_their_columns():
    m = make_manifest(batch(8), "A2M", "2x3")  # one full 2 x 3 grid and 2 samples
    pools = m.pools_frame()
    g1 = pools[pools["block"] == 1]
    assert g1["kind"].tolist()[:6] == ["master", "row", "row", "column", "column", "column"]
    assert g1["size"].tolist()[:6] == [6, 3, 3, 2, 2, 2]
    mem = members_by_pool(m)
    assert mem["A0001.R2"] == {"S00003", "S00004", "S00005"}
    assert mem["A0001.C3"] == {"S00002", "S00005"}
    assert mem["A0002.R1"] == {"S00006", "S00007"}
    assert m.samples["row"].tolist() == [1, 1, 1, 2, 2, 2, 1, 1]
    assert m.samples["column"].tolist() == [1, 2, 3, 1, 2, 3, 1, 2]


def test_a2m_has_one_master_pool_per_grid():
    m = make_manifest(batch(20), "A2M", "3")
    masters = np.flatnonzero(m.kind == KINDS.index("master"))
    assert m.size[masters].tolist() == [9, 9, 2]
    assert (m.stage[masters] == 1).all()
    lines = np.flatnonzero(np.isin(m.kind, [KINDS.index("row"), KINDS.index("column")]))
    assert (m.stage[lines] == 2).all() and (m.parent[lines] >= 0).all()


def test_partial_block_drops_pools_that_repeat_their_parent():
    m = make_manifest(batch(15), "D3", "12:4,4,4")  # block 2: 3 samples
    pools = m.pools_frame()
    b2 = pools[pools["block"] == 2]
    # the sub-pool 1..3 would hold the same 3 samples as the pool: it is dropped
    assert b2["size"].tolist() == [3, 1, 1, 1]
    assert b2["stage"].tolist() == [1, 2, 2, 2]
    one = make_manifest(batch(11), "D2", "10").pools_frame()
    assert one.iloc[-1].tolist()[1:4] == [1, "individual", 1]  # a lone sample: one test


def test_blocks_never_mix_districts_or_streams():
    df = batch(30, district=["a", "b", "c"] * 10, stream=["x"] * 15 + ["y"] * 15)
    m = make_manifest(df, "D2", "4")
    first = m.samples.groupby("block")[["district", "stream"]].nunique()
    assert (first.to_numpy() == 1).all()
    assert set(m.samples["sample_id"]) == set(df["sample_id"])


def test_field_pools_are_tubes_of_one_address_group():
    df = batch(23, district="d1", address_group=["g1"] * 7 + ["g2"] * 16)
    m = make_manifest(df, "D2", "5", field=True)
    assert m.field
    tubes = m.first_stage
    assert m.size[tubes].tolist() == [5, 2, 5, 5, 5, 1]
    assert (m.kind[tubes[m.size[tubes] > 1]] == FIELD).all()
    assert m.to_frame()["mode"].unique().tolist() == ["field"]


@settings(max_examples=40, deadline=None)
@given(
    design=st.sampled_from(DESIGNS),
    n=st.integers(1, 120),
    groups=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_sample_is_in_each_of_its_stages_exactly_once(design, n, groups, seed):
    rng = np.random.default_rng(seed)
    df = batch(n, district=rng.integers(0, groups, n).astype(str), risk=rng.random(n))
    m = make_manifest(df, *design)
    assert sorted(m.samples["sample_id"]) == sorted(df["sample_id"])
    counted = np.zeros(m.n_pools, dtype=int)
    for c in range(m.path.shape[1]):
        ok = m.path[:, c] >= 0
        counted += np.bincount(m.path[ok, c], minlength=m.n_pools)
    np.testing.assert_array_equal(counted, m.size)  # pool sizes = members
    assert (m.size[m.leaf] == 1).all()
    assert len(set(m.pool_id)) == m.n_pools


@pytest.mark.parametrize("algorithm,config", DESIGNS)
def test_manifest_csv_round_trip(tmp_path, algorithm, config):
    rng = np.random.default_rng(5)
    df = batch(
        50,
        district=rng.choice(["Sầm Sơn", "Thọ Xuân"], 50),
        stream="screening",
        risk=rng.random(50).round(4),
    )
    m = make_manifest(df, algorithm, config, batch="B1")
    path = write_manifest(m, tmp_path / "manifest.csv")
    back = read_manifest(path)
    pd.testing.assert_frame_equal(back.to_frame().astype(str), m.to_frame().astype(str))
    np.testing.assert_array_equal(back.path, m.path)
    np.testing.assert_array_equal(back.node, m.node)


def test_edited_manifest_is_rejected(tmp_path):
    m = make_manifest(batch(30), "D2", "10")
    f = m.to_frame()
    f.loc[4, "pool_1"] = "P0002"
    f.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(
        LabInputError,
        match=r"row 6, column 'pool_1': value 'P0002': does "
        r"not match the D2 10 design",
    ):
        read_manifest(tmp_path / "m.csv")
    f = m.to_frame().drop(index=3)
    f.to_csv(tmp_path / "m2.csv", index=False)
    with pytest.raises(LabInputError, match="blocks must be numbered"):
        read_manifest(tmp_path / "m2.csv")
    f = m.to_frame()
    f.loc[29, "block"] = 10**11  # no memory is taken for the blocks a number implies
    f.to_csv(tmp_path / "m3.csv", index=False)
    with pytest.raises(LabInputError, match="column 'block'"):
        read_manifest(tmp_path / "m3.csv")


@pytest.mark.parametrize(
    "df,design,kw,message",
    [
        (pd.DataFrame({"id": ["a"]}), ("D2", "10"), {}, "missing column 'sample_id'"),
        (pd.DataFrame({"sample_id": []}), ("D2", "10"), {}, "no samples: the batch is empty"),
        (
            batch(3).assign(sample_id=["a", "b", "a"]),
            ("D2", "10"),
            {},
            r"row 4, column 'sample_id': duplicate sample id 'a' \(also on row 2\)",
        ),
        (
            batch(3).assign(sample_id=["a", "", "c"]),
            ("D2", "10"),
            {},
            r"row 3, column 'sample_id'.*a sample id is required",
        ),
        (batch(3), ("ID2", "2,1"), {}, "missing column 'risk': ID2 sorts samples"),
        (
            batch(3, risk=["0.1", "x", "1.5"]),
            ("ID2", "2,1"),
            {},
            r"row 3, column 'risk': value 'x': not a number.*\n.*row 4, column 'risk': value "
            r"'1.5': out of range; expected a probability ≥ 0 and ≤ 1",
        ),
        (
            batch(3, risk=["0.1", "", "0.2"]),
            ("ID2", "2,1"),
            {},
            r"row 3, column 'risk'.*a value is required",
        ),
        (
            batch(3, district="a"),
            ("D2", "10"),
            {"field": True},
            "missing column 'address_group': field pools are formed",
        ),
        (
            batch(3, district="a", address_group=["1", "", "2"]),
            ("D2", "10"),
            {"field": True},
            r"row 3, column 'address_group'.*a value is required for field pooling",
        ),
        (
            batch(3, district="a", address_group="g"),
            ("A2", "3"),
            {"field": True},
            "field pooling needs a pooled hierarchical design",
        ),
    ],
)
def test_bad_samples_give_clear_errors(df, design, kw, message):
    with pytest.raises(LabInputError, match=message):
        make_manifest(df, *design, source="samples.csv", **kw)


def test_bad_design_and_batch_label():
    with pytest.raises(ValueError, match=r"4\+4\+5 = 13 must add up"):
        make_manifest(batch(3), "D3", "12:4,4,5")
    with pytest.raises(ValueError, match="batch: 'a b' may hold letters"):
        make_manifest(batch(3), "D2", "4", batch="a b")
