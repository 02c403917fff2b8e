"""The float -> exact price bridge."""

from __future__ import annotations

import math

import numpy as np
import pytest

from defisim.errors import DefisimError
from defisim.units import PRICE_DECIMALS, PRICE_SCALE, PriceConversionError, e8_to_float, price_to_e8


def test_constants() -> None:
    assert PRICE_DECIMALS == 8
    assert PRICE_SCALE == 100_000_000


def test_price_to_e8_values() -> None:
    assert price_to_e8(3000.0) == 300_000_000_000
    assert price_to_e8(1) == 100_000_000
    assert price_to_e8(0.99985) == 99_985_000
    assert price_to_e8(np.float64(1234.56789012)) == 123_456_789_012
    assert type(price_to_e8(np.float64(2.0))) is int


def test_price_to_e8_rounds_half_to_even() -> None:
    # these floats scale to exact halves, so round() decides: half to even
    assert 2.5e-8 * 1e8 == 2.5 and 4.5e-8 * 1e8 == 4.5 and 5.5e-8 * 1e8 == 5.5
    assert price_to_e8(2.5e-8) == 2
    assert price_to_e8(4.5e-8) == 4
    assert price_to_e8(5.5e-8) == 6


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, -math.inf, 1e-9, 1e301, True, "3000", None])
def test_price_to_e8_refuses(bad: object) -> None:
    with pytest.raises(PriceConversionError) as info:
        price_to_e8(bad)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError) and isinstance(info.value, DefisimError)


def test_e8_to_float() -> None:
    assert e8_to_float(300_000_000_000) == 3000.0
    assert e8_to_float(np.int64(150_000_000)) == 1.5
    assert price_to_e8(e8_to_float(123_456_789)) == 123_456_789
    with pytest.raises(PriceConversionError):
        e8_to_float(1.5)  # type: ignore[arg-type]
