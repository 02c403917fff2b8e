"""Shared setup of the Comet unit tests: a USDC market with WETH and WBTC, prices set by hand.

The configuration is cUSDCv3's at launch (rates) with the launch collateral settings the
design notes cite: WETH borrow CF 0.82 / liquidate CF 0.90 / liquidation factor 0.95, WBTC
0.70 / 0.77 / 0.95, store-front price factor 0.5, target reserves 5M USDC, base borrow
minimum 100 USDC.
"""

from __future__ import annotations

from dataclasses import replace

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.compound_v3 import AssetConfig, Comet, CometConfiguration

DEC = {"USDC": 6, "WETH": 18, "WBTC": 8}
T0 = 1_700_000_000
E18 = 10**18
USDC = 10**6
WETH = 10**18
WBTC = 10**8
USD = 10**8
WAD = 10**18

WETH_CONFIG = AssetConfig("WETH", "eth-usd", 18, 82 * 10**16, 90 * 10**16, 95 * 10**16, 100_000 * WETH)
WBTC_CONFIG = AssetConfig("WBTC", "btc-usd", 8, 70 * 10**16, 77 * 10**16, 95 * 10**16, 10_000 * WBTC)

CONFIG = CometConfiguration(
    base_token="USDC",
    base_token_price_feed="usdc-usd",
    supply_kink=8 * 10**17,
    supply_per_year_interest_rate_slope_low=325 * 10**14,
    supply_per_year_interest_rate_slope_high=4 * 10**17,
    supply_per_year_interest_rate_base=0,
    borrow_kink=8 * 10**17,
    borrow_per_year_interest_rate_slope_low=35 * 10**15,
    borrow_per_year_interest_rate_slope_high=25 * 10**16,
    borrow_per_year_interest_rate_base=15 * 10**15,
    store_front_price_factor=5 * 10**17,
    target_reserves=5_000_000 * USDC,
    base_borrow_min=100 * USDC,
    asset_configs=(WETH_CONFIG, WBTC_CONFIG),
    base_min_for_rewards=USDC,
)


class CometEnv:
    """Ledger + Comet; ``usd`` holds the feed answers (USD 1e8) the Comet reads."""

    def __init__(self, config: CometConfiguration = CONFIG, **changes: object) -> None:
        self.usd = {"usdc-usd": USD, "eth-usd": 3000 * USD, "btc-usd": 60_000 * USD}
        self.ledger = Ledger(DEC)
        if changes:
            config = replace(config, **changes)  # type: ignore[arg-type]
        feeds = {name: (lambda name=name: self.usd[name]) for name in self.usd}
        self.comet = Comet("comet", self.ledger, config, feeds, created_at=T0)

    def check(self) -> None:
        assert self.comet.invariant_errors() == []
        assert self.ledger.conservation_errors() == []

    def reserves(self, usdc: int) -> None:
        """Give the market ``usdc`` base units of reserves (tokens it holds beyond suppliers)."""
        self.ledger.mint("USDC", "comet", usdc)

    def lend(self, who: str, usdc: int, now: int = T0) -> None:
        self.ledger.mint("USDC", who, usdc)
        self.comet.supply(now, who, "USDC", usdc)
        self.check()

    def post(self, who: str, asset: str, amount: int, now: int = T0) -> None:
        self.ledger.mint(asset, who, amount)
        self.comet.supply(now, who, asset, amount)
        self.check()

    def borrow(self, who: str, usdc: int, now: int = T0) -> None:
        self.comet.withdraw(now, who, "USDC", usdc)
        self.check()

    def holdings(self) -> tuple:
        return tuple((t, tuple(sorted(self.ledger.holders(t).items()))) for t in DEC)

    def state(self) -> tuple:
        return self.comet.snapshot(T0), self.holdings()
