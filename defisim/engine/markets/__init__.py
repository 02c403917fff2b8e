"""Markets: Uniswap V2 constant-product pools (exact ints) and an external venue (float)."""

from __future__ import annotations

from defisim.engine.markets.external_venue import ExternalVenue, VenueError, VenueQuote
from defisim.engine.markets.uniswap_v2 import (
    PoolError,
    PoolSnapshot,
    UniswapV2Pool,
    get_amount_in,
    get_amount_out,
)

__all__ = [
    "ExternalVenue",
    "VenueError",
    "VenueQuote",
    "PoolError",
    "PoolSnapshot",
    "UniswapV2Pool",
    "get_amount_in",
    "get_amount_out",
]
