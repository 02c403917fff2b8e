"""Exact Maker parameters, and the one place scenario fractions become dss integers.

The scenario gives readable numbers (``mat: 1.5``, ``chop: 1.13``, ``duty: 0.02`` a year,
``cut: 0.99``); dss stores ``ray``/``wad``/``rad`` integers. Fractions are converted exactly
from their decimal text (``1.13`` -> ``1_130_000_000_000_000_000``), so no binary-float noise
reaches the contracts' math; a value that is not a whole number of units is refused. The
annual stability fee becomes the per-second ``duty`` ``(1 + apr) ** (1 / 31_536_000)`` in
ray, rounded down with 60-digit decimal arithmetic (2 % a year is
``1_000_000_000_627_937_192_491_029_810``, the on-chain ETH-A value; governance's published
constants were computed with other tools and can differ from this by 1 in the last digit,
so a scenario may give the exact ``duty_ray`` instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Literal

from defisim.engine.protocols.maker.abaci import (
    Abacus,
    ExponentialDecrease,
    LinearDecrease,
    StairstepExponentialDecrease,
)
from defisim.engine.protocols.maker.dsmath import RAD, RAY, UINT256_MAX, WAD

__all__ = [
    "SECONDS_PER_YEAR",
    "CalcConfig",
    "FlapConfig",
    "FlopConfig",
    "IlkConfig",
    "VowConfig",
    "annual_to_duty",
    "to_ray",
    "to_wad",
]

SECONDS_PER_YEAR = 31_536_000


def _exact(value: float | str, scale: int, field: str) -> int:
    exact = Fraction(str(value)) * scale
    if exact.denominator != 1:
        raise ValueError(f"{field}: {value} is not a whole number of units at scale {scale:.0e}")
    return exact.numerator


def to_ray(value: float | str, field: str) -> int:
    """``value`` as a ray (1e27) int, exactly from its decimal text."""
    return _exact(value, RAY, field)


def to_wad(value: float | str, field: str) -> int:
    """``value`` as a wad (1e18) int, exactly from its decimal text."""
    return _exact(value, WAD, field)


def wad_to_rad(wad: int) -> int:
    """DAI base units (wad) as a Vat amount (rad)."""
    return wad * RAY


def annual_to_duty(apr: float | str) -> int:
    """Per-second ``duty`` [ray] compounding to ``1 + apr`` over 365 days (rounded down)."""
    if Fraction(str(apr)) < 0:
        raise ValueError(f"duty: annual fee {apr} must not be negative")
    with localcontext() as ctx:
        ctx.prec = 60
        per_second = (Decimal(1) + Decimal(str(apr))).ln() / Decimal(SECONDS_PER_YEAR)
        return int(per_second.exp() * Decimal(RAY))


@dataclass(frozen=True, slots=True)
class CalcConfig:
    """An Abacus: ``kind`` and its parameters (``tau``/``step`` seconds, ``cut`` ray)."""

    kind: Literal["linear", "stairstep-exponential", "exponential"]
    tau: int = 0
    step: int = 0
    cut: int = 0

    def build(self) -> Abacus:
        """The :mod:`.abaci` curve."""
        if self.kind == "linear":
            return LinearDecrease(self.tau)
        if self.kind == "stairstep-exponential":
            return StairstepExponentialDecrease(self.step, self.cut)
        return ExponentialDecrease(self.cut)


@dataclass(frozen=True, slots=True)
class IlkConfig:
    """One collateral type's parameters in dss units.

    Common: ``mat`` [ray], ``chop`` [wad], ``line``/``dust`` [rad], ``duty`` [ray/s].
    Liquidations 2.0: ``hole``/``tip`` [rad], ``buf``/``cusp`` [ray], ``tail`` [s],
    ``chip`` [wad], ``calc``. Liquidations 1.2: ``beg`` [wad, e.g. 1.03e18], ``ttl``/``tau``
    [s], ``dunk`` [rad].
    """

    mat: int
    chop: int
    line: int
    dust: int
    duty: int = RAY
    hole: int = 0
    buf: int = RAY
    tail: int = 0
    cusp: int = 0
    chip: int = 0
    tip: int = 0
    calc: CalcConfig = CalcConfig("stairstep-exponential", step=90, cut=99 * RAY // 100)
    beg: int = 103 * WAD // 100
    ttl: int = 600
    tau: int = 6 * 3600
    dunk: int = 50_000 * RAD


@dataclass(frozen=True, slots=True)
class FlapConfig:
    """Flapper parameters: ``beg`` [wad] (1.05e18 = bids rise by 5 %), ``ttl``/``tau`` [s],
    ``lid`` [rad] (most DAI on auction at once). Defaults: the contract's constructor values
    and an unlimited ``lid`` (the contract starts at 0 = no auctions until filed)."""

    beg: int = 105 * WAD // 100
    ttl: int = 3 * 3600
    tau: int = 2 * 86400
    lid: int = UINT256_MAX


@dataclass(frozen=True, slots=True)
class FlopConfig:
    """Flopper parameters: ``beg`` [wad] (1.05e18 = lots fall by 5 %), ``pad`` [wad]
    (1.5e18 = ``tick`` raises the lot 50 %), ``ttl``/``tau`` [s]. Defaults: the contract's."""

    beg: int = 105 * WAD // 100
    pad: int = 150 * WAD // 100
    ttl: int = 3 * 3600
    tau: int = 2 * 86400


@dataclass(frozen=True, slots=True)
class VowConfig:
    """Vow parameters: ``hump``/``bump``/``sump`` [rad], ``dump`` [wad of MKR], ``wait`` [s],
    and its auction houses' ``flap`` and ``flop`` parameters."""

    hump: int = 0
    bump: int = 0
    sump: int = 0
    dump: int = 0
    wait: int = 0
    flap: FlapConfig = FlapConfig()
    flop: FlopConfig = FlopConfig()
