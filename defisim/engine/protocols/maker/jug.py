"""``Jug``: stability fees, mirrored from ``makerdao/dss`` ``src/jug.sol``.

Per ilk ``duty`` [ray per second] and ``rho`` (last drip, unix seconds); global ``base``
[ray per second] added to every ``duty``. ``drip`` compounds ``rate`` by
``rpow(base + duty, now - rho, RAY)`` (``Jug._rpow``: squaring, half-up rounding), rounds the
product down with ``_rmul``, and ``fold``s the difference into the Vat, which pays the new
debt ``Art * Δrate`` to the Vow as surplus dai.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker.dsmath import RAY, add, diff, rmul, rpow
from defisim.engine.protocols.maker.errors import MakerError
from defisim.engine.protocols.maker.vat import Vat

__all__ = ["Jug", "JugIlk"]


@dataclass(frozen=True, slots=True)
class JugIlk:
    """``Jug.ilks(ilk)``: ``duty`` [ray per second] and ``rho`` [unix seconds]."""

    duty: int = 0
    rho: int = 0


class Jug:
    """Stability-fee accumulator (see module docstring)."""

    def __init__(self, journal: Journal, vat: Vat, vow: str) -> None:
        self.j = journal
        self.vat = vat
        self.vow = vow
        self.base = 0
        self.ilks: dict[str, JugIlk] = {}

    def init(self, ilk: str, now: int) -> None:
        """``init(ilk)``: ``duty = ONE``, ``rho = now``."""
        if self.ilks.get(ilk, JugIlk()).duty != 0:
            raise MakerError(E.JUG_ALREADY_INIT, ilk)
        self.j.put(self.ilks, ilk, JugIlk(RAY, now))

    def file_duty(self, ilk: str, data: int, now: int) -> None:
        """``file(ilk, "duty", data)``: only right after a drip (``now == rho``)."""
        cur = self.ilks[ilk]
        if now != cur.rho:
            raise MakerError(E.JUG_RHO_NOT_UPDATED)
        self.j.put(self.ilks, ilk, replace(cur, duty=data))

    def drip(self, ilk: str, now: int) -> int:
        """``drip(ilk)``: accrue fees up to ``now``; returns the new ``rate`` [ray].

        ``rate = _rmul(_rpow(base + duty, now - rho, ONE), prev)``; ``vat.fold(ilk, vow,
        rate - prev)``; ``rho = now``.
        """
        cur = self.ilks[ilk]
        if now < cur.rho:
            raise MakerError(E.JUG_INVALID_NOW, f"now {now} < rho {cur.rho}")
        prev = self.vat.ilks[ilk].rate
        rate = rmul(rpow(add(self.base, cur.duty), now - cur.rho, RAY), prev)
        self.vat.fold(ilk, self.vow, diff(rate, prev))
        self.j.put(self.ilks, ilk, replace(cur, rho=now))
        return rate
