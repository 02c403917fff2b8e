"""Block space: EIP-1559 base fee, background demand, and ordering by priority fee.

Each block has ``gas_limit`` gas. Other traffic (background) wants ``demand`` gas at a fixed
tip; simulated transactions that tip more than the background go first, then background
fills, then the remaining simulated transactions while gas is left. Transactions that do not
fit are deferred (their senders re-decide next block). The base fee follows EIP-1559:
``base' = base + base * (used - target) // target // 8`` (at least +1 wei when above target).
Amounts: gas in units of gas, fees in wei per gas.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

BASE_FEE_MAX_CHANGE_DENOMINATOR = 8


@dataclass(frozen=True, slots=True)
class Tx:
    """A transaction an agent wants included.

    ``execute()`` runs it against the state at its turn in the block and returns True if it
    succeeded. A reverted transaction still uses its gas, unless ``revert_protected`` (a
    private bundle: the builder drops it instead, and it uses no block space).
    """

    sender: str
    purpose: str
    gas: int
    priority_fee: int
    execute: Callable[[], bool] = field(compare=False)
    revert_protected: bool = False


@dataclass(frozen=True, slots=True)
class BlockResult:
    """What the builder did with one block's transactions."""

    base_fee: int
    background_gas: int
    included: tuple[Tx, ...]
    deferred: tuple[Tx, ...]
    succeeded: tuple[bool, ...]

    @property
    def tx_gas(self) -> int:
        """Gas used by the included simulated transactions."""
        return sum(tx.gas for tx in self.included)


def next_base_fee(base_fee: int, gas_used: int, gas_target: int) -> int:
    """EIP-1559 base fee of the next block (wei per gas)."""
    if gas_used == gas_target:
        return base_fee
    if gas_used > gas_target:
        delta = base_fee * (gas_used - gas_target) // gas_target // BASE_FEE_MAX_CHANGE_DENOMINATOR
        return base_fee + max(delta, 1)
    delta = base_fee * (gas_target - gas_used) // gas_target // BASE_FEE_MAX_CHANGE_DENOMINATOR
    return base_fee - delta


class BlockBuilder:
    """Orders and executes transactions within the gas limit; tracks the base fee."""

    def __init__(
        self,
        gas_limit: int,
        base_fee: int,
        background_tip: int,
        rng: np.random.Generator,
        gas_target: int | None = None,
    ) -> None:
        self.gas_limit = gas_limit
        self.gas_target = gas_target if gas_target is not None else gas_limit // 2
        self.base_fee = base_fee
        self.background_tip = background_tip
        self._rng = rng

    def build(self, txs: Sequence[Tx], background_demand: int) -> BlockResult:
        """Execute ``txs`` in priority-fee order (ties by a seeded shuffle) within the gas limit."""
        order = self._rng.permutation(len(txs)) if len(txs) > 1 else range(len(txs))
        ranked = sorted(
            ((txs[i], rank) for rank, i in enumerate(order)), key=lambda t: (-t[0].priority_fee, t[1])
        )
        queue = [tx for tx, _ in ranked]
        background_wanted = max(0, background_demand)
        background_used = 0
        gas_left = self.gas_limit
        included: list[Tx] = []
        succeeded: list[bool] = []
        deferred: list[Tx] = []
        background_done = False
        for tx in queue:
            if not background_done and tx.priority_fee <= self.background_tip:
                background_used = min(background_wanted, gas_left)
                gas_left -= background_used
                background_done = True
            if tx.gas > gas_left:
                deferred.append(tx)
                continue
            ok = bool(tx.execute())
            if ok or not tx.revert_protected:
                gas_left -= tx.gas
                included.append(tx)
                succeeded.append(ok)
        if not background_done:
            background_used = min(background_wanted, gas_left)
            gas_left -= background_used
        result = BlockResult(
            self.base_fee, background_used, tuple(included), tuple(deferred), tuple(succeeded)
        )
        used = self.gas_limit - gas_left
        self.base_fee = next_base_fee(self.base_fee, used, self.gas_target)
        return result
