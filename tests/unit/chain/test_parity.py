"""The parity diff: keyed matching, zero pairs, exact paths."""

from __future__ import annotations

from defisim.chain.parity import compare, diff
from defisim.engine.protocols.aave_v3.outcomes import AaveSnapshot, AccountSnapshot


def _snap(accounts: tuple[AccountSnapshot, ...]) -> AaveSnapshot:
    return AaveSnapshot("pool", 0, (), accounts)


def test_identical_is_empty_and_one_wei_is_found() -> None:
    a = _snap((AccountSnapshot("alice", (("WETH", 10),), (("USDC", 5),), ("WETH",)),))
    b = _snap((AccountSnapshot("alice", (("WETH", 10),), (("USDC", 6),), ("WETH",)),))
    assert diff(a, a) == []
    (m,) = diff(a, b)
    assert m.path == "accounts[alice].scaled_debt[USDC][1]"
    assert (m.simulator, m.chain) == (5, 6)


def test_accounts_matched_by_name_not_position() -> None:
    alice = AccountSnapshot("alice", (("WETH", 1),), (), ())
    bob = AccountSnapshot("bob", (("WETH", 2),), (), ())
    carol = AccountSnapshot("carol", (("WETH", 3),), (), ())
    ms = diff(_snap((alice, bob, carol)), _snap((alice, carol)))
    assert [m.path for m in ms] == ["accounts[bob]"]
    assert ms[0].chain is None


def test_zero_balances_equal_absent_ones() -> None:
    a = _snap((AccountSnapshot("alice", (("WETH", 0), ("WBTC", 4)), (), ()),))
    b = _snap((AccountSnapshot("alice", (("WBTC", 4),), (), ()),))
    assert diff(a, b) == []


def test_ignore_fields_and_compare_lists_every_leaf() -> None:
    a, b = AaveSnapshot("x", 1, (), ()), AaveSnapshot("x", 2, (), ())
    assert diff(a, b, ignore=frozenset({"timestamp"})) == []
    assert [m.path for m in compare(a, b)] == ["name", "timestamp"]
