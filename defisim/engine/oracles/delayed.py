"""Maker Oracle Security Module (OSM): the published price is one ``hop`` old.

The OSM keeps two values, ``cur`` (what consumers read via ``peek``/``read``) and ``nxt``
(visible to keepers via ``peep``). ``poke`` is allowed once ``now >= zzz + hop``; it moves
``nxt`` into ``cur``, reads the source into ``nxt`` and sets ``zzz = now - now % hop`` (the
start of the current hop-aligned period). So a source price observed at a poke becomes the
answer at the next poke, one hop later.

:meth:`DelayedOracle.on_block` models a prompt keeper: it pokes in the first block where the
poke is allowed, returning a :class:`PriceUpdated` (reason ``"poke"``) for the new ``cur``.
The first poke has no earlier reading to publish; the simulation assumes the market sat at the
first reading before the run began, so it publishes that reading at once (reason
``"initial"``) — protocols can then be seeded at block 0.

Difference from the contract: ``zzz`` starts as "never poked", so the first block pokes
whatever its timestamp. (The contract starts at ``zzz = 0``; on a real chain the timestamp is
far above ``hop``, so its first poke passes at once too. A simulation that starts its clock
near 0 would otherwise wait one extra hop.)
"""

from __future__ import annotations

from collections.abc import Callable

from defisim.engine.oracles.base import Oracle, OracleError, check_price
from defisim.engine.records import PriceUpdated

__all__ = ["DelayedOracle"]


class DelayedOracle(Oracle):
    """An OSM over ``source`` (``block -> int``, USD 8 decimals) with period ``hop_s`` seconds.

    Attributes:
        hop_s: the OSM ``hop`` in seconds (Maker: 3600).
        zzz: timestamp (s) of the start of the hop in which the last poke happened, or ``None``.
    """

    def __init__(self, name: str, asset: str, source: Callable[[int], int], hop_s: int = 3600) -> None:
        super().__init__(name, asset)
        if type(hop_s) is not int or hop_s <= 0:
            raise OracleError(f"{name}: hop_s must be a positive int, got {hop_s!r}")
        self.source = source
        self.hop_s = hop_s
        self.zzz: int | None = None
        self._nxt: int | None = None

    def pass_(self, now: int) -> bool:
        """OSM ``pass()``: whether a poke is allowed at timestamp ``now``."""
        return self.zzz is None or now >= self.zzz + self.hop_s

    def next_answer(self) -> int | None:
        """OSM ``peep()``: the queued value that becomes the answer at the next poke."""
        return self._nxt

    def poke(self, block: int, now: int) -> list[PriceUpdated]:
        """OSM ``poke()`` at ``block``/``now``; returns the record of the new ``cur``, if any.

        Refused (returns ``[]``, no change) when stopped or not yet allowed (``OSM/not-passed``).
        """
        if self.stopped or not self.pass_(now):
            return []
        wut = check_price(self.name, self.source(block))
        cur, self._nxt = self._nxt, wut
        self.zzz = now - now % self.hop_s
        if cur is None:  # first poke: the price before the run is taken as the first reading
            return [self._publish(block, now, wut, "initial")]
        return [self._publish(block, now, cur, "poke")]

    def on_block(self, block: int, now: int) -> list[PriceUpdated]:
        """Poke as soon as it is allowed (a prompt keeper)."""
        return self.poke(block, now)
