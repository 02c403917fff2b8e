"""Compound III (Comet) constants (``CometCore.sol``, ``CometMath.sol``, ``Comet.sol``).

All values are exact ints. Scales: ``BASE_INDEX_SCALE`` 1e15 (supply and borrow indices),
``FACTOR_SCALE`` 1e18 (collateral factors, liquidation factor, store-front factor,
per-second rates, utilisation), ``PRICE_SCALE`` 1e8 (USD prices of every feed).
"""

from __future__ import annotations

__all__ = [
    "BASE_ACCRUAL_SCALE",
    "BASE_INDEX_SCALE",
    "FACTOR_DESCALE",
    "FACTOR_SCALE",
    "INT104_MAX",
    "INT104_MIN",
    "INT256_MAX",
    "MAX_ASSETS",
    "MAX_BASE_DECIMALS",
    "MAX_COLLATERAL_FACTOR",
    "NO_DEBT",
    "PACKED_ASSETS",
    "PAUSE_ABSORB_OFFSET",
    "PAUSE_BUY_OFFSET",
    "PAUSE_SUPPLY_OFFSET",
    "PAUSE_TRANSFER_OFFSET",
    "PAUSE_WITHDRAW_OFFSET",
    "PRICE_FEED_DECIMALS",
    "PRICE_SCALE",
    "SECONDS_PER_YEAR",
    "TIMESTAMP_LIMIT",
    "UINT16_MAX",
    "UINT32_MAX",
    "UINT64_MAX",
    "UINT104_MAX",
    "UINT128_MAX",
    "UINT256_MAX",
    "WAD",
]

BASE_INDEX_SCALE = 10**15
"""``CometCore.BASE_INDEX_SCALE``: scale of ``baseSupplyIndex`` / ``baseBorrowIndex``."""
FACTOR_SCALE = 10**18
"""``CometCore.FACTOR_SCALE``: scale of factors and per-second rates."""
PRICE_FEED_DECIMALS = 8
"""``CometCore.PRICE_FEED_DECIMALS``: every price feed must have 8 decimals."""
PRICE_SCALE = 10**PRICE_FEED_DECIMALS
"""``CometCore.PRICE_SCALE``: USD prices with 8 decimals."""
SECONDS_PER_YEAR = 31_536_000
"""``CometCore.SECONDS_PER_YEAR`` (365 days): per-year rates are divided by it once."""
BASE_ACCRUAL_SCALE = 10**6
"""``CometCore.BASE_ACCRUAL_SCALE``: rewards accrue with 6 decimals."""
MAX_ASSETS = 15
"""``CometCore.MAX_ASSETS`` (the constructor's ``TooManyAssets`` bound)."""
PACKED_ASSETS = 12
"""``Comet.sol`` packs 12 assets (``asset00`` .. ``asset11``); asset 12+ reverts ``Absurd``."""
MAX_BASE_DECIMALS = 18
"""``CometCore.MAX_BASE_DECIMALS``."""
MAX_COLLATERAL_FACTOR = FACTOR_SCALE
"""``CometCore.MAX_COLLATERAL_FACTOR`` (1.0)."""
FACTOR_DESCALE = FACTOR_SCALE // 10**4
"""``getPackedAssetInternal`` keeps 4 decimals of each factor: ``factor / 1e14 * 1e14``."""

PAUSE_SUPPLY_OFFSET = 0
PAUSE_TRANSFER_OFFSET = 1
PAUSE_WITHDRAW_OFFSET = 2
PAUSE_ABSORB_OFFSET = 3
PAUSE_BUY_OFFSET = 4

TIMESTAMP_LIMIT = 2**40
"""``getNowInternal`` reverts ``TimestampTooLarge`` at or above 2**40."""

UINT16_MAX = 2**16 - 1
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
UINT104_MAX = 2**104 - 1
UINT128_MAX = 2**128 - 1
UINT256_MAX = 2**256 - 1
INT104_MAX = 2**103 - 1
INT104_MIN = -(2**103)
INT256_MAX = 2**255 - 1

WAD = 10**18
"""Scale of the health factors defisim reports (not a Comet quantity)."""
NO_DEBT = UINT256_MAX
"""Health factor of an account without debt (as the other lending plug-ins report it)."""
