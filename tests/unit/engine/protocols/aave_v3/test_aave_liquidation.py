"""liquidation_call against LiquidationLogic (Aave 3.6), every number computed by hand here.

WETH 18 dp collateral (LT 82.5 %, bonus 5 % -> 10500, protocol fee 10 % of the bonus part),
USDC 6 dp debt at 1.00, WBTC 8 dp at 60,000. All at one timestamp: indexes stay RAY, so
scaled == unscaled and only the liquidation rounding shows.
"""

from __future__ import annotations

import pytest

from defisim.engine.fixedpoint import RAY, UINT256_MAX
from defisim.engine.ledger import Ledger
from defisim.engine.protocols.aave_v3 import (
    MAX_AMOUNT,
    AavePool,
    LiquidationOutcome,
    LiquidationRefusal,
    ReserveParams,
)

DEC = {"WETH": 18, "WBTC": 8, "USDC": 6}
PARAMS = {
    "WETH": ReserveParams(ltv=0.80, liquidation_threshold=0.825, liquidation_bonus=0.05),
    "WBTC": ReserveParams(ltv=0.70, liquidation_threshold=0.75, liquidation_bonus=0.10),
    "USDC": ReserveParams(ltv=0.75, liquidation_threshold=0.78, liquidation_bonus=0.045),
}
E18 = 10**18


class World:
    def __init__(self) -> None:
        self.prices = {"WETH": 2000_00000000, "WBTC": 60000_00000000, "USDC": 1_00000000}
        self.ledger = Ledger(DEC)
        self.pool = AavePool("aave", self.ledger, {a: p.to_config(DEC[a]) for a, p in PARAMS.items()},
                             lambda a: self.prices[a])
        self.supply("lp", "USDC", 10_000_000 * 10**6)
        self.supply("lp", "WBTC", 10**8)
        self.ledger.mint("USDC", "liq", 10**15)

    def check(self) -> None:
        assert self.pool.invariant_errors() == []
        assert self.ledger.conservation_errors() == []

    def supply(self, who: str, asset: str, amount: int) -> None:
        self.ledger.mint(asset, who, amount)
        self.pool.supply(0, who, asset, amount)
        self.check()

    def position(self, weth: int, usdc_debt: int, who: str = "u") -> None:
        self.supply(who, "WETH", weth)
        self.pool.borrow(0, who, "USDC", usdc_debt)
        self.check()


def hf(coll_base_lt_sum: int, debt_base: int) -> int:
    """GenericLogic: wadDiv(Σ value*LT, debt) / 1e4 (wadDiv rounds half up)."""
    return (coll_base_lt_sum * E18 + debt_base // 2) // debt_base // 10_000


def fee_split(collateral: int, bonus: int = 10500, fee_bps: int = 1000) -> tuple[int, int]:
    """_calculateAvailableCollateralToLiquidate tail: (to liquidator, protocol fee)."""
    bonus_part = collateral - (collateral * 10_000 + bonus // 2) // bonus  # c - percentDiv(c, bonus)
    fee = (bonus_part * fee_bps + 5_000) // 10_000  # percentMul(bonus part, fee)
    return collateral - fee, fee


def test_fifty_percent_close_factor_at_hf_097() -> None:
    w = World()
    w.position(10 * E18, 16_000 * 10**6)
    w.prices["WETH"] = 1881_21000000
    p = w.prices["WETH"]
    coll_base = 10 * E18 * p // E18  # 18,812.10 USD
    hf_before = hf(coll_base * 8250, 16_000 * 10**8)
    assert hf_before == 969_998_906_250_000_000  # 0.96999890625: above 0.95 -> 50 %
    # maxLiquidatableDebt: percentMul(totalDebtBase, 5000) * debtUnit / debtPrice
    max_debt = (16_000 * 10**8 * 5000 + 5000) // 10_000 * 10**6 // 10**8
    assert max_debt == 8_000 * 10**6
    assert w.pool.max_liquidatable_debt(0, "WETH", "USDC", "u") == max_debt
    # base collateral = debtPrice * debt * collUnit / (collPrice * debtUnit); then percentMul(bonus)
    base = 10**8 * max_debt * E18 // (p * 10**6)
    gross = (base * 10500 + 5000) // 10_000
    seized, fee = fee_split(gross)
    assert (base, gross, seized, fee) == (
        # 8000/1881.21 WETH; x1.05; minus 10 % of the 5 % part
        4_252_582_114_702_771_088, 4_465_211_220_437_909_642, 4_443_948_309_864_395_787, 21_262_910_573_513_855,
    )
    out = w.pool.liquidation_call(0, "liq", "WETH", "USDC", "u", MAX_AMOUNT)
    w.check()
    assert isinstance(out, LiquidationOutcome)
    assert (out.debt_repaid, out.collateral_seized, out.protocol_fee) == (max_debt, seized, fee)
    assert out.health_before == hf_before
    left = 10 * E18 - gross
    assert out.health_after == hf((left * p // E18) * 8250, 8_000 * 10**8)
    assert out.deficits == () and not out.collateral_disabled
    assert w.ledger.balance_of("WETH", "liq") == seized
    assert w.ledger.balance_of("USDC", "liq") == 10**15 - max_debt
    # fee moved as aTokens: scaled = rayDivCeil(fee, RAY) = fee
    assert w.pool.collateral_of(0, "aave:treasury", "WETH") == fee
    assert w.pool.collateral_of(0, "u", "WETH") == left
    assert w.pool.debt_of(0, "u", "USDC") == 8_000 * 10**6


def test_full_close_factor_at_hf_below_095() -> None:
    w = World()
    w.position(10 * E18, 16_000 * 10**6)
    w.prices["WETH"] = 1800_00000000
    assert w.pool.account_data(0, "u").health_factor == hf(18_000 * 10**8 * 8250, 16_000 * 10**8) == 928_125 * 10**12
    assert w.pool.max_liquidatable_debt(0, "WETH", "USDC", "u") == 16_000 * 10**6
    base = 10**8 * 16_000 * 10**6 * E18 // (1800_00000000 * 10**6)  # 8.888.. WETH
    gross = (base * 10500 + 5000) // 10_000
    seized, fee = fee_split(gross)
    out = w.pool.liquidation_call(0, "liq", "WETH", "USDC", "u", MAX_AMOUNT)
    w.check()
    assert isinstance(out, LiquidationOutcome)
    assert (out.debt_repaid, out.collateral_seized, out.protocol_fee) == (16_000 * 10**6, seized, fee)
    assert out.health_after == UINT256_MAX
    assert w.pool.debt_of(0, "u", "USDC") == 0
    assert w.pool.snapshot(0).accounts[-1].scaled_debt == ()


def test_small_position_under_2000_base_gets_full_close_factor() -> None:
    w = World()
    w.position(E18, 1_500 * 10**6, "small")  # collateral 1,800 USD after the drop: < 2,000 base
    w.position(10 * E18, 15_000 * 10**6, "big")  # same HF, 18,000 USD: 50 % rule
    w.prices["WETH"] = 1800_00000000
    h = hf(1_800 * 10**8 * 8250, 1_500 * 10**8)
    assert h == 990 * 10**15  # 0.99 > 0.95
    assert w.pool.account_data(0, "small").health_factor == h
    assert w.pool.max_liquidatable_debt(0, "WETH", "USDC", "small") == 1_500 * 10**6
    assert w.pool.max_liquidatable_debt(0, "WETH", "USDC", "big") == 7_500 * 10**6


def test_leftover_under_1000_base_must_not_leave_dust() -> None:
    w = World()
    w.position(E18, 1_500 * 10**6)
    w.prices["WETH"] = 1800_00000000
    before = w.pool.snapshot(0)
    # repaying 1,000 leaves 500 USD of debt (mulDivCeil(500e6, 1e8, 1e6) = 500e8 < 1000e8)
    out = w.pool.liquidation_call(0, "liq", "WETH", "USDC", "u", 1_000 * 10**6)
    assert out == LiquidationRefusal("MUST_NOT_LEAVE_DUST")
    assert w.pool.snapshot(0) == before
    # repaying 400: debt left 1,100; collateral left 1 - percentMul(0.2222.., 10500) WETH
    base = 10**8 * 400 * 10**6 * E18 // (1800_00000000 * 10**6)
    gross = (base * 10500 + 5000) // 10_000
    assert (E18 - gross) * 1800_00000000 // E18 == 1380 * 10**8  # >= 1,000 base
    out = w.pool.liquidation_call(0, "liq", "WETH", "USDC", "u", 400 * 10**6)
    assert isinstance(out, LiquidationOutcome) and out.debt_repaid == 400 * 10**6
    w.check()


def test_collateral_exhausted_books_deficit_in_every_debt_reserve() -> None:
    w = World()
    w.supply("u", "WETH", E18)
    w.pool.borrow(0, "u", "USDC", 1_000 * 10**6)
    w.pool.borrow(0, "u", "WBTC", 500_000)  # 0.005 WBTC = 300 USD
    w.prices["WETH"] = 1000_00000000
    out = w.pool.liquidation_call(0, "liq", "WETH", "USDC", "u", MAX_AMOUNT)
    w.check()
    assert isinstance(out, LiquidationOutcome)
    # base = 1e8 * 1000e6 * 1e18 / (1000e8 * 1e6) = 1e18 ; percentMul(., 10500) = 1.05e18 > balance
    # -> take the whole balance; debt = percentDivCeil(1000e8 * 1e18 * 1e6 / (1e8 * 1e18), 10500)
    debt_needed = -(-(1_000 * 10**6 * 10_000) // 10500)
    assert debt_needed == 952_380_953
    seized, fee = fee_split(E18)
    assert (seized, fee) == (995_238_095_238_095_238, 4_761_904_761_904_762)
    assert (out.debt_repaid, out.collateral_seized, out.protocol_fee) == (debt_needed, seized, fee)
    assert out.collateral_disabled
    # hasNoCollateralLeft: all USDC debt burned, the rest booked; _burnBadDebt clears WBTC too
    assert out.deficits == (("WBTC", 500_000), ("USDC", 1_000 * 10**6 - debt_needed))
    assert out.deficits_usd == (("WBTC", 300 * 10**8), ("USDC", 47_619_047 * 100))
    assert w.pool.deficit("USDC") == 47_619_047 and w.pool.deficit("WBTC") == 500_000
    assert w.pool.debt_of(0, "u", "USDC") == w.pool.debt_of(0, "u", "WBTC") == 0
    assert out.health_after == UINT256_MAX
    assert "u" not in w.pool.positions()

    # Umbrella-style cover of USDC with underlying (index RAY: exact)
    w.ledger.mint("USDC", "umbrella", 10**8)
    assert w.pool.eliminate_deficit(0, "umbrella", "USDC", 10**8) == 47_619_047
    assert w.pool.deficit("USDC") == 0
    assert w.ledger.balance_of("USDC", "umbrella") == 10**8 - 47_619_047
    w.check()

    # extension: WBTC suppliers absorb 0.005 WBTC; index drops by rayDivCeil(5e5, 1e8 scaled)
    assert w.pool.socialize_deficit(0, "WBTC") == 500_000
    assert w.pool.snapshot(0).reserves[1].liquidity_index == RAY - 5 * 10**24
    assert w.pool.collateral_of(0, "lp", "WBTC") == 10**8 - 500_000
    assert w.pool.deficit("WBTC") == 0
    w.check()


@pytest.mark.parametrize(
    ("collateral", "debt", "reason"),
    [
        ("WETH", "USDC", "HEALTH_FACTOR_NOT_BELOW_THRESHOLD"),
        ("WBTC", "USDC", "COLLATERAL_CANNOT_BE_LIQUIDATED"),
        ("WETH", "WBTC", "SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER"),
    ],
)
def test_refusals(collateral: str, debt: str, reason: str) -> None:
    w = World()
    w.position(10 * E18, 16_000 * 10**6)
    if reason != "HEALTH_FACTOR_NOT_BELOW_THRESHOLD":
        w.prices["WETH"] = 1800_00000000
    before = w.pool.snapshot(0)
    assert w.pool.liquidation_call(0, "liq", collateral, debt, "u", MAX_AMOUNT) == LiquidationRefusal(reason)
    assert w.pool.preview_liquidation(0, collateral, debt, "u", MAX_AMOUNT) == LiquidationRefusal(reason)
    assert w.pool.max_liquidatable_debt(0, collateral, debt, "u") == 0
    assert w.pool.snapshot(0) == before


def test_self_liquidation_and_unfunded_liquidator() -> None:
    w = World()
    w.position(10 * E18, 16_000 * 10**6)
    w.prices["WETH"] = 1800_00000000
    assert w.pool.liquidation_call(0, "u", "WETH", "USDC", "u", 10**6).reason == "SELF_LIQUIDATION"
    out = w.pool.liquidation_call(0, "poor", "WETH", "USDC", "u", 10**6)
    assert isinstance(out, LiquidationRefusal) and out.reason == "TRANSFER_AMOUNT_EXCEEDS_BALANCE"
    w.check()


def test_preview_equals_apply_and_is_pure() -> None:
    w = World()
    w.position(10 * E18, 16_000 * 10**6)
    w.prices["WETH"] = 1850_00000000
    before = w.pool.snapshot(100)
    prev = w.pool.preview_liquidation(100, "WETH", "USDC", "u", 3_333_333_333)
    assert w.pool.snapshot(100) == before
    out = w.pool.liquidation_call(100, "liq", "WETH", "USDC", "u", 3_333_333_333)
    assert prev == out
    w.check()


def test_liquidatable_accounts_screen_and_exact_confirmation() -> None:
    w = World()
    for i, debt in enumerate([16_000, 15_500, 15_000, 10_000]):
        w.position(10 * E18, debt * 10**6, f"u{i}")
    assert w.pool.liquidatable_accounts(0) == []
    # u0 HF = 10*P*0.825/16000 < 1 <=> P < 1939.3939..; pick P so u0 sits 1 wei-ish below 1
    w.prices["WETH"] = 1939_39393939
    # 19,393.9393939 USD * 8250 / 16,000 USD -> 0.99999999999796875
    assert w.pool.account_data(0, "u0").health_factor == hf(1_939_393_939_390 * 8250, 16_000 * 10**8)
    assert hf(1_939_393_939_390 * 8250, 16_000 * 10**8) == 999_999_999_997_968_750
    assert w.pool.liquidatable_accounts(0) == ["u0"]
    w.prices["WETH"] = 1870_00000000  # u1 HF = 18700*0.825/15500 = 0.9953
    assert w.pool.liquidatable_accounts(0) == ["u0", "u1"]
    est = w.pool.health_factors_estimate(0)
    assert len(est) == 4 and abs(est[1] - 18700 * 0.825 / 15500) < 1e-12
    w.pool.liquidation_call(0, "liq", "WETH", "USDC", "u1", MAX_AMOUNT)
    still_unhealthy = w.pool.account_data(0, "u1").health_factor < E18
    assert ("u1" in w.pool.liquidatable_accounts(0)) == still_unhealthy
    exact = [a for a in ("u0", "u1", "u2", "u3") if w.pool.account_data(0, a).health_factor < E18]
    assert w.pool.liquidatable_accounts(0) == exact


def test_eliminate_deficit_refusals() -> None:
    from defisim.engine.protocols.aave_v3 import AaveError

    w = World()
    with pytest.raises(AaveError) as e:
        w.pool.eliminate_deficit(0, "umbrella", "USDC", 10**6)
    assert e.value.reason == "RESERVE_NOT_IN_DEFICIT"
    w.supply("u", "WETH", E18)
    w.pool.borrow(0, "u", "USDC", 1_000 * 10**6)
    w.prices["WETH"] = 1000_00000000
    w.pool.liquidation_call(0, "liq", "WETH", "USDC", "u", MAX_AMOUNT)
    w.position(10 * E18, 10**6, "debtor")
    w.ledger.mint("USDC", "debtor", 10**8)
    with pytest.raises(AaveError) as e:
        w.pool.eliminate_deficit(0, "debtor", "USDC", 10**6)
    assert e.value.reason == "USER_CANNOT_HAVE_DEBT"
    w.check()
