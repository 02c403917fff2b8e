"""defisim: simulate DeFi liquidation cascades in block time, with exact protocol math.

>>> import defisim
>>> scenario = defisim.load_scenario("scenarios/default.yaml")   # doctest: +SKIP
>>> result = defisim.simulate(scenario, blocks=600)               # doctest: +SKIP
>>> result.summary["totals"]                                      # doctest: +SKIP
"""

from defisim.errors import DefisimError, InvariantViolation, ScenarioError
from defisim.results import Result
from defisim.scenario import (
    get_value,
    load_scenario,
    register,
    scenario_from_dict,
    scenario_json_schema,
    with_overrides,
)
from defisim.simulate import simulate

__all__ = [
    "DefisimError",
    "get_value",
    "InvariantViolation",
    "Result",
    "ScenarioError",
    "load_scenario",
    "register",
    "scenario_from_dict",
    "scenario_json_schema",
    "simulate",
    "with_overrides",
]
