"""The lab's daily work on a pooling design: manifests, plates, results, decoding, estimates.

Modules, one concern each:

- :mod:`~labopt.lab.manifest`: batch of samples + design -> which sample goes into which pool.
- :mod:`~labopt.lab.plates`: a run's reactions on 96/384-well plates with control wells;
  CSV, HTML and PNG plate maps.
- :mod:`~labopt.lab.results`: results per well or per pool (positive, negative, invalid, Ct),
  validated against what was run.
- :mod:`~labopt.lab.decode`: the design's rules applied to the results: cleared samples, the
  retest list, final statuses.
- :mod:`~labopt.lab.batch`: one batch's state over its runs (idempotent result log,
  corrections kept), saved as a folder.
- :mod:`~labopt.lab.field`: field pooling (swabs pooled at collection): re-collection lists
  and turnaround.
- :mod:`~labopt.lab.estimate`: prevalence from pooled results (maximum likelihood with Se/Sp,
  unequal pool sizes, score interval), per district and stream.
- :mod:`~labopt.lab.simulate`: a simulated lab for tests, benchmarks and training.

Units: prevalence, risks, Se and Sp are fractions; Ct values are PCR cycles; times are hours.
"""

from labopt.lab.batch import ApplyReport, LabBatch
from labopt.lab.decode import Decoding, decode
from labopt.lab.estimate import (
    PrevalenceEstimate,
    estimate_from_counts,
    estimate_groups,
    estimate_prevalence,
    estimate_table,
    planning_prevalence,
    prevalence_frame,
)
from labopt.lab.field import Turnaround, recollection_list, recollection_summary, turnaround_hours
from labopt.lab.manifest import Manifest, make_manifest, read_manifest, read_samples
from labopt.lab.plates import PlateSpec, layout_plates, plates_html, save_plate_pngs
from labopt.lab.results import ingest_results, read_results
from labopt.lab.simulate import run_lab, simulate_run
from labopt.lab.tables import LabInputError

__all__ = [
    "ApplyReport",
    "Decoding",
    "LabBatch",
    "LabInputError",
    "Manifest",
    "PlateSpec",
    "PrevalenceEstimate",
    "Turnaround",
    "decode",
    "estimate_from_counts",
    "estimate_groups",
    "estimate_prevalence",
    "estimate_table",
    "ingest_results",
    "layout_plates",
    "make_manifest",
    "planning_prevalence",
    "plates_html",
    "prevalence_frame",
    "read_manifest",
    "read_results",
    "read_samples",
    "recollection_list",
    "recollection_summary",
    "run_lab",
    "save_plate_pngs",
    "simulate_run",
    "turnaround_hours",
]
