"""Scenario files: pydantic models, the YAML/TOML loader and the registry of component kinds."""

from defisim.scenario.loader import load_scenario, scenario_from_dict
from defisim.scenario.models import ScenarioBase, scenario_json_schema, scenario_model
from defisim.scenario.overrides import get_value, with_overrides
from defisim.scenario.registry import register

__all__ = [
    "ScenarioBase",
    "get_value",
    "load_scenario",
    "register",
    "scenario_from_dict",
    "scenario_json_schema",
    "scenario_model",
    "with_overrides",
]
