"""Province scenarios: units, labs, demand streams, transport and policy.

Load with :func:`load_scenario` (a folder of CSV files plus scenario.toml, or one XLSX
workbook); every problem in the files is reported at once as a :class:`ScenarioError`.
"""

from labopt.scenario.errors import Problem, ScenarioError
from labopt.scenario.io import (
    load_scenario,
    save_folder,
    save_scenario,
    save_xlsx,
    scenario_from_data,
    scenario_to_data,
)
from labopt.scenario.model import (
    District,
    Lab,
    Policy,
    Province,
    Scenario,
    Settings,
    Stream,
    Transport,
)
from labopt.scenario.travel import travel_table

__all__ = [
    "District",
    "Lab",
    "Policy",
    "Problem",
    "Province",
    "Scenario",
    "ScenarioError",
    "Settings",
    "Stream",
    "Transport",
    "load_scenario",
    "save_folder",
    "save_scenario",
    "save_xlsx",
    "scenario_from_data",
    "scenario_to_data",
    "travel_table",
]
