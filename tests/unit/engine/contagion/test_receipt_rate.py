"""Static aToken and the receipt-rate oracle against Aave's own index math, before and after
a socialised deficit; conservation and the wrapper's backing invariant."""

from __future__ import annotations

import pytest

from defisim.engine.contagion import ReceiptRateDropped, ReceiptTokensBacked
from defisim.engine.fixedpoint import RAY, ray_div_floor, ray_mul_floor
from defisim.engine.ledger import Ledger
from defisim.engine.markets.static_atoken import StaticAToken, StaticATokenError
from defisim.engine.oracles.receipt_rate import ReceiptRateOracle
from defisim.engine.protocols.aave_v3 import AavePool, ReserveParams
from defisim.engine.records import PriceUpdated

USDC = 10**6
WETH = 10**18
T0 = 1_700_000_000
DAY = 86_400


class Env:
    def __init__(self) -> None:
        self.ledger = Ledger({"WETH": 18, "USDC": 6, "waUSDC": 6})
        self.prices = {"WETH": 2_000 * 10**8, "USDC": 10**8}
        params = {
            "WETH": ReserveParams(ltv=0.80, liquidation_threshold=0.825, liquidation_bonus=0.05),
            "USDC": ReserveParams(ltv=0.75, liquidation_threshold=0.78, liquidation_bonus=0.045),
        }
        self.pool = AavePool("aave", self.ledger, {a: p.to_config(self.ledger.decimals[a]) for a, p in params.items()},
                             lambda a: self.prices[a], created_at=T0)
        self.now = T0
        self.wrapper = StaticAToken("waUSDC", self.pool, "USDC", "waUSDC", clock=lambda: self.now)
        self.ledger.mint("USDC", "supplier", 100_000 * USDC)
        self.pool.supply(T0, "supplier", "USDC", 100_000 * USDC)
        self.ledger.mint("WETH", "borrower", 1 * WETH)
        self.pool.open_position(T0, "borrower", {"WETH": 1 * WETH}, {"USDC": 1_500 * USDC})
        self.oracle = ReceiptRateOracle("waUSDC-usd", "waUSDC", "USDC", lambda: self.prices["USDC"],
                                        deviation_bps=1, heartbeat_s=DAY)
        self.oracle.bind(self.wrapper.rate_fraction, issuer="aave")

    def errors(self) -> list[str]:
        return self.ledger.conservation_errors() + self.pool.invariant_errors() + self.wrapper.invariant_errors()


@pytest.fixture
def env() -> Env:
    return Env()


def test_shares_are_scaled_atokens_and_the_rate_is_the_liquidity_index(env: Env) -> None:
    env.now = T0 + 30 * DAY  # interest accrued: the index is above RAY
    rate = env.pool.normalized_income(env.now, "USDC")
    assert rate > RAY
    env.ledger.mint("USDC", "alice", 10_000 * USDC)
    shares = env.wrapper.deposit(env.now, "alice", 10_000 * USDC)
    assert shares == ray_div_floor(10_000 * USDC, rate)  # AToken mint: rayDivFloor
    assert env.ledger.balance_of("waUSDC", "alice") == shares
    assert env.pool.scaled_balance_of(env.wrapper.address, "USDC") == shares
    assert env.wrapper.convert_to_assets(shares) == ray_mul_floor(shares, rate)
    assert env.wrapper.convert_to_assets(shares) == env.pool.collateral_of(env.now, env.wrapper.address, "USDC")
    [rec] = env.oracle.on_block(1, env.now)
    assert isinstance(rec, PriceUpdated) and rec.price == 10**8 * rate // RAY
    assert env.errors() == []


def test_rate_falls_after_a_socialised_deficit_and_the_oracle_follows(env: Env) -> None:
    env.now = T0 + DAY
    env.ledger.mint("USDC", "alice", 10_000 * USDC)
    shares = env.wrapper.deposit(env.now, "alice", 10_000 * USDC)
    env.oracle.on_block(1, env.now)
    before = env.pool.normalized_income(env.now, "USDC")
    # WETH halves: the 1,500 USDC debt is backed by 1,000 USD of collateral
    env.prices["WETH"] = 1_000 * 10**8
    env.ledger.mint("USDC", "liq", 2_000 * USDC)
    out = env.pool.liquidation_call(env.now, "liq", "WETH", "USDC", "borrower", 2**256 - 1)
    deficit = dict(out.deficits)["USDC"]
    assert deficit > 0 and env.pool.deficit("USDC") == deficit
    supply_scaled = env.pool.snapshot(env.now).reserves[1].scaled_total_supply
    accrued = env.pool.snapshot(env.now).reserves[1].accrued_to_treasury
    written = env.pool.socialize_deficit(env.now, "USDC")
    assert written == deficit
    after = env.pool.normalized_income(env.now, "USDC")
    assert before - after == -(-deficit * RAY // (supply_scaled + accrued))  # rayDivCeil(deficit, S)
    assert env.wrapper.rate() == after
    assert env.wrapper.convert_to_assets(shares) == ray_mul_floor(shares, after)
    recs = env.oracle.on_block(2, env.now)
    drop = [r for r in recs if isinstance(r, ReceiptRateDropped)]
    price = [r for r in recs if isinstance(r, PriceUpdated)]
    assert len(drop) == 1 and (drop[0].rate_before, drop[0].rate_after, drop[0].protocol) == (before, after, "aave")
    assert price[0].price == 10**8 * after // RAY and price[0].reason == "rate-drop"
    assert env.errors() == []


def test_redeem_pays_the_floor_of_shares_times_index_and_keeps_backing(env: Env) -> None:
    env.now = T0 + 7 * DAY
    env.ledger.mint("USDC", "alice", 5_000 * USDC)
    shares = env.wrapper.deposit(env.now, "alice", 5_000 * USDC)
    env.now += 3 * DAY
    rate = env.wrapper.rate()
    got = env.wrapper.redeem(env.now, "alice", shares // 2)
    assert got == ray_mul_floor(shares // 2, rate)
    assert env.ledger.balance_of("waUSDC", "alice") == shares - shares // 2
    assert env.errors() == []
    with pytest.raises(StaticATokenError, match="INSUFFICIENT_SHARES"):
        env.wrapper.redeem(env.now, "bob", 10)


def test_router_interface_and_genesis_backing(env: Env) -> None:
    env.ledger.mint("waUSDC", "morpho-borrower", 777 * USDC)  # minted outside the wrapper
    assert env.wrapper.invariant_errors()  # unbacked
    env.now = T0 + DAY
    [rec] = env.wrapper.back_external_shares(1, env.now)
    assert isinstance(rec, ReceiptTokensBacked) and rec.shares == 777 * USDC
    assert env.errors() == []
    out = env.wrapper.get_amount_out(100 * USDC, "waUSDC")
    assert out == ray_mul_floor(100 * USDC, env.wrapper.rate())
    swap = env.wrapper.swap_exact_in(2, env.now, "morpho-borrower", "waUSDC", 100 * USDC)
    assert swap is not None and swap.amount_out == out
    assert env.wrapper.get_amount_in(out, "USDC") <= 100 * USDC
    assert env.errors() == []
