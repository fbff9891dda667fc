"""Pooled RT-PCR testing: operating characteristics, optimal designs and simulation.

Units: prevalence, risks, sensitivity and specificity are fractions in [0, 1]; costs are
reactions (RT-PCR wells, retests included) per sample; pool sizes are samples per reaction.
"""

from labopt.pooling.assay import DilutionModel
from labopt.pooling.designs import ALGORITHMS, Design
from labopt.pooling.multiplex import MultiplexCharacteristics, evaluate_multiplex
from labopt.pooling.opchar import OperatingCharacteristics, binary_entropy, evaluate
from labopt.pooling.search import OptimizationResult, SearchConstraints, optimize
from labopt.pooling.simulate import Estimate, SimulationResult, simulate

__all__ = [
    "ALGORITHMS",
    "Design",
    "DilutionModel",
    "Estimate",
    "MultiplexCharacteristics",
    "OperatingCharacteristics",
    "OptimizationResult",
    "SearchConstraints",
    "SimulationResult",
    "binary_entropy",
    "evaluate",
    "evaluate_multiplex",
    "optimize",
    "simulate",
]
