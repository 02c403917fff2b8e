"""Fixtures of the perp-exchange unit tests (the setup itself is in ``perp_env.py``)."""

from __future__ import annotations

import pytest
from perp_env import PerpEnv  # type: ignore[import-not-found]


@pytest.fixture
def env() -> PerpEnv:
    """Fresh exchange: ETH 3,000, BTC 60,000; deep pools at the same prices; empty fund."""
    return PerpEnv()
