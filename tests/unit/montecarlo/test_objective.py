"""Statistics of a path dataset and risk targets: parsing, refusals, estimates, intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from defisim.montecarlo.objective import (
    ObjectiveError,
    estimate,
    parse_statistic,
    parse_target,
)
from defisim.montecarlo.riskstats import expected_shortfall, var

PROTOCOLS = ["aave", "spark"]


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 4000
    a = np.where(rng.random(n) < 0.3, rng.pareto(2.5, n) * 1e5, 0.0)
    s = np.where(rng.random(n) < 0.1, rng.exponential(5e4, n), 0.0)
    return pd.DataFrame({"path": np.arange(n), "path_seed": np.arange(n) * 7,
                         "aave.bad_debt_usd": a, "spark.bad_debt_usd": s,
                         "aave.liquidations": rng.poisson(40, n), "spark.liquidations": rng.poisson(9, n),
                         "run_seconds": np.ones(n)})


def test_statistic_names_and_aliases() -> None:
    s = parse_statistic("aave.bad_debt.var99", PROTOCOLS)
    assert (s.protocol, s.metric, s.stat, s.level) == ("aave", "bad_debt_usd", "var99", 0.99)
    assert parse_statistic("bad_debt_usd.es999").level == 0.999
    assert parse_statistic("bad_debt.p_insolvency").stat == "p_positive"
    assert parse_statistic("liquidations.mean").protocol is None


@pytest.mark.parametrize(("text", "problem"), [
    ("bad_debt", "expected"), ("a.b.c.d", "expected"), ("gas.mean", "unknown metric"),
    ("tokens_burned_base_units.mean", "unknown metric"), ("bad_debt.var9", "unknown statistic"),
    ("bad_debt.p99", "unknown statistic"), ("curve.bad_debt.mean", "no protocol 'curve'"),
])
def test_bad_statistics_are_refused(text: str, problem: str) -> None:
    with pytest.raises(ObjectiveError, match=problem):
        parse_statistic(text, PROTOCOLS)


def test_without_a_protocol_the_protocols_are_summed(df) -> None:
    total = df["aave.bad_debt_usd"].to_numpy() + df["spark.bad_debt_usd"].to_numpy()
    e = estimate(parse_statistic("bad_debt.var99"), df, rng_seed=1)
    assert e.value == var(total, 0.99)
    e_aave = estimate(parse_statistic("aave.bad_debt.es95"), df, rng_seed=1)
    assert e_aave.value == pytest.approx(expected_shortfall(df["aave.bad_debt_usd"].to_numpy(), 0.95))
    assert e.lower < e.value < e.upper


def test_var_carries_the_gpd_tail_quantile(df) -> None:
    e = estimate(parse_statistic("aave.bad_debt.var99"), df, rng_seed=1)
    assert e.tail is not None and e.tail["available"]
    q = e.tail["quantile"]
    assert q["level"] == 0.99 and q["lower"] < q["value"] < q["upper"]
    assert q["value"] == pytest.approx(e.value, rel=0.35)  # the tail model agrees with the data


def test_estimates_are_reproducible_and_intervals_sensible(df) -> None:
    s = parse_statistic("spark.liquidations.median")
    assert estimate(s, df, rng_seed=3) == estimate(s, df, rng_seed=3)
    m = estimate(parse_statistic("aave.liquidations.mean"), df)
    assert m.lower < 40 < m.upper  # Poisson(40) mean inside its 95 % interval
    p = estimate(parse_statistic("spark.bad_debt.p_positive"), df)
    assert p.method == "wilson" and p.lower < 0.1 < p.upper
    mx = estimate(parse_statistic("bad_debt.max"), df)
    assert mx.lower is None and mx.value == pytest.approx(
        (df["aave.bad_debt_usd"] + df["spark.bad_debt_usd"]).max())


def test_missing_column_is_named(df) -> None:
    with pytest.raises(ObjectiveError, match="no column 'morpho.bad_debt_usd'"):
        estimate(parse_statistic("morpho.bad_debt.mean"), df)
    with pytest.raises(ObjectiveError, match="records no 'socialized_usd'"):
        estimate(parse_statistic("socialized.mean"), df)


def test_targets_parse_into_or_of_and_groups() -> None:
    t = parse_target("bad_debt.var99 < 1e6 and aave.liquidations.mean >= 3 or 1e5 > spark.bad_debt.es999",
                     PROTOCOLS)
    assert [[c.text for c in g] for g in t.groups] == [
        ["bad_debt_usd.var99 < 1e+06", "aave.liquidations.mean >= 3"],
        ["spark.bad_debt_usd.es999 < 100000"]]
    assert [s.name for s in t.statistics] == ["bad_debt_usd.var99", "aave.liquidations.mean",
                                              "spark.bad_debt_usd.es999"]


@pytest.mark.parametrize(("text", "problem"), [
    ("", "empty target"), ("bad_debt.var99 <", "does not parse"), ("bad_debt.var99 == 1", "use <"),
    ("bad_debt.var99 < abc", "not a number"), ("1 < 2", "not a statistic"),
    ("0 < bad_debt.var99 < 5", "not one comparison"), ("bad_debt.var99 < 1 and (x.mean < 1 or y.mean < 2)", "no parentheses"),
    ("bad_debt.var99 < 1e6 +", r"'1e6 \+' is not a number"), ("bad_debt.var99 < 1 and", "not a number"),
    ("bad_debt.var100 < 1", "without trailing zeros"), ("bad_debt.var00 < 1", "from 0.5"),
    ("foo.var99 < 1", "unknown metric"), ("bad_debt.var99 < True", "not a number"),
    ("__import__('os').system('x') < 1", "no parentheses"), ("os.system < 1", "unknown metric"),
])
def test_bad_targets_are_refused(text: str, problem: str) -> None:
    with pytest.raises(ObjectiveError, match=problem):
        parse_target(text, PROTOCOLS)


def test_protocol_names_may_contain_hyphens() -> None:
    t = parse_target("aave-v3.bad_debt.var99 < 1e6 and 2e5 >= sai-era.bad_debt.mean",
                     ["aave-v3", "sai-era"])
    assert [c.text for c in t.groups[0]] == ["aave-v3.bad_debt_usd.var99 < 1e+06",
                                             "sai-era.bad_debt_usd.mean <= 200000"]


def test_robust_check_uses_the_least_favourable_interval_end(df) -> None:
    stat = parse_statistic("bad_debt.var99")
    e = estimate(stat, df, rng_seed=1)
    between = (e.value + e.upper) / 2
    t = parse_target(f"bad_debt.var99 < {between!r}")
    assert t.check({stat.name: e}, robust=False)
    assert not t.check({stat.name: e}, robust=True)
    low = parse_target(f"bad_debt.var99 > {(e.value + e.lower) / 2!r}")
    assert low.check({stat.name: e}, robust=False) and not low.check({stat.name: e}, robust=True)


def test_mean_interval_stays_within_the_values_taken() -> None:
    x = np.zeros(16)
    x[3] = 60_000.0  # one bad path among 16: a normal interval would reach below zero
    df = pd.DataFrame({"path": range(16), "path_seed": range(16), "aave.bad_debt_usd": x})
    e = estimate(parse_statistic("aave.bad_debt.mean"), df, rng_seed=2)
    assert e.value == pytest.approx(3750.0)
    assert 0.0 <= e.lower < e.value < e.upper <= 60_000.0
