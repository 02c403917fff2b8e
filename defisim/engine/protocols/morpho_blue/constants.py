"""Morpho Blue 1.0 constants (``libraries/ConstantsLib.sol``, ``MathLib.sol``, ``SharesMathLib.sol``).

All values are exact ints. Scales: WAD = 1e18 (LLTV, fee, incentive factor, per-second rates),
oracle prices 1e36 (``ORACLE_PRICE_SCALE``: loan-token base units per collateral-token base
unit, times 1e36).
"""

from __future__ import annotations

__all__ = [
    "LIQUIDATION_CURSOR",
    "MAX_FEE",
    "MAX_LIQUIDATION_INCENTIVE_FACTOR",
    "ORACLE_PRICE_SCALE",
    "SECONDS_PER_YEAR",
    "UINT128_MAX",
    "UINT256_MAX",
    "VIRTUAL_ASSETS",
    "VIRTUAL_SHARES",
    "WAD",
    "ZERO_ADDRESS",
]

WAD = 10**18
"""``MathLib.WAD``."""
ORACLE_PRICE_SCALE = 10**36
"""``ConstantsLib.ORACLE_PRICE_SCALE``."""
LIQUIDATION_CURSOR = 3 * 10**17
"""``ConstantsLib.LIQUIDATION_CURSOR`` (0.3e18)."""
MAX_LIQUIDATION_INCENTIVE_FACTOR = 115 * 10**16
"""``ConstantsLib.MAX_LIQUIDATION_INCENTIVE_FACTOR`` (1.15e18)."""
MAX_FEE = 25 * 10**16
"""``ConstantsLib.MAX_FEE`` (0.25e18, 25 % of interest)."""
VIRTUAL_SHARES = 10**6
"""``SharesMathLib.VIRTUAL_SHARES``."""
VIRTUAL_ASSETS = 1
"""``SharesMathLib.VIRTUAL_ASSETS``."""
UINT128_MAX = 2**128 - 1
UINT256_MAX = 2**256 - 1
SECONDS_PER_YEAR = 365 * 24 * 3600
"""``365 days`` in Solidity (``IrmMock`` divides the utilisation by it)."""
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
"""``address(0)``: the default ``feeRecipient``; refused as ``onBehalf``/``receiver``."""
