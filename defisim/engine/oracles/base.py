"""What every oracle offers: the latest answer (USD, 8 decimals), its round, and a block hook.

Exact layer: answers are ints with 8 decimals (USD per whole token). Sources are callables
``block -> int`` (8 decimals) built by the engine from the float price path through
:func:`defisim.units.price_to_e8`, so no oracle touches a float.

Life cycle: the engine calls :meth:`Oracle.on_block` once per block in the ORACLE phase with
the block number and its timestamp (seconds). It returns the :class:`PriceUpdated` records of
the rounds that *landed* in that block (the engine appends them to the log). Consumers read
:meth:`Oracle.latest_answer` / :meth:`Oracle.latest_round` and may cache on
:attr:`Oracle.version`, which increments with every new answer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import NamedTuple

from defisim.engine.records import PriceUpdated
from defisim.errors import DefisimError

__all__ = ["Oracle", "RoundData", "OracleError", "OracleNotReadyError", "check_price"]


class OracleError(DefisimError, ValueError):
    """An oracle was configured wrongly or its source returned something that is not a price."""


class OracleNotReadyError(DefisimError, LookupError):
    """The oracle has no answer yet (no round has landed)."""

    def __init__(self, oracle: str) -> None:
        self.oracle = oracle
        super().__init__(f"oracle {oracle!r} has no answer yet")


class RoundData(NamedTuple):
    """``latestRoundData`` essentials: round id, answer (USD 8 decimals), ``updatedAt`` (s)."""

    round_id: int
    answer: int
    updated_at: int


def check_price(oracle: str, value: object) -> int:
    """Return ``value`` if it is a positive ``int`` price (8 decimals), else raise OracleError."""
    if type(value) is not int or value <= 0:
        raise OracleError(f"oracle {oracle!r}: source returned {value!r}, expected a positive int (1e8 USD)")
    return value


class Oracle(ABC):
    """Base of all oracles.

    Attributes:
        name: the oracle's name (``PriceUpdated.oracle``).
        asset: the token it prices (``PriceUpdated.asset``).
        stopped: when true, :meth:`on_block` publishes nothing and the last answer goes stale
            (a frozen-oracle scenario; Maker's OSM ``stop``). Pending work is kept.
    """

    def __init__(self, name: str, asset: str) -> None:
        self.name = name
        self.asset = asset
        self.stopped = False
        self._round_id = 0
        self._answer: int | None = None
        self._updated_at = 0
        self._updated_block: int | None = None
        self._version = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, asset={self.asset!r}, answer={self._answer})"

    @property
    def version(self) -> int:
        """Increments on every new answer; equal versions mean an equal answer."""
        return self._version

    @property
    def has_answer(self) -> bool:
        """Whether any round has landed."""
        return self._answer is not None

    @property
    def updated_block(self) -> int | None:
        """Block in which the latest answer landed (``None`` before the first)."""
        return self._updated_block

    def latest_answer(self) -> int:
        """Latest answer: USD per whole ``asset`` token, 8 decimals.

        Raises:
            OracleNotReadyError: before the first round lands.
        """
        if self._answer is None:
            raise OracleNotReadyError(self.name)
        return self._answer

    def latest_round(self) -> RoundData:
        """``(round_id, answer, updated_at)`` of the latest landed round (``updated_at`` in s).

        Raises:
            OracleNotReadyError: before the first round lands.
        """
        return RoundData(self._round_id, self.latest_answer(), self._updated_at)

    def stop(self) -> None:
        """Freeze the oracle: no new answers until :meth:`start`."""
        self.stopped = True

    def start(self) -> None:
        """Resume after :meth:`stop`."""
        self.stopped = False

    @abstractmethod
    def on_block(self, block: int, now: int) -> list[PriceUpdated]:
        """Advance to ``block`` (timestamp ``now``, s); return the rounds that landed in it."""

    def _publish(self, block: int, now: int, price: int, reason: str) -> PriceUpdated:
        """Store a new answer and return its record."""
        self._round_id += 1
        self._answer = price
        self._updated_at = now
        self._updated_block = block
        self._version += 1
        return PriceUpdated(
            block=block, oracle=self.name, asset=self.asset,
            price=price, round_id=self._round_id, reason=reason,
        )
