"""The vectorised screen (defisim.montecarlo.screening): checked against the exact engine on
sampled paths with the documented tolerance, plus exact properties (same inputs as the engine,
no liquidation without a price fall, monotone in a shock, determinism, path independence,
refusal of what it cannot model).

The engine comparison uses ``scenarios/one_pool_day.yaml`` cut to 400 borrowers with the
markets scaled down by the same factor (25), a crash brought forward to hour 1, and 2,400
blocks, so the engine runs in about two seconds a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

import defisim
from defisim.montecarlo.runner import run_path
from defisim.montecarlo.screening import (
    SCREEN_METRICS,
    TOLERANCE,
    UnsupportedScenarioError,
    path_inputs,
    screen_model,
    screen_paths,
)
from defisim.montecarlo.seeding import path_seed
from defisim.scenario.assemble import WorldBuilder, build_world
from defisim.scenario.populations import draw_population

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"

COMPARED = ("bad_debt_usd", "liquidation_volume_usd", "liquidations", "insurance_fund_drawn_usd",
            "socialized_usd")

SCALED_DOWN: dict[str, Any] = {
    "protocols.aave.borrowers.0.count": 400,
    "markets.weth-usdc.liquidity": {"WETH": "200 WETH", "USDC": "600000 USDC"},
    "markets.cex.depth_usd": 40_000_000,
    "protocols.aave.insurance_fund.initial": "6000 USDC",
    "protocols.aave.suppliers": {"USDC": "24000000 USDC", "WETH": "80 WETH"},
    "agents.arb.capital": {"WETH": "120 WETH", "USDC": "400000 USDC"},
    "prices.stress.at": "1h",
}


def one_pool_day() -> Any:
    return defisim.load_scenario(SCENARIOS / "one_pool_day.yaml")


def small_scenario(**extra: Any) -> Any:
    return defisim.with_overrides(one_pool_day(), {**SCALED_DOWN, **extra})


def engine_rows(scenario: Any, seed: int, paths: int, blocks: int) -> pd.DataFrame:
    rows = [run_path(scenario, path_seed(seed, i), path=i, blocks=blocks, metrics=COMPARED)
            for i in range(paths)]
    return pd.DataFrame(rows)


def check_agreement(screen: pd.DataFrame, exact: pd.DataFrame, protocol: str = "aave") -> dict[str, float]:
    """Assert the documented tolerance path by path; return the worst deviations seen."""
    tol = TOLERANCE
    col = lambda m: f"{protocol}.{m}"
    worst = {"volume_rel": 0.0, "count_rel": 0.0, "bad_debt_rel": 0.0, "bad_debt_abs": 0.0}
    for i in range(len(exact)):
        e_vol, s_vol = exact[col("liquidation_volume_usd")][i], screen[col("liquidation_volume_usd")][i]
        rel = abs(s_vol - e_vol) / max(e_vol, 1.0)
        worst["volume_rel"] = max(worst["volume_rel"], rel)
        assert rel <= tol.volume_rel, f"path {i}: volume {s_vol} vs engine {e_vol}"
        e_n, s_n = exact[col("liquidations")][i], screen[col("liquidations")][i]
        worst["count_rel"] = max(worst["count_rel"], abs(s_n - e_n) / max(e_n, 1))
        assert abs(s_n - e_n) <= max(tol.count_abs, tol.count_rel * e_n), f"path {i}: {s_n} vs {e_n} liquidations"
        for metric in ("bad_debt_usd", "insurance_fund_drawn_usd", "socialized_usd"):
            e_bd, s_bd = exact[col(metric)][i], screen[col(metric)][i]
            diff, big = abs(s_bd - e_bd), max(e_bd, s_bd)
            if metric == "bad_debt_usd":
                worst["bad_debt_abs"] = max(worst["bad_debt_abs"], diff)
                if big > tol.bad_debt_abs_usd:
                    worst["bad_debt_rel"] = max(worst["bad_debt_rel"], diff / big)
            assert diff <= max(tol.bad_debt_abs_usd, tol.bad_debt_rel * big), \
                f"path {i}: {metric} {s_bd} vs engine {e_bd}"
    e_bd, s_bd = exact[col("bad_debt_usd")], screen[col("bad_debt_usd")]
    if e_bd.nunique() > 2:
        rho = spearmanr(e_bd, s_bd).statistic
        worst["spearman"] = float(rho)
        assert rho >= tol.rank_spearman, f"bad-debt ranking: Spearman {rho}"
    big = np.maximum(e_bd, s_bd) > tol.bad_debt_abs_usd
    assert ((e_bd > 0) == (s_bd > 0))[big].all(), "zero vs non-zero bad debt disagree"
    return worst


# --- against the exact engine -------------------------------------------------------------------

@pytest.mark.slow
def test_matches_engine_on_sampled_crash_paths() -> None:
    """A 30 % stress crash: every path liquidates, most realise bad debt and draw the fund."""
    scenario = small_scenario(**{"prices.stress.depth": 0.30})
    seed, paths, blocks = 3, 8, 2400
    screen = screen_paths(scenario, paths=paths, seed=seed, blocks=blocks)
    exact = engine_rows(scenario, seed, paths, blocks)
    assert (screen["path_seed"] == exact["path_seed"]).all()
    assert (exact["aave.bad_debt_usd"] > 0).sum() >= 5  # the comparison covers bad debt
    check_agreement(screen, exact)


# --- same inputs as the engine ------------------------------------------------------------------

def test_path_inputs_are_the_engines() -> None:
    scenario = small_scenario(**{"protocols.aave.borrowers.0.count": 50})
    model = screen_model(scenario)
    for seed in (0, 7, path_seed(123, 4)):
        prices, coll, debt = path_inputs(model, seed, 300)
        world = build_world(scenario, seed, 300)
        assert np.array_equal(prices[0], world.reference.of("WETH"))
        assert np.array_equal(prices[1], world.reference.of("USDC"))
        spec = scenario.protocols[0]
        wb = WorldBuilder(scenario, seed, 300)
        drawn = draw_population(
            spec.borrowers[0], index=0, prices={"WETH": float(prices[0, 0]), "USDC": 1.0},
            decimals={"WETH": 18, "USDC": 6},
            liquidation_threshold={a: p.liquidation_threshold for a, p in spec.reserves.items()},
            ltv={a: p.ltv for a, p in spec.reserves.items()},
            rng=wb.rng("population", "aave", 0),
        )
        np.testing.assert_allclose(coll, [int(x) / 1e18 for x in drawn.collateral["WETH"]], rtol=1e-15)
        np.testing.assert_allclose(debt, [int(x) / 1e6 for x in drawn.debt], rtol=1e-15)
        pool = world.protocols["aave"]
        now = world.now(0)
        assert [pool.debt_of(now, n, "USDC") for n in drawn.names[:5]] == [int(x) for x in drawn.debt[:5]]


# --- exact properties -----------------------------------------------------------------------------

def tiny(**extra: Any) -> Any:
    """40 borrowers, 400 blocks: fast enough for hundreds of paths."""
    return small_scenario(**{"protocols.aave.borrowers.0.count": 40, "chain.blocks": 400,
                             "prices.stress.at": "10m", "prices.stress.over": "20m", **extra})


def scripted(points: list[list[Any]]) -> dict[str, Any]:
    return {"model": "scripted", "interpolation": "log",
            "assets": {"WETH": {"points": points}, "USDC": {"start": 1.0}}}


def test_no_liquidation_when_prices_never_fall() -> None:
    scenario = tiny(prices=scripted([[0, 3000], ["30m", 3300], ["80m", 3600]]))
    df = screen_paths(scenario, paths=20, seed=1)
    for metric in SCREEN_METRICS:
        assert (df[f"aave.{metric}"] == 0).all(), metric


@pytest.mark.parametrize("seed", [1, 2])
def test_monotone_in_a_price_shock(seed: int) -> None:
    """Deeper crashes liquidate more volume and realise at least as much bad debt."""
    volume, bad = [], []
    for depth in (0.05, 0.10, 0.20, 0.30, 0.45):
        scenario = tiny(prices=scripted([[0, 3000], ["10m", 3000], ["15m", 3000 * (1 - depth)]]))
        df = screen_paths(scenario, paths=3, seed=seed)
        volume.append(df["aave.liquidation_volume_usd"].to_numpy())
        bad.append(df["aave.bad_debt_usd"].to_numpy())
    assert (np.diff(np.array(volume), axis=0) >= 0).all()
    assert (np.diff(np.array(bad), axis=0) >= 0).all()
    assert (volume[-1] > 0).all() and (bad[-1] > 0).all()


def test_deterministic_from_the_seed() -> None:
    scenario = tiny()
    a = screen_paths(scenario, paths=12, seed=5)
    b = screen_paths(scenario, paths=12, seed=5)
    pd.testing.assert_frame_equal(a, b)
    c = screen_paths(scenario, paths=12, seed=6)
    assert not a.drop(columns=["path"]).equals(c.drop(columns=["path"]))
    assert (a["aave.liquidations"] > 0).all()


def test_path_rows_do_not_depend_on_how_many_paths_or_chunks() -> None:
    scenario = tiny()
    ten = screen_paths(scenario, paths=10, seed=9)
    hundred = screen_paths(scenario, paths=100, seed=9, chunk_paths=33)
    pd.testing.assert_frame_equal(ten, hundred.iloc[:10].reset_index(drop=True))
    two_workers = screen_paths(scenario, paths=100, seed=9, chunk_paths=50, workers=2)
    pd.testing.assert_frame_equal(hundred, two_workers)
    assert list(ten["path_seed"]) == [path_seed(9, i) for i in range(10)]


def test_columns_match_the_exact_dataset() -> None:
    df = screen_paths(tiny(), paths=2, seed=1)
    assert list(df.columns) == ["path", "path_seed"] + [f"aave.{m}" for m in SCREEN_METRICS]
    assert df["path"].dtype == np.int64 and df["path_seed"].dtype == np.int64
    assert df["aave.liquidations"].dtype == np.int64
    assert df["aave.bad_debt_usd"].dtype == np.float64


# --- scope ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("file", "component", "kind"), [
    ("default.yaml", "protocols", "aave-v3"),      # two pools
    ("maker.yaml", "protocols.0", "maker"),
    ("morpho_blue.yaml", "protocols.0", "morpho-blue"),
])
def test_refuses_what_it_cannot_model(file: str, component: str, kind: str) -> None:
    scenario = defisim.load_scenario(SCENARIOS / file)
    with pytest.raises(UnsupportedScenarioError) as info:
        screen_paths(scenario, paths=1)
    assert info.value.component == component
    assert info.value.kind == kind
    assert isinstance(info.value, ValueError)


def test_refuses_unsupported_fields() -> None:
    scenario = defisim.with_overrides(tiny(), {"protocols.aave.version": "3.0"})
    with pytest.raises(UnsupportedScenarioError, match="3.0"):
        screen_model(scenario)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        screen_paths(tiny(), paths=0)
    with pytest.raises(ValueError):
        screen_paths(tiny(), paths=1, seed=-1)
