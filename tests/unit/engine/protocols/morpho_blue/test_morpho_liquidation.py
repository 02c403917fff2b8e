"""``liquidate``, bad-debt socialisation and the liquidator-facing interface, by hand.

Market: WETH (18 dp) collateral, USDC (6 dp) loan, LLTV 0.86, so
LIF = 1e36 // 0.958e18 = 1_043_841_336_116_910_229 (``test_morpho_math``). ``lp`` lends 10,000
USDC (1e16 shares); ``bob`` posts 1 WETH and borrows the maximum at 3,000 USD, 2,580 USDC
(2.58e15 shares). With no interest the borrow share price stays exactly 1e-6 asset per share
((2.58e9 + 1) / (2.58e15 + 1e6) = 1e-6), which keeps the hand arithmetic short.
"""

from __future__ import annotations

import pytest
from morpho_env import LLTV_86, MARKET, T0, WAD, MorphoEnv  # type: ignore[import-not-found]

from defisim.engine.protocols.morpho_blue import (
    MAX_AMOUNT,
    ChainlinkPairOracle,
    LiquidationOutcome,
    LiquidationQuote,
    LiquidationRefusal,
    MarketParams,
    MarketSnapshot,
    MorphoError,
    MorphoSnapshot,
    Position,
    PositionSnapshot,
    position_key,
)
from defisim.engine.protocols.morpho_blue import errors as E
from defisim.engine.protocols.morpho_blue.constants import UINT256_MAX

USDC = 10**6
WETH = 10**18
LIF = 1_043_841_336_116_910_229
BOB = position_key(MARKET, "bob")


@pytest.fixture
def env() -> MorphoEnv:
    env = MorphoEnv()
    env.lend("lp", 10_000 * USDC)
    env.collateral("bob", WETH)
    env.borrow("bob", 2_580 * USDC)
    env.ledger.mint("USDC", "liq", 100_000 * USDC)
    return env


def test_healthy_position_is_refused(env: MorphoEnv) -> None:
    with pytest.raises(MorphoError) as e:
        env.morpho.liquidate(T0, "liq", MARKET, "bob", 0, 1)
    assert e.value.reason == "position is healthy"
    refusal = env.morpho.liquidation_call(T0, "liq", "WETH", "USDC", BOB, MAX_AMOUNT)
    assert refusal == LiquidationRefusal("position is healthy", "")
    assert env.morpho.quote_liquidation(T0, "WETH", "USDC", BOB, MAX_AMOUNT) == refusal
    # a lender without debt is healthy too (borrowed 0 <= maxBorrow 0)
    with pytest.raises(MorphoError) as e:
        env.morpho.liquidate(T0, "liq", MARKET, "lp", 0, 1)
    assert e.value.reason == E.HEALTHY_POSITION


def test_full_repayment_by_shares_at_2900(env: MorphoEnv) -> None:
    env.usd["WETH"] = 2_900 * 10**8  # oracle price 2.9e27
    # maxBorrow = 2.9e9 * 0.86 = 2,494e6 < 2,580e6: HF = 2494 / 2580 = 29/30
    assert env.morpho.health_factor(T0, MARKET, "bob") == 966_666_666_666_666_666
    result = env.morpho.liquidate(T0, "liq", MARKET, "bob", 0, 2_580 * 10**12)
    # seized = toAssetsDown(2.58e15) = 2.58e9 -> wMulDown(LIF) = floor(2693110647.18) = 2_693_110_647
    #        -> mulDivDown(1e36, 2.9e27) = floor(2_693_110_647e9 / 2.9) = 928_658_843_793_103_448
    assert result.seized_assets == 928_658_843_793_103_448
    assert result.repaid_assets == 2_580 * USDC  # toAssetsUp(2.58e15) at the exact 1e-6 ratio
    assert (result.bad_debt_assets, result.bad_debt_shares) == (0, 0)
    assert result.liquidation_incentive_factor == LIF and result.oracle_price == 29 * 10**26
    assert env.morpho.position(MARKET, "bob") == Position(0, 0, WETH - 928_658_843_793_103_448)
    assert env.ledger.balance_of("WETH", "liq") == 928_658_843_793_103_448
    assert env.ledger.balance_of("USDC", "liq") == 100_000 * USDC - 2_580 * USDC
    m = env.morpho.market(MARKET)
    assert (m.total_borrow_assets, m.total_borrow_shares, m.total_supply_assets) == (0, 0, 10_000 * USDC)
    env.check()


def test_partial_liquidation_by_seized_assets(env: MorphoEnv) -> None:
    env.usd["WETH"] = 2_900 * 10**8
    result = env.morpho.liquidate(T0, "liq", MARKET, "bob", WETH // 2, 0)
    # quoted = mulDivUp(0.5e18, 2.9e27, 1e36) = 1.45e9; wDivUp(1.45e9, LIF) = ceil(1.45e9 * 0.958 *
    # (1 + 6e-19)) = 1_389_100_001 (LIF is 1/0.958 rounded down); toSharesUp -> 1_389_100_001e6
    assert result.repaid_shares == 1_389_100_001_000_000
    assert result.repaid_assets == 1_389_100_001
    assert result.seized_assets == WETH // 2
    assert env.morpho.position(MARKET, "bob") == Position(0, 2_580 * 10**12 - 1_389_100_001_000_000, WETH // 2)
    env.check()


def test_seizing_more_than_the_collateral_panics(env: MorphoEnv) -> None:
    env.usd["WETH"] = 2_900 * 10**8
    with pytest.raises(MorphoError) as e:
        env.morpho.liquidate(T0, "liq", MARKET, "bob", WETH + 1, 0)
    assert e.value.reason == E.PANIC_ARITHMETIC


def test_bad_debt_is_socialised_to_suppliers_at_once(env: MorphoEnv) -> None:
    assert env.morpho.supply_assets(T0, MARKET, "lp") == 10_000 * USDC  # (1e10 + 1) / (1 + 1e-10) = 1e10
    env.usd["WETH"] = 2_500 * 10**8  # 1 WETH is now worth less than the 2,580 USDC debt
    out = env.morpho.liquidation_call(T0, "liq", "WETH", "USDC", BOB, MAX_AMOUNT)
    assert isinstance(out, LiquidationOutcome)
    # all shares would seize floor(2_693_110_647e36 / 2.5e27) = 1.077e18 > 1e18: seize all instead
    assert (out.arg_seized_assets, out.arg_repaid_shares) == (WETH, 0)
    # mulDivUp(1e18, 2.5e27, 1e36) = 2.5e9; wDivUp(2.5e9, LIF) = ceil(2.395e9 * (1 + 6e-19)) = 2_395_000_001
    assert out.repaid_shares == 2_395_000_001_000_000
    assert out.debt_repaid == 2_395_000_001
    assert out.collateral_seized == WETH
    # remaining 184_999_999e6 shares: toAssetsUp at (184_999_999 + 1) / (184_999_999e6 + 1e6) = 1e-6
    assert (out.bad_debt_shares, out.bad_debt_assets) == (184_999_999_000_000, 184_999_999)
    assert out.deficits == (("USDC", 184_999_999),) and out.deficits_socialized
    assert out.deficits_usd == (("USDC", 18_499_999_900),)  # 184.999999 USD, 8 dp
    assert out.debt_repaid_usd == 239_500_000_100 and out.collateral_seized_usd == 250_000_000_000
    assert out.health_before == 2_150 * WAD // 2_580 == 833_333_333_333_333_333
    assert out.health_after == UINT256_MAX and out.collateral_disabled
    assert out.protocol_fee == 0 and out.max_liquidatable_debt == 2_580 * USDC
    m = env.morpho.market(MARKET)
    assert (m.total_borrow_assets, m.total_borrow_shares) == (0, 0)
    assert m.total_supply_assets == 10_000 * USDC - 184_999_999
    assert m.total_supply_shares == 10**16  # same shares, fewer assets: a lower share price
    assert env.morpho.position(MARKET, "bob") == Position(0, 0, 0)
    # lp: floor(1e16 * 9_815_000_002 / (1e16 + 1e6)) = 9_815_000_001 -> it lost exactly the bad debt
    assert env.morpho.supply_assets(T0, MARKET, "lp") == 10_000 * USDC - 184_999_999
    env.check()


def test_partial_debt_to_cover_becomes_repaid_shares(env: MorphoEnv) -> None:
    env.usd["WETH"] = 2_900 * 10**8
    # s = toSharesDown(1e9, 2.58e9, 2.58e15) = 1e15; seized = floor(wMulDown(1e9, LIF) * 1e36 / 2.9e27)
    #   = floor(1_043_841_336e9 / 2.9) = 359_945_288_275_862_068
    assert env.morpho.liquidation_args(T0, MARKET, "bob", 1_000 * USDC) == (0, 10**15)
    quote = env.morpho.quote_liquidation(T0, "WETH", "USDC", BOB, 1_000 * USDC)
    assert quote == LiquidationQuote(1_000 * USDC, 359_945_288_275_862_068, 966_666_666_666_666_666, 0, 10**15)
    out = env.morpho.liquidation_call(T0, "liq", "WETH", "USDC", BOB, 1_000 * USDC)
    assert isinstance(out, LiquidationOutcome)
    assert (out.debt_repaid, out.collateral_seized) == (quote.debt_repaid, quote.collateral_seized)
    assert (out.arg_seized_assets, out.arg_repaid_shares) == (0, 10**15)
    assert out.deficits == () and not out.collateral_disabled
    # maxBorrow = floor(floor((1e18 - 359_945_288_275_862_068) * 2.9e27 / 1e36) * 0.86)
    left = WETH - 359_945_288_275_862_068
    max_borrow = (left * 29 * 10**26 // 10**36) * 86 // 100
    assert out.health_after == max_borrow * WAD // (1_580 * USDC)
    env.check()


def test_zero_debt_to_cover_is_inconsistent_input(env: MorphoEnv) -> None:
    env.usd["WETH"] = 2_900 * 10**8
    # it would call liquidate(0, 0): exactlyOneZero fails
    assert env.morpho.quote_liquidation(T0, "WETH", "USDC", BOB, 0).reason == E.INCONSISTENT_INPUT
    assert env.morpho.quote_liquidation(T0, "WETH", "USDC", BOB, 1).debt_repaid == 1  # 1e6 shares


def test_outcome_arguments_replay_exactly(env: MorphoEnv) -> None:
    twin = MorphoEnv()
    twin.lend("lp", 10_000 * USDC)
    twin.collateral("bob", WETH)
    twin.borrow("bob", 2_580 * USDC)
    twin.ledger.mint("USDC", "liq", 100_000 * USDC)
    for e in (env, twin):
        e.usd["WETH"] = 2_470 * 10**8
    out = env.morpho.liquidation_call(T0 + 60, "liq", "WETH", "USDC", BOB, 2_000 * USDC)
    assert isinstance(out, LiquidationOutcome)
    res = twin.morpho.liquidate(T0 + 60, "liq", MARKET, "bob", out.arg_seized_assets, out.arg_repaid_shares)
    assert (res.seized_assets, res.repaid_assets, res.bad_debt_assets) == (
        out.collateral_seized, out.debt_repaid, out.bad_debt_assets)
    assert twin.morpho.snapshot(T0 + 60) == env.morpho.snapshot(T0 + 60)
    assert twin.ledger.balance_of("WETH", "liq") == env.ledger.balance_of("WETH", "liq")


def test_refusals_change_nothing(env: MorphoEnv) -> None:
    env.usd["WETH"] = 2_900 * 10**8
    before = env.morpho.snapshot(T0)
    poor = env.morpho.liquidation_call(T0, "poor", "WETH", "USDC", BOB, MAX_AMOUNT)
    assert isinstance(poor, LiquidationRefusal) and poor.reason == E.TRANSFER_FROM_REVERTED
    wrong = env.morpho.liquidation_call(T0, "liq", "WBTC", "USDC", BOB, MAX_AMOUNT)
    assert isinstance(wrong, LiquidationRefusal) and wrong.reason == E.WRONG_ASSETS
    unknown = env.morpho.liquidation_call(T0, "liq", "WETH", "USDC", "other/bob", MAX_AMOUNT)
    assert isinstance(unknown, LiquidationRefusal) and unknown.reason == E.MARKET_NOT_CREATED
    assert env.morpho.snapshot(T0) == before
    assert env.ledger.balance_of("USDC", "poor") == 0
    env.check()


# --- the liquidator-facing interface ------------------------------------------------------------

def test_pairs_versions_and_positions(env: MorphoEnv) -> None:
    assert env.morpho.largest_pair(T0, BOB) == ("WETH", "USDC")
    assert env.morpho.largest_pair(T0, position_key(MARKET, "lp")) is None  # no debt
    assert env.morpho.positions() == [BOB, position_key(MARKET, "lp")]
    assert env.morpho.assets() == ["USDC", "WETH"]
    assert env.morpho.value_usd("WETH", 2 * WETH) == 6_000 * 10**8
    v = env.morpho.account_version(BOB)
    env.lend("someone-else", 5 * USDC)  # another position in the same market moves share prices
    assert env.morpho.account_version(BOB) > v


def test_candidates_are_the_unhealthy_positions_largest_usd_debt_first() -> None:
    env = MorphoEnv()
    env.lend("lp", 10**12)
    # a: 1 WETH / 2,500 USDC and b: 2 WETH / 5,000 USDC (HF 2580/2500 = 1.032); c: 3 WETH / 3,000 USDC
    for who, weth, debt in (("a", 1, 2_500), ("b", 2, 5_000), ("c", 3, 3_000)):
        env.collateral(who, weth * WETH)
        env.borrow(who, debt * USDC)
    assert env.morpho.liquidation_candidates(T0) == []
    # at 2,900: maxBorrow 2,494 < 2,500 and 4,988 < 5,000; c keeps 7,482 > 3,000
    env.usd["WETH"] = 2_900 * 10**8
    cands = env.morpho.liquidation_candidates(T0)
    assert cands == [position_key(MARKET, "b"), position_key(MARKET, "a")]
    for key in cands:
        assert not env.morpho.is_healthy(T0, MARKET, key.split("/")[1])
    assert env.morpho.is_healthy(T0, MARKET, "c")
    # no price change, no position change: the same cached list, no rescan
    assert env.morpho.liquidation_candidates(T0 + 12) is cands
    hf = sorted(env.morpho.health_factors_estimate(T0))
    assert len(hf) == 3 and hf[0] == pytest.approx(2494 / 2500, rel=1e-6)


def test_two_markets_in_one_instance() -> None:
    env = MorphoEnv()
    wbtc_oracle = ChainlinkPairOracle(lambda: env.usd["WBTC"], lambda: env.usd["USDC"], 8, 6)
    env.morpho.create_market(T0, MarketParams("wbtc-usdc", "USDC", "WBTC", wbtc_oracle, None, LLTV_86))
    env.lend("lp", 10**12)
    env.ledger.mint("USDC", "lp2", 10**12)
    env.morpho.supply(T0, "lp2", "wbtc-usdc", 10**12, 0)
    env.collateral("bob", WETH)
    env.borrow("bob", 2_580 * USDC)
    env.ledger.mint("WBTC", "bob", 10**8)
    env.morpho.open_position(T0, "wbtc-usdc", "bob", 10**8, 51_600 * USDC)  # 60,000 * 0.86
    env.check()
    env.usd["WETH"] = 2_900 * 10**8
    env.usd["WBTC"] = 59_000 * 10**8
    assert env.morpho.liquidation_candidates(T0) == [position_key("wbtc-usdc", "bob"), BOB]
    assert env.morpho.largest_pair(T0, position_key("wbtc-usdc", "bob")) == ("WBTC", "USDC")
    snap = env.morpho.snapshot(T0)
    assert [m.market for m in snap.markets] == ["wbtc-usdc", "weth-usdc"]
    # a failed open_position leaves nothing behind
    env.ledger.mint("WBTC", "eve", 10**8)
    with pytest.raises(MorphoError):
        env.morpho.open_position(T0, "wbtc-usdc", "eve", 10**8, 60_000 * USDC)
    assert env.ledger.balance_of("WBTC", "eve") == 10**8
    assert env.morpho.snapshot(T0) == snap


def test_snapshot_is_frozen_sorted_and_comparable(env: MorphoEnv) -> None:
    snap = env.morpho.snapshot(T0)
    assert snap == MorphoSnapshot(
        "morpho", T0,
        (MarketSnapshot(MARKET, 10_000 * USDC, 10**16, 2_580 * USDC, 2_580 * 10**12, T0, 0),),
        (PositionSnapshot(MARKET, "bob", 0, 2_580 * 10**12, WETH),
         PositionSnapshot(MARKET, "lp", 10**16, 0, 0)),
    )
    env.morpho.repay(T0, "bob", MARKET, 0, 2_580 * 10**12)
    env.morpho.withdraw_collateral(T0, "bob", MARKET, WETH)
    after = env.morpho.snapshot(T0)
    assert after != snap
    assert [p.user for p in after.positions] == ["lp"]  # empty positions are left out
    with pytest.raises(AttributeError):
        after.timestamp = 0  # type: ignore[misc]


def test_invariant_check_catches_broken_books(env: MorphoEnv) -> None:
    assert env.morpho.invariant_errors() == []
    env.morpho._markets[MARKET].total_supply_shares += 1
    env.ledger.mint("USDC", "morpho", 1)
    errors = env.morpho.invariant_errors()
    assert any("supply shares" in e for e in errors) and any("USDC" in e and "books" in e for e in errors)
