"""Auction price curves (``Abacus``), mirrored from ``makerdao/dss`` ``src/abaci.sol``.

``price(top, dur)``: the Clipper's price [ray] ``dur`` seconds after the auction (re)started
at ``top`` [ray].

=================================  ==========================================================
:class:`LinearDecrease`            ``top * ((tau - dur) * RAY / tau) / RAY``; 0 from ``tau`` on
:class:`StairstepExponentialDecrease`  ``top * rpow(cut, dur / step) / RAY``: a drop by
                                   ``cut`` every ``step`` seconds
:class:`ExponentialDecrease`       ``top * rpow(cut, dur) / RAY``: ``cut`` per second
=================================  ==========================================================

All divisions round down; ``rpow`` is :func:`~.dsmath.rpow_abaci`.
"""

from __future__ import annotations

from typing import Protocol

from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker.dsmath import RAY, mul, rmul, rpow_abaci
from defisim.engine.protocols.maker.errors import MakerError

__all__ = ["Abacus", "ExponentialDecrease", "LinearDecrease", "StairstepExponentialDecrease"]


class Abacus(Protocol):
    """``AbacusLike``."""

    def price(self, top: int, dur: int) -> int:
        """Price [ray] ``dur`` seconds after start at ``top`` [ray]."""
        ...


class LinearDecrease:
    """``LinearDecrease``: falls linearly from ``top`` to 0 over ``tau`` seconds."""

    __slots__ = ("tau",)

    def __init__(self, tau: int) -> None:
        if type(tau) is not int or tau <= 0:
            raise MakerError("LinearDecrease/file-unrecognized-param", f"tau must be a positive int, got {tau!r}")
        self.tau = tau

    def price(self, top: int, dur: int) -> int:
        """``if (dur >= tau) return 0; return rmul(top, mul(tau - dur, RAY) / tau)``."""
        if dur >= self.tau:
            return 0
        return rmul(top, mul(self.tau - dur, RAY) // self.tau)

    def __repr__(self) -> str:
        return f"LinearDecrease(tau={self.tau})"


class StairstepExponentialDecrease:
    """``StairstepExponentialDecrease``: multiplied by ``cut`` [ray] every ``step`` seconds."""

    __slots__ = ("cut", "step", "_pow")

    def __init__(self, step: int, cut: int) -> None:
        if cut > RAY:
            raise MakerError(E.STAIRSTEP_CUT_GT_RAY)
        if type(step) is not int or step <= 0:
            raise MakerError("StairstepExponentialDecrease/file-unrecognized-param",
                             f"step must be a positive int (the contract divides by it), got {step!r}")
        self.step = step
        self.cut = cut
        self._pow: dict[int, int] = {}

    def price(self, top: int, dur: int) -> int:
        """``rmul(top, rpow(cut, dur / step, RAY))`` (``rpow`` memoised per step count: every
        active auction asks each block, and the factor depends only on the count)."""
        n = dur // self.step
        factor = self._pow.get(n)
        if factor is None:
            factor = self._pow[n] = rpow_abaci(self.cut, n, RAY)
        return rmul(top, factor)

    def __repr__(self) -> str:
        return f"StairstepExponentialDecrease(step={self.step}, cut={self.cut})"


class ExponentialDecrease:
    """``ExponentialDecrease``: multiplied by ``cut`` [ray] every second."""

    __slots__ = ("cut", "_pow")

    def __init__(self, cut: int) -> None:
        if cut > RAY:
            raise MakerError(E.EXPONENTIAL_CUT_GT_RAY)
        self.cut = cut
        self._pow: dict[int, int] = {}

    def price(self, top: int, dur: int) -> int:
        """``rmul(top, rpow(cut, dur, RAY))`` (``rpow`` memoised per duration, bounded)."""
        factor = self._pow.get(dur)
        if factor is None:
            if len(self._pow) > 100_000:
                self._pow.clear()
            factor = self._pow[dur] = rpow_abaci(self.cut, dur, RAY)
        return rmul(top, factor)

    def __repr__(self) -> str:
        return f"ExponentialDecrease(cut={self.cut})"
