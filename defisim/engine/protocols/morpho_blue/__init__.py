"""Morpho Blue 1.0: exact integer mirror of ``@morpho-org/morpho-blue@1.0.0`` (see ``morpho.py``).

Public pieces: :class:`MorphoBlue` (the contract with several markets and the
liquidator-facing interface), the structs (:class:`MarketParams`, :class:`Market`,
:class:`Position`), IRMs (:class:`FixedRateIrm`, :class:`LinearUtilizationIrm` = ``IrmMock``,
:class:`AdaptiveCurveIrm` = Morpho's mainnet IRM, see :mod:`.adaptive_curve_irm`), oracles,
results and snapshots, and the libraries (:mod:`.mathlib`, :mod:`.sharesmath`,
:mod:`.constants`, :mod:`.errors`).
"""

from __future__ import annotations

from defisim.engine.protocols.morpho_blue.adaptive_curve_irm import AdaptiveCurveIrm
from defisim.engine.protocols.morpho_blue.errors import MorphoError
from defisim.engine.protocols.morpho_blue.irm import (
    AnyIrm,
    FixedRateIrm,
    Irm,
    LinearUtilizationIrm,
    StatefulIrm,
)
from defisim.engine.protocols.morpho_blue.morpho import (
    MAX_AMOUNT,
    MorphoBlue,
    liquidation_incentive_factor,
    position_key,
    split_position_key,
)
from defisim.engine.protocols.morpho_blue.oracle import (
    ChainlinkPairOracle,
    FixedPriceOracle,
    chainlink_pair_price,
)
from defisim.engine.protocols.morpho_blue.outcomes import (
    LiquidateResult,
    LiquidationOutcome,
    LiquidationQuote,
    LiquidationRefusal,
    MarketSnapshot,
    MorphoSnapshot,
    PositionSnapshot,
)
from defisim.engine.protocols.morpho_blue.types import Market, MarketParams, Position

__all__ = [
    "MAX_AMOUNT",
    "AdaptiveCurveIrm",
    "AnyIrm",
    "ChainlinkPairOracle",
    "FixedPriceOracle",
    "FixedRateIrm",
    "Irm",
    "LinearUtilizationIrm",
    "LiquidateResult",
    "LiquidationOutcome",
    "LiquidationQuote",
    "LiquidationRefusal",
    "Market",
    "MarketParams",
    "MarketSnapshot",
    "MorphoBlue",
    "MorphoError",
    "MorphoSnapshot",
    "Position",
    "PositionSnapshot",
    "StatefulIrm",
    "chainlink_pair_price",
    "liquidation_incentive_factor",
    "position_key",
    "split_position_key",
]
