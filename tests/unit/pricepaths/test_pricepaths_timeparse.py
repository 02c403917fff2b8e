"""Duration strings and block numbers -> blocks."""

from __future__ import annotations

from fractions import Fraction

import pytest

from defisim.pricepaths import duration_seconds, to_block


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("1h", 3600),
        ("2d", 172_800),
        ("1w", 604_800),
        ("1.5h", 5400),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("0s", 0),
    ],
)
def test_duration_seconds(text: str, seconds: int) -> None:
    assert duration_seconds(text) == Fraction(seconds)


@pytest.mark.parametrize(
    ("value", "block_time_s", "block"),
    [
        (0, 12, 0),
        (123, 12, 123),  # ints are block numbers, block time irrelevant
        ("30m", 12, 150),
        ("1h", 12, 300),
        ("2d", 12, 14_400),
        ("90s", 12, 8),  # 7.5 blocks -> nearest, halves up
        ("30s", 12, 3),  # 2.5 -> 3 (halves up, not to even)
        ("10s", 12, 1),  # 0.83 -> 1
        ("5s", 12, 0),  # 0.42 -> 0
        ("1h", 1, 3600),
        ("1h", 7, 514),  # 514.29
        ("1.5h", 12, 450),
    ],
)
def test_to_block(value: int | str, block_time_s: int, block: int) -> None:
    assert to_block(value, block_time_s) == block


@pytest.mark.parametrize("text", ["5x", "5M", "3min", "2hr", "1e3s"])
def test_unknown_unit_is_named(text: str) -> None:
    with pytest.raises(ValueError, match="unknown duration unit"):
        duration_seconds(text)


@pytest.mark.parametrize("text", ["", "5", "h", "-1h", "1h-", "1,5h"])
def test_unreadable_duration(text: str) -> None:
    with pytest.raises(ValueError, match="cannot read duration"):
        duration_seconds(text)


def test_negative_block_and_bool_rejected() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        to_block(-1, 12)
    with pytest.raises(ValueError, match="bool"):
        to_block(True, 12)


def test_block_time_must_be_positive() -> None:
    with pytest.raises(ValueError, match="block_time_s"):
        to_block("1h", 0)
