"""Supply, withdraw, borrow, repay, collateral, interest and every refusal, against Morpho.sol.

Numbers are derived by hand in the comments from ``Morpho.sol`` and ``SharesMathLib``
(``VIRTUAL_SHARES = 1e6``, ``VIRTUAL_ASSETS = 1``). WETH has 18 decimals, USDC 6; WETH is at
3,000 USD, so the market oracle price is 3e27 (see ``test_morpho_math``).
"""

from __future__ import annotations

import pytest
from morpho_env import DEC, LLTV_86, MARKET, T0, WAD, MorphoEnv  # type: ignore[import-not-found]

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.morpho_blue import (
    ChainlinkPairOracle,
    FixedRateIrm,
    LinearUtilizationIrm,
    Market,
    MarketParams,
    MorphoBlue,
    MorphoError,
    Position,
)
from defisim.engine.protocols.morpho_blue import errors as E
from defisim.engine.protocols.morpho_blue.constants import ZERO_ADDRESS

YEAR = 365 * 24 * 3600
USDC = 10**6
WETH = 10**18


def reason(excinfo: pytest.ExceptionInfo[MorphoError]) -> str:
    return excinfo.value.reason


# --- supply and virtual shares -----------------------------------------------------------------

def test_first_supply_mints_a_million_shares_per_asset(env: MorphoEnv) -> None:
    assert env.lend("lp", 1_000_000 * USDC) == (10**12, 10**18)  # 1e12 * (0 + 1e6) / (0 + 1)
    assert env.morpho.market(MARKET) == Market(10**12, 10**18, 0, 0, T0, 0)
    assert env.morpho.position(MARKET, "lp") == Position(10**18, 0, 0)
    assert env.ledger.balance_of("USDC", "morpho") == 10**12


def test_supply_of_one_wei_and_of_one_share(env: MorphoEnv) -> None:
    env.lend("lp", 10**12)
    # 1 * (1e18 + 1e6) / (1e12 + 1) = 1e6 exactly (1e18 + 1e6 = 1e6 * (1e12 + 1))
    assert env.lend("small", 1) == (1, 10**6)
    # by shares: assets = toAssetsUp(1, 1e12 + 1, 1e18 + 1e6) = ceil((1e12 + 2) / (1e18 + 2e6)) = 1:
    # one share (worth 1e-6 wei) costs a whole wei
    env.ledger.mint("USDC", "tiny", 1)
    assert env.morpho.supply(T0, "tiny", MARKET, 0, 1) == (1, 1)
    assert env.ledger.balance_of("USDC", "tiny") == 0
    # and it redeems for toAssetsDown(1, 1e12 + 2, 1e18 + 1e6 + 1) = 0
    assert env.morpho.withdraw(T0, "tiny", MARKET, 0, 1) == (0, 1)
    env.check()


def test_withdraw_by_assets_rounds_shares_up(env: MorphoEnv) -> None:
    env.lend("lp", 10**12)
    env.lend("other", 3)  # 3e6 shares; totals 1e12 + 3 assets, 1e18 + 3e6 shares (still 1e6 per asset)
    # withdraw 2 assets: toSharesUp(2, 1e12 + 3, 1e18 + 3e6) = ceil(2 * (1e18 + 4e6) / (1e12 + 4)) = 2e6
    assert env.morpho.withdraw(T0, "other", MARKET, 2, 0) == (2, 2 * 10**6)
    assert env.morpho.position(MARKET, "other").supply_shares == 10**6
    assert env.ledger.balance_of("USDC", "other") == 2
    env.check()


# --- borrow limits -----------------------------------------------------------------------------

def test_borrow_exactly_max_borrow_then_one_wei_more_fails(env: MorphoEnv) -> None:
    env.lend("lp", 10**12)
    env.collateral("bob", WETH)
    # maxBorrow = (1e18 * 3e27 / 1e36).wMulDown(0.86e18) = 3e9 * 0.86 = 2,580,000,000 (2,580 USDC)
    # shares = toSharesUp(2.58e9, 0, 0) = 2.58e15; borrowed = toAssetsUp(2.58e15, 2.58e9, 2.58e15)
    #        = 2.58e15 * (2.58e9 + 1) / (2.58e15 + 1e6) = 2.58e9 exactly
    assert env.borrow("bob", 2_580 * USDC) == (2_580 * USDC, 2_580 * 10**12)
    assert env.morpho.health_factor(T0, MARKET, "bob") == WAD
    assert env.morpho.is_healthy(T0, MARKET, "bob")
    before = env.morpho.snapshot(T0)
    cash = env.ledger.balance_of("USDC", "morpho")
    # one more wei: shares = ceil((2.58e15 + 1e6) / (2.58e9 + 1)) = 1e6; borrowed 2,580,000,001 > maxBorrow
    with pytest.raises(MorphoError) as e:
        env.morpho.borrow(T0, "bob", MARKET, 1, 0)
    assert reason(e) == E.INSUFFICIENT_COLLATERAL == "insufficient collateral"
    assert env.morpho.snapshot(T0) == before  # reverted: nothing written
    assert env.ledger.balance_of("USDC", "morpho") == cash
    env.check()


def test_borrow_without_collateral_and_beyond_liquidity(env: MorphoEnv) -> None:
    env.lend("lp", 1_000 * USDC)
    with pytest.raises(MorphoError) as e:
        env.morpho.borrow(T0, "nobody", MARKET, 1, 0)
    assert reason(e) == E.INSUFFICIENT_COLLATERAL
    env.collateral("bob", 10 * WETH)  # maxBorrow 25,800 USDC
    with pytest.raises(MorphoError) as e:
        env.morpho.borrow(T0, "bob", MARKET, 1_000 * USDC + 1, 0)
    assert reason(e) == E.INSUFFICIENT_LIQUIDITY == "insufficient liquidity"
    env.borrow("bob", 600 * USDC)
    # withdrawing 500 would leave totalSupplyAssets 500 < totalBorrowAssets 600
    with pytest.raises(MorphoError) as e:
        env.morpho.withdraw(T0, "lp", MARKET, 500 * USDC, 0)
    assert reason(e) == E.INSUFFICIENT_LIQUIDITY
    assert env.morpho.withdraw(T0, "lp", MARKET, 400 * USDC, 0)[0] == 400 * USDC
    env.check()


def test_withdraw_collateral_keeps_the_position_healthy(env: MorphoEnv) -> None:
    env.lend("lp", 10**12)
    env.collateral("bob", 2 * WETH)
    env.borrow("bob", 2_580 * USDC)  # needs exactly 1 WETH
    with pytest.raises(MorphoError) as e:
        env.morpho.withdraw_collateral(T0, "bob", MARKET, WETH + 1)
    assert reason(e) == E.INSUFFICIENT_COLLATERAL
    env.morpho.withdraw_collateral(T0, "bob", MARKET, WETH)
    assert env.morpho.position(MARKET, "bob").collateral == WETH
    assert env.ledger.balance_of("WETH", "bob") == WETH
    env.check()


# --- repay and the 1-wei excess --------------------------------------------------------------------

def test_repay_by_assets_and_by_shares(env: MorphoEnv) -> None:
    env.lend("lp", 10**12)
    env.collateral("bob", WETH)
    env.borrow("bob", 2_580 * USDC)
    # by assets: toSharesDown(1e9, 2.58e9, 2.58e15) = 1e15 (the ratio is exactly 1e6)
    assert env.morpho.repay(T0, "bob", MARKET, 1_000 * USDC, 0) == (1_000 * USDC, 10**15)
    # by shares: the remaining 1.58e15 shares cost 1.58e9
    assert env.morpho.repay(T0, "bob", MARKET, 0, 1_580 * 10**12) == (1_580 * USDC, 1_580 * 10**12)
    assert env.morpho.position(MARKET, "bob") == Position(0, 0, WETH)
    assert env.morpho.market(MARKET).total_borrow_assets == 0
    # more shares than owed: uint128 underflow panic
    env.ledger.mint("USDC", "bob", 10 * USDC)
    with pytest.raises(MorphoError) as e:
        env.morpho.repay(T0, "bob", MARKET, 0, 1)
    assert reason(e) == E.PANIC_ARITHMETIC
    env.check()


def test_repay_can_exceed_total_borrow_assets_by_one_wei(env: MorphoEnv) -> None:
    env.lend("lp", 10**12)
    env.collateral("b1", WETH)
    env.collateral("b2", WETH)
    env.borrow("b1", 1)  # 1e6 shares; totals 1 asset, 1e6 shares
    # borrow one share: toAssetsDown(1, 1, 1e6) = floor(2 / 2e6) = 0 assets
    assert env.morpho.borrow(T0, "b2", MARKET, 0, 1) == (0, 1)
    assert env.morpho.market(MARKET).total_borrow_shares == 10**6 + 1
    # b1 repays its 1e6 shares: toAssetsUp(1e6, 1, 1e6 + 1) = ceil(2e6 / (2e6 + 1)) = 1 -> tBA = 0
    assert env.morpho.repay(T0, "b1", MARKET, 0, 10**6) == (1, 10**6)
    assert env.morpho.market(MARKET).total_borrow_assets == 0
    # b2's single share costs toAssetsUp(1, 0, 1) = ceil(1 / (1 + 1e6)) = 1 > tBA = 0:
    # tBA = zeroFloorSub(0, 1) = 0 and the contract keeps one wei beyond its books
    env.ledger.mint("USDC", "b2", 1)
    assert env.morpho.repay(T0, "b2", MARKET, 0, 1) == (1, 1)
    m = env.morpho.market(MARKET)
    assert (m.total_borrow_assets, m.total_borrow_shares) == (0, 0)
    assert env.morpho.surplus("USDC") == 1
    assert env.ledger.balance_of("USDC", "morpho") == m.total_supply_assets + 1
    env.check()


# --- refusals ------------------------------------------------------------------------------------

def test_input_checks(env: MorphoEnv) -> None:
    env.ledger.mint("USDC", "a", 10)
    cases = [
        (lambda: env.morpho.supply(T0, "a", MARKET, 1, 1), E.INCONSISTENT_INPUT),
        (lambda: env.morpho.supply(T0, "a", MARKET, 0, 0), E.INCONSISTENT_INPUT),
        (lambda: env.morpho.supply(T0, "a", MARKET, 1, 0, on_behalf=ZERO_ADDRESS), E.ZERO_ADDRESS),
        (lambda: env.morpho.supply(T0, "a", "nope", 1, 0), E.MARKET_NOT_CREATED),
        (lambda: env.morpho.supply_collateral(T0, "a", MARKET, 0), E.ZERO_ASSETS),
        (lambda: env.morpho.withdraw_collateral(T0, "a", MARKET, 0), E.ZERO_ASSETS),
        (lambda: env.morpho.withdraw(T0, "a", MARKET, 1, 0, receiver=ZERO_ADDRESS), E.ZERO_ADDRESS),
        (lambda: env.morpho.borrow(T0, "a", MARKET, 1, 1), E.INCONSISTENT_INPUT),
        (lambda: env.morpho.repay(T0, "a", MARKET, 0, 0), E.INCONSISTENT_INPUT),
        (lambda: env.morpho.liquidate(T0, "a", MARKET, "b", 1, 1), E.INCONSISTENT_INPUT),
        (lambda: env.morpho.supply(T0, "broke", MARKET, 5, 0), E.TRANSFER_FROM_REVERTED),
        (lambda: env.morpho.supply_collateral(T0, "broke", MARKET, 5), E.TRANSFER_FROM_REVERTED),
        (lambda: env.morpho.accrue_interest(T0, "nope"), E.MARKET_NOT_CREATED),
    ]
    before = env.morpho.snapshot(T0)
    for call, expected in cases:
        with pytest.raises(MorphoError) as e:
            call()
        assert reason(e) == expected
    assert env.morpho.snapshot(T0) == before
    assert E.HEALTHY_POSITION == "position is healthy" and E.ZERO_ASSETS == "zero assets"


def test_authorization(env: MorphoEnv) -> None:
    env.lend("alice", 100 * USDC)
    with pytest.raises(MorphoError) as e:
        env.morpho.withdraw(T0, "bob", MARKET, 10 * USDC, 0, on_behalf="alice", receiver="bob")
    assert reason(e) == E.UNAUTHORIZED
    env.morpho.set_authorization("alice", "bob", True)
    with pytest.raises(MorphoError) as e:
        env.morpho.set_authorization("alice", "bob", True)
    assert reason(e) == E.ALREADY_SET
    env.morpho.withdraw(T0, "bob", MARKET, 10 * USDC, 0, on_behalf="alice", receiver="bob")
    assert env.ledger.balance_of("USDC", "bob") == 10 * USDC
    assert env.morpho.position(MARKET, "alice").supply_shares == 90 * 10**12
    env.check()


def test_owner_functions_and_market_creation() -> None:
    ledger = Ledger(DEC)
    m = MorphoBlue("m", ledger, lambda a: 10**8)
    oracle = ChainlinkPairOracle(lambda: 3000 * 10**8, lambda: 10**8, 18, 6)
    params = MarketParams("x", "USDC", "WETH", oracle, None, LLTV_86)
    with pytest.raises(MorphoError) as e:
        m.create_market(T0, params)
    assert reason(e) == E.IRM_NOT_ENABLED
    m.enable_irm(None)
    with pytest.raises(MorphoError) as e:
        m.enable_irm(None)
    assert reason(e) == E.ALREADY_SET
    with pytest.raises(MorphoError) as e:
        m.create_market(T0, params)
    assert reason(e) == E.LLTV_NOT_ENABLED == "LLTV not enabled"
    with pytest.raises(MorphoError) as e:
        m.enable_lltv(WAD)
    assert reason(e) == E.MAX_LLTV_EXCEEDED
    m.enable_lltv(LLTV_86)
    m.create_market(T0, params)
    with pytest.raises(MorphoError) as e:
        m.create_market(T0, params)
    assert reason(e) == E.MARKET_ALREADY_CREATED
    assert m.market("x") == Market(0, 0, 0, 0, T0, 0)
    with pytest.raises(MorphoError) as e:
        m.set_fee(T0, "x", 25 * 10**16 + 1)
    assert reason(e) == E.MAX_FEE_EXCEEDED
    with pytest.raises(MorphoError) as e:
        m.set_fee(T0, "x", 0)
    assert reason(e) == E.ALREADY_SET
    m.set_fee(T0 + 5, "x", 10**17)  # accrues first: lastUpdate moves to T0 + 5
    assert m.market("x") == Market(0, 0, 0, 0, T0 + 5, 10**17)


# --- interest --------------------------------------------------------------------------------------

def five_percent_env(fee: int = 0) -> MorphoEnv:
    env = MorphoEnv(irm=FixedRateIrm(5 * 10**16 // YEAR), fee=fee)
    env.lend("lp", 2 * 10**12)
    env.collateral("bob", 1_000 * WETH)
    env.borrow("bob", 10**12)  # 1e18 borrow shares
    return env


def test_interest_over_a_year_is_w_taylor_compounded() -> None:
    env = five_percent_env()
    env.morpho.accrue_interest(T0 + YEAR, MARKET)
    # wTaylorCompounded(1_585_489_599, 31_536_000) = 51_270_833_327_093_113 (test_morpho_math);
    # interest = 1e12 * that / 1e18, rounded down
    interest = 51_270_833_327
    m = env.morpho.market(MARKET)
    assert m == Market(2 * 10**12 + interest, 2 * 10**18, 10**12 + interest, 10**18, T0 + YEAR, 0)
    # bob owes toAssetsUp(1e18, A, 1e18) = ceil(1e18 (A + 1) / (1e18 + 1e6)) = A (the virtual
    # shares hold (A + 1) / 1e12 ~ 1.05 wei of it)
    assert env.morpho.borrow_assets(T0 + YEAR, MARKET, "bob") == 10**12 + interest
    env.check()


def test_views_accrue_without_writing() -> None:
    env = five_percent_env()
    before = env.morpho.snapshot(T0)
    assert env.morpho.accrued_market(T0 + YEAR, MARKET).total_borrow_assets == 10**12 + 51_270_833_327
    assert env.morpho.snapshot(T0) == before


def test_fee_shares_go_to_the_fee_recipient() -> None:
    env = five_percent_env(fee=10**17)  # 10 % of interest
    env.morpho.accrue_interest(T0 + YEAR, MARKET)
    interest = 51_270_833_327
    fee_amount = interest // 10  # wMulDown(interest, 0.1e18) = 5_127_083_332
    assert fee_amount == 5_127_083_332
    total_assets = 2 * 10**12 + interest
    # feeShares = toSharesDown(feeAmount, tSA - feeAmount, tSS)
    fee_shares = fee_amount * (2 * 10**18 + 10**6) // (total_assets - fee_amount + 1)
    m = env.morpho.market(MARKET)
    assert m.total_supply_shares == 2 * 10**18 + fee_shares
    assert env.morpho.position(MARKET, "fees").supply_shares == fee_shares
    # the recipient can withdraw its fee, less at most one wei of rounding
    assert fee_amount - 1 <= env.morpho.supply_assets(T0 + YEAR, MARKET, "fees") <= fee_amount
    env.check()


def test_irm_mock_rate_uses_the_market_before_accrual() -> None:
    env = MorphoEnv(irm=LinearUtilizationIrm())
    env.lend("lp", 2 * 10**12)
    env.collateral("bob", 1_000 * WETH)
    env.borrow("bob", 10**12)  # utilisation 50 %
    half = YEAR // 2
    env.morpho.accrue_interest(T0 + half, MARKET)
    rate1 = 5 * 10**17 // YEAR  # 15_854_895_991
    x = rate1 * half
    taylor1 = x + x * x // (2 * WAD) + (x * x // (2 * WAD)) * x // (3 * WAD)
    i1 = 10**12 * taylor1 // WAD
    m1 = env.morpho.market(MARKET)
    assert (m1.total_borrow_assets, m1.total_supply_assets) == (10**12 + i1, 2 * 10**12 + i1)
    # the second half-year uses the utilisation stored after the first accrual
    env.morpho.accrue_interest(T0 + YEAR, MARKET)
    rate2 = (10**12 + i1) * WAD // (2 * 10**12 + i1) // YEAR
    assert rate2 > rate1
    x = rate2 * half
    taylor2 = x + x * x // (2 * WAD) + (x * x // (2 * WAD)) * x // (3 * WAD)
    i2 = (10**12 + i1) * taylor2 // WAD
    assert env.morpho.market(MARKET).total_borrow_assets == 10**12 + i1 + i2
    # 50 % utilisation is 50 % APR: half a year is 0.25 + 0.25^2/2 + 0.25^3/6 = 0.28385416...
    assert 283_854_166_000 < i1 < 283_854_167_000
    env.check()


def test_supply_collateral_does_not_accrue_and_time_cannot_go_back() -> None:
    env = five_percent_env()
    env.collateral("carol", WETH, now=T0 + 100)
    assert env.morpho.market(MARKET).last_update == T0
    env.morpho.accrue_interest(T0 + 100, MARKET)
    assert env.morpho.market(MARKET).last_update == T0 + 100
    with pytest.raises(MorphoError) as e:
        env.morpho.accrue_interest(T0 + 99, MARKET)
    assert reason(e) == E.PANIC_ARITHMETIC


def test_no_irm_only_moves_last_update(env: MorphoEnv) -> None:
    env.lend("lp", 10**12)
    env.collateral("bob", WETH)
    env.borrow("bob", 1_000 * USDC)
    env.morpho.accrue_interest(T0 + YEAR, MARKET)
    assert env.morpho.market(MARKET) == Market(10**12, 10**18, 10**9, 10**15, T0 + YEAR, 0)
