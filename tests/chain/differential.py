"""Shared pieces of the differential tests: run one action on both backends, compare.

``run_both`` applies an action to the simulator and to the chain. Seeding actions may fail
(a borrow above the LTV, a withdrawal that would break health): then both sides must fail
with the same reason. Liquidation results must be equal field for field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from defisim.chain.adapters.aave_v3 import aave_reason
from defisim.chain.backend import Action, Liquidate
from defisim.chain.errors import TransactionFailed
from defisim.chain.parity import Mismatch, diff
from defisim.errors import DefisimError


@dataclass
class Tally:
    """What one differential example did (reported in the assertion messages)."""

    actions: int = 0
    liquidations: int = 0
    refused: int = 0
    mismatches: list[str] = field(default_factory=list)


def _sim_reason(exc: Exception) -> str:
    return getattr(exc, "reason", None) or type(exc).__name__


def run_both(sim: Any, chain: Any, action: Action, tally: Tally, normalise=aave_reason) -> tuple[Any, Any]:
    """Apply ``action`` to both; record any difference in ``tally``; return both results."""
    tally.actions += 1
    try:
        r_sim, sim_err = sim.apply(action), ""
    except DefisimError as exc:
        r_sim, sim_err = None, _sim_reason(exc)
    try:
        r_chain, chain_err = chain.apply(action), ""
    except TransactionFailed as exc:
        r_chain, chain_err = None, normalise(exc.reason)
    if sim_err != chain_err:
        tally.mismatches.append(f"{action}: simulator {sim_err or 'ok'} != chain {chain_err or 'ok'}")
    if isinstance(action, Liquidate) and r_sim is not None and r_chain is not None:
        if r_sim.ok:
            tally.liquidations += 1
        else:
            tally.refused += 1
        tally.mismatches += [f"{action}: {m}" for m in diff(r_sim, r_chain)]
    return r_sim, r_chain


def compare_state(sim: Any, chain: Any, tally: Tally, when: str) -> list[Mismatch]:
    ms = diff(sim.snapshot(), chain.snapshot(), ignore=frozenset({"timestamp"}))
    tally.mismatches += [f"{when}: {m}" for m in ms]
    return ms
