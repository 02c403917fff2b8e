"""The vectorised screen against the exact engine on more sampled paths (heavier than the unit
test): the reduced one-pool day with a 15 % and a 25 % crash over 3,600 blocks, 24 paths,
checked with the documented tolerance (``defisim.montecarlo.screening.TOLERANCE``)."""

from __future__ import annotations

import pytest

from defisim.montecarlo.screening import screen_paths
from tests.unit.montecarlo.test_screening import (
    check_agreement,
    engine_rows,
    small_scenario,
)


@pytest.mark.slow
@pytest.mark.parametrize(("depth", "seed"), [(0.15, 5), (0.25, 11)])
def test_screen_within_tolerance_of_the_engine(depth: float, seed: int) -> None:
    scenario = small_scenario(**{"prices.stress.depth": depth})
    paths, blocks = 12, 3600
    screen = screen_paths(scenario, paths=paths, seed=seed, blocks=blocks)
    exact = engine_rows(scenario, seed, paths, blocks)
    worst = check_agreement(screen, exact)
    assert (exact["aave.liquidations"] > 0).all()
    print(f"depth {depth}: worst deviations {worst}")
