"""Chainlink push feed: deviation threshold + heartbeat, with landing latency.

An OCR aggregator publishes a new round when the off-chain price has moved by at least the
deviation threshold from the on-chain answer, or when the heartbeat has expired since the
on-chain ``updatedAt``. The transmit is an ordinary transaction, so it lands some blocks after
the nodes decided to send it, carrying the price they observed then.

Per block (:meth:`ChainlinkFeed.on_block`), in this order:

1. If a round is pending and ``block >= its landing block``, it lands: the answer becomes the
   price observed at submission, ``updatedAt`` the landing block's timestamp, and the round id
   increments by one (``latestRoundData`` ids start at 1 here; phases are not modelled).
2. If no round is pending, the source is observed (``source(block)``, 8 decimals) and a round
   is submitted when ``|p - answer| * 10_000 >= deviation_bps * answer`` (reason
   ``"deviation"``, which wins if both hold) or ``now - updatedAt >= heartbeat_s`` (reason
   ``"heartbeat"``). It lands ``latency_blocks`` later; with ``latency_blocks == 0`` it lands in
   this same block.

The very first call publishes the observed price at once (reason ``"initial"``): the feed
existed before the simulation started.

At most one round is pending. While it is in flight the source is *not* watched: a further
move during the latency is neither queued nor merged into the pending round. In the block the
round lands, the deviation test runs again against the new answer, so a move that happened
meanwhile triggers the next round in that block (landing ``latency_blocks`` later). This is how
a real feed behaves when its transmit is stuck behind gas: it keeps reporting the price it
signed, and the next report starts from the on-chain answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from defisim.engine.oracles.base import Oracle, OracleError, check_price
from defisim.engine.records import PriceUpdated

__all__ = ["ChainlinkFeed", "PendingRound"]


@dataclass(frozen=True, slots=True)
class PendingRound:
    """A round that was submitted and has not landed yet.

    ``price`` is 8-decimal USD observed at ``submitted_block``; it lands at ``lands_at_block``.
    """

    submitted_block: int
    lands_at_block: int
    price: int
    reason: str


class ChainlinkFeed(Oracle):
    """Deviation + heartbeat push feed over a source ``block -> int`` (USD, 8 decimals).

    Args:
        name, asset: see :class:`~defisim.engine.oracles.base.Oracle`.
        source: the off-chain price at a block, 8 decimals.
        deviation_bps: threshold in basis points of the current answer (50 = 0.5 %).
        heartbeat_s: maximum seconds between rounds (3600 for ETH/USD).
        latency_blocks: blocks between submission and landing (>= 0).
    """

    def __init__(
        self,
        name: str,
        asset: str,
        source: Callable[[int], int],
        deviation_bps: int,
        heartbeat_s: int,
        latency_blocks: int = 1,
    ) -> None:
        super().__init__(name, asset)
        for field, value, low in (
            ("deviation_bps", deviation_bps, 0),
            ("heartbeat_s", heartbeat_s, 1),
            ("latency_blocks", latency_blocks, 0),
        ):
            if type(value) is not int or value < low:
                raise OracleError(f"{name}: {field} must be an int >= {low}, got {value!r}")
        self.source = source
        self.deviation_bps = deviation_bps
        self.heartbeat_s = heartbeat_s
        self.latency_blocks = latency_blocks
        self._pending: PendingRound | None = None

    @property
    def pending(self) -> PendingRound | None:
        """The round in flight, if any."""
        return self._pending

    def deviation_exceeded(self, price: int) -> bool:
        """``|price - answer| * 10_000 >= deviation_bps * answer`` (true if no answer yet)."""
        if self._answer is None:
            return True
        return abs(price - self._answer) * 10_000 >= self.deviation_bps * self._answer

    def on_block(self, block: int, now: int) -> list[PriceUpdated]:
        """Land a due round, then maybe submit one (see module docs)."""
        if self.stopped:
            return []
        landed: list[PriceUpdated] = []
        if self._pending is not None and block >= self._pending.lands_at_block:
            pending, self._pending = self._pending, None
            landed.append(self._publish(block, now, pending.price, pending.reason))
        if self._pending is not None:
            return landed
        price = check_price(self.name, self.source(block))
        if self._answer is None:
            landed.append(self._publish(block, now, price, "initial"))
            return landed
        if self.deviation_exceeded(price):
            reason = "deviation"
        elif now - self._updated_at >= self.heartbeat_s:
            reason = "heartbeat"
        else:
            return landed
        if self.latency_blocks == 0:
            landed.append(self._publish(block, now, price, reason))
        else:
            self._pending = PendingRound(block, block + self.latency_blocks, price, reason)
        return landed
