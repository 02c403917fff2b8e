"""Shared setup of the perp-exchange unit tests: two markets, prices set by hand.

ETH-PERP (WETH, 18 decimals) and BTC-PERP (WBTC, 8 decimals), both IMF 5 % / MMF 3 %, settled
in USDC (6 decimals). Oracle prices are a dict the test sets; the venues are Uniswap V2 pools
(fee 30 bps) that nothing arbitrages, so they keep their starting price unless a liquidation
trades them. The vault holds 10M USDC of margin and spot inventory of 1,000 WETH, 100 WBTC and
10M USDC.
"""

from __future__ import annotations

from defisim.engine.ledger import Ledger
from defisim.engine.markets.uniswap_v2 import UniswapV2Pool
from defisim.engine.protocols.perp import (
    FundingConfig,
    LiquidationConfig,
    MarketParams,
    PerpExchange,
    StagedLiquidation,
)

DEC = {"WETH": 18, "WBTC": 8, "USDC": 6}
T0 = 1_700_000_000
ETH = 10**18
BTC = 10**8
USD = 10**6
"""One USDC in base units."""
E8 = 10**8
WAD = 10**18
ETH_PERP = "ETH-PERP"
BTC_PERP = "BTC-PERP"


class PerpEnv:
    """Ledger, two pools and a :class:`PerpExchange` with its vault funded."""

    def __init__(
        self,
        *,
        pool_weth: int = 1_000,
        pool_usdc: int = 3_000_000,
        fund: int = 0,
        fee_ppm: int = 15_000,
        staged: StagedLiquidation | None = None,
        venue: bool = True,
        vault_collateral: int = 10_000_000,
        funding: FundingConfig | None = None,
    ) -> None:
        self.px = {ETH_PERP: 3_000 * E8, BTC_PERP: 60_000 * E8}
        self.ledger = Ledger(DEC)
        self.pool = self._pool("weth-usdc", "WETH", pool_weth * ETH, pool_usdc * USD)
        self.btc_pool = self._pool("wbtc-usdc", "WBTC", 100 * BTC, 6_000_000 * USD)
        self.ex = PerpExchange(
            "perp", self.ledger, "USDC",
            liquidation=LiquidationConfig(fee_ppm, max(fee_ppm, 15_000), staged),
            funding=funding or FundingConfig(), created_at=T0,
        )
        self.ex.add_market(MarketParams(ETH_PERP, "WETH", 18, 50_000, 30_000),
                           lambda: self.px[ETH_PERP], self.pool if venue else None)
        self.ex.add_market(MarketParams(BTC_PERP, "WBTC", 8, 50_000, 30_000),
                           lambda: self.px[BTC_PERP], self.btc_pool if venue else None)
        if fund:
            self.ledger.mint("USDC", self.ex.fund_address, fund)
        vault = self.ex.vault_address
        self.ledger.mint("USDC", vault, vault_collateral * USD + 10_000_000 * USD)
        self.ex.deposit(vault, vault_collateral * USD)
        self.ledger.mint("WETH", vault, 1_000 * ETH)
        self.ledger.mint("WBTC", vault, 100 * BTC)
        self.deposits = vault_collateral * USD
        self.fund0 = fund

    def _pool(self, name: str, asset: str, amount: int, usdc: int) -> UniswapV2Pool:
        pool = UniswapV2Pool(name, asset, "USDC", self.ledger)
        self.ledger.mint(asset, f"lp:{name}", amount)
        self.ledger.mint("USDC", f"lp:{name}", usdc)
        pool.add_liquidity(f"lp:{name}", amount, usdc, T0)
        return pool

    def trader(self, name: str, collateral: int, market: str, size: int, isolated: bool = False) -> str:
        """Deposit ``collateral`` base units of USDC and open ``size`` in ``market``."""
        self.ledger.mint("USDC", name, collateral)
        key = self.ex.deposit(name, collateral, market if isolated else None)
        self.ex.open_position(name, market, size, isolated=isolated)
        self.deposits += collateral
        self.check()
        return key

    def price(self, market: str, usd: int) -> None:
        """Set the oracle answer of ``market`` to ``usd`` whole dollars."""
        self.px[market] = usd * E8

    def total_value(self) -> int:
        """Σ collateral + Σ PnL + insurance fund + dust, PnL at one common price (Σ size = 0
        per market, so Σ PnL = -Σ entry): conserved, deposits + initial fund."""
        ex = self.ex
        books = sum(ex.collateral(k) - sum(e for _, e in ex.positions(k).values()) for k in ex.accounts())
        return books + ex.fund_balance() + ex.dust

    def check(self) -> None:
        assert self.ex.invariant_errors() == []
        assert self.ledger.conservation_errors() == []
        assert self.total_value() == self.deposits + self.fund0
