"""Aave V3 lending pool: exact integer mirror of aave-v3-origin 3.6.0 (``pool.py``) and, with
``AavePool(..., version="3.0")``, of ``@aave/core-v3@1.19.3`` (``_v30.py``)."""

from __future__ import annotations

from defisim.engine.protocols.aave_v3._rules import AAVE_VERSIONS, AaveRules
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
    "AAVE_VERSIONS",
    "MAX_AMOUNT",
    "AaveError",
    "AavePool",
    "AaveRules",
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
