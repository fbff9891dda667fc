"""Loading and validating a national-size synthetic scenario (700 units, 300 labs, 7 days).

The CSV load is gated against pandas reading the same files without any check, timed
alongside; the floor is about half the measured ratio (BENCHMARKS.md).
"""

import pandas as pd
import pytest

from benches.timing import gate_ratio
from labopt.scenario import load_scenario, save_folder, save_xlsx
from labopt.scenario.synth import synthesize

AREA = "Scenarios"
# floor: pandas' plain read / labopt's load and validation must stay above it
FLOOR_LOAD_CSV = 0.007


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    scn = synthesize(700, 300, days=7, seed=0)
    folder = save_folder(scn, tmp_path_factory.mktemp("national") / "csv")
    return scn, folder


def test_bench_load_national_csv(benchmark, national):
    scn, folder = national
    loaded = benchmark(load_scenario, folder)
    assert len(loaded.districts) == 700 and len(loaded.labs) == 300
    assert loaded.equals(scn)


def test_ratio_load_national_csv(national):
    _, folder = national
    files = sorted(folder.glob("*.csv"))
    gate_ratio(
        AREA,
        "national scenario, CSV: load and validate",
        "pandas read_csv of the same files",
        lambda: [pd.read_csv(f) for f in files],
        lambda: load_scenario(folder),
        FLOOR_LOAD_CSV,
        repeat=3,
    )


def test_bench_load_national_xlsx(benchmark, national, tmp_path):
    scn, _ = national
    book = save_xlsx(scn, tmp_path / "national.xlsx")
    loaded = benchmark.pedantic(load_scenario, args=(book,), rounds=1, iterations=1)
    assert loaded.equals(scn)
