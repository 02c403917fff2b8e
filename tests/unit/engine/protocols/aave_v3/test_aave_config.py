"""ReserveParams -> ReserveConfig: exact bps/RAY conversion and configurator rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from defisim.engine.protocols.aave_v3 import ReserveParams


def test_to_config_exact_ints() -> None:
    cfg = ReserveParams(ltv=0.80, liquidation_threshold=0.825, liquidation_bonus=0.05).to_config(18)
    assert (cfg.ltv, cfg.liquidation_threshold, cfg.liquidation_bonus) == (8000, 8250, 10500)
    assert cfg.liquidation_protocol_fee == 1000 and cfg.reserve_factor == 1000
    # DefaultReserveInterestRateStrategyV2._bpsToRay: bps * 1e23
    assert cfg.optimal_usage_ratio == 9000 * 10**23
    assert cfg.variable_rate_slope1 == 400 * 10**23
    assert cfg.variable_rate_slope2 == 6000 * 10**23
    assert cfg.base_variable_borrow_rate == 0
    assert cfg.decimals == 18 and cfg.unit == 10**18


def test_ltv_above_threshold_message() -> None:
    with pytest.raises(ValidationError, match=r"ltv \(0.9\) must not exceed liquidation_threshold \(0.8\)"):
        ReserveParams(ltv=0.9, liquidation_threshold=0.8, liquidation_bonus=0.05)


def test_non_integral_bps_rejected() -> None:
    with pytest.raises(ValidationError, match="whole number of basis points"):
        ReserveParams(ltv=0.80005, liquidation_threshold=0.825, liquidation_bonus=0.05)


def test_threshold_times_bonus_must_not_exceed_one() -> None:
    # PoolConfigurator: percentMul(LT, bonus) <= 1e4 ; 9600 * 10500 / 1e4 = 10080 > 1e4
    with pytest.raises(ValidationError, match="must not exceed 1"):
        ReserveParams(ltv=0.9, liquidation_threshold=0.96, liquidation_bonus=0.05)
    ReserveParams(ltv=0.9, liquidation_threshold=0.95, liquidation_bonus=0.05)  # 9975 ok


def test_fraction_bounds_and_extra_forbidden() -> None:
    with pytest.raises(ValidationError, match=r"\[0, 1\]"):
        ReserveParams(ltv=-0.1, liquidation_threshold=0.8, liquidation_bonus=0.05)
    with pytest.raises(ValidationError, match="must not be negative"):
        ReserveParams(ltv=0.5, liquidation_threshold=0.8, liquidation_bonus=-0.05)
    with pytest.raises(ValidationError):
        ReserveParams(ltv=0.5, liquidation_threshold=0.8, liquidation_bonus=0.05, decimals=18)
    with pytest.raises(ValidationError, match="slope1"):
        ReserveParams(ltv=0.5, liquidation_threshold=0.8, liquidation_bonus=0.05,
                      variable_rate_slope1=0.7, variable_rate_slope2=0.6)


def test_frozen() -> None:
    p = ReserveParams(ltv=0.5, liquidation_threshold=0.8, liquidation_bonus=0.05)
    with pytest.raises(ValidationError):
        p.ltv = 0.6  # type: ignore[misc]
