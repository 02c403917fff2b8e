"""Receipt-rate oracle: a receipt token priced as its underlying's price times the issuer's rate.

For a receipt token (a wrapped aToken, a vault share) whose issuer exposes an exchange rate
``rate = num / den`` (underlying base units per receipt base unit; for a static aToken
``num = liquidity index I`` and ``den = RAY``)::

    answer = floor(underlying_answer * num / den)          (USD, 8 decimals)

read every ORACLE phase from the issuer's state (``underlying_answer`` is another oracle's
latest answer, listed before this one). Like a rate-provider feed it publishes a new round
when the answer moved by at least ``deviation_bps`` of the last one, when ``heartbeat_s``
passed, or whenever the rate *fell* (a fall is always published at once: it is the issuer
writing a loss off, which a consumer must see). No latency: the rate is on-chain state.

Every fall of the rate also yields a :class:`~defisim.engine.contagion.ReceiptRateDropped`
record (issuer, underlying, rate before and after), the receipt-devaluation link of the
contagion path.

The rate source is bound after the issuer exists (:meth:`ReceiptRateOracle.bind`); before
that :meth:`on_block` publishes nothing, so the issuer's builder primes the oracle.
"""

from __future__ import annotations

from collections.abc import Callable

from defisim.engine.contagion import ReceiptRateDropped
from defisim.engine.oracles.base import Oracle, OracleError, check_price
from defisim.engine.records import Record

__all__ = ["ReceiptRateOracle"]

RateSource = Callable[[int], tuple[int, int]]
"""``now -> (numerator, denominator)`` of the exchange rate (underlying per receipt unit)."""


class ReceiptRateOracle(Oracle):
    """``asset`` (a receipt token) priced at ``underlying_price() * rate`` (see module docs).

    Args:
        name, asset: see :class:`~defisim.engine.oracles.base.Oracle`.
        underlying: the token the receipt redeems for (for records).
        underlying_price: latest USD answer (8 decimals) of the underlying.
        deviation_bps: publish on a move of at least this many bps (>= 0; 0: every change).
        heartbeat_s: publish at least this often (s).
        issuer: name of the issuing protocol (for records); set by :meth:`bind` if empty.
    """

    def __init__(
        self,
        name: str,
        asset: str,
        underlying: str,
        underlying_price: Callable[[], int],
        *,
        deviation_bps: int = 1,
        heartbeat_s: int = 86_400,
        issuer: str = "",
    ) -> None:
        super().__init__(name, asset)
        for field, value, low in (("deviation_bps", deviation_bps, 0), ("heartbeat_s", heartbeat_s, 1)):
            if type(value) is not int or value < low:
                raise OracleError(f"{name}: {field} must be an int >= {low}, got {value!r}")
        self.underlying = underlying
        self.underlying_price = underlying_price
        self.deviation_bps = deviation_bps
        self.heartbeat_s = heartbeat_s
        self.issuer = issuer
        self._rate: RateSource | None = None
        self._last_rate: tuple[int, int] | None = None

    @property
    def bound(self) -> bool:
        """Whether a rate source is attached."""
        return self._rate is not None

    def bind(self, rate: RateSource, issuer: str | None = None) -> None:
        """Attach the issuer's rate source (``now -> (num, den)``)."""
        self._rate = rate
        if issuer is not None:
            self.issuer = issuer

    def rate(self, now: int) -> tuple[int, int]:
        """The issuer's exchange rate now, ``(num, den)``."""
        if self._rate is None:
            raise OracleError(f"{self.name}: no rate source bound yet")
        return self._rate(now)

    def read(self, now: int) -> int:
        """``floor(underlying_answer * num / den)``, USD 8 decimals."""
        num, den = self.rate(now)
        return check_price(self.name, self.underlying_price() * num // den)

    def on_block(self, block: int, now: int) -> list[Record]:  # type: ignore[override]
        """Read the rate; record a fall; publish on deviation, heartbeat or any fall."""
        if self.stopped or self._rate is None:
            return []
        out: list[Record] = []
        rate = self.rate(now)
        fell = False
        last = self._last_rate
        if last is not None and rate[0] * last[1] < last[0] * rate[1]:
            fell = True
            out.append(ReceiptRateDropped(
                block, self.name, self.asset, self.issuer, self.underlying,
                last[0] * rate[1] // last[1], rate[0],
                "issuer socialized a loss",
            ))
        self._last_rate = rate
        price = self.read(now)
        if self._answer is None:
            out.append(self._publish(block, now, price, "initial"))
        elif fell and price != self._answer:
            out.append(self._publish(block, now, price, "rate-drop"))
        elif abs(price - self._answer) * 10_000 >= self.deviation_bps * self._answer and price != self._answer:
            out.append(self._publish(block, now, price, "deviation"))
        elif now - self._updated_at >= self.heartbeat_s:
            out.append(self._publish(block, now, price, "heartbeat"))
        return out
