"""Turn a validated scenario into a ready-to-run :class:`~defisim.engine.world.World`.

Components are built section by section (markets, oracles, protocols, agents) through the
registry, in file order. Randomness: one :class:`numpy.random.SeedSequence` per run; each
consumer gets a child stream keyed by a stable name, so adding a component does not change the
draws of the others.
"""

from __future__ import annotations

import hashlib
from typing import Any, NoReturn

import numpy as np

from defisim.engine.blockspace import BlockBuilder
from defisim.engine.markets.router import Router
from defisim.engine.world import GasDemand, World
from defisim.errors import ScenarioError
from defisim.pricepaths import PricePaths, generate
from defisim.scenario import registry
from defisim.scenario.base import gwei_to_wei
from defisim.scenario.models import ScenarioBase


class WorldBuilder:
    """Holds the world under construction and what builders share (router, RNG streams)."""

    def __init__(self, scenario: ScenarioBase, seed: int, blocks: int) -> None:
        self.scenario = scenario
        self.seed = seed
        chain = scenario.chain
        self._seq = np.random.SeedSequence(seed)
        reference = generate(scenario.prices, blocks, chain.block_time_s, self.rng("prices"))
        self.world = World(
            decimals={t: spec.decimals for t, spec in scenario.tokens.items()},
            reference=reference,
            block_time_s=chain.block_time_s,
            start_timestamp=chain.start_timestamp,
            builder=BlockBuilder(
                chain.gas_limit, gwei_to_wei(chain.base_fee_gwei),
                gwei_to_wei(chain.background_tip_gwei), self.rng("block-builder"),
            ),
            gas_asset=chain.gas_asset,
            gas_demand=GasDemand(
                chain.background_load, chain.stress_load, chain.stress_window_blocks,
                chain.demand_elasticity, gwei_to_wei(chain.base_fee_gwei),
            ),
            flash_loan_fee_bps=chain.flash_loan_fee_bps,
        )
        self.world.sample_every_blocks = scenario.run.sample_every_blocks
        self.world.check_every_blocks = scenario.run.check_invariants_every_blocks
        self.router: Router = Router({})

    def rng(self, *key: Any) -> np.random.Generator:
        """A generator for the named stream (same seed and name -> same draws)."""
        digest = hashlib.sha256("/".join(str(k) for k in key).encode()).digest()
        tag = int.from_bytes(digest[:16], "big")
        child = np.random.SeedSequence(self._seq.entropy, spawn_key=(tag,))
        return np.random.default_rng(child)

    def path_of(self, spec: Any) -> str:
        """The scenario-file path of a component spec, e.g. ``protocols.1``."""
        for section, index, candidate in self.scenario.components():
            if candidate is spec:
                return f"{section}.{index}"
        return getattr(spec, "name", "?")

    def fail(self, path: str, message: str) -> NoReturn:
        """Stop assembly with a scenario error at ``path``."""
        raise ScenarioError([(path, message)], source=self.scenario.name)

    def build(self) -> World:
        """Build every component; prime oracles and seed positions at block 0."""
        world = self.world
        ledger = world.ledger
        for token, spec in self.scenario.tokens.items():
            if spec.genesis_supply:
                ledger.mint(token, f"holders:{token}", spec.genesis_supply)
        self._build_section("markets")
        self.router = Router(world.markets)
        self._build_section("oracles")
        for oracle in world.oracles.values():
            world.emit(oracle.on_block(0, world.now(0)))
        self._build_section("protocols")
        self._build_section("agents")
        return world

    def _build_section(self, section: str) -> None:
        for spec in getattr(self.scenario, section):
            registry.lookup(section, spec.kind).build(spec, self)


def build_world(scenario: ScenarioBase, seed: int | None = None, blocks: int | None = None) -> World:
    """A world for ``scenario`` with reference paths for ``blocks`` blocks (default: chain.blocks)."""
    n = blocks if blocks is not None else scenario.chain.blocks
    return WorldBuilder(scenario, scenario.seed if seed is None else seed, n).build()


__all__ = ["PricePaths", "WorldBuilder", "build_world"]
