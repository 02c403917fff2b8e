"""defisim: simulate DeFi liquidation cascades in block time, with exact protocol math.

>>> import defisim
>>> scenario = defisim.load_scenario("scenarios/default.yaml")   # doctest: +SKIP
>>> result = defisim.simulate(scenario, blocks=600)               # doctest: +SKIP
>>> result.summary["totals"]                                      # doctest: +SKIP
"""

from defisim.errors import DefisimError, InvariantViolation, ScenarioError
from defisim.results import Result
from defisim.scenario import load_scenario, register, scenario_from_dict, scenario_json_schema
from defisim.simulate import simulate

__all__ = [
    "DefisimError",
    "InvariantViolation",
    "Result",
    "ScenarioError",
    "load_scenario",
    "register",
    "scenario_from_dict",
    "scenario_json_schema",
    "simulate",
]
