"""Oracles: Chainlink push feed, Maker OSM (delayed), Uniswap V2 TWAP and AMM spot.

All answers are ints, USD per whole token with 8 decimals; see :mod:`.base` for the life cycle.
"""

from __future__ import annotations

from defisim.engine.oracles.amm_spot import AmmSpotOracle
from defisim.engine.oracles.base import (
    Oracle,
    OracleError,
    OracleNotReadyError,
    RoundData,
)
from defisim.engine.oracles.chainlink import ChainlinkFeed, PendingRound
from defisim.engine.oracles.delayed import DelayedOracle
from defisim.engine.oracles.twap import TwapOracle

__all__ = [
    "Oracle",
    "OracleError",
    "OracleNotReadyError",
    "RoundData",
    "ChainlinkFeed",
    "PendingRound",
    "DelayedOracle",
    "TwapOracle",
    "AmmSpotOracle",
]
