"""``parse_amount``: ``"2.5 WETH"`` or base units, converted exactly (no float on the way)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from defisim.scenario.amounts import parse_amount

DECIMALS = {"WETH": 18, "USDC": 6, "WBTC": 8, "ZERO": 0}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.5 WETH", 2_500_000_000_000_000_000),
        ("1_000 USDC", 1_000_000_000),
        ("  7 WBTC  ", 700_000_000),
        ("0.1 WETH", 10**17),  # 0.1 is not a float here: exact decimal
        ("3 ZERO", 3),
        ("1e-6 USDC", 1),
        ("1. USDC", 1_000_000),
        ("42", 42),
        ("4_2", 42),
        (42, 42),
        (0, 0),
        (2**200, 2**200),
    ],
)
def test_parses_exactly(value: object, expected: int) -> None:
    assert parse_amount(value, DECIMALS) == expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (-1, ["negative"]),
        ("-1", ["negative"]),
        ("-2.5 WETH", ["negative"]),
        ("0.0000000000000000001 WETH", ["whole number of base units", "18 decimals"]),
        ("0.5 ZERO", ["whole number", "0 decimals"]),
        ("1.5", ["base units"]),
        (1.5, ["float"]),
        (1.0, ["float"]),
        (True, ["integer"]),
        (None, ["integer"]),
        ("", ["base units"]),
        ("WETH", ["base units"]),
        ("2.5WETH", ["base units"]),
        ("2.5 DAI", ["unknown token", "DAI", "WETH"]),
        ("²", ["base units"]),  # str.isdigit() says yes; int() says no
    ],
)
def test_rejects_with_a_message_naming_the_problem(value: object, words: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        parse_amount(value, DECIMALS)
    message = str(info.value)
    for word in words:
        assert word.lower() in message.lower(), message


def test_expected_token() -> None:
    assert parse_amount("5 USDC", DECIMALS, expected="USDC") == 5_000_000
    assert parse_amount(5, DECIMALS, expected="USDC") == 5  # base units carry no symbol
    with pytest.raises(ValueError, match="wrong token"):
        parse_amount("5 USDC", DECIMALS, expected="WETH")


def test_unchecked_token_is_a_placeholder() -> None:
    assert parse_amount("5 BROKEN", DECIMALS, unchecked=frozenset({"BROKEN"})) == 1
    assert parse_amount("5 ANY", {}, unchecked=frozenset({"*"})) == 1
    with pytest.raises(ValueError, match="unknown token"):
        parse_amount("5 OTHER", DECIMALS, unchecked=frozenset({"BROKEN"}))


@given(units=st.integers(min_value=0, max_value=10**40), symbol=st.sampled_from(sorted(DECIMALS)))
def test_round_trip_through_decimal_text(units: int, symbol: str) -> None:
    d = DECIMALS[symbol]
    whole, frac = divmod(units, 10**d)
    text = f"{whole}.{frac:0{d}d} {symbol}" if d else f"{whole} {symbol}"
    assert parse_amount(text, DECIMALS, expected=symbol) == units


def test_more_significant_digits_than_decimal_precision() -> None:
    # 30 significant digits: Decimal's default 28-digit context would round this silently.
    assert parse_amount("12345678901.123456789012345678 WETH", DECIMALS) == 12345678901123456789012345678
    assert parse_amount("100000000000000000000000000001 USDC", DECIMALS) == (10**29 + 1) * 10**6
