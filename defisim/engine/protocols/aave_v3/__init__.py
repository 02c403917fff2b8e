"""Aave V3.6 lending pool: exact integer mirror of aave-v3-origin 3.6.0 (see ``pool.py``)."""

from __future__ import annotations

from defisim.engine.protocols.aave_v3.config import ReserveConfig, ReserveParams
from defisim.engine.protocols.aave_v3.outcomes import (
    AaveError,
    AaveSnapshot,
    AccountData,
    AccountSnapshot,
    LiquidationOutcome,
    LiquidationQuote,
    LiquidationRefusal,
    ReserveSnapshot,
)
from defisim.engine.protocols.aave_v3.pool import MAX_AMOUNT, AavePool

__all__ = [
    "MAX_AMOUNT",
    "AaveError",
    "AavePool",
    "AaveSnapshot",
    "AccountData",
    "AccountSnapshot",
    "LiquidationOutcome",
    "LiquidationQuote",
    "LiquidationRefusal",
    "ReserveConfig",
    "ReserveParams",
    "ReserveSnapshot",
]
