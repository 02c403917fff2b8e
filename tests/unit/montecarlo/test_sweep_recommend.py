"""Sweeps and recommendations on the real engine (a tiny scenario, few paths), and the search
logic on a synthetic evaluator whose answer is known exactly."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import defisim
from defisim.errors import OutputError
from defisim.montecarlo.dataset import ResultsMismatchError
from defisim.montecarlo.grid import bind, parse_param
from defisim.montecarlo.objective import estimate, parse_statistic, parse_target
from defisim.montecarlo.points import EngineEvaluator
from defisim.montecarlo.recommend import DirectionError, default_direction, recommend
from defisim.montecarlo.runner import read_dataset, run_paths
from defisim.montecarlo.study_report import write_recommend_outputs, write_sweep_outputs
from defisim.montecarlo.sweep import run_sweep
from defisim.scenario.overrides import get_value
from tests.tiny_scenarios import tiny_default

ROOT = Path(__file__).resolve().parents[3]
LT = "protocols.aave.reserves.WETH.liquidation_threshold"
BONUS = "protocols.aave.reserves.WETH.liquidation_bonus"
PATHS, SEED = 6, 5


@pytest.fixture(scope="module")
def tiny():
    return tiny_default("sweep-tiny", blocks=40, aave=20, spark=10, stress_at="3m", depth=0.4, over="1m")


@pytest.fixture(scope="module")
def swept(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "s"
    params = bind(tiny, [parse_param(f"{LT}=0.81:0.85:0.02"), parse_param(f"{BONUS}=0.03,0.07")])
    ev = EngineEvaluator(PATHS, SEED, None, {"workers": 1})
    calls: list[tuple[int, int]] = []
    res = run_sweep(tiny, params, parse_statistic("aave.liquidation_volume.mean"), ev, out,
                    progress=lambda d, t: calls.append((d, t)))
    return tiny, params, ev, out, res, calls


def test_sweep_points_equal_independent_batches(swept, tmp_path) -> None:
    tiny, _params, _, _, res, _ = swept
    assert [r.point for r in res.points] == [
        {LT: lt, BONUS: b} for lt in (0.81, 0.83, 0.85) for b in (0.03, 0.07)]
    point = res.points[3].point  # LT 0.83, bonus 0.07
    spec = defisim.with_overrides(tiny, point)
    run_paths(spec, paths=PATHS, seed=SEED, out_dir=tmp_path / "alone", workers=1)
    alone = estimate(parse_statistic("aave.liquidation_volume.mean"), read_dataset(tmp_path / "alone"))
    assert res.points[3].estimates["aave.liquidation_volume_usd.mean"].value == alone.value
    assert len(set(res.values())) > 1  # the parameters change the outcome


def test_sweep_tornado_sobol_and_progress(swept) -> None:
    _, _params, _, _, res, calls = swept
    assert res.baseline == {LT: 0.825, BONUS: 0.05}  # the scenario's own values
    by = {b.param: b for b in res.tornado}
    assert set(by) == {LT, BONUS} and by[LT].low == 0.81 and by[LT].high == 0.85
    assert res.tornado[0].swing >= res.tornado[1].swing
    assert res.sobol is not None and res.sobol.method == "grid"
    assert all(0 <= f <= t + 1e-12 <= 1 + 1e-9 for f, t in zip(res.sobol.first, res.sobol.total))
    # 6 grid points + baseline + 4 one-at-a-time points (none on the grid: baseline off-grid)
    assert calls[-1] == (11 * PATHS, 11 * PATHS)
    assert all(b[0] >= a[0] for a, b in itertools.pairwise(calls))


def test_sweep_outputs(swept) -> None:
    *_, out, res, _ = swept
    files = write_sweep_outputs(res, out)
    names = {f.name for f in files}
    assert {"sweep.json", "points.csv", "response.png", "tornado.png", "sobol.png"} <= names
    data = json.loads((out / "sweep.json").read_text())
    assert data["statistic"] == "aave.liquidation_volume_usd.mean" and len(data["points"]) == 6
    csv = pd.read_csv(out / "points.csv")
    assert np.allclose(csv["value"].to_numpy(), res.values())


def test_sweep_resume_refuses_another_study_and_reuses_points(swept, tmp_path) -> None:
    tiny, params, ev, out, res, _ = swept
    with pytest.raises(OutputError, match="already holds a study"):
        run_sweep(tiny, params, parse_statistic("aave.liquidation_volume.mean"), ev, out)
    with pytest.raises(ResultsMismatchError, match="statistic"):
        run_sweep(tiny, params, parse_statistic("bad_debt.mean"), ev, out, resume=True)
    again = run_sweep(tiny, params, parse_statistic("aave.liquidation_volume.mean"), ev, out, resume=True)
    assert np.array_equal(again.values(), res.values())


def test_interrupted_sweep_resumes_to_the_same_result(swept, tmp_path) -> None:
    tiny, params, ev, _, res, _ = swept
    out = tmp_path / "cut"

    def stop(done: int, total: int) -> None:
        if done >= 2 * PATHS + 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(tiny, params, parse_statistic("aave.liquidation_volume.mean"), ev, out, progress=stop)
    again = run_sweep(tiny, params, parse_statistic("aave.liquidation_volume.mean"), ev, out, resume=True)
    assert np.array_equal(again.values(), res.values())
    assert again.as_dict()["tornado"] == res.as_dict()["tornado"]


# --- recommend on the engine --------------------------------------------------------------

def test_recommend_on_the_engine_picks_the_boundary_with_evidence(tiny, tmp_path) -> None:
    params = bind(tiny, [parse_param(f"{LT}=0.80:0.88:0.01")])  # 9 values
    ev = EngineEvaluator(PATHS, SEED, None, {"workers": 1})
    # a bound between the volumes at the ends, so the answer is inside the range
    lo = _volume(tiny, {LT: 0.80}, tmp_path / "a")
    hi = _volume(tiny, {LT: 0.88}, tmp_path / "b")
    assert hi > lo
    bound = (lo + hi) / 2
    rec = recommend(tiny, params, parse_target(f"aave.liquidation_volume.mean < {bound}"), ev,
                    tmp_path / "rec", robust=False)
    assert rec.directions == {LT: "max"} and rec.search == "bisection"
    chosen = rec.chosen.result.point[LT]
    assert rec.chosen.meets and 0.80 <= chosen < 0.88
    higher = [n for n in rec.neighbours if n.result.point[LT] > chosen]
    assert higher and not higher[0].meets  # one step more efficient fails
    assert rec.warnings or len(rec.evaluated) <= 2 + 3 + 2  # ends, bisection, neighbours: not all 9
    files = write_recommend_outputs(rec, tmp_path / "rec")
    assert json.loads(files[0].read_text())["chosen"]["point"] == {LT: chosen}


def _volume(tiny, point, out) -> float:
    run_paths(defisim.with_overrides(tiny, point), paths=PATHS, seed=SEED, out_dir=out, workers=1)
    return estimate(parse_statistic("aave.liquidation_volume.mean"), read_dataset(out)).value


# --- search logic on a synthetic evaluator ---------------------------------------------------

@dataclass
class Formula:
    """A stand-in evaluator: per-path bad debt as an exact function of the scenario's values,
    so the right answer is known. Counts its batches."""

    paths: int = 200
    seed: int = 0
    blocks: int | None = None
    name: str = "formula"
    bump: float | None = None  # an LT made to pass whatever its bad debt (non-monotone)
    calls: list[float] = field(default_factory=list)

    def __call__(self, scenario, folder, resume, progress):
        lt = get_value(scenario, LT)
        fund = get_value(scenario, "protocols.aave.insurance_fund.initial") / 1e6
        self.calls.append(lt)
        z = np.linspace(0.0, 1.0, self.paths)  # the same "paths" at every point
        level = 1e7 * max(0.0, lt - 0.80) * (1 + z) - fund
        if self.bump is not None and abs(lt - self.bump) < 1e-9:
            level = level * 0.0
        df = pd.DataFrame({"path": range(self.paths), "path_seed": range(self.paths),
                           "aave.bad_debt_usd": np.maximum(level, 0.0), "run_seconds": 0.0})
        if progress:
            progress(self.paths)
        return df


@pytest.fixture(scope="module")
def default_spec():
    return defisim.load_scenario(ROOT / "scenarios" / "default.yaml")


def test_bisection_finds_the_exact_boundary_in_log_steps(default_spec, tmp_path) -> None:
    params = bind(default_spec, [parse_param(f"{LT}=0.80:0.90:0.005")])  # 21 values
    f = Formula()
    # bad debt max = 2e7 (LT - 0.8) - 250000: below 1e6 while LT - 0.8 < 0.0625, i.e. LT <= 0.86
    rec = recommend(default_spec, params, parse_target("bad_debt.max < 1e6"), f, tmp_path / "r")
    assert rec.chosen.result.point == {LT: 0.86}
    assert len(f.calls) <= 2 + 5 + 1  # ends, log2(21) bisection steps, one neighbour
    assert {n.result.point[LT] for n in rec.neighbours} == {0.855, 0.865}
    assert not rec.warnings


def test_non_monotone_response_falls_back_to_the_whole_range(default_spec, tmp_path) -> None:
    params = bind(default_spec, [parse_param(f"{LT}=0.80:0.90:0.01")])
    f = Formula(bump=0.88)  # passes although 0.87 (safer) fails: seen at the neighbours
    rec = recommend(default_spec, params, parse_target("bad_debt.max < 1e6"), f, tmp_path / "r")
    assert rec.search == "exhaustive (not monotone)" and rec.warnings
    assert rec.chosen.result.point == {LT: 0.86}


def test_no_point_meets_the_target(default_spec, tmp_path) -> None:
    params = bind(default_spec, [parse_param(f"{LT}=0.84:0.90:0.02")])
    rec = recommend(default_spec, params, parse_target("bad_debt.max < 1"), Formula(), tmp_path / "r")
    assert rec.chosen is None and "no value" in rec.warnings[0]
    assert [e.result.point[LT] for e in rec.evaluated] == [0.84]  # the safest fails: stop


def test_two_parameters_rank_lexicographically(default_spec, tmp_path) -> None:
    fund = "protocols.aave.insurance_fund.initial"
    params = bind(default_spec, [parse_param(f"{LT}=0.84:0.88:0.02"),
                                 parse_param(f"{fund}=0:2000000:1000000 USDC")])
    rec = recommend(default_spec, params, parse_target("bad_debt.max < 1"), Formula(), tmp_path / "r")
    # max bad debt = 2e7 (LT - 0.8) - fund: LT 0.88 needs 1.6M (so 2M), 0.86 needs 1.2M (2M)
    assert rec.search == "exhaustive grid" and rec.directions == {LT: "max", fund: "min"}
    assert rec.chosen.result.point == {LT: 0.88, fund: 2000000}


def test_directions(default_spec, tmp_path) -> None:
    assert default_direction(LT) == "max" and default_direction(BONUS) == "min"
    assert default_direction("protocols.aave.insurance_fund.initial") == "min"
    assert default_direction("chain.blocks") is None
    params = bind(default_spec, [parse_param("chain.gas_limit=1000000,2000000")])
    with pytest.raises(DirectionError, match="--maximize chain.gas_limit"):
        recommend(default_spec, params, parse_target("bad_debt.max < 1"), Formula(), tmp_path / "r")


def test_sobol_design_uses_grid_values_uniformly(default_spec) -> None:
    from defisim.montecarlo.sweep import plan_points

    params = bind(default_spec, [parse_param(f"{LT}=0.80:0.86:0.01"),
                                 parse_param("protocols.aave.treasury_every_blocks=10:30:10")])
    points = plan_points(params, "sobol", 256, seed=3)
    assert len(points) == 256 * 4
    lts = [p[LT] for p in points]
    assert set(lts) == set(params[0].values)  # basis points and the step respected
    counts = np.bincount([params[1].values.index(p["protocols.aave.treasury_every_blocks"]) for p in points])
    assert counts.min() > 0.8 * counts.max()  # each value about equally likely (ends too)


def test_baseline_outside_the_range_falls_back_to_the_nearest_value(default_spec) -> None:
    from defisim.montecarlo.sweep import baseline_point

    params = bind(default_spec, [parse_param("protocols.aave.reserves.WETH.ltv=0.80,0.81"),
                                 parse_param(f"{LT}=0.87,0.90")])
    assert baseline_point(params) == {"protocols.aave.reserves.WETH.ltv": 0.8, LT: 0.87}


def test_a_refused_point_writes_nothing(default_spec, tmp_path) -> None:
    from defisim.montecarlo.grid import GridError

    params = bind(default_spec, [parse_param(f"{LT}=0.5,0.85")])
    with pytest.raises(GridError):
        run_sweep(default_spec, params, parse_statistic("bad_debt.mean"), Formula(), tmp_path / "s")
    assert not (tmp_path / "s").exists()
    with pytest.raises(GridError):
        recommend(default_spec, params, parse_target("bad_debt.max < 1"), Formula(), tmp_path / "r")
    assert not (tmp_path / "r").exists()
