"""Validation of the price-model parameter models: the field path and the problem."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from defisim.errors import ScenarioError
from defisim.pricepaths import (
    GBMModel,
    JumpDiffusionModel,
    PriceModel,
    ScriptedModel,
    parse_price_model,
)

ADAPTER: TypeAdapter[Any] = TypeAdapter(PriceModel)


def _only_error(data: dict[str, Any], **context: Any) -> tuple[tuple[Any, ...], str]:
    with pytest.raises(ValidationError) as info:
        ADAPTER.validate_python(data, context=context or None)
    errors = info.value.errors()
    assert len(errors) == 1, errors
    return tuple(errors[0]["loc"]), errors[0]["msg"]


def _gbm(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "model": "gbm",
        "assets": {
            "ETH": {"start": 3000, "mu": 0.0, "sigma": 0.8},
            "BTC": {"start": 60000, "mu": 0.0, "sigma": 0.6},
        },
        "correlation": [[1, 0.7], [0.7, 1]],
    }
    data.update(over)
    return data


# ---------------------------------------------------------------- discriminator / shapes


def test_discriminator_selects_kind() -> None:
    assert isinstance(ADAPTER.validate_python({"model": "scripted", "assets": {"U": 1.0}}), ScriptedModel)
    assert isinstance(ADAPTER.validate_python(_gbm()), GBMModel)
    jd = {
        "model": "jump-diffusion",
        "assets": {
            "ETH": {"start": 1, "sigma": 0.5, "jump_intensity": 2, "jump_mean": -0.1, "jump_std": 0.05}
        },
    }
    m = ADAPTER.validate_python(jd)
    assert isinstance(m, JumpDiffusionModel) and m.common_jumps is True


def test_unknown_kind() -> None:
    loc, msg = _only_error({"model": "heston", "assets": {}})
    assert "heston" in msg and "jump-diffusion" in msg


def test_extra_field_forbidden() -> None:
    loc, msg = _only_error(_gbm(sigma=0.3))
    assert loc == ("gbm", "sigma") and "Extra inputs" in msg
    loc, _ = _only_error(_gbm(assets={"ETH": {"start": 1, "sigma": 0.1, "vol": 2}}, correlation=None))
    assert loc == ("gbm", "assets", "ETH", "vol")


def test_models_are_frozen() -> None:
    m = ADAPTER.validate_python(_gbm())
    with pytest.raises(ValidationError):
        m.correlation = None


def test_scripted_short_forms_and_defaults() -> None:
    m = ADAPTER.validate_python(
        {"model": "scripted", "assets": {"ETH": [[0, 3000], ["1h", 2000]], "USDC": 1.0}}
    )
    assert m.interpolation == "log"
    assert m.assets["ETH"].points == ((0, 3000.0), ("1h", 2000.0))
    assert m.assets["USDC"].start == 1.0 and m.assets["USDC"].points is None


# ------------------------------------------------------------------------ scripted checks


def test_price_zero_or_negative_names_point() -> None:
    data = {"model": "scripted", "assets": {"ETH": [[0, 3000], [10, 2000], [20, 1000], [30, -5]]}}
    loc, msg = _only_error(data)
    assert loc == ("scripted", "assets", "ETH", "points")
    assert "price path goes to zero or negative at point 3" in msg
    data["assets"]["ETH"][3][1] = 0.0
    assert "goes to zero or negative at point 3" in _only_error(data)[1]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_price_not_finite(bad: float) -> None:
    loc, msg = _only_error({"model": "scripted", "assets": {"ETH": [[0, 1.0], [5, bad]]}})
    assert loc == ("scripted", "assets", "ETH", "points")
    assert "not finite at point 1" in msg


@pytest.mark.parametrize(
    "points",
    [
        [[0, 1.0], [10, 2.0], [10, 3.0]],
        [[0, 1.0], [10, 2.0], [5, 3.0]],
        [["1h", 1.0], ["30m", 2.0]],
        [["1h", 1.0], [400, 2.0], ["60m", 3.0]],  # durations compared among themselves
    ],
)
def test_times_not_increasing(points: list[list[Any]]) -> None:
    loc, msg = _only_error({"model": "scripted", "assets": {"ETH": points}})
    assert loc == ("scripted", "assets", "ETH", "points")
    assert "strictly increasing" in msg


def test_times_not_increasing_after_rounding_with_context() -> None:
    data = {"model": "scripted", "assets": {"ETH": [[0, 1.0], ["10s", 2.0], ["15s", 3.0]]}}
    ADAPTER.validate_python(data)  # fine without a block time
    loc, msg = _only_error(data, block_time_s=12)  # both round onto block 1
    assert loc == ("scripted", "assets", "ETH", "points") and "strictly increasing" in msg
    loc, msg = _only_error(
        {"model": "scripted", "assets": {"ETH": [[0, 1.0], ["1h", 2.0], [200, 3.0]]}}, block_time_s=12
    )
    assert "block 200" in msg and "block 300" in msg


def test_unknown_duration_unit() -> None:
    loc, msg = _only_error({"model": "scripted", "assets": {"ETH": [[0, 1.0], ["5x", 2.0]]}})
    assert loc[:4] == ("scripted", "assets", "ETH", "points")
    assert "unknown duration unit 'x'" in msg


def test_points_and_start_exclusive() -> None:
    loc, msg = _only_error({"model": "scripted", "assets": {"ETH": {"start": 1, "points": [[0, 1]]}}})
    assert loc == ("scripted", "assets", "ETH") and "got both" in msg
    loc, msg = _only_error({"model": "scripted", "assets": {"ETH": {}}})
    assert "got neither" in msg
    loc, msg = _only_error({"model": "scripted", "assets": {"ETH": {"points": []}}})
    assert "must not be empty" in msg


def test_float_time_rejected() -> None:
    with pytest.raises(ValidationError):
        ADAPTER.validate_python({"model": "scripted", "assets": {"ETH": [[0, 1.0], [1.5, 2.0]]}})


# --------------------------------------------------------------------- stochastic checks


@pytest.mark.parametrize(
    ("corr", "needle"),
    [
        ([[1, 0.7], [0.6, 1]], "symmetric"),
        ([[1, 0.7], [0.7, 0.9]], "diagonal must be 1"),
        ([[1, 1.2], [1.2, 1]], "outside [-1, 1]"),
        ([[1, 0.7, 0], [0.7, 1, 0], [0, 0, 1]], "3x3 but 2 assets"),
        ([[1, 0.7], [0.7]], "square"),
    ],
)
def test_correlation_shape_and_values(corr: list[list[float]], needle: str) -> None:
    loc, msg = _only_error(_gbm(correlation=corr))
    assert loc == ("gbm", "correlation")
    assert needle in msg


def test_correlation_not_psd() -> None:
    data = _gbm(
        assets={k: {"start": 1, "sigma": 0.5} for k in ("A", "B", "C")},
        correlation=[[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]],
    )
    loc, msg = _only_error(data)
    assert loc == ("gbm", "correlation")
    assert "not positive semi-definite" in msg and "smallest eigenvalue" in msg


def test_singular_psd_correlation_accepted() -> None:
    ADAPTER.validate_python(_gbm(correlation=[[1, 1], [1, 1]]))


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [("start", 0, "greater than 0"), ("sigma", -0.1, "greater than or equal to 0"), ("mu", float("nan"), "finite")],
)
def test_asset_params(field: str, value: float, needle: str) -> None:
    asset = {"start": 1.0, "mu": 0.0, "sigma": 0.5, field: value}
    loc, msg = _only_error(_gbm(assets={"ETH": asset}, correlation=None))
    assert loc == ("gbm", "assets", "ETH", field) and needle in msg


def test_jump_params_required() -> None:
    with pytest.raises(ValidationError) as info:
        ADAPTER.validate_python({"model": "jump-diffusion", "assets": {"ETH": {"start": 1, "sigma": 0.1}}})
    locs = {tuple(e["loc"]) for e in info.value.errors()}
    assert ("jump-diffusion", "assets", "ETH", "jump_intensity") in locs


def test_stress_checks() -> None:
    loc, msg = _only_error(_gbm(stress={"at": "1h", "depth": 1.0}))
    assert loc == ("gbm", "stress", "depth")
    loc, msg = _only_error(_gbm(stress={"at": "1h", "depth": 0.4, "assets": ["SOL"]}))
    assert loc == ("gbm", "stress") and "SOL" in msg
    loc, msg = _only_error(_gbm(stress={"at": "1q", "depth": 0.4}))
    assert loc[:3] == ("gbm", "stress", "at") and "unknown duration unit" in msg
    three = {k: {"start": 1, "sigma": 0.5} for k in ("A", "B", "C")}
    loc, msg = _only_error(_gbm(assets=three, correlation=None, stress={"at": 0, "depth": 0.1, "correlation_to": -0.6}))
    assert loc == ("gbm", "stress") and "impossible" in msg


def test_parse_price_model_raises_scenario_error_with_every_problem() -> None:
    data = {"model": "scripted", "assets": {"A": [[0, -1.0]], "B": [[0, 1.0], ["5x", 2.0]]}}
    with pytest.raises(ScenarioError) as info:
        parse_price_model(data)
    paths = [p for p, _ in info.value.problems]
    assert "scripted.assets.A.points" in paths
    assert any(p.startswith("scripted.assets.B.points") for p in paths)
    assert isinstance(info.value, ValueError)


def test_round_trip_dump() -> None:
    m = parse_price_model(_gbm(stress={"at": "1h", "depth": 0.4, "over": "30m", "vol_multiplier": 2}))
    again = parse_price_model(m.model_dump(mode="json"))
    assert again == m
