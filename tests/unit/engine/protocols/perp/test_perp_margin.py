"""Margin, equity, health and the liquidation trigger, to the base unit (hand-computed)."""

from __future__ import annotations

import pytest
from perp_env import BTC, BTC_PERP, ETH, ETH_PERP, USD, WAD, PerpEnv  # type: ignore[import-not-found]

from defisim.engine.protocols.perp import PerpError, account_key


def test_opening_a_long_books_size_entry_and_requirements(env: PerpEnv) -> None:
    # 5 ETH at 3,000 = 15,000 USDC of notional, bought from the vault
    key = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    ex = env.ex
    assert ex.position(key, ETH_PERP) == (5 * ETH, 15_000 * USD)
    assert ex.position(ex.vault_key, ETH_PERP) == (-5 * ETH, -15_000 * USD)
    assert ex.open_interest(ETH_PERP) == (5 * ETH, 5 * ETH)
    assert ex.equity(key) == 1_000 * USD
    assert ex.initial_requirement(key) == 750 * USD      # 15,000 x 5 %
    assert ex.maintenance_requirement(key) == 450 * USD  # 15,000 x 3 %
    assert ex.notional(key) == 15_000 * USD
    # 1,000 / 450 = 2.2222... WAD
    assert ex.health(key) == 2_222_222_222_222_222_222


def test_equity_and_health_follow_the_mark(env: PerpEnv) -> None:
    key = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    env.price(ETH_PERP, 2_900)
    # value 14,500, PnL -500, equity 500; MMR 14,500 x 3 % = 435
    assert env.ex.unrealized_pnl(key, ETH_PERP) == -500 * USD
    assert env.ex.equity(key) == 500 * USD
    assert env.ex.maintenance_requirement(key) == 435 * USD
    # 500 / 435 = 100 / 87 = 1.149425287356321839...
    assert env.ex.health(key) == 1_149_425_287_356_321_839
    assert not env.ex.is_liquidatable(key)


def test_the_trigger_is_equity_below_maintenance(env: PerpEnv) -> None:
    """1,000 + 5 (P - 3,000) = 0.15 P at P = 14,000 / 4.85 = 2,886.5979...: at 2,886.60 the
    account is still healthy (equity 433.00 >= MMR 432.99), at 2,886.59 it is not (432.95 <
    432.9885)."""
    key = env.trader("alice", 1_000 * USD, ETH_PERP, 5 * ETH)
    env.px[ETH_PERP] = 288_660_000_000
    assert (env.ex.equity(key), env.ex.maintenance_requirement(key)) == (433_000_000, 432_990_000)
    assert not env.ex.is_liquidatable(key)
    assert env.ex.can_liquidate(0, key) == "account is healthy"
    env.px[ETH_PERP] = 288_659_000_000
    assert (env.ex.equity(key), env.ex.maintenance_requirement(key)) == (432_950_000, 432_988_500)
    assert env.ex.is_liquidatable(key)
    assert env.ex.health(key) < WAD
    assert env.ex.can_liquidate(0, key) is None
    assert env.ex.perp_liquidation_candidates(0) == [key]


def test_a_short_loses_when_the_price_rises(env: PerpEnv) -> None:
    key = env.trader("bob", 2_000 * USD, ETH_PERP, -10 * ETH)
    assert env.ex.position(key, ETH_PERP) == (-10 * ETH, -30_000 * USD)
    env.price(ETH_PERP, 3_100)
    # value -31,000 against -30,000 received: -1,000
    assert env.ex.unrealized_pnl(key, ETH_PERP) == -1_000 * USD
    assert env.ex.equity(key) == 1_000 * USD
    assert env.ex.maintenance_requirement(key) == 930 * USD  # 31,000 x 3 %
    env.check()


def test_cross_margin_nets_two_markets(env: PerpEnv) -> None:
    env.ledger.mint("USDC", "carol", 1_000 * USD)
    key = env.ex.deposit("carol", 1_000 * USD)
    env.ex.open_position("carol", ETH_PERP, 2 * ETH)          # 6,000 long
    env.ex.open_position("carol", BTC_PERP, -BTC // 10)       # 6,000 short
    env.deposits += 1_000 * USD
    # IMR 300 + 300 = 600 <= 1,000
    assert env.ex.initial_requirement(key) == 600 * USD
    env.price(ETH_PERP, 2_900)
    env.price(BTC_PERP, 61_000)
    # PnL -200 (ETH) - 100 (BTC) = -300; MMR 2 x 2,900 x 3 % + 0.1 x 61,000 x 3 % = 174 + 183
    assert env.ex.equity(key) == 700 * USD
    assert env.ex.maintenance_requirement(key) == 357 * USD
    assert env.ex.health(key) == 700 * WAD // 357
    env.check()


def test_isolated_margin_is_separate_from_cross(env: PerpEnv) -> None:
    iso = env.trader("dan", 500 * USD, ETH_PERP, 3 * ETH, isolated=True)
    cross = env.trader("dan", 5_000 * USD, BTC_PERP, BTC // 10)
    assert iso == account_key("dan", ETH_PERP) == "dan@ETH-PERP"
    assert cross == "dan"
    env.price(ETH_PERP, 2_850)
    # isolated: 500 - 450 = 50 < MMR 8,550 x 3 % = 256.5; the cross account is untouched
    assert env.ex.is_liquidatable(iso)
    assert env.ex.equity(cross) == 5_000 * USD
    assert not env.ex.is_liquidatable(cross)
    # an isolated account is keyed by its market: trading BTC isolated means dan@BTC-PERP,
    # which has no collateral yet
    with pytest.raises(PerpError, match="unknown account: dan@BTC-PERP: deposit collateral first"):
        env.ex.open_position("dan", BTC_PERP, BTC // 100, isolated=True)


def test_opening_without_enough_initial_margin_changes_nothing(env: PerpEnv) -> None:
    env.ledger.mint("USDC", "erin", 749 * USD)
    key = env.ex.deposit("erin", 749 * USD)
    env.deposits += 749 * USD
    before = env.ex.snapshot(0)
    # 5 ETH needs 750 USDC of initial margin
    with pytest.raises(PerpError, match="insufficient initial margin") as info:
        env.ex.open_position("erin", ETH_PERP, 5 * ETH)
    assert info.value.reason == "insufficient initial margin"
    assert env.ex.snapshot(0) == before
    assert env.ex.position(key, ETH_PERP) == (0, 0)
    env.check()


def test_reducing_and_flipping_realise_pnl_pro_rata(env: PerpEnv) -> None:
    key = env.trader("fay", 3_000 * USD, ETH_PERP, 4 * ETH)   # entry 12,000
    env.price(ETH_PERP, 3_300)
    # sell 1 ETH at 3,300: realise 3,300 - 12,000 / 4 = +300
    env.ex.open_position("fay", ETH_PERP, -ETH)
    assert env.ex.collateral(key) == 3_300 * USD
    assert env.ex.position(key, ETH_PERP) == (3 * ETH, 9_000 * USD)
    # sell 5 at 3,300 = 16,500: 3 close (9,900 for entry 9,000: +900), 2 open short for 6,600
    env.ex.open_position("fay", ETH_PERP, -5 * ETH)
    assert env.ex.collateral(key) == 4_200 * USD
    assert env.ex.position(key, ETH_PERP) == (-2 * ETH, -6_600 * USD)
    env.check()


def test_deposits_need_the_balance(env: PerpEnv) -> None:
    with pytest.raises(PerpError, match="insufficient balance"):
        env.ex.deposit("nobody", 1)
    with pytest.raises(PerpError, match="unknown market"):
        env.ex.deposit("nobody", 0, "DOGE-PERP")
    env.check()
