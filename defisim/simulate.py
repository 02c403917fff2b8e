"""The library entry point: run a scenario and get a :class:`~defisim.results.Result`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from defisim.errors import ScenarioError
from defisim.results import PoolInfo, Result
from defisim.scenario.assemble import build_world
from defisim.scenario.loader import cross_reference_problems
from defisim.scenario.models import ScenarioBase


def package_version() -> str:
    """Installed defisim version ("0+unknown" when run from a bare checkout)."""
    try:
        return version("defisim")
    except PackageNotFoundError:
        return "0+unknown"


def simulate(
    scenario: ScenarioBase,
    *,
    seed: int | None = None,
    blocks: int | None = None,
    on_block: Callable[[int], None] | None = None,
    check_invariants: bool = True,
    graph_blocks: Iterable[int] | None = None,
) -> Result:
    """Run ``scenario`` for ``blocks`` blocks (default ``chain.blocks``) from ``seed``.

    Blocks 1..N run after the state is seeded at block 0. ``on_block(block)`` is called after
    each block (progress bars). With ``check_invariants`` the conservation and accounting
    invariants are checked at the end (and every ``run.check_invariants_every_blocks``).
    ``graph_blocks`` (opt-in): blocks (0 = after seeding) at which the exposure graph of the
    state is taken, in the OBSERVE phase, into ``Result.graphs`` (see
    :func:`defisim.graph.from_state.graph_at`); None (default) adds no work.
    """
    problems = cross_reference_problems(scenario)
    if problems:
        raise ScenarioError(problems, source=scenario.name)
    run_seed = scenario.seed if seed is None else seed
    n = scenario.chain.blocks if blocks is None else blocks
    if n < 1:
        raise ScenarioError([("blocks", f"must be >= 1, got {n}")], source=scenario.name)
    started = time.perf_counter()
    world = build_world(scenario, run_seed, n)
    seeded = time.perf_counter()
    pools = {
        name: PoolInfo(m.token0, m.token1, world.ledger.decimals[m.token0],
                       world.ledger.decimals[m.token1], (m.reserve0, m.reserve1))
        for name, m in world.markets.items() if hasattr(m, "get_amount_out")
    }
    graphs: dict[int, Any] = {}
    if graph_blocks is not None:
        from defisim.engine.clock import Phase
        from defisim.graph.from_state import graph_from_world, graphs_observer

        wanted = sorted(set(graph_blocks))
        if wanted and not 0 <= wanted[0] <= wanted[-1] <= n:
            raise ScenarioError([("graph_blocks", f"blocks must be in [0, {n}], got {wanted}")],
                                source=scenario.name)
        if 0 in wanted:
            graphs[0] = graph_from_world(world, scenario, block=0)
        world.clock.on(Phase.OBSERVE, graphs_observer(world, scenario, wanted, graphs))
    world.run(1, n, on_block)
    if check_invariants:
        world.check_invariants()
    finished = time.perf_counter()
    return Result(
        scenario=scenario,
        seed=run_seed,
        blocks=n,
        records=world.log,
        reference=world.reference,
        pools=pools,
        protocols=list(world.protocols),
        gas_spent_usd=dict(world.gas_spent_usd),
        token_supply={t: world.ledger.supply(t) for t in world.ledger.decimals},
        meta={
            "scenario_digest": scenario.digest(),
            "version": package_version(),
            "seconds_setup": round(seeded - started, 3),
            "seconds_run": round(finished - seeded, 3),
        },
        world=world,
        graphs=graphs,
    )
