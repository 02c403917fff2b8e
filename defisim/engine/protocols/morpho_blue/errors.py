"""Morpho Blue revert reasons: the ``ErrorsLib`` strings, plus Solidity panics.

:class:`MorphoError` carries the exact string the contract reverts with in ``reason``
(``"position is healthy"``), so a simulated refusal can be compared with a chain revert.
Checked-arithmetic failures (Solidity 0.8) are panics, not ``ErrorsLib`` strings: their reason
is :data:`PANIC_ARITHMETIC` (``Panic(0x11)``) or :data:`PANIC_DIVISION` (``Panic(0x12)``).
"""

from __future__ import annotations

from defisim.errors import DefisimError

__all__ = [
    "ALREADY_SET",
    "HEALTHY_POSITION",
    "INCONSISTENT_INPUT",
    "INSUFFICIENT_COLLATERAL",
    "INSUFFICIENT_LIQUIDITY",
    "IRM_NOT_ENABLED",
    "LLTV_NOT_ENABLED",
    "MARKET_ALREADY_CREATED",
    "MARKET_NOT_CREATED",
    "MAX_FEE_EXCEEDED",
    "MAX_LLTV_EXCEEDED",
    "MAX_UINT128_EXCEEDED",
    "NOT_OWNER",
    "NO_CODE",
    "PANIC_ARITHMETIC",
    "PANIC_DIVISION",
    "TRANSFER_FROM_REVERTED",
    "TRANSFER_REVERTED",
    "UNAUTHORIZED",
    "WRONG_ASSETS",
    "ZERO_ADDRESS",
    "ZERO_ASSETS",
    "MorphoError",
]

# --- ErrorsLib (verbatim) -------------------------------------------------------------------
NOT_OWNER = "not owner"
MAX_LLTV_EXCEEDED = "max LLTV exceeded"
MAX_FEE_EXCEEDED = "max fee exceeded"
ALREADY_SET = "already set"
IRM_NOT_ENABLED = "IRM not enabled"
LLTV_NOT_ENABLED = "LLTV not enabled"
MARKET_ALREADY_CREATED = "market already created"
NO_CODE = "no code"
MARKET_NOT_CREATED = "market not created"
INCONSISTENT_INPUT = "inconsistent input"
ZERO_ASSETS = "zero assets"
ZERO_ADDRESS = "zero address"
UNAUTHORIZED = "unauthorized"
INSUFFICIENT_COLLATERAL = "insufficient collateral"
INSUFFICIENT_LIQUIDITY = "insufficient liquidity"
HEALTHY_POSITION = "position is healthy"
TRANSFER_REVERTED = "transfer reverted"
TRANSFER_FROM_REVERTED = "transferFrom reverted"
MAX_UINT128_EXCEEDED = "max uint128 exceeded"

# --- Solidity panics ------------------------------------------------------------------------
PANIC_ARITHMETIC = "panic 0x11: arithmetic overflow or underflow"
PANIC_DIVISION = "panic 0x12: division or modulo by zero"

# --- defisim (not a contract revert) ----------------------------------------------------------
WRONG_ASSETS = "wrong assets for market"
"""The liquidator-facing adapter was asked for a (collateral, debt) pair that is not the
market's; the contract has no such check because a market fixes both tokens."""


class MorphoError(DefisimError, ValueError):
    """An action the contract would revert. ``reason`` is the revert string (see module)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)
