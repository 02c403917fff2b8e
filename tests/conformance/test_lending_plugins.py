"""The lending conformance suite (tests/conformance/lending.py) run on every lending plug-in."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.aave_v3 import AavePool
from defisim.engine.protocols.aave_v3.config import ReserveParams
from defisim.engine.protocols.morpho_blue import ChainlinkPairOracle, LinearUtilizationIrm, MarketParams, MorphoBlue
from tests.conformance.lending import LendingConformance

T0 = 1_700_000_000
MAX = 2**256 - 1
DEC = {"WETH": 18, "USDC": 6}


class _Base:
    collateral, debt = "WETH", "USDC"
    collateral_price = 3000 * 10**8
    decimals = DEC

    def __init__(self) -> None:
        self.now = T0
        self.usd = {"WETH": self.collateral_price, "USDC": 10**8}
        self.ledger = Ledger(DEC)
        self.ledger.mint("USDC", "liq", 10**20)  # the liquidator never runs short

    def set_price(self, asset: str, price: int) -> None:
        self.usd[asset] = price

    def advance(self, seconds: int) -> None:
        self.now += seconds

    def _holdings(self) -> tuple:
        return tuple((t, tuple(sorted(self.ledger.holders(t).items()))) for t in DEC)


class AaveHarness(_Base):
    def __init__(self, version: str) -> None:
        super().__init__()
        reserves = {
            "WETH": ReserveParams(ltv=0.80, liquidation_threshold=0.825, liquidation_bonus=0.05).to_config(18),
            "USDC": ReserveParams(ltv=0.75, liquidation_threshold=0.78, liquidation_bonus=0.045).to_config(6),
        }
        self.pool = AavePool("aave", self.ledger, reserves, self.usd.__getitem__, created_at=T0, version=version)
        self.ledger.mint("USDC", "lp", 10**14)
        self.pool.supply(self.now, "lp", "USDC", 10**14)

    def open(self, account: str, collateral: int, debt: int) -> None:
        self.ledger.mint("WETH", account, collateral)
        self.pool.open_position(self.now, account, {"WETH": collateral}, {"USDC": debt})

    def max_debt(self, collateral: int) -> int:
        value = collateral * self.usd["WETH"] // 10**18
        return value * 8000 // 10_000 * 10**6 // 10**8 - 1

    def health(self, account: str) -> int:
        return self.pool.account_data(self.now, account).health_factor

    def liquidate(self, account: str) -> bool:
        out = self.pool.liquidation_call(self.now, "liq", "WETH", "USDC", account, MAX)
        return hasattr(out, "debt_repaid")

    def debt_of(self, account: str) -> int:
        return self.pool.debt_of(self.now, account, "USDC")

    def collateral_of(self, account: str) -> int:
        return self.pool.collateral_of(self.now, account, "WETH")

    def bad_debt(self) -> int:
        return self.pool.deficit("USDC")

    def state(self) -> object:
        return self.pool.snapshot(self.now), self._holdings()

    def invariant_errors(self) -> list[str]:
        return self.pool.invariant_errors() + self.ledger.conservation_errors()


class MorphoHarness(_Base):
    MARKET = "weth-usdc"

    def __init__(self) -> None:
        super().__init__()
        self.mb = MorphoBlue("morpho", self.ledger, self.usd.__getitem__, fee_recipient="fees")
        irm = LinearUtilizationIrm()
        self.mb.enable_irm(irm)
        self.mb.enable_lltv(86 * 10**16)
        oracle = ChainlinkPairOracle(lambda: self.usd["WETH"], lambda: self.usd["USDC"], 18, 6)
        self.mb.create_market(T0, MarketParams(self.MARKET, "USDC", "WETH", oracle, irm, 86 * 10**16))
        self.ledger.mint("USDC", "lp", 10**14)
        self.mb.supply(self.now, "lp", self.MARKET, 10**14, 0)
        self._written_off = 0

    def open(self, account: str, collateral: int, debt: int) -> None:
        self.ledger.mint("WETH", account, collateral)
        self.mb.open_position(self.now, self.MARKET, account, collateral, debt)

    def max_debt(self, collateral: int) -> int:
        return collateral * self.usd["WETH"] // 10**18 * 86 // 100 * 10**6 // 10**8 - 1

    def health(self, account: str) -> int:
        return self.mb.health_factor(self.now, self.MARKET, account)

    def liquidate(self, account: str) -> bool:
        out = self.mb.liquidation_call(self.now, "liq", "WETH", "USDC", f"{self.MARKET}/{account}", MAX)
        if not hasattr(out, "debt_repaid"):
            return False
        self._written_off += sum(x for _, x in out.deficits)
        return True

    def debt_of(self, account: str) -> int:
        return self.mb.borrow_assets(self.now, self.MARKET, account)

    def collateral_of(self, account: str) -> int:
        return self.mb.position(self.MARKET, account).collateral

    def bad_debt(self) -> int:
        return self._written_off

    def state(self) -> object:
        return self.mb.snapshot(self.now), self._holdings()

    def invariant_errors(self) -> list[str]:
        return self.mb.invariant_errors() + self.ledger.conservation_errors()


class TestAaveV36(LendingConformance):
    @pytest.fixture
    def harness(self) -> Callable[[], AaveHarness]:
        return lambda: AaveHarness("3.6")


class TestAaveV30(LendingConformance):
    @pytest.fixture
    def harness(self) -> Callable[[], AaveHarness]:
        return lambda: AaveHarness("3.0")


class TestMorphoBlue(LendingConformance):
    @pytest.fixture
    def harness(self) -> Callable[[], MorphoHarness]:
        return MorphoHarness
