"""The lending conformance suite (tests/conformance/lending.py) on Compound III (Comet).

Comet has no third-party liquidation: ``liquidate`` here is ``absorb(absorber, [account])``,
which takes all of the account's collateral and zeroes its debt. ``bad_debt`` is the reserves'
loss: per absorption, the debt the collateral did not cover at the feed price
(``AbsorbedAccount.shortfall``), cumulative. The market: USDC base, WETH collateral with the
launch settings (borrow CF 0.82, liquidate CF 0.90, liquidation factor 0.95), cUSDCv3 rates.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.compound_v3 import (
    AssetConfig,
    Comet,
    CometConfiguration,
    CometError,
)
from tests.conformance.lending import LendingConformance

T0 = 1_700_000_000
DEC = {"WETH": 18, "USDC": 6}


class CometHarness:
    collateral, debt = "WETH", "USDC"
    collateral_price = 3000 * 10**8
    decimals = DEC

    def __init__(self) -> None:
        self.now = T0
        self.usd = {"usdc-usd": 10**8, "eth-usd": self.collateral_price}
        self.ledger = Ledger(DEC)
        config = CometConfiguration(
            base_token="USDC", base_token_price_feed="usdc-usd",
            supply_kink=8 * 10**17, supply_per_year_interest_rate_slope_low=325 * 10**14,
            supply_per_year_interest_rate_slope_high=4 * 10**17, supply_per_year_interest_rate_base=0,
            borrow_kink=8 * 10**17, borrow_per_year_interest_rate_slope_low=35 * 10**15,
            borrow_per_year_interest_rate_slope_high=25 * 10**16, borrow_per_year_interest_rate_base=15 * 10**15,
            store_front_price_factor=5 * 10**17, target_reserves=5_000_000 * 10**6, base_borrow_min=100 * 10**6,
            asset_configs=(AssetConfig("WETH", "eth-usd", 18, 82 * 10**16, 90 * 10**16, 95 * 10**16, 10**30),),
            base_min_for_rewards=10**6,
        )
        feeds = {name: (lambda name=name: self.usd[name]) for name in self.usd}
        self.comet = Comet("comet", self.ledger, config, feeds, created_at=T0)
        self.ledger.mint("USDC", "lp", 10**14)
        self.comet.supply(self.now, "lp", "USDC", 10**14)
        self._reserves_lost = 0

    def open(self, account: str, collateral: int, debt: int) -> None:
        self.ledger.mint("WETH", account, collateral)
        self.comet.open_position(self.now, account, {"WETH": collateral}, debt)

    def max_debt(self, collateral: int) -> int:
        # capacity = mulFactor(mulPrice(collateral, price, 1e18), 0.82e18) USD; a debt D is
        # worth D * 1e8 / 1e6 USD, so D <= capacity / 100
        return collateral * self.usd["eth-usd"] // 10**18 * 82 // 100 // 100

    def set_price(self, asset: str, price: int) -> None:
        self.usd["eth-usd" if asset == "WETH" else "usdc-usd"] = price

    def advance(self, seconds: int) -> None:
        self.now += seconds

    def health(self, account: str) -> int:
        return self.comet.health_factor(self.now, account)

    def liquidate(self, account: str) -> bool:
        try:
            result = self.comet.absorb(self.now, "absorber", [account])
        except CometError:
            return False
        self._reserves_lost += sum(a.shortfall for a in result.accounts)
        return True

    def debt_of(self, account: str) -> int:
        return self.comet.borrow_balance_of(self.now, account)

    def collateral_of(self, account: str) -> int:
        return self.comet.collateral_balance_of(account, "WETH")

    def bad_debt(self) -> int:
        return self._reserves_lost

    def state(self) -> object:
        holdings = tuple((t, tuple(sorted(self.ledger.holders(t).items()))) for t in DEC)
        return self.comet.snapshot(self.now), holdings

    def invariant_errors(self) -> list[str]:
        return self.comet.invariant_errors() + self.ledger.conservation_errors()


class TestCompoundV3(LendingConformance):
    @pytest.fixture
    def harness(self) -> Callable[[], CometHarness]:
        return CometHarness
