"""The AdaptiveCurveIrm mirror against Morpho's own JS port (``@morpho-org/blue-sdk`` 6.4.0).

``AdaptiveCurveIrmLib`` (BigInt, so no rounding of its own; BigInt ``/`` rounds toward zero
like Solidity's signed division) gives ``wExp`` and, from (utilisation, start rate at target,
elapsed), the average borrow rate, the end borrow rate and the end rate at target. One Node
process evaluates a few thousand seeded inputs plus the edge cases (utilisation 0, exactly 90 %,
exactly 100 % and beyond, an empty market, elapsed 0 and centuries, rates at target at and
beyond both bounds, ``wExp`` at and around ``LN_WEI_INT`` and ``WEXP_UPPER_BOUND`` and at the
half-``ln 2`` rounding points); every Python result must equal the JS one exactly.

Needs ``node`` and ``npm ci`` (blue-sdk is a pinned dev dependency in package.json); like the
chain tests, this fails rather than skips when they are missing.
"""

from __future__ import annotations

import itertools
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from defisim.chain.artifacts import node_modules_dir
from defisim.engine.protocols.morpho_blue import (
    AdaptiveCurveIrm,
    FixedPriceOracle,
    Market,
    MarketParams,
)
from defisim.engine.protocols.morpho_blue import adaptive_curve_irm as A
from defisim.engine.protocols.morpho_blue.errors import MorphoError

SCRIPT = Path(__file__).with_name("blue_sdk_adaptive_curve.cjs")
WAD = 10**18
YEAR = 365 * 86400
U128 = 2**128 - 1
SEED = 20_240_611


def _run_js(request: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; this cross-check needs Node 20 and `npm ci`")
    modules = node_modules_dir()
    if not (modules / "@morpho-org" / "blue-sdk" / "package.json").is_file():
        pytest.fail(f"@morpho-org/blue-sdk is not in {modules}: run `npm ci` (it is a pinned dev dependency)")
    proc = subprocess.run([node, str(SCRIPT), str(modules)], input=json.dumps(request), capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# --- inputs ---------------------------------------------------------------------------------------

def _wexp_inputs(rng: random.Random) -> list[int]:
    xs = [0, 1, -1, WAD, -WAD, 10**70, -(10**70), A.INT256_MAX, A.INT256_MIN]
    for edge in (A.LN_WEI_INT, A.WEXP_UPPER_BOUND):
        xs += [edge + d for d in (-2, -1, 0, 1, 2)]
    half = A.LN_2_INT // 2
    for k in range(-60, 136):  # the half-ln2 rounding points of q, both signs
        xs += [k * A.LN_2_INT + d for d in (-half - 1, -half, -half + 1, half - 1, half, half + 1, 0)]
    xs += [rng.randint(A.LN_WEI_INT - WAD, A.WEXP_UPPER_BOUND + WAD) for _ in range(1500)]
    xs += [rng.randint(-3 * WAD, 3 * WAD) for _ in range(500)]
    return xs


def _rate_inputs(rng: random.Random) -> list[tuple[int, int, int, int]]:
    """(tSA, tBA, start rate at target, elapsed)."""
    t = A.TARGET_UTILIZATION
    markets = [(0, 0), (WAD, 0), (WAD, 1), (WAD, t - 1), (WAD, t), (WAD, t + 1), (WAD, WAD - 1), (WAD, WAD),
               (WAD, WAD + 1), (WAD, 2 * WAD), (3, 2), (U128, U128), (U128, U128 // 2), (7 * 10**6, 63 * 10**5)]
    starts = [0, 1, A.MIN_RATE_AT_TARGET - 1, A.MIN_RATE_AT_TARGET, A.MIN_RATE_AT_TARGET + 1,
              A.INITIAL_RATE_AT_TARGET, A.MAX_RATE_AT_TARGET - 1, A.MAX_RATE_AT_TARGET, A.MAX_RATE_AT_TARGET + 1,
              10**15]
    elapsed = [0, 1, 2, 3, 12, 13, 3600, 86400, 30 * 86400, YEAR, 10 * YEAR, 100 * YEAR, 2**40]
    cases = [(s, b, r, e) for (s, b), r, e in itertools.product(markets, starts, elapsed)]
    for _ in range(3000):
        supply = rng.choice([rng.randint(1, 10**6), rng.randint(1, 10**24), rng.randint(1, U128)])
        kind = rng.random()
        if kind < 0.5:
            borrow = rng.randint(0, supply)
        elif kind < 0.8:  # near the target, where err is small and changes sign
            borrow = min(U128, max(0, supply * 9 // 10 + rng.randint(-10**6, 10**6)))
        else:  # beyond 100 % (no real market, but borrowRateView takes any state)
            borrow = min(U128, supply + rng.randint(0, supply))
        start = rng.choice([0, rng.randint(A.MIN_RATE_AT_TARGET, A.MAX_RATE_AT_TARGET),
                            rng.randint(A.MIN_RATE_AT_TARGET, A.MAX_RATE_AT_TARGET),
                            int(A.MIN_RATE_AT_TARGET * (A.MAX_RATE_AT_TARGET // A.MIN_RATE_AT_TARGET)
                                ** (rng.randint(0, 1000) * 10**-3)), rng.randint(1, 10**16)])
        secs = rng.choice([rng.randint(0, 60), rng.randint(0, 86400), rng.randint(0, YEAR), rng.randint(0, 50 * YEAR)])
        cases.append((supply, borrow, start, secs))
    return cases


@pytest.fixture(scope="module")
def js() -> tuple[list[int], list[tuple[int, int, int, int]], dict[str, Any]]:
    rng = random.Random(SEED)
    wexp, rates = _wexp_inputs(rng), _rate_inputs(rng)
    answer = _run_js({"wexp": [str(x) for x in wexp], "rates": [[str(v) for v in c] for c in rates]})
    assert len(answer["wexp"]) == len(wexp) and len(answer["rates"]) == len(rates)
    return wexp, rates, answer


# --- the comparisons ------------------------------------------------------------------------------

def test_constants_equal_blue_sdk(js: Any) -> None:
    _, _, answer = js
    ours = {name: getattr(A, name) for name in answer["constants"]}
    assert {k: str(v) for k, v in ours.items()} == answer["constants"]
    # and the published per-second values
    assert (A.INITIAL_RATE_AT_TARGET, A.MIN_RATE_AT_TARGET, A.MAX_RATE_AT_TARGET, A.ADJUSTMENT_SPEED) == (
        1_268_391_679, 31_709_791, 63_419_583_967, 1_585_489_599_188)


def test_w_exp_equals_blue_sdk(js: Any) -> None:
    xs, _, answer = js
    got = [str(A.w_exp(x)) for x in xs]
    bad = [(x, g, w) for x, g, w in zip(xs, got, answer["wexp"], strict=True) if g != w]
    assert bad == [], f"{len(bad)} of {len(xs)} differ, first: {bad[:3]}"
    # the bounds: 0 below ln(1e-18), the clip value at and above the upper bound
    assert A.w_exp(A.LN_WEI_INT - 1) == 0 and A.w_exp(-(10**70)) == 0
    assert A.w_exp(A.WEXP_UPPER_BOUND) == A.WEXP_UPPER_VALUE == A.w_exp(10**70)
    assert A.w_exp(A.WEXP_UPPER_BOUND - 1) < A.WEXP_UPPER_VALUE
    assert A.w_exp(0) == WAD


def test_borrow_rate_equals_blue_sdk(js: Any) -> None:
    """For every (market, start rate at target, elapsed): the utilisation, the average rate
    (``borrowRateView`` and ``borrowRate``), the stored end rate at target and the end borrow
    rate (the curve at it) equal the JS results; ``borrowRateView`` stores nothing."""
    _, cases, answer = js
    bad = []
    now0 = 1_700_000_000
    for (tsa, tba, start, elapsed), (util, avg, end_rate, end_at) in zip(cases, answer["rates"], strict=True):
        market = Market(tsa, tsa * 10**6, tba, tba * 10**6, now0, 0)
        name = "m"
        irm = AdaptiveCurveIrm(rate_at_target={name: start} if start else None)
        params = MarketParams(name, "L", "C", FixedPriceOracle(), irm, 86 * 10**16)
        now = now0 + elapsed
        view = irm.borrow_rate_view(params, market, now)
        unchanged = irm.rate_at_target(name) == start
        rate = irm.borrow_rate(params, market, now)
        ours = (A.utilization(market), view, A.curve(irm.rate_at_target(name), A.normalized_error(int(util))),
                irm.rate_at_target(name))
        want = (int(util), int(avg), int(end_rate), int(end_at))
        if ours != want or rate != view or not unchanged:
            bad.append(((tsa, tba, start, elapsed), ours, want))
    assert bad == [], f"{len(bad)} of {len(cases)} differ, first: {bad[:3]}"


def test_the_inputs_reach_the_cases_that_matter(js: Any) -> None:
    """The batch exercises what a floor-division or unclamped mirror would get wrong: negative
    odd linear adaptations (``linearAdaptation / 2`` toward zero), negative errors that do not
    divide evenly, end rates clamped at both bounds, and first interactions."""
    _, cases, answer = js
    odd_negative = inexact_err = at_min = at_max = first = 0
    for (tsa, tba, start, elapsed), (util, _avg, _end, end_at) in zip(cases, answer["rates"], strict=True):
        u = int(util)
        err = A.normalized_error(u)
        linear = A.w_mul_to_zero(A.ADJUSTMENT_SPEED, err) * elapsed
        odd_negative += start != 0 and linear < 0 and linear % 2 == 1
        inexact_err += u < A.TARGET_UTILIZATION and (u - A.TARGET_UTILIZATION) * WAD % A.TARGET_UTILIZATION != 0
        at_min += start != 0 and int(end_at) == A.MIN_RATE_AT_TARGET and linear != 0
        at_max += start != 0 and int(end_at) == A.MAX_RATE_AT_TARGET and linear != 0
        first += start == 0
    assert min(odd_negative, inexact_err, at_min, at_max, first) >= 50, (odd_negative, inexact_err, at_min, at_max,
                                                                         first)


def test_signed_division_rounds_toward_zero() -> None:
    """Where Python's ``//`` floors and Solidity truncates, the mirror truncates."""
    assert (A.sdiv(-7, 2), A.sdiv(7, -2), A.sdiv(-7, -2), A.sdiv(7, 2)) == (-3, -3, 3, 3)
    assert A.w_mul_to_zero(-3, WAD // 2) == -1  # -1.5 -> -1 (floor: -2)
    assert A.w_div_to_zero(-1, 3 * WAD) == 0  # -0.33 wei -> 0 (floor: -1)
    assert A.normalized_error(0) == -WAD and A.normalized_error(A.TARGET_UTILIZATION) == 0
    assert A.normalized_error(WAD) == WAD and A.normalized_error(1) == -999_999_999_999_999_998
    with pytest.raises(MorphoError, match="0x12"):
        A.sdiv(1, 0)
    with pytest.raises(MorphoError, match="0x11"):
        A.sdiv(A.INT256_MIN, -1)
    with pytest.raises(MorphoError, match="0x11"):
        A.w_mul_to_zero(A.INT256_MAX, 2)
