"""Parameter models of the exogenous reference-price models (fast layer).

A scenario names one price model for several assets; ``model:`` picks the kind:

- ``scripted``: piecewise paths through given points (linear or geometric interpolation);
- ``gbm``: correlated geometric Brownian motion;
- ``jump-diffusion``: Merton jump diffusion (gbm plus log-normal jumps), drift-compensated;

and the stochastic kinds take an optional ``stress`` overlay (a crash, with volatility and
correlation that rise in it). Prices are USD per whole token (float). Rates are annualised
(a year is 365 days). Times are block numbers (``int``) or duration strings (``"90s"``,
``"30m"``, ``"1h"``, ``"2d"``) that become blocks with the run's block time, rounded to the
nearest block (see :mod:`defisim.pricepaths._timeparse`).

All models are frozen pydantic models with ``extra="forbid"``; a bad value fails validation
with the field path (``assets.ETH.points``) and a message naming the problem. Checks that
need the block time (do two duration strings round onto the same block?) run at
validation when the caller passes ``context={"block_time_s": ...}`` (see
:func:`parse_price_model`) and always again in :func:`defisim.pricepaths.generate`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from defisim.errors import ScenarioError
from defisim.pricepaths._timeparse import check_time, duration_seconds, to_block

__all__ = [
    "Time",
    "Interpolation",
    "ScriptedAsset",
    "ScriptedModel",
    "GBMAsset",
    "JumpDiffusionAsset",
    "StressOverlay",
    "GBMModel",
    "JumpDiffusionModel",
    "PriceModel",
    "parse_price_model",
]

#: A time: block number (>= 0) or a duration string such as ``"1h"``.
Time = Annotated[StrictInt | str, AfterValidator(check_time)]
#: ``linear`` (straight line in price) or ``log`` (geometric: straight line in log price).
Interpolation = Literal["linear", "log"]

AssetName = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Price = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFinite = Annotated[float, Field(ge=0, allow_inf_nan=False)]

_SYMMETRY_TOL = 1e-9
_EIGEN_TOL = 1e-10

_FROZEN = ConfigDict(extra="forbid", frozen=True)


def _block_time_from(info: ValidationInfo) -> int | None:
    ctx = info.context
    if isinstance(ctx, dict):
        value = ctx.get("block_time_s")
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def check_points_increasing(points: tuple[tuple[int | str, float], ...], block_time_s: int) -> None:
    """Raise ``ValueError`` unless point times, in blocks, are strictly increasing."""
    blocks = [to_block(t, block_time_s) for t, _ in points]
    for i in range(1, len(blocks)):
        if blocks[i] <= blocks[i - 1]:
            raise ValueError(
                f"times must be strictly increasing: point {i} (t={points[i][0]!r}, block "
                f"{blocks[i]}) is not after point {i - 1} (t={points[i - 1][0]!r}, block "
                f"{blocks[i - 1]}) with {block_time_s} s blocks"
            )


# --------------------------------------------------------------------------- scripted


class ScriptedAsset(BaseModel):
    """One asset of a ``scripted`` model: either ``points`` or a constant ``start``.

    ``points`` is a list of ``[t, price]``: ``t`` a block number or duration string,
    ``price`` in USD per whole token (> 0, finite); times strictly increasing. Before the
    first point the path holds the first price, after the last the last price.
    ``start`` (USD per whole token) is a constant price for the whole run.
    ``interpolation`` overrides the model-wide setting for this asset.

    Short forms: a bare list means ``points``, a bare number means ``start``.
    """

    model_config = _FROZEN

    points: tuple[tuple[Time, float], ...] | None = None
    start: Price | None = None
    interpolation: Interpolation | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, data: Any) -> Any:
        if isinstance(data, (list, tuple)):
            return {"points": data}
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return {"start": data}
        return data

    @field_validator("points")
    @classmethod
    def _check_points(
        cls, points: tuple[tuple[int | str, float], ...] | None, info: ValidationInfo
    ) -> tuple[tuple[int | str, float], ...] | None:
        if points is None:
            return None
        if not points:
            raise ValueError("points must not be empty; give `start` for a constant price")
        for i, (t, price) in enumerate(points):
            if not math.isfinite(price):
                raise ValueError(
                    f"price is not finite at point {i} (t={t!r}, price={price!r}); prices are "
                    "USD per whole token"
                )
            if price <= 0:
                raise ValueError(
                    f"price path goes to zero or negative at point {i} (t={t!r}, "
                    f"price={price!r}); prices are USD per whole token and must be > 0"
                )
        # Without the block time only like can be compared with like: block numbers among
        # themselves, durations among themselves (a subsequence of an increasing sequence
        # is increasing, so this catches every order error that needs no block time).
        for kind in (int, str):
            prev: tuple[int, Any, float] | None = None
            for i, (t, _) in enumerate(points):
                if not isinstance(t, kind):
                    continue
                key = t if isinstance(t, int) else float(duration_seconds(t))
                if prev is not None and key <= prev[2]:
                    raise ValueError(
                        f"times must be strictly increasing: point {i} (t={t!r}) is not "
                        f"after point {prev[0]} (t={prev[1]!r})"
                    )
                prev = (i, t, key)
        block_time_s = _block_time_from(info)
        if block_time_s is not None:
            check_points_increasing(points, block_time_s)
        return points

    @model_validator(mode="after")
    def _points_or_start(self) -> ScriptedAsset:
        if (self.points is None) == (self.start is None):
            raise ValueError(
                "give either `points` (a price path) or `start` (a constant price); got "
                + ("both" if self.points is not None else "neither")
            )
        return self


class ScriptedModel(BaseModel):
    """Deterministic price paths through given points; consumes no random numbers.

    Example (YAML)::

        model: scripted
        interpolation: log          # default; or linear
        assets:
          ETH:
            points: [[0, 3000], ["1h", 1800], ["3h", 2100]]
          stETH: [[0, 2990], ["1h", 1700]]     # short form for points
          USDC: {start: 1.0}                   # constant; short form: `USDC: 1.0`
    """

    model_config = _FROZEN

    model: Literal["scripted"] = "scripted"
    interpolation: Interpolation = "log"
    assets: dict[AssetName, ScriptedAsset] = Field(min_length=1)


# ------------------------------------------------------------------------- stochastic


class GBMAsset(BaseModel):
    """One asset of a ``gbm`` model.

    ``start``: price at block 0, USD per whole token. ``mu``: annual drift of the price
    (so E[S_t] = start * exp(mu * t), t in years). ``sigma``: annual volatility of log
    returns (standard deviation per sqrt(year)), >= 0.
    """

    model_config = _FROZEN

    start: Price
    mu: FiniteFloat = 0.0
    sigma: NonNegFinite


class JumpDiffusionAsset(GBMAsset):
    """One asset of a ``jump-diffusion`` model: the gbm fields plus Merton jumps.

    ``jump_intensity``: expected jumps per year (>= 0). ``jump_mean``: mean of the log jump
    size (e.g. -0.1 is a jump to about 90% of the price). ``jump_std``: standard deviation
    of the log jump size (>= 0).
    """

    jump_intensity: NonNegFinite
    jump_mean: FiniteFloat
    jump_std: NonNegFinite


class StressOverlay(BaseModel):
    """A crash laid over a stochastic path, with volatility and correlation that rise in it.

    - ``at``: block (or duration from the start) where the crash begins.
    - ``depth``: fraction lost by the end of the window, ``0 <= depth < 1``. The path is
      multiplied by ``(1 - depth) ** p`` where ``p`` goes linearly from 0 at ``at`` to 1 at
      ``at + over`` (a straight line in log price), and stays 1 afterwards; at the end of the
      window the price is exactly ``(1 - depth)`` times the unstressed path. ``over: 0`` is
      an instant drop at block ``at``.
    - ``vol_multiplier``: sigma of the affected assets is multiplied by this for every block
      step after ``at`` (to the end of the run); the drift keeps E[S_t] unchanged.
    - ``correlation_to``: every pairwise correlation of the diffusion moves linearly from the
      model's value to this value over the window, then stays there (the covariance is the
      blend ``(1-w) C + w C_target``; exact, and positive semi-definite).
    - ``assets``: the assets the crash and the vol multiplier hit (default: all). The
      correlation change applies to the whole matrix.
    """

    model_config = _FROZEN

    at: Time
    depth: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]
    over: Time = 0
    vol_multiplier: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    correlation_to: Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)] | None = None
    assets: tuple[AssetName, ...] | None = None


def _check_correlation(
    corr: tuple[tuple[float, ...], ...] | None, info: ValidationInfo
) -> tuple[tuple[float, ...], ...] | None:
    if corr is None:
        return None
    assets = info.data.get("assets")
    n = len(corr)
    if any(len(row) != n for row in corr):
        raise ValueError(f"correlation must be a square matrix; got rows of lengths {[len(r) for r in corr]}")
    if assets is not None and n != len(assets):
        raise ValueError(
            f"correlation is {n}x{n} but {len(assets)} assets are listed ({', '.join(assets)}); "
            "rows and columns follow the order of `assets`"
        )
    c = np.array(corr, dtype=np.float64).reshape(n, n)
    if np.any(np.abs(c) > 1):
        i, j = map(int, np.argwhere(np.abs(c) > 1)[0])
        raise ValueError(f"correlation[{i}][{j}] = {c[i, j]} is outside [-1, 1]")
    bad_diag = np.flatnonzero(np.abs(np.diag(c) - 1.0) > _SYMMETRY_TOL)
    if bad_diag.size:
        i = int(bad_diag[0])
        raise ValueError(f"correlation diagonal must be 1; correlation[{i}][{i}] = {c[i, i]}")
    asym = np.abs(c - c.T) > _SYMMETRY_TOL
    if asym.any():
        i, j = map(int, np.argwhere(asym)[0])
        raise ValueError(
            f"correlation must be symmetric; correlation[{i}][{j}] = {c[i, j]} but "
            f"correlation[{j}][{i}] = {c[j, i]}"
        )
    smallest = float(np.linalg.eigvalsh(c).min())
    if smallest < -_EIGEN_TOL:
        raise ValueError(
            "correlation matrix is not positive semi-definite (smallest eigenvalue "
            f"{smallest:.3g}); no set of assets can have these pairwise correlations"
        )
    return corr


def _check_stress(stress: StressOverlay | None, info: ValidationInfo) -> StressOverlay | None:
    if stress is None:
        return None
    assets = info.data.get("assets")
    if assets is None:
        return stress
    if stress.assets is not None:
        unknown = [a for a in stress.assets if a not in assets]
        if unknown:
            raise ValueError(
                f"stress.assets names unknown asset(s) {unknown}; the model lists {list(assets)}"
            )
    n = len(assets)
    if stress.correlation_to is not None and n > 1 and stress.correlation_to < -1 / (n - 1):
        raise ValueError(
            f"correlation_to = {stress.correlation_to} is impossible for {n} assets (all "
            f"pairwise correlations equal needs >= {-1 / (n - 1):.4g})"
        )
    return stress


class GBMModel(BaseModel):
    """Correlated geometric Brownian motion, sampled exactly (log-normal) at every block.

    Per block step of ``dt = block_time_s / (365 * 24 * 3600)`` years, with correlated
    standard normals ``X``: ``log S[b] - log S[b-1] = (mu - sigma**2 / 2) dt + sigma sqrt(dt) X``.
    ``correlation`` (optional, default independent) is the correlation matrix of ``X``
    across ``assets`` in the order listed: symmetric, unit diagonal, positive semi-definite.

    Example (YAML)::

        model: gbm
        assets:
          ETH: {start: 3000, mu: 0.0, sigma: 0.80}
          BTC: {start: 60000, mu: 0.0, sigma: 0.60}
        correlation: [[1.0, 0.7], [0.7, 1.0]]
        stress: {at: "1h", depth: 0.40, over: "1h", vol_multiplier: 2.0, correlation_to: 0.95}
    """

    model_config = _FROZEN

    model: Literal["gbm"] = "gbm"
    assets: dict[AssetName, GBMAsset] = Field(min_length=1)
    correlation: tuple[tuple[FiniteFloat, ...], ...] | None = None
    stress: StressOverlay | None = None

    _v_corr = field_validator("correlation")(_check_correlation)
    _v_stress = field_validator("stress")(_check_stress)


class JumpDiffusionModel(BaseModel):
    """Merton jump diffusion: GBM plus compound-Poisson log-normal jumps, drift-compensated.

    Per block step (``dt`` years as in :class:`GBMModel`), for each asset::

        log S[b] - log S[b-1] = (mu - lambda * kappa - sigma**2 / 2) dt
                                + sigma sqrt(dt) X + sum_{k=1..N} Y_k,
        N ~ Poisson(lambda dt),  Y_k ~ Normal(jump_mean, jump_std**2),
        kappa = E[exp(Y) - 1] = exp(jump_mean + jump_std**2 / 2) - 1.

    The ``- lambda * kappa`` term compensates the jumps' mean effect, so
    ``E[S_t] = start * exp(mu * t)`` exactly, as for gbm with the same ``mu``.

    ``common_jumps: true`` (default): jumps are market-wide events. One Poisson stream at the
    largest intensity drives all assets; an asset with a lower intensity takes each event
    with probability ``its intensity / largest`` (thinning, so every asset's own jump rate is
    exactly its ``jump_intensity``), and the jump sizes share one standard-normal shock per
    event (``Y_i = jump_mean_i + jump_std_i * Z``: perfectly correlated sizes).
    ``common_jumps: false``: each asset has its own independent jump times and sizes.

    Example (YAML)::

        model: jump-diffusion
        common_jumps: true
        assets:
          ETH: {start: 3000, mu: 0.0, sigma: 0.6, jump_intensity: 4, jump_mean: -0.10, jump_std: 0.05}
          BTC: {start: 60000, mu: 0.0, sigma: 0.5, jump_intensity: 4, jump_mean: -0.08, jump_std: 0.04}
        correlation: [[1.0, 0.7], [0.7, 1.0]]
        stress: {at: 300, depth: 0.25, over: "30m"}
    """

    model_config = _FROZEN

    model: Literal["jump-diffusion"] = "jump-diffusion"
    assets: dict[AssetName, JumpDiffusionAsset] = Field(min_length=1)
    correlation: tuple[tuple[FiniteFloat, ...], ...] | None = None
    common_jumps: bool = True
    stress: StressOverlay | None = None

    _v_corr = field_validator("correlation")(_check_correlation)
    _v_stress = field_validator("stress")(_check_stress)


#: Any price model; ``model:`` selects the kind.
PriceModel = Annotated[
    Union[ScriptedModel, GBMModel, JumpDiffusionModel], Field(discriminator="model")
]

_ADAPTER: TypeAdapter[Any] = TypeAdapter(PriceModel)


def parse_price_model(data: Any, *, block_time_s: int | None = None) -> Any:
    """Validate raw data (e.g. a YAML mapping) into a price model.

    With ``block_time_s`` (seconds per block) the checks that need it (duration strings that
    round onto the same block) run now as well. Every problem is reported at once as a
    :class:`~defisim.errors.ScenarioError` whose paths are dotted field paths
    (``gbm.assets.ETH.sigma``: the kind, then the field).
    """
    context = {"block_time_s": block_time_s} if block_time_s is not None else None
    try:
        return _ADAPTER.validate_python(data, context=context)
    except ValidationError as exc:
        problems = [
            (".".join(str(part) for part in err["loc"]), err["msg"]) for err in exc.errors()
        ]
        raise ScenarioError(problems) from exc
