"""``SharesMathLib`` of Morpho Blue 1.0: assets <-> shares with virtual shares and assets.

``VIRTUAL_SHARES = 1e6`` and ``VIRTUAL_ASSETS = 1`` are added to the totals in every
conversion, so an empty market converts 1 asset to 1e6 shares. Rounding is named: ``down``
truncates, ``up`` rounds up (``MathLib.mulDivUp``). Amounts are token base units; shares are
plain ints.
"""

from __future__ import annotations

from defisim.engine.protocols.morpho_blue.constants import (
    VIRTUAL_ASSETS,
    VIRTUAL_SHARES,
)
from defisim.engine.protocols.morpho_blue.mathlib import mul_div_down, mul_div_up

__all__ = ["to_assets_down", "to_assets_up", "to_shares_down", "to_shares_up"]


def to_shares_down(assets: int, total_assets: int, total_shares: int) -> int:
    """``toSharesDown``: ``mulDivDown(assets, totalShares + 1e6, totalAssets + 1)``."""
    return mul_div_down(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_assets_down(shares: int, total_assets: int, total_shares: int) -> int:
    """``toAssetsDown``: ``mulDivDown(shares, totalAssets + 1, totalShares + 1e6)``."""
    return mul_div_down(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def to_shares_up(assets: int, total_assets: int, total_shares: int) -> int:
    """``toSharesUp``: ``mulDivUp(assets, totalShares + 1e6, totalAssets + 1)``."""
    return mul_div_up(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_assets_up(shares: int, total_assets: int, total_shares: int) -> int:
    """``toAssetsUp``: ``mulDivUp(shares, totalAssets + 1, totalShares + 1e6)``."""
    return mul_div_up(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)
