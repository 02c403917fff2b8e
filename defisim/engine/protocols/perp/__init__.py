"""Perpetual-futures exchange (dYdX v4 / Hyperliquid style) in exact integer math.

Public pieces: :class:`PerpExchange` (markets, margin accounts, funding, the liquidation
engine with insurance fund, auto-deleveraging and socialised loss), its parameter types,
outcomes and snapshots, the family records (:mod:`.records`) and the exact helpers
(:mod:`.mathlib`, :mod:`.constants`, :mod:`.errors`). See ``exchange.py`` for the model and
for which rule comes from which public documentation.
"""

from __future__ import annotations

from defisim.engine.protocols.perp.errors import PerpError
from defisim.engine.protocols.perp.exchange import (
    ISOLATED_SEPARATOR,
    PerpExchange,
    account_key,
)
from defisim.engine.protocols.perp.outcomes import (
    AccountSnapshot,
    ClosedPart,
    LiquidationOutcome,
    LiquidationRefusal,
    MarketSnapshot,
    PerpSnapshot,
    PositionSnapshot,
)
from defisim.engine.protocols.perp.records import (
    DeleveragingFill,
    FundingPaid,
    LiquidationFilled,
    PositionsDeleveraged,
)
from defisim.engine.protocols.perp.types import (
    FundingConfig,
    LiquidationConfig,
    MarketParams,
    StagedLiquidation,
)

__all__ = [
    "ISOLATED_SEPARATOR",
    "AccountSnapshot",
    "ClosedPart",
    "DeleveragingFill",
    "FundingConfig",
    "FundingPaid",
    "LiquidationConfig",
    "LiquidationFilled",
    "LiquidationOutcome",
    "LiquidationRefusal",
    "MarketParams",
    "MarketSnapshot",
    "PerpError",
    "PerpExchange",
    "PerpSnapshot",
    "PositionSnapshot",
    "PositionsDeleveraged",
    "StagedLiquidation",
    "account_key",
]
