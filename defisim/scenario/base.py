"""Shared pieces of scenario models: the strict base model and small value types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
"""A component or account name: letters, digits, ``_ . -``."""

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
"""A share in [0, 1]."""

PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class StrictModel(BaseModel):
    """Base of every scenario model: unknown keys rejected, immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False)


def fraction_to_bps(value: float, field: str) -> int:
    """Exact basis points of a fraction (0.825 -> 8250); ValueError if not whole bps."""
    bps = round(value * 10_000)
    if abs(bps - value * 10_000) > 1e-6:
        raise ValueError(f"{field}: {value} is not a whole number of basis points")
    return bps


def gwei_to_wei(value: float) -> int:
    """Wei per gas from a gwei figure, rounded to the nearest wei."""
    return round(value * 10**9)
