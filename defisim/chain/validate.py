"""``defisim validate``: run a scenario in the simulator, replay it on real contracts, compare.

1. Build the scenario's world (block 0 is seeded) and read each validated protocol's
   snapshot. Fresh reserves/markets have unit indexes and share prices, so the seeded state
   is exactly "supply the scaled balance, borrow the scaled debt" (Morpho: shares / 1e6):
   those become the seed actions for the chain.
2. Run the simulation with a recorder around each validated protocol: every state-changing
   call (liquidations) is captured with its block timestamp and the oracle answers the
   protocol read at that moment.
3. For each protocol, deploy the real contracts on a fresh Anvil, apply the seed actions,
   compare snapshots, replay the oracle rounds and liquidations in order, compare every
   liquidation's amounts and health factors, and compare the final snapshots.

Insurance-fund covers of an Aave 3.6 deficit are replayed through
``contracts/src/InsuranceFund.sol`` registered as the pool's Umbrella. Only what the contracts
can express is replayed; anything else the simulation did to a validated protocol (treasury
collection, socialisation of uncovered deficit) stops the
validation with a message naming it, rather than comparing unlike things.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from defisim.chain.backend import (
    Action,
    AdvanceTo,
    Borrow,
    CoverDeficit,
    Liquidate,
    LiquidationResult,
    MarketSpec,
    SetPrice,
    Supply,
)
from defisim.chain.parity import Mismatch, diff
from defisim.errors import ScenarioError
from defisim.scenario.assemble import build_world
from defisim.scenario.loader import cross_reference_problems
from defisim.scenario.models import ScenarioBase

__all__ = ["LiquidationRow", "ProtocolReport", "ValidationReport", "validate_scenario"]

RAY = 10**27
VIRTUAL_SHARES = 10**6


@dataclass(frozen=True, slots=True)
class LiquidationRow:
    """One replayed liquidation: where and when, and both sides' results."""

    block: int
    account: str
    collateral_asset: str
    debt_asset: str
    simulator: LiquidationResult
    chain: LiquidationResult
    mismatches: tuple[Mismatch, ...]


@dataclass
class ProtocolReport:
    """Everything compared for one protocol."""

    protocol: str
    family: str
    seed_mismatches: list[Mismatch] = field(default_factory=list)
    liquidations: list[LiquidationRow] = field(default_factory=list)
    final_mismatches: list[Mismatch] = field(default_factory=list)
    final_simulator: Any = None
    final_chain: Any = None
    chain_seconds: float = 0.0
    deploy_seconds: float = 0.0
    actions: int = 0

    @property
    def mismatch_count(self) -> int:
        return (len(self.seed_mismatches) + len(self.final_mismatches)
                + sum(len(r.mismatches) for r in self.liquidations))


@dataclass
class ValidationReport:
    """Per-protocol reports and the simulator's own run time."""

    scenario: str
    protocols: list[ProtocolReport]
    simulator_seconds: float

    @property
    def mismatch_count(self) -> int:
        return sum(p.mismatch_count for p in self.protocols)

    @property
    def chain_seconds(self) -> float:
        return sum(p.chain_seconds for p in self.protocols)


class _Recorder:
    """Stands in for a protocol during the run and records what the chain must replay."""

    def __init__(self, world: Any, name: str, inner: Any, family: str) -> None:
        self._world, self._name, self._inner, self._family = world, name, inner, family
        self.actions: list[tuple[int, Action]] = []
        self.expected: list[tuple[int, Liquidate, LiquidationResult]] = []
        self.unsupported: list[str] = []
        self._prices: dict[str, int] = {}
        self._time: int | None = None

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._inner, attr)

    def _sync(self, now: int, assets: list[str]) -> None:
        if now != self._time:
            self._time = now
            self.actions.append((self._world.block, AdvanceTo(now)))
        price = self._inner.usd_price if self._family == "morpho-blue" else self._inner.price
        for a in assets:
            p = price(a)
            if self._prices.get(a) != p:
                self._prices[a] = p
                self.actions.append((self._world.block, SetPrice(a, p)))

    def liquidation_call(self, now: int, liquidator: str, collateral: str, debt: str, user: str,
                         amount: int) -> Any:
        self._sync(now, self._inner.assets())
        out = self._inner.liquidation_call(now, liquidator, collateral, debt, user, amount)
        if hasattr(out, "debt_repaid"):
            if self._family == "morpho-blue":
                # the exact `liquidate` arguments the model chose; the chain needs the borrower
                action = Liquidate(liquidator, out.borrower, collateral, debt, market=out.market,
                                   seized_assets=out.arg_seized_assets, repaid_shares=out.arg_repaid_shares)
            else:
                action = Liquidate(liquidator, user, collateral, debt, debt_to_cover=amount)
            self.actions.append((self._world.block, action))
            self.expected.append((self._world.block, action, LiquidationResult(
                debt_repaid=out.debt_repaid, collateral_seized=out.collateral_seized,
                protocol_fee=out.protocol_fee, health_before=out.health_before,
                health_after=out.health_after)))
        return out

    def _refuse(self, what: str) -> None:
        self.unsupported.append(f"block {self._world.block}: {what}")

    def touch_reserve(self, now: int, asset: str) -> None:
        self._refuse("treasury collection (touch_reserve)")
        self._inner.touch_reserve(now, asset)

    def collect_treasury(self, now: int, asset: str, to: str) -> int:
        got = self._inner.collect_treasury(now, asset, to)
        return got

    def eliminate_deficit(self, now: int, payer: str, asset: str, amount: int) -> int:
        self._sync(now, [])
        used = self._inner.eliminate_deficit(now, payer, asset, amount)
        if used:
            self.actions.append((self._world.block, CoverDeficit(payer, asset, amount)))
        return used

    def socialize_deficit(self, now: int, asset: str) -> int:
        got = self._inner.socialize_deficit(now, asset)
        if got:
            self._refuse("deficit socialisation (a defisim extension with no contract counterpart)")
        return got


def _family(protocol: Any) -> str | None:
    from defisim.engine.protocols.aave_v3.pool import AavePool

    if isinstance(protocol, AavePool):
        return f"aave-v{protocol.rules.version}"
    if type(protocol).__name__ == "MorphoBlue":
        return "morpho-blue"
    return None


def _aave_spec_and_seed(pool: Any, now: int, family: str) -> tuple[MarketSpec, list[Action]]:
    snap = pool.snapshot(now)
    for r in snap.reserves:
        if r.liquidity_index != RAY or r.variable_borrow_index != RAY:
            raise ScenarioError([(f"protocols.{pool.name}", "validate needs fresh reserves at block 0")])
    spec = MarketSpec(
        family=family,
        tokens={a: pool.decimals(a) for a in pool.assets()},
        prices={a: pool.price(a) for a in pool.assets()},
        reserves={a: pool._reserve(a).config for a in pool.assets()},
        start_time=now, treasury=pool.treasury, name=pool.name,
    )
    seed: list[Action] = []
    for acct in snap.accounts:
        seed += [Supply(acct.account, a, x) for a, x in acct.scaled_collateral if x]
    for acct in snap.accounts:
        seed += [Borrow(acct.account, a, x) for a, x in acct.scaled_debt if x]
    return spec, seed


def _morpho_spec_and_seed(mb: Any, now: int) -> tuple[MarketSpec, list[Action]]:
    from defisim.chain.morpho_sim import morpho_spec_and_seed

    return morpho_spec_and_seed(mb, now)


def validate_scenario(
    scenario: ScenarioBase, *, seed: int | None = None, blocks: int | None = None,
    protocols: list[str] | None = None,
) -> ValidationReport:
    """Run ``scenario`` in the simulator and on real contracts; compare (see module doc)."""
    from defisim.chain.chain_backend import ChainBackend

    problems = cross_reference_problems(scenario)
    if problems:
        raise ScenarioError(problems, source=scenario.name)
    run_seed = scenario.seed if seed is None else seed
    n = scenario.chain.blocks if blocks is None else blocks
    t0 = time.perf_counter()
    world = build_world(scenario, run_seed, n)
    now0 = world.now(0)
    recorders: dict[str, _Recorder] = {}
    specs: dict[str, tuple[MarketSpec, list[Action]]] = {}
    seeded: dict[str, Any] = {}
    for name, proto in list(world.protocols.items()):
        if protocols is not None and name not in protocols:
            continue
        fam = _family(proto)
        if fam is None:
            continue
        specs[name] = (_aave_spec_and_seed(proto, now0, fam) if fam.startswith("aave")
                       else _morpho_spec_and_seed(proto, now0))
        seeded[name] = proto.snapshot(now0)
        rec = _Recorder(world, name, proto, fam)
        recorders[name] = rec
        world.protocols[name] = rec
        if name in world.treasuries:
            world.treasuries[name].pool = rec
    if not recorders:
        raise ScenarioError([("protocols", "no protocol with a contract counterpart "
                              "(aave-v3 3.0/3.6, morpho-blue) to validate")], source=scenario.name)
    world.run(1, n, None)
    world.check_invariants()
    sim_seconds = time.perf_counter() - t0
    reports = []
    for name, rec in recorders.items():
        if rec.unsupported:
            raise ScenarioError(
                [(f"protocols.{name}", "validate replays oracle rounds, liquidations and insurance-fund covers only; the "
                  f"run also did {rec.unsupported[0]}"
                  + (f" (and {len(rec.unsupported) - 1} more)" if len(rec.unsupported) > 1 else "")
                  + "; for validation set treasury_every_blocks above chain.blocks and "
                    "socialize_uncovered: false")], source=scenario.name)
        spec, seed_actions = specs[name]
        report = ProtocolReport(name, spec.family)
        final_sim = rec._inner.snapshot(world.now())
        report.final_simulator = final_sim
        t1 = time.perf_counter()
        chain = ChainBackend(spec)
        try:
            report.deploy_seconds = chain.deploy_s
            for a in seed_actions:
                chain.apply(a)
            report.seed_mismatches = diff(seeded[name], chain.snapshot(), ignore=frozenset({"timestamp"}))
            expected = iter(rec.expected)
            for block, action in rec.actions:
                got = chain.apply(action)
                if isinstance(action, Liquidate):
                    _, _, sim_result = next(expected)
                    assert got is not None
                    report.liquidations.append(LiquidationRow(
                        block, action.account, action.collateral_asset, action.debt_asset,
                        sim_result, got, tuple(diff(sim_result, got))))
            chain.apply(AdvanceTo(world.now()))
            final_chain = chain.snapshot()
            report.final_chain = final_chain
            report.final_mismatches = diff(final_sim, final_chain, ignore=frozenset({"timestamp"}))
            report.actions = len(seed_actions) + len(rec.actions)
        finally:
            chain.close()
        report.chain_seconds = time.perf_counter() - t1
        reports.append(report)
    return ValidationReport(scenario.name, reports, sim_seconds)
