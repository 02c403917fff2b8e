"""Fixtures of the Morpho Blue unit tests (the setup itself is in ``morpho_env.py``)."""

from __future__ import annotations

import pytest
from morpho_env import MorphoEnv  # type: ignore[import-not-found]


@pytest.fixture
def env() -> MorphoEnv:
    """Fresh world: WETH at 3,000 USD, USDC at 1.00, no IRM (no interest), LLTV 0.86."""
    return MorphoEnv()
