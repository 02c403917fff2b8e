"""Supply, withdraw, interest and reserves of the Comet model, against hand calculation.

The market (``comet_env``): USDC base, WETH (borrow CF 0.82) and WBTC (0.70) collateral,
cUSDCv3 launch rates, base borrow minimum 100 USDC. Feeds: USDC 1.00, WETH 3,000, WBTC 60,000.
"""

from __future__ import annotations

import pytest
from comet_env import DEC, T0, USDC, WBTC, WETH, CometEnv  # type: ignore[import-not-found]

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.compound_v3 import MAX_AMOUNT, Comet, CometError
from defisim.engine.protocols.compound_v3 import errors as E
from defisim.engine.protocols.compound_v3.constants import BASE_INDEX_SCALE

DAY = 86_400


def test_supply_base_books_principal_at_the_index() -> None:
    env = CometEnv()
    env.lend("lp", 1_000_000 * USDC)
    # principalValueSupply(1e15, 1e12) = 1e12 * 1e15 / 1e15
    assert env.comet.user_basic("lp").principal == 10**12
    assert env.comet.totals_basic().total_supply_base == 10**12
    assert env.ledger.balance_of("USDC", "comet") == 10**12


def test_borrow_then_a_day_of_interest_to_the_unit() -> None:
    env = CometEnv()
    env.lend("lp", 1_000_000 * USDC)
    env.post("bob", "WETH", 400 * WETH)
    env.borrow("bob", 800_000 * USDC)  # 400 * 3,000 * 0.82 = 984,000 of borrowing capacity
    assert env.comet.user_basic("bob").principal == -800_000 * USDC
    assert env.comet.get_utilization() == 8 * 10**17  # 8e11 * 1e18 / 1e12
    later = T0 + DAY
    # indices after 86,400 s at u = 0.8 (see test_comet_math): supply 1000071232876662,
    # borrow 1000117808219065
    assert env.comet.borrow_balance_of(later, "bob") == 800_094_246_575  # 8e11 * bi / 1e15, down
    assert env.comet.balance_of(later, "lp") == 1_000_071_232_876       # 1e12 * si / 1e15, down
    assert env.comet.total_borrow(later) == 800_094_246_575
    assert env.comet.total_supply(later) == 1_000_071_232_876
    # getReserves = balance - totalSupply + totalBorrow = 2e11 - 1000071232876 + 800094246575
    assert env.comet.get_reserves(later) == 23_013_699
    # a supply after the day books principal at the new supply index, rounded down:
    # 1e9 * 1e15 / 1000071232876662 = 999928772.197 -> 999928772
    env.lend("ann", 1_000 * USDC, later)
    assert env.comet.user_basic("ann").principal == 999_928_772
    t = env.comet.totals_basic()
    assert (t.base_supply_index, t.base_borrow_index, t.last_accrual_time) == (
        1_000_071_232_876_662, 1_000_117_808_219_065, later)


def test_repaying_max_clears_the_debt_exactly() -> None:
    env = CometEnv()
    env.lend("lp", 1_000_000 * USDC)
    env.post("bob", "WETH", 400 * WETH)
    env.borrow("bob", 800_000 * USDC)
    later = T0 + DAY
    owed = env.comet.borrow_balance_of(later, "bob")
    env.ledger.mint("USDC", "bob", owed - 800_000 * USDC)  # the interest
    env.comet.supply(later, "bob", "USDC", MAX_AMOUNT)     # amount = borrowBalanceOf(bob)
    env.check()
    assert env.comet.user_basic("bob").principal == 0
    assert env.comet.totals_basic().total_borrow_base == 0
    assert env.ledger.balance_of("USDC", "bob") == 0
    # the interest paid stays in the market: reserves = balance - totalSupply (no borrows)
    assert env.comet.get_reserves(later) == 10**12 + 94_246_575 - 1_000_071_232_876


def test_borrow_collateral_factor_boundary_is_exact() -> None:
    env = CometEnv()
    env.lend("lp", 1_000_000 * USDC)
    env.post("bob", "WETH", WETH)
    # capacity: mulFactor(mulPrice(1e18, 3000e8, 1e18), 0.82e18) = 2460e8 USD; a debt of 2,460
    # USDC is worth signedMulPrice(-2460e6, 1e8, 1e6) = -2460e8: liquidity 0 is collateralized
    before = env.state()
    with pytest.raises(CometError) as err:
        env.comet.withdraw(T0, "bob", "USDC", 2_460 * USDC + 1)  # worth -246000000100: short by 100
    assert err.value.reason == E.NOT_COLLATERALIZED
    assert env.state() == before  # a revert changes nothing
    env.borrow("bob", 2_460 * USDC)
    assert env.comet.borrow_health_factor(T0, "bob") == 10**18  # exactly at the limit


def test_borrow_below_base_borrow_min_reverts() -> None:
    env = CometEnv()
    env.lend("lp", 1_000_000 * USDC)
    env.post("bob", "WETH", WETH)
    with pytest.raises(CometError) as err:
        env.comet.withdraw(T0, "bob", "USDC", 100 * USDC - 1)
    assert err.value.reason == E.BORROW_TOO_SMALL
    env.borrow("bob", 100 * USDC)


def test_withdrawing_collateral_checks_the_borrow_factor() -> None:
    env = CometEnv()
    env.lend("lp", 1_000_000 * USDC)
    env.post("bob", "WETH", 2 * WETH)
    env.borrow("bob", 2_460 * USDC)  # exactly one WETH's capacity
    with pytest.raises(CometError) as err:
        env.comet.withdraw(T0, "bob", "WETH", WETH + 1)
    assert err.value.reason == E.NOT_COLLATERALIZED
    env.comet.withdraw(T0, "bob", "WETH", WETH)
    env.check()
    assert env.comet.collateral_balance_of("bob", "WETH") == WETH
    assert env.comet.user_basic("bob").assets_in == 0b01  # WETH is asset 0


def test_assets_in_tracks_non_zero_balances() -> None:
    env = CometEnv()
    env.post("ann", "WBTC", WBTC)
    assert env.comet.user_basic("ann").assets_in == 0b10  # WBTC is asset 1
    env.post("ann", "WETH", WETH)
    assert env.comet.user_basic("ann").assets_in == 0b11
    env.comet.withdraw(T0, "ann", "WBTC", WBTC)
    env.check()
    assert env.comet.user_basic("ann").assets_in == 0b01


def test_supply_cap_is_enforced_on_the_total() -> None:
    env = CometEnv()
    env.post("ann", "WBTC", 6_000 * WBTC)
    env.post("bob", "WBTC", 4_000 * WBTC)  # total 10,000 WBTC = the cap
    env.ledger.mint("WBTC", "cat", 1)
    with pytest.raises(CometError) as err:
        env.comet.supply(T0, "cat", "WBTC", 1)
    assert err.value.reason == E.SUPPLY_CAP_EXCEEDED
    assert env.ledger.balance_of("WBTC", "cat") == 1


def test_withdraw_fails_in_the_token_when_cash_is_lent_out() -> None:
    env = CometEnv()
    env.lend("lp", 1_000 * USDC)
    env.post("bob", "WETH", 10 * WETH)
    before = env.state()
    with pytest.raises(CometError) as err:
        env.comet.withdraw(T0, "bob", "USDC", 2_000 * USDC)
    assert err.value.reason == E.TRANSFER_EXCEEDS_BALANCE
    assert env.state() == before


def test_withdraw_for_another_account_needs_permission() -> None:
    env = CometEnv()
    env.lend("bob", 1_000 * USDC)
    with pytest.raises(CometError) as err:
        env.comet.withdraw(T0, "carol", "USDC", 10 * USDC, to="carol", src="bob")
    assert err.value.reason == E.UNAUTHORIZED
    env.comet.allow("bob", "carol", True)
    env.comet.withdraw(T0, "carol", "USDC", 10 * USDC, to="carol", src="bob")
    env.check()
    assert env.ledger.balance_of("USDC", "carol") == 10 * USDC


def test_withdraw_max_takes_the_whole_balance() -> None:
    env = CometEnv()
    env.lend("lp", 999_000 * USDC)
    env.lend("ann", 1_000 * USDC)  # 1,000,000 supplied in all: utilisation 0.8 as above
    env.post("bob", "WETH", 400 * WETH)
    env.borrow("bob", 800_000 * USDC)
    later = T0 + DAY
    expected = env.comet.balance_of(later, "ann")  # 1e9 * 1000071232876662 / 1e15 = 1000071232
    assert expected == 1_000_071_232
    env.comet.withdraw(later, "ann", "USDC", MAX_AMOUNT)
    env.check()
    assert env.ledger.balance_of("USDC", "ann") == 1_000_071_232
    # principalValue(presentValue(1e9) - 1000071232) = principalValueSupply(si, 0) = 0
    assert env.comet.user_basic("ann").principal == 0


def test_pause_flags_block_actions() -> None:
    env = CometEnv()
    env.comet.pause(True, False, False, False, False)
    env.ledger.mint("USDC", "lp", USDC)
    with pytest.raises(CometError) as err:
        env.comet.supply(T0, "lp", "USDC", USDC)
    assert err.value.reason == E.PAUSED
    assert env.comet.totals_basic().pause_flags == 0b1


def test_base_asset_cannot_be_supplied_as_an_unknown_collateral() -> None:
    env = CometEnv()
    with pytest.raises(CometError) as err:
        env.comet.supply(T0, "lp", "DAI", 1)
    assert err.value.reason == E.BAD_ASSET


def test_constructor_sanity_checks() -> None:
    from comet_env import CONFIG  # type: ignore[import-not-found]

    with pytest.raises(CometError) as err:
        CometEnv(store_front_price_factor=10**18 + 1)
    assert err.value.reason == E.BAD_DISCOUNT
    with pytest.raises(CometError) as err:
        CometEnv(base_min_for_rewards=0)
    assert err.value.reason == E.BAD_MINIMUM
    ledger = Ledger({**DEC, "TINY": 4})
    with pytest.raises(CometError) as err:  # baseScale 1e4 < BASE_ACCRUAL_SCALE 1e6
        Comet("c", ledger, CONFIG.__class__(**{**_fields(CONFIG), "base_token": "TINY"}),
              {"usdc-usd": lambda: 1, "eth-usd": lambda: 1, "btc-usd": lambda: 1}, created_at=T0)
    assert err.value.reason == E.BAD_DECIMALS
    env = CometEnv()
    t = env.comet.totals_basic()  # initializeStorage
    assert (t.base_supply_index, t.base_borrow_index, t.last_accrual_time) == (BASE_INDEX_SCALE, BASE_INDEX_SCALE, T0)
    # per-second rates: per-year / 31,536,000, rounded down
    assert env.comet.borrow_per_second_interest_rate_base == 475_646_879
    assert env.comet.supply_per_second_interest_rate_slope_high == 12_683_916_793  # 0.4e18 / 31536000


def test_bad_price_reverts() -> None:
    env = CometEnv()
    env.lend("lp", 1_000_000 * USDC)
    env.post("bob", "WETH", WETH)
    env.usd["eth-usd"] = 0
    with pytest.raises(CometError) as err:
        env.comet.withdraw(T0, "bob", "USDC", 100 * USDC)
    assert err.value.reason == E.BAD_PRICE


def test_time_cannot_run_backwards() -> None:
    env = CometEnv()
    env.lend("lp", 1_000 * USDC, T0 + 10)
    env.ledger.mint("USDC", "ann", USDC)
    with pytest.raises(CometError) as err:
        env.comet.supply(T0, "ann", "USDC", USDC)
    assert err.value.reason == E.PANIC_ARITHMETIC  # uint40(now - lastAccrualTime) underflows


def _fields(config: object) -> dict[str, object]:
    return {f: getattr(config, f) for f in config.__dataclass_fields__}  # type: ignore[attr-defined]


def test_supplying_zero_can_lower_a_principal_but_not_the_total() -> None:
    env = CometEnv()
    env.lend("lp", 1_000_000 * USDC)
    env.post("bob", "WETH", 400 * WETH)
    env.borrow("bob", 800_000 * USDC)
    later = T0 + DAY
    # presentValue(1e12) = 1e12 * 1000071232876662 / 1e15 = 1000071232876 (rounded down), then
    # principalValueSupply = 1000071232876 * 1e15 / 1000071232876662 = 999999999999.34 -> 1e12 - 1
    env.comet.supply(later, "lp", "USDC", 0)
    env.check()
    assert env.comet.user_basic("lp").principal == 10**12 - 1
    # repayAndSupplyAmount(1e12, 1e12 - 1) = (0, 0): totalSupplyBase keeps the unit
    assert env.comet.totals_basic().total_supply_base == 10**12
    assert env.comet.rounding_dust() == (1, 0)


def test_reward_tracking_accrues_as_update_base_principal() -> None:
    env = CometEnv(base_tracking_supply_speed=10**15, base_min_for_rewards=10**6)
    env.lend("lp", 1_000_000 * USDC)
    env.comet.accrue_account(T0 + 100, "lp")
    env.check()
    # trackingSupplyIndex += divBaseWei(speed * 100, totalSupplyBase) = 1e15 * 100 * 1e6 / 1e12 = 1e11
    assert env.comet.totals_basic().tracking_supply_index == 10**11
    # baseTrackingAccrued += principal * indexDelta / trackingIndexScale / accrualDescaleFactor
    #                      = 1e12 * 1e11 / 1e15 / (1e6 / 1e6) = 1e8 (1 reward unit a second, 6 decimals)
    basic = env.comet.user_basic("lp")
    assert (basic.base_tracking_accrued, basic.base_tracking_index) == (10**8, 10**11)
