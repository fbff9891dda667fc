"""`labopt batch` is the lab workflow; `pools`, its old name, is a hidden alias for a release."""

import numpy as np
import pandas as pd
import pytest

from tests.cli.helpers import run, snapshot


@pytest.fixture
def samples(tmp_path):
    path = tmp_path / "samples.csv"
    pd.DataFrame({"sample_id": [f"S{i:03d}" for i in range(40)]}).to_csv(path, index=False)
    return path


def results(batch, out):
    """Every well of the first run's template negative (controls as they should read)."""
    t = pd.read_csv(batch / "results_template.csv", dtype=str, keep_default_na=False)
    t["result"] = np.where(t["content"] == "positive_control", "positive", "negative")
    t.to_csv(out, index=False)
    return out


def test_batch_and_its_old_name_pools_run_the_same_commands(tmp_path, samples):
    made = {}
    for name in ("batch", "pools"):
        out = tmp_path / name
        r = run(name, "make", samples, "-a", "D2", "-c", "5", "--out", out)
        assert r.exit_code == 0, r.output
        r = run(name, "decode", out, results(out, tmp_path / f"{name}-r.csv"))
        assert r.exit_code == 0, r.output
        made[name] = r
    assert snapshot(tmp_path / "batch").keys() == snapshot(tmp_path / "pools").keys()
    for name in ("statuses.csv", "retest.csv", "pools.csv"):
        assert (tmp_path / "batch" / name).read_bytes() == (tmp_path / "pools" / name).read_bytes()
    # the old name still works and says what the new one is, on stderr only
    assert "labopt batch" in made["pools"].stderr
    assert "labopt batch" not in made["batch"].stderr
    assert "pools" not in made["pools"].stdout.partition("\n")[0]


def test_pools_is_hidden_from_the_help():
    r = run("--help")
    assert r.exit_code == 0
    commands = [line.split()[1] for line in r.stdout.splitlines() if line.startswith("│ ")]
    assert "batch" in commands and "pool" in commands and "pools" not in commands
    assert run("pools", "--help").exit_code == 0
