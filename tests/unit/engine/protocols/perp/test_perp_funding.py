"""Funding: premium samples, the rate, payments rounded against the payer, dust, timing."""

from __future__ import annotations

from perp_env import ETH, ETH_PERP, T0, USD, PerpEnv  # type: ignore[import-not-found]

from defisim.engine.protocols.perp import FundingConfig, FundingPaid


def funding(env: PerpEnv, market: str = ETH_PERP) -> list[FundingPaid]:
    return [r for r in env.ex.on_settlement(300, T0 + 3_600) if isinstance(r, FundingPaid) and r.market == market]


def test_premium_of_the_pool_over_the_oracle_sets_the_rate(env: PerpEnv) -> None:
    key = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)   # opened at 3,000
    env.price(ETH_PERP, 2_970)                                  # the pool still at 3,000
    # (3,000 - 2,970) / 2,970 = 1/99 = 0.0101010101 -> 10,101,010 ppb (toward zero)
    assert env.ex.premium(ETH_PERP) == 10_101_010
    assert env.ex.on_settlement(1, T0 + 12) == []               # before the first sample time
    env.ex.on_settlement(5, T0 + 60)                            # sample 1
    paid, = funding(env)                                        # sample 2, then the payment
    # rate = 10,101,010 / 8 (toward zero: 1,262,626) + 12,500 interest = 1,275,126 ppb
    assert (paid.rate, paid.premium, paid.samples, paid.oracle_price) == (1_275_126, 10_101_010, 2, 2_970 * 10**8)
    # alice pays 5 x 2,970 x 0.001275126 = 18.9356211 USDC: 18,935,622 (up); the vault,
    # short 5, receives 18,935,621 (down); 1 base unit of dust stays with the exchange
    assert (paid.paid, paid.received, paid.dust, paid.positions) == (18_935_622, 18_935_621, 1, 2)
    assert env.ex.collateral(key) == 1_000 * USD - 18_935_622
    assert env.ex.collateral(env.ex.vault_key) == 10_000_000 * USD + 18_935_621
    assert env.ex.dust == 1
    env.check()


def test_a_discount_makes_shorts_pay_longs(env: PerpEnv) -> None:
    key = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    env.price(ETH_PERP, 3_100)
    # (3,000 - 3,100) / 3,100 = -0.0322580645 -> -32,258,064; / 8 -> -4,032,258; + 12,500
    paid, = funding(env)
    assert (paid.premium, paid.samples, paid.rate) == (-32_258_064, 1, -4_019_758)
    # 5 x 3,100 x 0.004019758 = 62.306249 exactly: no rounding, no dust
    assert (paid.paid, paid.received, paid.dust) == (62_306_249, 62_306_249, 0)
    assert env.ex.collateral(key) == 1_000 * USD + 62_306_249
    env.check()


def test_the_rate_is_capped(env: PerpEnv) -> None:
    env.trader("alice", 10_000 * USD, ETH_PERP, 5 * ETH)
    env.price(ETH_PERP, 1_500)
    # premium 100 % -> 125,000,000 + 12,500 ppb, capped at 4 % = 40,000,000 ppb
    paid, = funding(env)
    assert (paid.premium, paid.rate) == (1_000_000_000, 40_000_000)
    # 5 x 1,500 x 4 % = 300 USDC
    assert (paid.paid, paid.received) == (300 * USD, 300 * USD)


def test_payments_fall_on_the_interval_grid(env: PerpEnv) -> None:
    env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    eth = 1  # markets are sorted by name: BTC-PERP, ETH-PERP
    snap = env.ex.snapshot(T0).markets[eth]
    assert (snap.market, snap.next_sample, snap.next_funding) == (ETH_PERP, T0 + 60, T0 + 3_600)
    assert len(funding(env)) == 1
    snap = env.ex.snapshot(T0 + 3_600).markets[eth]
    # counters reset, next payment one interval later; a late block does not shift the grid
    assert (snap.premium_samples, snap.next_funding, snap.next_sample) == (0, T0 + 7_200, T0 + 3_660)
    assert env.ex.on_settlement(301, T0 + 3_612) == []
    records = env.ex.on_settlement(700, T0 + 7_205)
    assert [r.market for r in records] == ["ETH-PERP", "BTC-PERP"]
    assert env.ex.snapshot(T0 + 7_205).markets[eth].next_funding == T0 + 10_800


def test_zero_rate_moves_nothing() -> None:
    env = PerpEnv(funding=FundingConfig(interest_per_interval=0))
    key = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    paid, = funding(env)     # pool and oracle both at 3,000: premium 0
    assert (paid.rate, paid.paid, paid.received, paid.positions) == (0, 0, 0, 0)
    assert env.ex.collateral(key) == 1_000 * USD
