"""Comet revert reasons: the custom errors of ``CometMainInterface`` and ``CometMath``.

:class:`CometError` carries the error's name in ``reason`` (``"NotLiquidatable"``), so a
simulated refusal can be compared with a chain revert. Checked-arithmetic failures (Solidity
0.8) are panics: :data:`PANIC_ARITHMETIC` (``Panic(0x11)``), :data:`PANIC_DIVISION`
(``Panic(0x12)``). A token transfer that lacks the balance reverts in the token:
:data:`TRANSFER_EXCEEDS_BALANCE`.
"""

from __future__ import annotations

from defisim.errors import DefisimError

__all__ = [
    "ABSURD",
    "BAD_ASSET",
    "BAD_DECIMALS",
    "BAD_DISCOUNT",
    "BAD_MINIMUM",
    "BAD_PRICE",
    "BORROW_CF_TOO_LARGE",
    "BORROW_TOO_SMALL",
    "INSUFFICIENT_RESERVES",
    "INVALID_INT104",
    "INVALID_INT256",
    "INVALID_UINT64",
    "INVALID_UINT104",
    "INVALID_UINT128",
    "LIQUIDATE_CF_TOO_LARGE",
    "NEGATIVE_NUMBER",
    "NOT_COLLATERALIZED",
    "NOT_FOR_SALE",
    "NOT_LIQUIDATABLE",
    "PANIC_ARITHMETIC",
    "PANIC_DIVISION",
    "PAUSED",
    "SUPPLY_CAP_EXCEEDED",
    "TIMESTAMP_TOO_LARGE",
    "TOO_MANY_ASSETS",
    "TOO_MUCH_SLIPPAGE",
    "TRANSFER_EXCEEDS_BALANCE",
    "UNAUTHORIZED",
    "CometError",
]

# --- CometMainInterface custom errors (verbatim names) ------------------------------------------
ABSURD = "Absurd"
BAD_ASSET = "BadAsset"
BAD_DECIMALS = "BadDecimals"
BAD_DISCOUNT = "BadDiscount"
BAD_MINIMUM = "BadMinimum"
BAD_PRICE = "BadPrice"
BORROW_TOO_SMALL = "BorrowTooSmall"
BORROW_CF_TOO_LARGE = "BorrowCFTooLarge"
INSUFFICIENT_RESERVES = "InsufficientReserves"
LIQUIDATE_CF_TOO_LARGE = "LiquidateCFTooLarge"
NOT_COLLATERALIZED = "NotCollateralized"
NOT_FOR_SALE = "NotForSale"
NOT_LIQUIDATABLE = "NotLiquidatable"
PAUSED = "Paused"
SUPPLY_CAP_EXCEEDED = "SupplyCapExceeded"
TIMESTAMP_TOO_LARGE = "TimestampTooLarge"
TOO_MANY_ASSETS = "TooManyAssets"
TOO_MUCH_SLIPPAGE = "TooMuchSlippage"
UNAUTHORIZED = "Unauthorized"

# --- CometMath custom errors -----------------------------------------------------------------
INVALID_UINT64 = "InvalidUInt64"
INVALID_UINT104 = "InvalidUInt104"
INVALID_UINT128 = "InvalidUInt128"
INVALID_INT104 = "InvalidInt104"
INVALID_INT256 = "InvalidInt256"
NEGATIVE_NUMBER = "NegativeNumber"

# --- Solidity panics and token reverts --------------------------------------------------------
PANIC_ARITHMETIC = "panic 0x11: arithmetic overflow or underflow"
PANIC_DIVISION = "panic 0x12: division or modulo by zero"
TRANSFER_EXCEEDS_BALANCE = "ERC20: transfer amount exceeds balance"


class CometError(DefisimError, ValueError):
    """An action Comet would revert. ``reason`` is the custom error's name (see module)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)
