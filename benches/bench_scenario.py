"""Loading and validating a national-size synthetic scenario (700 units, 300 labs, 7 days)."""

import pytest

from labopt.scenario import load_scenario, save_folder, save_xlsx
from labopt.scenario.synth import synthesize


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


def test_bench_load_national_xlsx(benchmark, national, tmp_path):
    scn, _ = national
    book = save_xlsx(scn, tmp_path / "national.xlsx")
    loaded = benchmark.pedantic(load_scenario, args=(book,), rounds=1, iterations=1)
    assert loaded.equals(scn)
