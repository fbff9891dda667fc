"""A simulated lab: true statuses -> manifest -> simulated assay -> decode, run by run.

For training, demonstrations and the end-to-end tests. Each reaction of a run is positive with
the pool test's sensitivity if the pool holds a truly positive sample and with 1 - specificity
otherwise, independently, with the per-stage accuracy of :func:`labopt.pooling.evaluate`
(taken from :func:`labopt.pooling.opchar.pool_accuracy` and ``array_accuracy``, so the
simulated lab and the engine cannot disagree on which accuracy a pool gets). A reaction may
also fail (``invalid_rate``) and is then repeated in the next run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from labopt.errors import InputError
from labopt.lab.batch import LabBatch
from labopt.lab.manifest import COLUMN, INDIVIDUAL, MASTER, ROW, Manifest
from labopt.lab.plates import PlateSpec
from labopt.pooling.assay import SENSITIVITY, SPECIFICITY, DilutionModel, dilution_factors
from labopt.pooling.opchar import array_accuracy, pool_accuracy, stage_accuracy


def assay_accuracy(
    manifest: Manifest,
    se: float | Sequence[float] = SENSITIVITY,
    sp: float | Sequence[float] = SPECIFICITY,
    dilution: DilutionModel | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sensitivity and specificity of every pool's test (per-stage accuracy as in
    :func:`labopt.pooling.evaluate`; dilution by the pool's actual size)."""
    m = manifest
    se_v, sp_v = stage_accuracy(m.design, se, sp)
    if m.is_array:
        (se_m, sp_m), (se_rc, _, sp_rc), (se_i, sp_i) = array_accuracy(m.design, se_v, sp_v, None)
        se_k = np.zeros(6)
        sp_k = np.ones(6)
        se_k[[MASTER, ROW, COLUMN, INDIVIDUAL]] = se_m, se_rc, se_rc, se_i
        sp_k[[MASTER, ROW, COLUMN, INDIVIDUAL]] = sp_m, sp_rc, sp_rc, sp_i
        se_pool, sp_pool = se_k[m.kind], sp_k[m.kind]
    else:
        _, se_node, sp_node = pool_accuracy(m.design, se_v, sp_v, None)
        se_pool, sp_pool = se_node[m.node], sp_node[m.node]
    factor = dilution_factors(dilution, int(m.size.max()))[m.size]
    return se_pool * factor, sp_pool


def positives_per_pool(manifest: Manifest, truth: np.ndarray) -> np.ndarray:
    """Truly positive samples in each pool (``truth``: bool per sample, layout order)."""
    m = manifest
    truth = np.asarray(truth, dtype=bool)
    if truth.shape != (m.n_samples,):
        raise InputError(
            f"truth: expected one status per sample ({m.n_samples}), got {truth.shape}", "truth"
        )
    count = np.zeros(m.n_pools, dtype=np.int64)
    for c in range(m.path.shape[1]):
        pc = m.path[:, c]
        ok = (pc >= 0) & truth
        count += np.bincount(pc[ok], minlength=m.n_pools)
    return count


def simulate_run(
    batch: LabBatch,
    truth: np.ndarray,
    rng: np.random.Generator,
    *,
    se: float | Sequence[float] = SENSITIVITY,
    sp: float | Sequence[float] = SPECIFICITY,
    dilution: DilutionModel | None = None,
    invalid_rate: float = 0.0,
    per: str = "pool",
) -> pd.DataFrame:
    """Results of the batch's latest run as a lab would report them.

    ``per="pool"`` gives columns run, pool_id, result; ``per="well"`` gives plate, well,
    result for every well, controls included (they pass).
    """
    m = batch.manifest
    wells = batch.current_plates()
    react = wells["content"].to_numpy() == "reaction"
    pools = m.pool_index.get_indexer(wells["pool_id"].to_numpy()[react])
    se_pool, sp_pool = assay_accuracy(m, se, sp, dilution)
    infected = positives_per_pool(m, truth)[pools] > 0
    prob = np.where(infected, se_pool[pools], 1.0 - sp_pool[pools])
    positive = rng.random(pools.size) < prob
    invalid = (
        rng.random(pools.size) < invalid_rate
        if invalid_rate > 0
        else np.zeros(pools.size, dtype=bool)
    )
    words = np.where(invalid, "invalid", np.where(positive, "positive", "negative"))
    if per == "pool":
        return pd.DataFrame({"run": batch.runs, "pool_id": m.pool_id[pools], "result": words})
    if per != "well":
        raise InputError(f"per: {per!r}; allowed: pool, well", "per")
    result = np.empty(len(wells), dtype=object)
    result[react] = words
    content = wells["content"].to_numpy()
    result[content == "positive_control"] = "positive"
    result[(content == "negative_control") | (content == "extraction_blank")] = "negative"
    return pd.DataFrame(
        {"plate": wells["plate"].to_numpy(), "well": wells["well"].to_numpy(), "result": result}
    )


def run_lab(
    manifest: Manifest,
    truth: np.ndarray,
    *,
    se: float | Sequence[float] = SENSITIVITY,
    sp: float | Sequence[float] = SPECIFICITY,
    seed: int = 0,
    spec: PlateSpec = PlateSpec(),
    dilution: DilutionModel | None = None,
    invalid_rate: float = 0.0,
    per: str = "pool",
    max_runs: int = 100,
) -> LabBatch:
    """Run a batch to the end: plate, simulate the run, apply, decode, repeat.

    Returns the final batch (``batch.decoding`` has every sample's status,
    ``batch.reactions_used`` the reactions spent, repeats included).
    """
    rng = np.random.default_rng(seed)
    batch = LabBatch.start(manifest, spec)
    for _ in range(max_runs):
        if batch.decoding.to_run.size == 0:
            return batch
        results = simulate_run(
            batch, truth, rng, se=se, sp=sp, dilution=dilution, invalid_rate=invalid_rate, per=per
        )
        batch, _ = batch.apply(results, source=f"simulated run {batch.runs}")
        batch = batch.schedule_next()
    raise RuntimeError(
        f"the batch still has pools to run after {max_runs} runs "
        f"(invalid_rate {invalid_rate} too high?)"
    )
