"""Parameter models of the exogenous reference-price models (fast layer).

A scenario names one price model for several assets; ``model:`` picks the kind:

- ``scripted``: piecewise paths through given points (linear or geometric interpolation);
- ``gbm``: correlated geometric Brownian motion;
- ``jump-diffusion``: Merton jump diffusion (gbm plus log-normal jumps), drift-compensated;
- ``garch``: GARCH(1,1) per asset with constant conditional correlation, parameters given or
  fitted by maximum likelihood to a historical price file (:mod:`defisim.pricepaths.garch`);
- ``bootstrap``: block bootstrap of historical multi-asset returns
  (:mod:`defisim.pricepaths.bootstrap`);

and the stochastic kinds take an optional ``stress`` overlay (a crash, with volatility and
correlation that rise in it; ``bootstrap`` takes it without ``correlation_to``).

``garch`` and ``bootstrap`` read historical prices from ``builtin:<name>`` (a file shipped in
``defisim/data/returns/``) or a CSV path (format: :mod:`defisim.pricepaths._returns_data`).
A relative path is resolved at validation against ``context={"base_dir": ...}`` (the
scenario file's folder; see :func:`parse_price_model`) or else the working directory, and
the validated model holds the absolute path and the file's SHA-256 (``sha256``), so the
model dumps to data that validates again anywhere on the same machine (Monte Carlo workers)
and a changed file is detected instead of silently used. Prices are USD per whole token (float). Rates are annualised
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
import os
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
from defisim.pricepaths._returns_data import (
    ReturnsData,
    load_returns_data,
    resolve_reference,
)
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
    "GarchAsset",
    "GarchModel",
    "BootstrapAsset",
    "BootstrapModel",
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


# ------------------------------------------------------------------- data-driven kinds

#: How a data step (e.g. one hour) is spread over the blocks inside it.
StepInterpolation = Literal["bridge", "log-linear"]
Variance = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Unit = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


def _base_dir_from(info: ValidationInfo) -> str | None:
    ctx = info.context
    if isinstance(ctx, dict):
        value = ctx.get("base_dir")
        if isinstance(value, (str, os.PathLike)):
            return os.fspath(value)
    return None


def _check_data_ref(ref: str | None, info: ValidationInfo) -> str | None:
    """Resolve a data reference to ``builtin:<name>`` or an absolute path and read the file."""
    if ref is None:
        return None
    canonical = resolve_reference(ref, _base_dir_from(info))  # ReturnsDataError is a ValueError
    load_returns_data(canonical)
    return canonical


def _check_sha256(value: str | None, info: ValidationInfo, ref_field: str) -> str | None:
    ref = info.data.get(ref_field)
    if ref is None:
        if value is not None and ref_field in info.data:
            raise ValueError(f"sha256 pins a data file; there is none (`{ref_field}` is not given)")
        return value
    digest = load_returns_data(ref).digest
    if value is not None and value != digest:
        raise ValueError(
            f"the data file {ref} has SHA-256 {digest}, not the pinned {value}; the file changed"
        )
    return digest


def _data_for(info: ValidationInfo, ref_field: str) -> ReturnsData | None:
    ref = info.data.get(ref_field)
    return load_returns_data(ref) if ref is not None else None


def _check_columns(assets: dict[str, Any], data: ReturnsData | None) -> None:
    if data is None:
        return
    missing = {name: a.column or name for name, a in assets.items() if (a.column or name) not in data.columns}
    if missing:
        detail = ", ".join(f"{name} -> column {col!r}" for name, col in missing.items())
        raise ValueError(
            f"{detail} not in {data.source}; its columns are {list(data.columns)} (map an asset "
            "onto a column with `column:`)"
        )


def _check_step(step: str | None) -> str | None:
    if step is None:
        return None
    seconds = duration_seconds(step)
    if seconds <= 0 or seconds.denominator != 1:
        raise ValueError(f"step must be a whole number of seconds > 0, got {step!r}")
    return step


class GarchAsset(BaseModel):
    """One asset of a ``garch`` model.

    ``start``: price at block 0, USD per whole token. With ``fit``: ``column`` names the data
    column to fit (default: the asset's own name) and no parameters are given. Without
    ``fit``: ``omega``, ``alpha``, ``beta`` (and optionally ``mu``, default 0) per step of the
    model's ``step``: ``mu`` mean log return per step, ``omega > 0`` in squared log return per
    step, ``alpha, beta >= 0`` with ``alpha + beta < 1`` (stationarity).
    """

    model_config = _FROZEN

    start: Price
    column: AssetName | None = None
    mu: FiniteFloat | None = None
    omega: Variance | None = None
    alpha: Unit | None = None
    beta: Unit | None = None

    @model_validator(mode="after")
    def _params(self) -> GarchAsset:
        given = [n for n in ("omega", "alpha", "beta") if getattr(self, n) is not None]
        if given and len(given) < 3:
            missing = [n for n in ("omega", "alpha", "beta") if n not in given]
            raise ValueError(f"give omega, alpha and beta together; missing {', '.join(missing)}")
        if self.alpha is not None and self.beta is not None and self.alpha + self.beta >= 1:
            raise ValueError(
                f"alpha + beta = {self.alpha + self.beta:.6g} must be < 1 (stationarity: "
                "otherwise the variance has no finite long-run level)"
            )
        return self

    @property
    def explicit(self) -> bool:
        """Whether the parameters are given (not fitted)."""
        return self.omega is not None


class GarchModel(BaseModel):
    """GARCH(1,1) per asset with constant conditional correlation (CCC), log returns per step.

    Per data step ``j`` (e.g. one hour; see :mod:`defisim.pricepaths.garch` for units)::

        r_j = mu + sqrt(h_j) z_j,   h_{j+1} = omega + alpha (r_j - mu)**2 + beta h_j,

    ``z_j`` standard normals with correlation ``correlation`` across assets. That is the
    *conditional* correlation; the unconditional correlation of raw returns is lower when the
    assets' variances do not move together (fitted ETH/BTC 2020-2022: 0.85 conditional,
    about 0.79 for simulated hourly returns against 0.85 in the data; a DCC model would
    close that gap; a stress ``correlation_to`` raises it in a crash).

    - ``fit``: ``builtin:<name>`` or a CSV path; every asset's parameters and the correlation
      of standardised residuals are fitted to it (Gaussian QMLE, once per process and data
      digest). ``variance_targeting: true`` fixes ``omega`` so the long-run variance is the
      sample variance. The step is the data's. ``correlation`` given as well overrides the
      fitted one. Without ``fit`` every asset gives its parameters and ``step`` is required.
    - ``initial_variance``: ``unconditional`` (default; ``omega / (1 - alpha - beta)``, a
      neutral start) or ``last`` (with ``fit`` only: the fitted variance for the step after
      the data's last return, i.e. the market's state at the end of the file).
    - ``interpolation``: how a step is spread over its blocks. ``bridge`` (default): inside a
      step the log price is a Brownian bridge between the step's end points with the step's
      variance ``h_j``, so the per-block variance is ``h_j * block_time / step`` (the
      clustering of volatility reaches block level) and each step's return is exactly
      ``r_j``. ``log-linear``: a straight line in log price (no intra-step noise).
    - ``stress``: as for gbm. The vol multiplier scales every block's log-return deviation
      from the mean (``mu`` per step, spread evenly) after ``at``; ``h`` keeps following the
      model's own recursion; no drift compensation (``mu`` is the mean log return, not the
      price drift). ``correlation_to`` blends the shocks' correlation as for gbm.
    - ``sha256``: filled in at validation (the data file's digest); give it to pin the data.

    Example (YAML), fitted to the shipped hourly Binance ETH/BTC prices::

        model: garch
        fit: builtin:binance-eth-btc-1h-2020-2022
        assets:
          WETH: {column: ETH, start: 3000}
          WBTC: {column: BTC, start: 60000}
        initial_variance: last
        stress: {at: "6h", depth: 0.3, over: "2h", vol_multiplier: 2, correlation_to: 0.95}

    Explicit parameters (per hour)::

        model: garch
        step: 1h
        assets:
          ETH: {start: 3000, mu: 0.0, omega: 1.3e-6, alpha: 0.06, beta: 0.93}
          BTC: {start: 60000, mu: 0.0, omega: 6.8e-7, alpha: 0.07, beta: 0.925}
        correlation: [[1.0, 0.85], [0.85, 1.0]]
    """

    model_config = _FROZEN

    model: Literal["garch"] = "garch"
    fit: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)] | None = None
    sha256: Sha256 | None = Field(default=None, validate_default=True)
    variance_targeting: bool = False
    step: str | None = None
    assets: dict[AssetName, GarchAsset] = Field(min_length=1)
    correlation: tuple[tuple[FiniteFloat, ...], ...] | None = None
    initial_variance: Literal["unconditional", "last"] = "unconditional"
    interpolation: StepInterpolation = "bridge"
    stress: StressOverlay | None = None

    _v_fit = field_validator("fit")(_check_data_ref)
    _v_corr = field_validator("correlation")(_check_correlation)
    _v_stress = field_validator("stress")(_check_stress)

    @field_validator("sha256")
    @classmethod
    def _v_sha(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _check_sha256(value, info, "fit")

    @field_validator("step")
    @classmethod
    def _v_step(cls, step: str | None, info: ValidationInfo) -> str | None:
        _check_step(step)
        data = _data_for(info, "fit")
        if step is not None and data is not None and duration_seconds(step) != data.step_s:
            raise ValueError(
                f"step {step!r} differs from the data's step ({data.step_s} s) in {data.source}; "
                "a fitted model runs at the data's step (leave `step` out)"
            )
        return step

    @field_validator("assets")
    @classmethod
    def _v_assets(cls, assets: dict[str, GarchAsset], info: ValidationInfo) -> dict[str, GarchAsset]:
        if "fit" not in info.data:  # `fit` itself failed; its error is reported
            return assets
        fitted = info.data["fit"] is not None
        for name, a in assets.items():
            if fitted and (a.explicit or a.mu is not None):
                raise ValueError(
                    f"{name}: parameters are fitted from `fit`; remove mu/omega/alpha/beta (or "
                    "remove `fit` and give every asset's parameters)"
                )
            if not fitted and not a.explicit:
                raise ValueError(
                    f"{name}: give omega, alpha and beta (per step), or fit them with "
                    "`fit: builtin:<name>` or a CSV path"
                )
            if not fitted and a.column is not None:
                raise ValueError(f"{name}: `column` names a data column; it needs `fit`")
        _check_columns(assets, _data_for(info, "fit"))
        return assets

    @model_validator(mode="after")
    def _without_fit(self) -> GarchModel:
        if self.fit is None:
            if self.step is None:
                raise ValueError("`step` (e.g. '1h') is required when the parameters are given")
            if self.variance_targeting:
                raise ValueError("variance_targeting applies to a fit; give `fit` or drop it")
            if self.initial_variance == "last":
                raise ValueError("initial_variance 'last' needs a fit (`fit`); use 'unconditional'")
        return self


class BootstrapAsset(BaseModel):
    """One asset of a ``bootstrap`` model: ``start`` (USD per whole token at block 0) and the
    data ``column`` its returns come from (default: the asset's own name)."""

    model_config = _FROZEN

    start: Price
    column: AssetName | None = None


class BootstrapModel(BaseModel):
    """Block bootstrap of historical multi-asset log returns at the data's step.

    The simulated step returns are rows of the data's return table (one row per step, the
    same row for every asset, so cross-correlation survives), taken in blocks of consecutive
    rows (so volatility clustering survives inside a block). The table wraps around (its
    last row is followed by its first).

    - ``data``: ``builtin:<name>`` or a CSV path; ``assets`` map scenario assets onto columns.
    - ``scheme``: ``stationary`` (default; Politis and Romano 1994: block lengths geometric
      with mean ``block_length``, so the resampled series is stationary) or ``circular``
      (blocks of exactly ``block_length`` rows, Politis and Romano 1992).
    - ``block_length``: (mean) block length in data steps (default 24: one day of hours).
    - ``demean``: subtract each column's sample mean (no historical drift), default false.
    - ``interpolation``: ``bridge`` (default): inside a step the log price is a Brownian
      bridge between the step's end points whose variance is the step's squared deviation
      from the column mean (``(r_j - mean)**2``, a realised-variance proxy; its mean is the
      data's variance), with the data's return correlation across assets; ``log-linear``:
      straight line in log price. Either way each step's return is exactly the data's.
    - ``stress``: as for gbm without ``correlation_to`` (the correlation is the data's):
      the crash and, after ``at``, the vol multiplier on every block's log-return deviation
      from the column mean.
    - ``sha256``: filled in at validation (the data file's digest); give it to pin the data.

    Example (YAML)::

        model: bootstrap
        data: builtin:binance-eth-btc-1h-2020-2022
        scheme: stationary
        block_length: 24
        assets:
          WETH: {column: ETH, start: 3000}
          WBTC: {column: BTC, start: 60000}
        stress: {at: "12h", depth: 0.2, over: "1h"}
    """

    model_config = _FROZEN

    model: Literal["bootstrap"] = "bootstrap"
    data: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    sha256: Sha256 | None = Field(default=None, validate_default=True)
    scheme: Literal["stationary", "circular"] = "stationary"
    block_length: Annotated[int, Field(ge=1)] = 24
    demean: bool = False
    interpolation: StepInterpolation = "bridge"
    assets: dict[AssetName, BootstrapAsset] = Field(min_length=1)
    stress: StressOverlay | None = None

    _v_data = field_validator("data")(_check_data_ref)

    @field_validator("sha256")
    @classmethod
    def _v_sha(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _check_sha256(value, info, "data")

    @field_validator("assets")
    @classmethod
    def _v_assets(cls, assets: dict[str, BootstrapAsset], info: ValidationInfo) -> dict[str, BootstrapAsset]:
        _check_columns(assets, _data_for(info, "data"))
        return assets

    @field_validator("stress")
    @classmethod
    def _v_stress(cls, stress: StressOverlay | None, info: ValidationInfo) -> StressOverlay | None:
        if stress is not None and stress.correlation_to is not None:
            raise ValueError(
                "correlation_to is not available for bootstrap: resampled returns keep the "
                "data's correlation (use garch for a correlation that rises in the crash)"
            )
        return _check_stress(stress, info)


#: Any price model; ``model:`` selects the kind.
PriceModel = Annotated[
    Union[ScriptedModel, GBMModel, JumpDiffusionModel, GarchModel, BootstrapModel],
    Field(discriminator="model"),
]

_ADAPTER: TypeAdapter[Any] = TypeAdapter(PriceModel)


def parse_price_model(
    data: Any, *, block_time_s: int | None = None, base_dir: str | os.PathLike[str] | None = None
) -> Any:
    """Validate raw data (e.g. a YAML mapping) into a price model.

    With ``block_time_s`` (seconds per block) the checks that need it (duration strings that
    round onto the same block) run now as well. ``base_dir`` is the folder relative data
    paths (``garch`` ``fit:``, ``bootstrap`` ``data:``) are resolved against (default: the
    working directory). Every problem is reported at once as a
    :class:`~defisim.errors.ScenarioError` whose paths are dotted field paths
    (``gbm.assets.ETH.sigma``: the kind, then the field).
    """
    ctx: dict[str, Any] = {}
    if block_time_s is not None:
        ctx["block_time_s"] = block_time_s
    if base_dir is not None:
        ctx["base_dir"] = os.fspath(base_dir)
    context = ctx or None
    try:
        return _ADAPTER.validate_python(data, context=context)
    except ValidationError as exc:
        problems = [
            (".".join(str(part) for part in err["loc"]), err["msg"]) for err in exc.errors()
        ]
        raise ScenarioError(problems) from exc
