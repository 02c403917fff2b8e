"""Empirical VaR / ES / exceedance probability / describe() of a loss sample.

Hand examples pin the conventions (inverted-CDF VaR, tail-integral ES); large seeded samples
check the estimators against closed forms with tolerances of ~5 standard errors; the bootstrap
is checked against a direct recomputation from the same random draws.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from defisim.errors import DefisimError
from defisim.montecarlo import (
    DegenerateSampleError,
    StatsError,
    describe,
    expected_shortfall,
    prob_exceed,
    var,
)

TEN = np.array([3.0, 1.0, 2.0, 5.0, 4.0, 6.0, 8.0, 7.0, 10.0, 9.0])  # 1..10, shuffled


# --- quantile convention -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("level", "expected"),
    [(0.05, 1.0), (0.1, 1.0), (0.11, 2.0), (0.5, 5.0), (0.55, 6.0), (0.85, 9.0), (0.9, 9.0),
     (0.91, 10.0), (0.95, 10.0), (0.999, 10.0)],
)
def test_var_is_the_higher_order_statistic(level, expected):
    # k = ceil(10 * level): 0.9 -> x(9) = 9 (no interpolation towards 10), 0.91 -> x(10)
    assert var(TEN, level) == expected


def test_var_matches_numpy_inverted_cdf_on_random_levels():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(997)
    for level in rng.uniform(0.001, 0.999, 50):
        assert var(x, level) == np.quantile(x, level, method="inverted_cdf")


def test_var_snaps_float_noise_in_n_times_level():
    x = np.arange(1.0, 101.0)
    assert 100 * 0.07 > 7.0  # the float product is 7.000000000000001
    assert var(x, 0.07) == 7.0  # x(7), not x(8)
    assert var(x, 0.29) == 29.0


def test_var_of_a_single_value_and_of_ties():
    assert var([4.0], 0.99) == 4.0
    assert var([0, 0, 0, 5, 5], 0.5) == 0.0
    assert var([0, 0, 0, 5, 5], 0.61) == 5.0


# --- expected shortfall --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (0.5, (6 + 7 + 8 + 9 + 10) / 5),
        (0.85, (10 + 0.5 * 9) / 1.5),  # the worst 1.5 observations: 10 and half of 9
        (0.9, 10.0),
        (0.95, 10.0),
        (0.75, (10 + 9 + 0.5 * 8) / 2.5),
    ],
)
def test_es_hand_examples(level, expected):
    assert expected_shortfall(TEN, level) == pytest.approx(expected, rel=1e-12)


def test_es_averages_the_worst_share_not_everything_at_an_atom():
    # 97 solvent paths, 3 with bad debt: the 5% tail is {30, 20, 10, 0, 0}
    x = np.zeros(100)
    x[[7, 42, 99]] = [10.0, 20.0, 30.0]
    assert var(x, 0.95) == 0.0
    assert expected_shortfall(x, 0.95) == pytest.approx(12.0, rel=1e-12)
    assert expected_shortfall(x, 0.99) == pytest.approx(30.0, rel=1e-12)
    assert x[x >= var(x, 0.95)].mean() == pytest.approx(0.6)  # the rejected convention


def test_es_is_at_least_var_and_monotone_in_level():
    rng = np.random.default_rng(11)
    for x in (rng.standard_normal(501), rng.exponential(1.0, 64), rng.integers(0, 4, 200)):
        levels = np.linspace(0.01, 0.99, 40)
        es = np.array([expected_shortfall(x, a) for a in levels])
        vs = np.array([var(x, a) for a in levels])
        assert np.all(es >= vs)
        assert np.all(np.diff(es) >= -1e-12)
        assert np.all(es <= x.max())


def test_normal_var_and_es_match_closed_forms():
    x = np.random.default_rng(2024).standard_normal(400_000)
    for level in (0.95, 0.99):
        z = stats.norm.ppf(level)
        assert var(x, level) == pytest.approx(z, abs=0.02)
        assert expected_shortfall(x, level) == pytest.approx(stats.norm.pdf(z) / (1 - level), abs=0.02)


def test_exponential_es_is_var_plus_mean():
    mean = 2.0
    x = np.random.default_rng(7).exponential(mean, 400_000)
    for level in (0.9, 0.99):
        true_var = -mean * math.log(1 - level)
        assert var(x, level) == pytest.approx(true_var, rel=0.02)
        assert expected_shortfall(x, level) == pytest.approx(true_var + mean, rel=0.02)
        assert expected_shortfall(x, level) - var(x, level) == pytest.approx(mean, rel=0.05)


# --- exceedance probability ----------------------------------------------------------------

def test_prob_exceed_is_strict():
    x = [0.0, 0.0, 1.0, 2.0, 2.0]
    assert prob_exceed(x) == pytest.approx(0.6)
    assert prob_exceed(x, 2.0) == 0.0
    assert prob_exceed(x, 1.5) == pytest.approx(0.4)
    assert prob_exceed(x, -1.0) == 1.0


# --- input validation ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "bad",
    [[], [1.0, float("nan")], [1.0, float("inf")], [[1.0, 2.0], [3.0, 4.0]], "abc"],
)
def test_bad_samples_raise_stats_error(bad):
    with pytest.raises(StatsError) as info:
        var(bad, 0.9)
    assert isinstance(info.value, DefisimError) and isinstance(info.value, ValueError)
    assert info.value.parameter == "x"


@pytest.mark.parametrize("level", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_levels_outside_the_open_unit_interval_raise(level):
    with pytest.raises(StatsError, match="strictly between 0 and 1"):
        expected_shortfall(TEN, level)


def test_degenerate_sample_error_is_a_stats_error():
    assert issubclass(DegenerateSampleError, StatsError)


# --- describe ------------------------------------------------------------------------------

def test_describe_fields_and_json():
    x = np.random.default_rng(5).lognormal(0.0, 1.0, 3000) - 1.0
    s = describe(x)
    assert s.n == 3000
    assert s.mean == pytest.approx(x.mean()) and s.std == pytest.approx(x.std(ddof=1))
    assert (s.min, s.max) == (x.min(), x.max())
    assert [lr.level for lr in s.levels] == [0.95, 0.99, 0.999]
    for lr in s.levels:
        assert lr.var == var(x, lr.level)
        assert lr.es == pytest.approx(expected_shortfall(x, lr.level))
        assert lr.var_ci is None and lr.es_ci is None
    assert dict(s.quantiles)[0.5] == var(x, 0.5)
    assert s.p_positive == prob_exceed(x, 0.0)
    assert s.n_boot is None
    assert s.at(0.99).var == var(x, 0.99)
    with pytest.raises(KeyError):
        s.at(0.9)
    # 0.999 of 3000 leaves 3 paths beyond the VaR
    assert len(s.warnings) == 1 and "level 0.999" in s.warnings[0]
    d = json.loads(json.dumps(s.as_dict(), allow_nan=False))
    assert d["levels"][1]["var"] == s.levels[1].var
    assert d["quantiles"][2] == {"p": 0.9, "value": var(x, 0.9)}
    assert d["p_positive_ci"] == list(s.p_positive_ci)


def test_describe_is_frozen_and_handles_one_value():
    s = describe([5.0], levels=(0.5,))
    assert s.std == 0.0 and s.levels[0].var == 5.0 and s.levels[0].es == 5.0
    with pytest.raises(AttributeError):
        s.n = 2  # type: ignore[misc]


def test_wilson_interval_of_insolvency_probability():
    s = describe(np.zeros(100), levels=(0.5,))
    z2 = stats.norm.ppf(0.975) ** 2
    assert s.p_positive == 0.0
    assert s.p_positive_ci[0] == 0.0
    assert s.p_positive_ci[1] == pytest.approx(z2 / (100 + z2), rel=1e-9)  # 0 of n: z²/(n+z²)
    s = describe(np.r_[np.ones(30), np.zeros(70)], levels=(0.5,))
    lo, hi = s.p_positive_ci
    assert lo < 0.3 < hi and hi - lo == pytest.approx(0.1772, abs=1e-3)


# --- bootstrap -----------------------------------------------------------------------------

def test_bootstrap_is_deterministic_given_the_generator():
    x = np.random.default_rng(1).exponential(1.0, 2000)
    a = describe(x, rng=np.random.default_rng(42), n_boot=300)
    b = describe(x, rng=np.random.default_rng(42), n_boot=300)
    c = describe(x, rng=np.random.default_rng(43), n_boot=300)
    assert a == b
    assert a.as_dict() == b.as_dict()
    assert a.levels[0].var_ci != c.levels[0].var_ci
    assert a.n_boot == 300


def test_bootstrap_equals_direct_recomputation_from_the_same_draws():
    x = np.random.default_rng(8).standard_t(3, 60)
    n_boot, levels = 200, (0.9, 0.975)
    s = describe(x, levels, rng=np.random.default_rng(9), n_boot=n_boot, ci=0.9)
    # documented draw order: rng.integers(0, n, (n_boot, n)) in one chunk for small n
    idx = np.random.default_rng(9).integers(0, x.size, size=(n_boot, x.size))
    xs = np.sort(x)
    for lr in s.levels:
        bv = [var(xs[i], lr.level) for i in idx]
        be = [expected_shortfall(xs[i], lr.level) for i in idx]
        assert lr.var_ci == pytest.approx(tuple(np.quantile(bv, [0.05, 0.95])), rel=1e-12)
        assert lr.es_ci == pytest.approx(tuple(np.quantile(be, [0.05, 0.95])), rel=1e-10)


def test_bootstrap_intervals_cover_the_truth_for_a_normal_sample():
    x = np.random.default_rng(17).standard_normal(5000)
    s = describe(x, levels=(0.95, 0.99), rng=np.random.default_rng(0), n_boot=400)
    for lr in s.levels:
        z = stats.norm.ppf(lr.level)
        lo, hi = lr.var_ci
        assert lo <= lr.var <= hi and lo < z < hi
        lo, hi = lr.es_ci
        assert lo <= lr.es <= hi and lo < stats.norm.pdf(z) / (1 - lr.level) < hi


def test_bootstrap_rejects_a_legacy_random_state():
    with pytest.raises(StatsError, match="Generator"):
        describe(TEN, rng=np.random.RandomState(0))  # type: ignore[arg-type]
