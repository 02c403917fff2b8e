"""Token ledger: exact balances and the conservation rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from defisim.engine.ledger import Ledger
from defisim.errors import InsufficientBalanceError, InvariantViolation


def test_mint_transfer_burn_track_supply() -> None:
    ledger = Ledger({"USDC": 6})
    ledger.mint("USDC", "alice", 5_000_000)
    ledger.transfer("USDC", "alice", "bob", 1_250_000)
    ledger.burn("USDC", "bob", 250_000)
    assert ledger.balance_of("USDC", "alice") == 3_750_000
    assert ledger.balance_of("USDC", "bob") == 1_000_000
    assert ledger.supply("USDC") == 4_750_000
    assert ledger.conservation_errors() == []


def test_overdraft_raises_and_moves_nothing() -> None:
    ledger = Ledger({"WETH": 18})
    ledger.mint("WETH", "a", 10)
    with pytest.raises(InsufficientBalanceError) as info:
        ledger.transfer("WETH", "a", "b", 11)
    assert info.value.balance == 10 and info.value.amount == 11
    assert ledger.balance_of("WETH", "a") == 10 and ledger.balance_of("WETH", "b") == 0


@pytest.mark.parametrize("bad", [-1, 1.0, True, "5"])
def test_amounts_must_be_non_negative_ints(bad: object) -> None:
    ledger = Ledger({"WETH": 18})
    with pytest.raises(ValueError):
        ledger.mint("WETH", "a", bad)  # type: ignore[arg-type]


def test_checker_detects_tampering() -> None:
    ledger = Ledger({"WETH": 18})
    ledger.mint("WETH", "a", 100)
    ledger._balances["WETH"]["a"] = 99  # simulate a bug that loses a wei
    assert ledger.conservation_errors() == ["WETH: minted 100 - burned 0 != sum of balances 99"]
    with pytest.raises(InvariantViolation):
        ledger.check_conservation()


@given(st.lists(st.tuples(st.sampled_from(["mint", "burn", "transfer"]),
                          st.sampled_from(["a", "b", "c"]), st.sampled_from(["a", "b", "c"]),
                          st.integers(0, 10**30)), max_size=60))
def test_any_sequence_of_valid_moves_conserves(ops: list[tuple[str, str, str, int]]) -> None:
    ledger = Ledger({"T": 18})
    for op, x, y, amount in ops:
        try:
            if op == "mint":
                ledger.mint("T", x, amount)
            elif op == "burn":
                ledger.burn("T", x, amount)
            else:
                ledger.transfer("T", x, y, amount)
        except InsufficientBalanceError:
            pass
    assert ledger.conservation_errors() == []
    assert all(b >= 0 for b in ledger.holders("T").values())
