"""UniswapV2Pool against hand-computed UniswapV2Library / UniswapV2Pair arithmetic."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defisim.engine.ledger import Ledger
from defisim.engine.markets.uniswap_v2 import (
    Q112,
    PoolError,
    UniswapV2Pool,
    get_amount_in,
    get_amount_out,
)
from defisim.engine.records import SwapExecuted
from defisim.errors import InsufficientBalanceError

E18 = 10**18
E6 = 10**6
T0 = 1_700_000_000  # a realistic block timestamp (s)


def make_pool(weth: int = 1000 * E18, usdc: int = 3_000_000 * E6, fee_bps: int = 30) -> UniswapV2Pool:
    ledger = Ledger({"WETH": 18, "USDC": 6})
    ledger.mint("WETH", "lp", weth)
    ledger.mint("USDC", "lp", usdc)
    ledger.mint("WETH", "alice", 100 * E18)
    ledger.mint("USDC", "alice", 1_000_000 * E6)
    pool = UniswapV2Pool("weth-usdc", "WETH", "USDC", ledger, fee_bps=fee_bps)
    pool.add_liquidity("lp", weth, usdc, now=T0)
    return pool


# --- UniswapV2Library -------------------------------------------------------------------------


def test_get_amount_out_hand_computed() -> None:
    pool = make_pool()
    # 10 WETH in: in_with_fee = 10e18 * 997; out = in_with_fee * 3e12 / (1000e18 * 1000 + in_with_fee)
    in_with_fee = 10 * E18 * 997
    expected = in_with_fee * 3_000_000 * E6 // (1000 * E18 * 1000 + in_with_fee)
    assert expected == 29_614_741_031  # 29,614.741031 USDC: 2991e12 / 100997 = 29614741031.02...
    assert Fraction(2_991_000_000_000_000, 100_997) > expected > Fraction(2_991_000_000_000_000, 100_997) - 1
    assert pool.get_amount_out(10 * E18, "WETH") == 29_614_741_031
    # the general fee form with bps gives the same floor as 997/1000
    assert get_amount_out(10 * E18, 1000 * E18, 3_000_000 * E6, fee_bps=30) == 29_614_741_031


def test_get_amount_in_hand_computed() -> None:
    pool = make_pool()
    # 30,000 USDC out: in = 1000e18 * 30000e6 * 1000 // ((3e12 - 30000e6) * 997) + 1
    numerator = 1000 * E18 * 30_000 * E6 * 1000
    denominator = (3_000_000 * E6 - 30_000 * E6) * 997
    assert numerator // denominator + 1 == 10_131_404_313_951_956_881
    assert pool.get_amount_in(30_000 * E6, "USDC") == 10_131_404_313_951_956_881
    # and that input indeed buys at least the output
    assert pool.get_amount_out(10_131_404_313_951_956_881, "WETH") >= 30_000 * E6


def test_small_fee_math_other_fee() -> None:
    # fee 100 bps: out = a * 9900 * R_out // (R_in * 10000 + a * 9900)
    assert get_amount_out(1000, 10_000, 20_000, fee_bps=100) == 1000 * 9900 * 20_000 // (10_000 * 10_000 + 1000 * 9900)
    assert get_amount_out(1000, 10_000, 20_000, fee_bps=100) == 1801
    assert get_amount_out(1000, 10_000, 20_000, fee_bps=0) == 1818


def test_library_reverts() -> None:
    with pytest.raises(PoolError, match="INSUFFICIENT_INPUT_AMOUNT"):
        get_amount_out(0, 10, 10)
    with pytest.raises(PoolError, match="INSUFFICIENT_LIQUIDITY"):
        get_amount_out(1, 0, 10)
    with pytest.raises(PoolError, match="INSUFFICIENT_OUTPUT_AMOUNT"):
        get_amount_in(0, 10, 10)
    with pytest.raises(PoolError, match="INSUFFICIENT_LIQUIDITY"):
        get_amount_in(10, 10, 10)


# --- swaps ------------------------------------------------------------------------------------


def test_swap_moves_balances_and_conserves() -> None:
    pool = make_pool()
    ledger = pool.ledger
    k_before = pool.k
    rec = pool.swap_exact_in(block=1, now=T0 + 12, trader="alice", token_in="WETH", amount_in=10 * E18)
    assert rec == SwapExecuted(
        block=1, pool="weth-usdc", trader="alice", token_in="WETH", amount_in=10 * E18,
        token_out="USDC", amount_out=29_614_741_031,
        reserve0=1010 * E18, reserve1=3_000_000 * E6 - 29_614_741_031,
    )
    assert ledger.balance_of("WETH", "alice") == 90 * E18
    assert ledger.balance_of("USDC", "alice") == 1_000_000 * E6 + 29_614_741_031
    assert ledger.balance_of("WETH", pool.address) == pool.reserve0 == 1010 * E18
    assert ledger.balance_of("USDC", pool.address) == pool.reserve1
    assert ledger.conservation_errors() == []
    assert pool.k >= k_before
    assert pool.reserves("USDC") == (pool.reserve1, pool.reserve0)


def test_swap_exact_out() -> None:
    pool = make_pool()
    rec = pool.swap_exact_out(1, T0 + 12, "alice", "USDC", 30_000 * E6)
    assert rec is not None
    assert rec.amount_in == 10_131_404_313_951_956_881 and rec.amount_out == 30_000 * E6
    assert pool.swap_exact_out(2, T0 + 24, "alice", "USDC", 30_000 * E6, max_in=E18) is None
    assert pool.ledger.conservation_errors() == []


def test_min_out_refusal_leaves_state_unchanged() -> None:
    pool = make_pool()
    before = pool.snapshot()
    alice = (pool.ledger.balance_of("WETH", "alice"), pool.ledger.balance_of("USDC", "alice"))
    assert pool.swap_exact_in(1, T0 + 12, "alice", "WETH", 10 * E18, min_out=29_614_741_032) is None
    assert pool.snapshot() == before
    assert (pool.ledger.balance_of("WETH", "alice"), pool.ledger.balance_of("USDC", "alice")) == alice
    # exactly the output is accepted
    assert pool.swap_exact_in(1, T0 + 12, "alice", "WETH", 10 * E18, min_out=29_614_741_031) is not None


def test_zero_output_trade_is_refused() -> None:
    pool = make_pool()
    before = pool.snapshot()
    assert pool.swap_exact_in(1, T0 + 12, "alice", "WETH", 1) is None  # 1 wei buys < 1 micro-USDC
    assert pool.snapshot() == before


def test_insufficient_balance_moves_nothing() -> None:
    pool = make_pool()
    before = pool.snapshot()
    with pytest.raises(InsufficientBalanceError):
        pool.swap_exact_in(1, T0 + 12, "bob", "WETH", E18)
    assert pool.snapshot() == before
    assert pool.ledger.conservation_errors() == []


def test_bad_calls_raise() -> None:
    pool = make_pool()
    with pytest.raises(PoolError, match="INVALID_TOKEN"):
        pool.swap_exact_in(1, T0, "alice", "DAI", 1)
    with pytest.raises(PoolError):
        pool.swap_exact_in(1, T0, "alice", "WETH", 0)
    with pytest.raises(PoolError, match="INVALID_AMOUNT"):
        pool.swap_exact_in(1, T0, "alice", "WETH", 1.5)  # type: ignore[arg-type]
    empty = UniswapV2Pool("empty", "WETH", "USDC", pool.ledger)
    with pytest.raises(PoolError, match="INSUFFICIENT_LIQUIDITY"):
        empty.get_amount_out(1, "WETH")


def test_add_liquidity_checks_both_balances_first() -> None:
    pool = make_pool()
    before = pool.snapshot()
    with pytest.raises(InsufficientBalanceError):
        pool.add_liquidity("alice", 1 * E18, 2_000_000 * E6, now=T0 + 1)  # alice has 1M USDC
    assert pool.snapshot() == before
    assert pool.ledger.balance_of("WETH", "alice") == 100 * E18


# --- price accumulators -------------------------------------------------------------------------


def test_price_cumulative_after_two_swaps() -> None:
    ledger = Ledger({"A": 18, "B": 18})
    ledger.mint("A", "lp", 1000)
    ledger.mint("B", "lp", 4000)
    ledger.mint("A", "t", 10_000)
    pool = UniswapV2Pool("ab", "A", "B", ledger)
    pool.add_liquidity("lp", 1000, 4000, now=100)
    assert pool.price_cumulative_last() == (0, 0)  # reserves were empty before
    assert pool.block_timestamp_last == 100

    # swap 1 at t=110: accumulates 10 s at the OLD reserves 1000/4000
    out1 = 100 * 997 * 4000 // (1000 * 1000 + 100 * 997)
    assert out1 == 362
    pool.swap_exact_in(1, 110, "t", "A", 100)
    p0 = (4000 * Q112 // 1000) * 10
    p1 = (1000 * Q112 // 4000) * 10
    assert pool.price_cumulative_last() == (p0, p1)
    assert (pool.reserve0, pool.reserve1) == (1100, 4000 - 362)

    # swap 2 at t=140: 30 s at reserves 1100/3638
    pool.swap_exact_in(2, 140, "t", "A", 50)
    p0 += (3638 * Q112 // 1100) * 30
    p1 += (1100 * Q112 // 3638) * 30
    assert pool.price_cumulative_last() == (p0, p1)
    assert pool.block_timestamp_last == 140

    # a second swap in the same second does not accumulate
    pool.swap_exact_in(2, 140, "t", "A", 50)
    assert pool.price_cumulative_last() == (p0, p1)

    # counterfactual read (UniswapV2OracleLibrary.currentCumulativePrices) does not write
    r0, r1 = pool.reserve0, pool.reserve1
    c0, c1, ts = pool.current_cumulative_prices(150)
    assert (c0, c1, ts) == (p0 + (r1 * Q112 // r0) * 10, p1 + (r0 * Q112 // r1) * 10, 150)
    assert pool.price_cumulative_last() == (p0, p1)


def test_timestamp_wraps_mod_2_32() -> None:
    ledger = Ledger({"A": 0, "B": 0})
    ledger.mint("A", "lp", 1000)
    ledger.mint("B", "lp", 2000)
    ledger.mint("A", "t", 100)
    pool = UniswapV2Pool("ab", "A", "B", ledger)
    pool.add_liquidity("lp", 1000, 2000, now=2**32 - 5)
    assert pool.block_timestamp_last == 2**32 - 5
    pool.swap_exact_in(1, 2**32 + 5, "t", "A", 10)  # 10 s elapsed across the wrap
    assert pool.block_timestamp_last == 5
    assert pool.price_cumulative_last() == ((2000 * Q112 // 1000) * 10, (1000 * Q112 // 2000) * 10)


# --- price targeting and spot -------------------------------------------------------------------


def _exact_root(r_in: int, r_out: int, fee_bps: int, num: int, den: int, net: bool) -> Fraction:
    """Positive root of (R + g x)(R + x) = c R_in R_out den / num, solved by bisection on Fractions."""
    g = Fraction(10_000 - fee_bps, 10_000)
    c = g if net else Fraction(1)
    rhs = c * r_in * r_out * Fraction(den, num)
    lo, hi = Fraction(0), Fraction(r_out * 10**6 + r_in * 10**6)
    for _ in range(200):
        mid = (lo + hi) / 2
        if (r_in + g * mid) * (r_in + mid) < rhs:
            lo = mid
        else:
            hi = mid
    return lo


@pytest.mark.parametrize("net_of_fee", [True, False])
def test_amount_in_to_price_lands_within_one_unit(net_of_fee: bool) -> None:
    # push WETH from $3000 down to $2900: target = 2900e6 USDC base units per 1e18 wei
    pool = make_pool()
    num, den = 2900 * E6, E18
    x = pool.amount_in_to_price("WETH", num, den, net_of_fee=net_of_fee)
    root = _exact_root(1000 * E18, 3_000_000 * E6, 30, num, den, net_of_fee)
    assert abs(x - root) < 1
    assert x == int(root)  # the floor of the exact root
    pool.ledger.mint("WETH", "whale", x)
    pool.swap_exact_in(1, T0 + 12, "whale", "WETH", x)
    c = Fraction(9970, 10_000) if net_of_fee else Fraction(1)
    price_after = c * Fraction(pool.reserve1, pool.reserve0)
    assert price_after >= Fraction(num, den)  # never overshoots
    # and it gets there to within one base unit of the output token per whole token
    assert (price_after - Fraction(num, den)) * E18 < 1  # < 1 micro-USDC per whole WETH
    assert 2900 <= pool.spot_price_e8("WETH", 10**8) // 10**8 <= 2909


def test_amount_in_to_price_usdc_in_and_already_past() -> None:
    pool = make_pool()
    # raise WETH to $3100: sell USDC; price = WETH base units per USDC base unit = 1e18 / 3100e6
    num, den = E18, 3100 * E6
    x = pool.amount_in_to_price("USDC", num, den)
    assert x == int(_exact_root(3_000_000 * E6, 1000 * E18, 30, num, den, True))
    pool.swap_exact_in(1, T0 + 12, "alice", "USDC", x)
    g_spot = Fraction(9970, 10_000) * Fraction(pool.reserve0, pool.reserve1)
    assert g_spot >= Fraction(num, den)
    # the only slack is the floor of x (< 1 micro-USDC of input): relative gap ~ 1 / reserve
    assert (g_spot - Fraction(num, den)) / Fraction(num, den) < Fraction(1, 10**12)
    # already past: 0
    assert pool.amount_in_to_price("USDC", E18, 3000 * E6) == 0  # WETH already above $3000
    assert pool.amount_in_to_price("WETH", 4000 * E6, E18) == 0
    with pytest.raises(PoolError):
        pool.amount_in_to_price("WETH", 0, 1)


def test_spot_price_e8_decimals_aware() -> None:
    pool = make_pool()
    # 3,000,000e6 * 1e18 * 1e8 // (1000e18 * 1e6) = 3000e8
    assert pool.spot_price_e8("WETH", 10**8) == 3000 * 10**8
    # USDC in WETH terms at WETH = $3000: 1000e18 * 1e6 * 3000e8 // (3e12 * 1e18) = 1e8
    assert pool.spot_price_e8("USDC", 3000 * 10**8) == 10**8
    # a USDC quote at $0.99 scales the answer
    assert pool.spot_price_e8("WETH", 99_000_000) == 2970 * 10**8


# --- properties ---------------------------------------------------------------------------------

reserves = st.integers(min_value=1_000, max_value=10**30)


@settings(max_examples=300, deadline=None)
@given(r_in=reserves, r_out=reserves, a=st.integers(1, 10**30), b=st.integers(1, 10**30),
       fee=st.sampled_from([0, 5, 30, 100]))
def test_get_amount_out_monotone_and_bounded(r_in: int, r_out: int, a: int, b: int, fee: int) -> None:
    lo, hi = min(a, b), max(a, b)
    out_lo = get_amount_out(lo, r_in, r_out, fee)
    out_hi = get_amount_out(hi, r_in, r_out, fee)
    assert 0 <= out_lo <= out_hi < r_out


@settings(max_examples=200, deadline=None)
@given(r0=st.integers(10**6, 10**27), r1=st.integers(10**6, 10**27), frac=st.integers(1, 10_000),
       fee=st.sampled_from([1, 30, 100]), zero_first=st.booleans())
def test_round_trip_never_profits_and_k_grows(r0: int, r1: int, frac: int, fee: int, zero_first: bool) -> None:
    ledger = Ledger({"A": 18, "B": 6})
    ledger.mint("A", "lp", r0)
    ledger.mint("B", "lp", r1)
    pool = UniswapV2Pool("ab", "A", "B", ledger, fee_bps=fee)
    pool.add_liquidity("lp", r0, r1, now=T0)
    tok_in, tok_out = ("A", "B") if zero_first else ("B", "A")
    start = pool.reserves(tok_in)[0] * frac // 10_000 + 1
    ledger.mint(tok_in, "t", start)
    k0 = pool.k
    rec1 = pool.swap_exact_in(1, T0 + 12, "t", tok_in, start)
    if rec1 is None:
        return
    assert pool.k >= k0
    k1 = pool.k
    rec2 = pool.swap_exact_in(2, T0 + 24, "t", tok_out, rec1.amount_out)
    back = 0 if rec2 is None else rec2.amount_out
    assert back < start
    assert pool.k >= k1
    assert ledger.conservation_errors() == []
    assert ledger.balance_of("A", pool.address) == pool.reserve0
    assert ledger.balance_of("B", pool.address) == pool.reserve1
