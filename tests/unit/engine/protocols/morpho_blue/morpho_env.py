"""Shared setup of the Morpho Blue unit tests: one WETH/USDC market, prices set by hand."""

from __future__ import annotations

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.morpho_blue import (
    ChainlinkPairOracle,
    Irm,
    MarketParams,
    MorphoBlue,
)

DEC = {"WETH": 18, "USDC": 6, "WBTC": 8}
T0 = 1_700_000_000
WAD = 10**18
LLTV_86 = 86 * 10**16
MARKET = "weth-usdc"


class MorphoEnv:
    """Ledger + MorphoBlue + a WETH/USDC market (LLTV 0.86 unless told) priced from USD feeds."""

    def __init__(self, lltv: int = LLTV_86, irm: Irm | None = None, fee: int = 0) -> None:
        self.usd = {"WETH": 3000 * 10**8, "USDC": 10**8, "WBTC": 60_000 * 10**8}
        self.ledger = Ledger(DEC)
        self.morpho = MorphoBlue("morpho", self.ledger, lambda a: self.usd[a], fee_recipient="fees")
        self.morpho.enable_irm(irm)
        self.morpho.enable_lltv(lltv)
        self.oracle = ChainlinkPairOracle(lambda: self.usd["WETH"], lambda: self.usd["USDC"], 18, 6)
        self.morpho.create_market(T0, MarketParams(MARKET, "USDC", "WETH", self.oracle, irm, lltv))
        if fee:
            self.morpho.set_fee(T0, MARKET, fee)

    def check(self) -> None:
        assert self.morpho.invariant_errors() == []
        assert self.ledger.conservation_errors() == []

    def lend(self, who: str, usdc: int, now: int = T0) -> tuple[int, int]:
        self.ledger.mint("USDC", who, usdc)
        out = self.morpho.supply(now, who, MARKET, usdc, 0)
        self.check()
        return out

    def collateral(self, who: str, weth: int, now: int = T0) -> None:
        self.ledger.mint("WETH", who, weth)
        self.morpho.supply_collateral(now, who, MARKET, weth)
        self.check()

    def borrow(self, who: str, usdc: int, now: int = T0) -> tuple[int, int]:
        out = self.morpho.borrow(now, who, MARKET, usdc, 0)
        self.check()
        return out
