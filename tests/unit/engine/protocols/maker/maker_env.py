"""Shared setup of the Maker unit tests: one ETH-A ilk priced by a settable feed, no fees.

Defaults (override per test): price 2,000 USD, ``mat`` 1.5, ``chop`` 1.13, ``dust`` 5,000
DAI, ``duty`` ONE (no stability fee, so ``rate`` stays ``RAY``), Liquidations 2.0 with
``buf`` 1.2, stairstep 0.99 every 90 s, ``tail`` 8,400 s, ``cusp`` 0.4, ``chip`` 0.1 %,
``tip`` 300 DAI and ``hole``/``Hole`` large; 1.2 with ``beg`` 1.03, ``ttl`` 600 s, ``tau``
21,600 s, ``dunk`` large and ``box`` large.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.maker import (
    CalcConfig,
    IlkConfig,
    MakerSystem,
    StaticFeed,
    VowConfig,
)

T0 = 1_700_000_000
WAD = 10**18
RAY = 10**27
RAD = 10**45
ILK = "ETH-A"
DEC = {"WETH": 18, "DAI": 18, "MKR": 18}

BASE = IlkConfig(
    mat=15 * RAY // 10, chop=113 * WAD // 100, line=10**9 * RAD, dust=5_000 * RAD, duty=RAY,
    hole=10**9 * RAD, buf=12 * RAY // 10, tail=8_400, cusp=4 * RAY // 10, chip=WAD // 1000,
    tip=300 * RAD, calc=CalcConfig("stairstep-exponential", step=90, cut=99 * RAY // 100),
    beg=103 * WAD // 100, ttl=600, tau=21_600, dunk=10**9 * RAD,
)


class MakerEnv:
    """A fresh Maker system with one ilk (see module docstring)."""

    def __init__(self, liquidations: str = "2.0", price: int = 2_000,
                 vow: VowConfig | None = None, Hole: int = 10**9 * RAD, box: int = 10**9 * RAD,
                 **ilk: Any) -> None:
        self.now = T0
        self.ledger = Ledger(DEC)
        self.feed = StaticFeed(price * 10**8)
        self.mk = MakerSystem("mk", self.ledger, liquidations=liquidations, vow=vow,
                              Hole=Hole, box=box)  # type: ignore[arg-type]
        self.cfg = replace(BASE, **ilk)
        self.mk.add_ilk(T0, ILK, "WETH", self.feed, self.cfg)

    @property
    def vat(self) -> Any:
        return self.mk.vat

    def vault(self, owner: str, ink_weth: int, debt_dai: int) -> None:
        """Open ``owner``'s vault with whole WETH and whole DAI."""
        self.ledger.mint("WETH", owner, ink_weth * WAD)
        self.mk.open_vault(self.now, ILK, owner, ink_weth * WAD, debt_dai * WAD)

    def price(self, usd: int) -> None:
        """Publish a new whole-dollar price and poke the Spotter."""
        self.feed.set(usd * 10**8)
        self.mk.poke_if_new(ILK)

    def fund(self, holder: str, dai: int) -> None:
        self.mk.fund_dai(holder, dai * WAD)

    def kinds(self) -> list[str]:
        return [type(r).__name__ for r in self.mk.records]
