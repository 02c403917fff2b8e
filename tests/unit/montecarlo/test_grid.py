"""Parameter grids: exact decimal ranges, lists, units, and every refusal naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

import defisim
from defisim.montecarlo.grid import (
    GridError,
    apply_point,
    bind,
    grid_points,
    parse_param,
    parse_params,
)
from defisim.scenario.overrides import get_value

ROOT = Path(__file__).resolve().parents[3]
LT = "protocols.aave.reserves.WETH.liquidation_threshold"
FUND = "protocols.aave.insurance_fund.initial"


@pytest.fixture(scope="module")
def scenario():
    return defisim.load_scenario(ROOT / "scenarios" / "default.yaml")


def test_range_is_exact_in_decimal_and_ends_on_hi() -> None:
    p = parse_param(f"{LT}=0.75:0.90:0.01")
    assert len(p.values) == 16
    assert p.values[0] == 0.75 and p.values[-1] == 0.9 and p.values[5] == 0.8
    assert parse_param("x=1:10:4").values == (1, 5, 9)  # last multiple below HI
    assert all(isinstance(v, int) for v in parse_param("x=1:10:4").values)


def test_list_keeps_order_and_types() -> None:
    assert parse_param("x = 3, 1, 2").values == (3, 1, 2)
    assert parse_param("x=0.5,1e3").values == (0.5, 1000.0)


@pytest.mark.parametrize(("text", "problem"), [
    (f"{LT}=0.9:0.8:0.01", "inverted range"),
    (f"{LT}=0.9:0.9:0.01", "empty range"),
    (f"{LT}=0.7:0.9:0", "STEP must be positive"),
    (f"{LT}=0.7:0.9:-0.1", "STEP must be positive"),
    (f"{LT}=0.7:0.9", "three numbers"),
    (f"{LT}=0.7:abc:0.1", "HI 'abc' is not a number"),
    (f"{LT}=", "no values"),
    (f"{LT}=1,1", "listed twice"),
    ("x=0:1:0.00001", "at most"),
    ("no_equals_sign", "no '=' found"),
    ("a..b=1,2", "empty segment"),
])
def test_malformed_specs_name_the_field(text: str, problem: str) -> None:
    with pytest.raises(GridError, match=problem) as err:
        parse_param(text)
    assert err.value.field in text


def test_a_path_given_twice_is_refused() -> None:
    with pytest.raises(GridError, match="given twice"):
        parse_params([f"{LT}=0.8,0.81", f"{LT}=0.82,0.83"])


def test_bind_checks_the_path_exists(scenario) -> None:
    with pytest.raises(GridError, match="no such parameter") as err:
        bind(scenario, [parse_param("protocols.aave.reserves.WETH.liquidation_treshold=0.8,0.9")])
    assert err.value.field == "protocols.aave.reserves.WETH.liquidation_treshold"
    with pytest.raises(GridError, match="no component named 'compound'"):
        bind(scenario, [parse_param("protocols.compound.x=1,2")])


def test_bind_records_baselines_and_integer_parameters(scenario) -> None:
    (lt, blocks) = bind(scenario, [parse_param(f"{LT}=0.8,0.85"), parse_param("chain.blocks=100:300:100")])
    assert lt.baseline == 0.825 and blocks.baseline == 1800 and blocks.values == (100, 200, 300)
    with pytest.raises(GridError, match="whole numbers"):
        bind(scenario, [parse_param("chain.blocks=100.5,200")])


def test_amounts_take_a_unit_and_are_written_in_whole_tokens(scenario) -> None:
    (fund,) = bind(scenario, [parse_param(f"{FUND}=100000:300000:100000 USDC")])
    assert fund.unit == "USDC" and fund.baseline == 250_000 and fund.values == (100000, 200000, 300000)
    changed = apply_point(scenario, [fund], {FUND: 200000})
    assert get_value(changed, FUND) == 200_000 * 10**6
    with pytest.raises(GridError, match="not a token of the scenario"):
        bind(scenario, [parse_param(f"{FUND}=1,2 DAI")])
    with pytest.raises(GridError, match="not a token amount"):
        bind(scenario, [parse_param(f"{LT}=0.8,0.9 USDC")])


def test_a_point_the_schema_refuses_names_parameter_and_value(scenario) -> None:
    (lt,) = bind(scenario, [parse_param(f"{LT}=0.5,0.85")])
    with pytest.raises(GridError, match=r"liquidation_threshold=0.5: the scenario refuses") as err:
        apply_point(scenario, [lt], {LT: 0.5})
    assert "ltv" in str(err.value)
    assert get_value(apply_point(scenario, [lt], {LT: 0.85}), LT) == 0.85


def test_grid_is_row_major_with_the_last_parameter_fastest() -> None:
    a, b = parse_param("a=1,2"), parse_param("b=10,20,30")
    assert grid_points([a, b]) == [{"a": 1, "b": 10}, {"a": 1, "b": 20}, {"a": 1, "b": 30},
                                   {"a": 2, "b": 10}, {"a": 2, "b": 20}, {"a": 2, "b": 30}]
