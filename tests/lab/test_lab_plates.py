"""Plate layouts: fill order, control wells, formats, exports and errors."""

import numpy as np
import pandas as pd
import pytest

from labopt.lab import PlateSpec, layout_plates, make_manifest, plates_html, save_plate_pngs


def manifest(n, algorithm="D2", config="10", **kw):
    return make_manifest(
        pd.DataFrame({"sample_id": [f"S{i}" for i in range(n)]}), algorithm, config, **kw
    )


def test_column_order_with_controls_at_the_end_of_every_plate():
    m = manifest(2000)  # 200 first-stage pools
    lay = layout_plates(m, m.first_stage, PlateSpec(96))
    plates = lay.groupby("plate", sort=False)
    assert list(plates.groups) == ["R1-01", "R1-02", "R1-03"]
    p1 = lay[lay["plate"] == "R1-01"]
    assert p1["well"].tolist()[:10] == ["A1", "B1", "C1", "D1", "E1", "F1", "G1", "H1", "A2", "B2"]
    assert p1.set_index("well").loc[["F12", "G12", "H12"], "content"].tolist() == [
        "positive_control",
        "negative_control",
        "extraction_blank",
    ]
    assert (plates["content"].apply(lambda c: (c != "reaction").sum()) == 3).all()
    react = lay[lay["content"] == "reaction"]
    assert react["pool_id"].tolist() == m.pool_id[m.first_stage].tolist()  # loading order
    assert len(react) == 200 and (react.groupby("plate").size().tolist() == [93, 93, 14])
    assert not lay.duplicated(["plate", "well"]).any()


def test_row_order_and_384_wells():
    m = manifest(4000)
    spec = PlateSpec(384, positive=2, negative=2, blank=0, order="row")
    lay = layout_plates(m, m.first_stage, spec, run=3)
    p1 = lay[lay["plate"] == "R3-01"]
    assert p1["well"].tolist()[:3] == ["A1", "A2", "A3"]
    assert p1["well"].tolist()[23:25] == ["A24", "B1"]
    assert p1.tail(4)["well"].tolist() == ["P21", "P22", "P23", "P24"]
    assert p1.tail(4)["content"].tolist() == ["positive_control"] * 2 + ["negative_control"] * 2
    assert (lay["content"] == "reaction").sum() == 400
    assert set(lay["row"]) <= set("ABCDEFGHIJKLMNOP") and lay["column"].max() <= 24


def test_no_controls_and_nothing_to_run():
    m = manifest(960)
    spec = PlateSpec.parse(96, "none")
    assert spec.capacity == 96
    lay = layout_plates(m, m.first_stage, spec)
    assert len(lay) == 96 and lay["plate"].nunique() == 1
    assert len(layout_plates(m, np.array([], dtype=int), spec)) == 0


def test_controls_notation():
    s = PlateSpec.parse(96, "positive=2, blank=1")
    assert (s.positive, s.negative, s.blank, s.capacity) == (2, 0, 1, 93)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"wells": 48}, r"48 wells is not a supported plate; allowed: 96 \(8 x 12\) or 384"),
        (
            {"wells": 96, "controls": "positive=90,negative=5,blank=1"},
            r"96 control wells per plate \(positive 90, negative 5, blank 1\) leave no well for "
            r"reactions on a 96-well plate; allowed: at most 95",
        ),
        ({"wells": 96, "controls": "positive=1,water=1"}, r"'water=1' is not 'kind=count'"),
        ({"wells": 96, "controls": "positive=-1"}, r"positive=-1 must be a whole number"),
        ({"wells": 96, "controls": "positive=x"}, r"positive='x' must be a whole number"),
        (
            {"wells": 96, "order": "diagonal"},
            r"'diagonal' is not a fill order; allowed: column, row",
        ),
    ],
)
def test_plate_spec_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PlateSpec.parse(**kwargs)


def test_html_map_lists_every_reaction_and_control():
    m = manifest(300, batch="HN")
    spec = PlateSpec(96)
    lay = layout_plates(m, m.first_stage, spec)
    page = plates_html(lay, spec, "Batch HN", batch="HN")
    assert page.count("<table>") == 1
    for pid in m.pool_id[m.first_stage]:
        assert f">{pid[3:]}<" in page  # shown without the batch prefix
    assert page.count(">POS<") == 1 and page.count(">BLANK<") == 1
    assert "column by column (A1, B1, C1, ...)" in page


def test_png_plate_map(tmp_path):
    m = manifest(200)
    spec = PlateSpec(96)
    lay = layout_plates(m, m.first_stage, spec)
    paths = save_plate_pngs(lay, spec, tmp_path)
    assert [p.name for p in paths] == ["plate_R1-01.png"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_layout_columns_round_trip_through_csv(tmp_path):
    m = manifest(500, "A2M", "4")
    lay = layout_plates(m, m.first_stage, PlateSpec(96))
    lay.to_csv(tmp_path / "plates.csv", index=False)
    back = pd.read_csv(tmp_path / "plates.csv", dtype=str, keep_default_na=False)
    assert back.columns.tolist() == lay.columns.tolist()
    assert back["pool_id"].tolist() == lay["pool_id"].astype(str).tolist()
