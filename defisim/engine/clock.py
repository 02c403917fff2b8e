"""Block clock: SimPy time is the block number; work inside a block runs in named phases.

Each block, the clock schedules one :class:`PhaseEvent` per :class:`Phase` at the block's time
with the phase's value as SimPy scheduling priority, so phases run in their declared order
whatever order components registered in. Handlers of one phase run in registration order.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

import simpy
from simpy.core import Environment


class Phase(IntEnum):
    """Intra-block phases, in execution order (values are SimPy priorities, after NORMAL=1)."""

    ORACLE = 10
    """Oracle rounds land (top of block); oracles observe their sources."""
    AGENTS = 20
    """Agents submit transactions; the builder orders them by priority fee and executes them."""
    SETTLEMENT = 30
    """Treasuries: insurance funds cover deficits, fees are converted and burned."""
    OBSERVE = 40
    """Sampling for plots and invariant checks; nothing changes state here."""


Handler = Callable[[int], None]


class PhaseEvent(simpy.Event):
    """An event that fires at the current block with its phase as scheduling priority."""

    def __init__(self, env: Environment, phase: Phase, block: int) -> None:
        super().__init__(env)
        self.phase = phase
        self._ok = True
        self._value = block
        env.schedule(self, priority=int(phase))


class BlockClock:
    """Drives blocks ``first .. first + count - 1`` through every phase.

    ``timestamp(block)`` is ``start_timestamp + block * block_time_s`` (unix seconds).
    """

    def __init__(self, env: Environment, block_time_s: int, start_timestamp: int) -> None:
        self.env = env
        self.block_time_s = block_time_s
        self.start_timestamp = start_timestamp
        self._handlers: dict[Phase, list[Handler]] = {p: [] for p in Phase}
        self._after_block: list[Handler] = []

    def on(self, phase: Phase, handler: Handler) -> None:
        """Run ``handler(block)`` in ``phase`` of every block."""
        self._handlers[phase].append(handler)

    def after_block(self, handler: Handler) -> None:
        """Run ``handler(block)`` once a block's phases have all run (e.g. a progress bar)."""
        self._after_block.append(handler)

    def timestamp(self, block: int) -> int:
        """Unix time (s) of ``block``."""
        return self.start_timestamp + block * self.block_time_s

    def run(self, first: int, count: int) -> None:
        """Run ``count`` blocks starting at ``first`` to completion."""
        self.env.process(self._drive(first, count))
        self.env.run()

    def _drive(self, first: int, count: int):  # type: ignore[no-untyped-def]
        if first > self.env.now:
            yield self.env.timeout(first - self.env.now)
        for block in range(first, first + count):
            if block > self.env.now:
                yield self.env.timeout(block - self.env.now)
            events = []
            for phase in Phase:
                event = PhaseEvent(self.env, phase, block)
                event.callbacks.extend(self._dispatch(h) for h in self._handlers[phase])
                events.append(event)
            yield events[-1]
            for handler in self._after_block:
                handler(block)

    @staticmethod
    def _dispatch(handler: Handler) -> Callable[[simpy.Event], None]:
        return lambda event: handler(event.value)
