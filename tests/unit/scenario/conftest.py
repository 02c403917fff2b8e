"""Fixtures for scenario-validation tests: the bundled default scenario as plain data."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

DEFAULT_SCENARIO = Path(__file__).resolve().parents[3] / "scenarios" / "default.yaml"

_DEFAULT: dict[str, Any] = yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))


@pytest.fixture
def default_path() -> Path:
    """Path of the bundled default scenario (valid)."""
    return DEFAULT_SCENARIO


@pytest.fixture
def scn() -> dict[str, Any]:
    """A fresh deep copy of the default scenario as parsed YAML; tests mutate one thing."""
    return copy.deepcopy(_DEFAULT)
