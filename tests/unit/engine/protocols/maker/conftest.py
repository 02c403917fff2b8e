"""Fixtures of the Maker unit tests (the setup itself is in ``maker_env.py``)."""

from __future__ import annotations

import pytest
from maker_env import MakerEnv  # type: ignore[import-not-found]


@pytest.fixture
def env() -> MakerEnv:
    """ETH-A at 2,000 USD, Liquidations 2.0 (see ``maker_env.py``)."""
    return MakerEnv()
