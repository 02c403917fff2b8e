"""The simulated world: one SimPy environment, one ledger, one record log, and the components.

Components register phase handlers on the :class:`~defisim.engine.clock.BlockClock`. The world
owns the cross-cutting pieces every component needs: time (block -> unix seconds), reference
prices (the fast layer, crossed to exact ints only through :func:`defisim.units.price_to_e8`),
gas pricing in USD, and the block builder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import simpy

from defisim.engine.blockspace import BlockBuilder, Tx
from defisim.engine.clock import BlockClock, Phase
from defisim.engine.ledger import Ledger
from defisim.engine.records import BlockBuilt, HealthSampled, Record, RecordLog
from defisim.errors import InvariantViolation
from defisim.pricepaths import PricePaths
from defisim.units import price_to_e8

WEI_PER_ETH = 10**18


class Agent(Protocol):
    """Anything that sends transactions: liquidators, arbitrageurs, keepers."""

    name: str

    def propose(self, block: int) -> Sequence[Tx]:
        """Transactions to send in ``block`` (decided on the state at the start of AGENTS)."""
        ...


class Checked(Protocol):
    """A component with internal accounting that can be checked against the ledger."""

    def invariant_errors(self) -> list[str]:
        """Every broken invariant, as readable strings (empty when consistent)."""
        ...


@dataclass(frozen=True, slots=True)
class GasDemand:
    """Background gas demand (see :meth:`World.background_demand`)."""

    load: float
    stress_load: float
    window_blocks: int
    elasticity: float
    reference_base_fee: int


class World:
    """Everything a run needs; built by :mod:`defisim.scenario.assemble`."""

    def __init__(
        self,
        *,
        decimals: dict[str, int],
        reference: PricePaths,
        block_time_s: int,
        start_timestamp: int,
        builder: BlockBuilder,
        gas_asset: str,
        gas_demand: GasDemand,
        flash_loan_fee_bps: int,
    ) -> None:
        self.env = simpy.Environment()
        self.clock = BlockClock(self.env, block_time_s, start_timestamp)
        self.ledger = Ledger(decimals)
        self.log = RecordLog()
        self.reference = reference
        self.builder = builder
        self.gas_asset = gas_asset
        self.gas_demand = gas_demand
        self.flash_loan_fee_bps = flash_loan_fee_bps
        self.markets: dict[str, Any] = {}
        self.oracles: dict[str, Any] = {}
        self._oracle_list: list[Any] = []
        self.protocols: dict[str, Any] = {}
        self.agents: list[Agent] = []
        self.treasuries: dict[str, Any] = {}
        self.checked: list[Checked] = []
        self.block = 0
        self._running_max = self._drawdown_reference()
        self.clock.on(Phase.ORACLE, self._oracle_phase)
        self.clock.on(Phase.AGENTS, self._agents_phase)
        self.clock.on(Phase.SETTLEMENT, self._settlement_phase)
        self.gas_spent_usd: dict[str, int] = {}
        self._e8_memo: dict[tuple[str, int], int] = {}
        self.planning_cache: dict[object, Any] = {}
        """Per-block memo for agents' planning (valid only before any tx of the block runs)."""
        self.sample_every_blocks = 25
        self.check_every_blocks = 0
        self.clock.on(Phase.OBSERVE, self._observe_phase)

    # --- time and prices ----------------------------------------------------------------

    def now(self, block: int | None = None) -> int:
        """Unix timestamp (s) of ``block`` (default: the current block)."""
        return self.clock.timestamp(self.block if block is None else block)

    def reference_price(self, asset: str, block: int | None = None) -> float:
        """Exogenous reference price of ``asset`` (USD per whole token, float)."""
        return self.reference.at(asset, self.block if block is None else block)

    def reference_e8(self, asset: str, block: int | None = None) -> int:
        """Reference price as an exact int with 8 decimals (the one bridge; memoised)."""
        key = (asset, self.block if block is None else block)
        price = self._e8_memo.get(key)
        if price is None:
            if len(self._e8_memo) > 4096:
                self._e8_memo.clear()
            price = self._e8_memo[key] = price_to_e8(self.reference_price(asset, block))
        return price

    def gas_cost_usd(self, gas: int, priority_fee: int) -> int:
        """USD (1e8) cost of ``gas`` at the current base fee plus ``priority_fee`` (wei/gas)."""
        wei = gas * (self.builder.base_fee + priority_fee)
        return wei * self.reference_e8(self.gas_asset) // WEI_PER_ETH

    def usd_per_gas_wei(self) -> float:
        """USD value of one wei of gas (float, for bidding heuristics only)."""
        return self.reference_price(self.gas_asset) / WEI_PER_ETH

    def charge_gas(self, sender: str, gas: int, priority_fee: int) -> int:
        """Book the gas a transaction used; returns its USD (1e8) cost."""
        cost = self.gas_cost_usd(gas, priority_fee)
        self.gas_spent_usd[sender] = self.gas_spent_usd.get(sender, 0) + cost
        return cost

    # --- assembly -----------------------------------------------------------------------

    def add_market(self, name: str, market: Any) -> None:
        self.markets[name] = market
        if hasattr(market, "invariant_errors"):
            self.checked.append(market)

    def add_oracle(self, name: str, oracle: Any) -> None:
        self.oracles[name] = oracle
        self._oracle_list = list(self.oracles.values())

    def add_protocol(self, name: str, protocol: Any) -> None:
        self.protocols[name] = protocol
        if hasattr(protocol, "invariant_errors"):
            self.checked.append(protocol)

    def add_agent(self, agent: Agent) -> None:
        self.agents.append(agent)

    def add_treasury(self, protocol: str, treasury: Any) -> None:
        self.treasuries[protocol] = treasury

    def note_liquidation_fee(self, protocol: str, asset: str, amount: int) -> None:
        """Tell the protocol's treasury that ``amount`` of its claim came from a liquidation."""
        treasury = self.treasuries.get(protocol)
        if treasury is not None:
            treasury.note_liquidation_fee(asset, amount)

    def oracle_epoch(self) -> int:
        """Changes whenever any oracle publishes a new answer (for agents' caches).

        The sum of the oracles' versions: each only ever grows, so the sum changes exactly
        when one of them does.
        """
        total = 0
        for oracle in self._oracle_list:
            total += oracle.version
        return total

    def emit(self, records: Iterable[Record]) -> None:
        """Append records to the log."""
        for record in records:
            self.log.append(record)

    # --- phases -------------------------------------------------------------------------

    def _oracle_phase(self, block: int) -> None:
        self.block = block
        now = self.now(block)
        for oracle in self.oracles.values():
            self.emit(oracle.on_block(block, now))

    def _agents_phase(self, block: int) -> None:
        self.planning_cache.clear()
        txs: list[Tx] = []
        for agent in self.agents:
            txs.extend(agent.propose(block))
        base_fee = self.builder.base_fee
        result = self.builder.build(txs, self.background_demand(block))
        self.log.append(
            BlockBuilt(
                block=block,
                base_fee=base_fee,
                background_gas=result.background_gas,
                tx_gas=result.tx_gas,
                included=len(result.included),
                deferred=len(result.deferred),
            )
        )

    def _settlement_phase(self, block: int) -> None:
        for treasury in self.treasuries.values():
            treasury.settle(block)

    def _observe_phase(self, block: int) -> None:
        if block % self.sample_every_blocks == 0:
            now = self.now(block)
            for name, protocol in self.protocols.items():
                self.log.append(health_sample(block, name, protocol.health_factors_estimate(now)))
        if self.check_every_blocks and block % self.check_every_blocks == 0:
            self.check_invariants()

    def background_demand(self, block: int) -> int:
        """Gas other traffic wants in ``block`` at the current base fee.

        ``limit * (load + stress_load * drawdown) * (reference_base_fee / base_fee) ** elasticity``:
        demand rises with the gas asset's drawdown from its max over the last ``window_blocks``
        and falls as gas gets dearer, so the base fee settles where demand meets the target
        (about ``2 * load`` times the reference fee for elasticity 1) instead of growing forever.
        """
        window = self.gas_demand.window_blocks
        start = max(0, block - window)
        peak = float(self._running_max[block]) if window >= block else float(
            np.max(self.reference.of(self.gas_asset)[start : block + 1])
        )
        drawdown = max(0.0, 1.0 - self.reference_price(self.gas_asset, block) / peak)
        demand = self.gas_demand
        load = demand.load + demand.stress_load * drawdown
        price_response = (demand.reference_base_fee / self.builder.base_fee) ** demand.elasticity
        return int(self.builder.gas_limit * load * price_response)

    def _drawdown_reference(self) -> np.ndarray:
        if self.gas_asset in self.reference.assets:
            return np.maximum.accumulate(self.reference.of(self.gas_asset))
        return np.ones(self.reference.prices.shape[1])

    # --- invariants ---------------------------------------------------------------------

    def invariant_errors(self) -> list[str]:
        """Ledger conservation plus every component's own accounting checks."""
        errors = self.ledger.conservation_errors()
        for component in self.checked:
            errors.extend(component.invariant_errors())
        return errors

    def check_invariants(self) -> None:
        """Raise :class:`InvariantViolation` if any invariant is broken."""
        errors = self.invariant_errors()
        if errors:
            raise InvariantViolation(f"block {self.block}: " + "; ".join(errors[:20]))

    def run(self, first: int, count: int, on_block: Callable[[int], None] | None = None) -> None:
        """Run blocks ``first .. first+count-1``; ``on_block`` is called after each."""
        if on_block is not None:
            self.clock.after_block(on_block)
        self.clock.run(first, count)


def health_sample(block: int, protocol: str, health: np.ndarray) -> HealthSampled:
    """Summarise float health factors of open positions (plots only, never the exact layer)."""
    if health.size == 0:
        return HealthSampled(block, protocol, 0, 0, float("nan"), float("nan"), float("nan"),
                             float("nan"), 0)
    finite = np.where(np.isfinite(health), health, 1e9)
    p01, p10, p50, p90 = (float(x) for x in np.quantile(finite, [0.01, 0.10, 0.50, 0.90]))
    return HealthSampled(
        block=block, protocol=protocol, open_positions=int(health.size),
        liquidatable=int(np.count_nonzero(health < 1.0)), p01=p01, p10=p10, p50=p50, p90=p90,
        below_1_1=int(np.count_nonzero(health < 1.1)),
    )
