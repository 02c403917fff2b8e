"""Refusal reasons of the perpetual exchange and its error type.

An action the exchange would not perform raises :class:`PerpError` with one of the reason
strings below (``reason``) and a ``detail``; nothing has changed when it does. Liquidation
entry points turn it into a :class:`~defisim.engine.protocols.perp.outcomes.LiquidationRefusal`.
"""

from __future__ import annotations

from defisim.errors import DefisimError

__all__ = [
    "ACCOUNT_HEALTHY",
    "ASSET_LISTED",
    "COOLDOWN",
    "INSUFFICIENT_BALANCE",
    "INSUFFICIENT_MARGIN",
    "MARKET_LISTED",
    "NO_POSITIONS",
    "UNKNOWN_ACCOUNT",
    "UNKNOWN_MARKET",
    "VAULT_NOT_LIQUIDATED",
    "ZERO_SIZE",
    "PerpError",
]

ACCOUNT_HEALTHY = "account is healthy"
"""Equity is at or above the maintenance margin requirement."""
COOLDOWN = "liquidation cooldown"
"""A staged liquidation stepped less than the cooldown ago and equity is above the backstop."""
NO_POSITIONS = "no open positions"
UNKNOWN_ACCOUNT = "unknown account"
UNKNOWN_MARKET = "unknown market"
INSUFFICIENT_MARGIN = "insufficient initial margin"
INSUFFICIENT_BALANCE = "insufficient balance"
MARKET_LISTED = "market already listed"
ASSET_LISTED = "asset already has a market"
VAULT_NOT_LIQUIDATED = "the vault is not liquidated"
ZERO_SIZE = "size is zero"


class PerpError(DefisimError, ValueError):
    """An action the exchange refuses; ``reason`` is one of this module's strings."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)
