"""``Spotter``: collateral prices with a safety margin, mirrored from ``src/spot.sol``.

Per ilk a price feed ``pip`` (``peek() -> (val [wad], has)``; an OSM in Maker) and a
liquidation ratio ``mat`` [ray]; the target price ``par`` [ray] (1 DAI = 1 USD here).
``poke`` writes ``spot = val * 1e9 / par / mat`` (two ``rdiv``s, each rounded down) into the
Vat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker.dsmath import BLN, RAY, mul, rdiv
from defisim.engine.protocols.maker.vat import Vat

__all__ = ["Pip", "SpotIlk", "Spotter"]

Pip = Callable[[], tuple[int, bool]]
"""``PipLike.peek()``: ``(val, has)``, ``val`` in wad (USD per whole collateral token)."""


@dataclass(frozen=True, slots=True)
class SpotIlk:
    """``Spotter.ilks(ilk)``: the feed and ``mat`` [ray]."""

    pip: Pip
    mat: int


class Spotter:
    """The price module (see module docstring)."""

    def __init__(self, journal: Journal, vat: Vat) -> None:
        self.j = journal
        self.vat = vat
        self.par = RAY
        self.ilks: dict[str, SpotIlk] = {}

    def file(self, ilk: str, pip: Pip, mat: int) -> None:
        """``file(ilk, "pip", pip)`` and ``file(ilk, "mat", mat)``."""
        self.j.put(self.ilks, ilk, SpotIlk(pip, mat))

    def poke(self, ilk: str) -> int:
        """``poke(ilk)``: ``spot = has ? rdiv(rdiv(mul(val, 10**9), par), mat) : 0``; returns it [ray]."""
        cfg = self.ilks[ilk]
        val, has = cfg.pip()
        spot = rdiv(rdiv(mul(val, BLN), self.par), cfg.mat) if has else 0
        self.vat.file(ilk, "spot", spot)
        return spot
