"""Conformance suite every lending plug-in passes.

A plug-in provides a :class:`LendingHarness` (one collateral, one debt asset, prices in USD
with 8 decimals) and a test class that subclasses :class:`LendingConformance` with a
``harness`` fixture. The suite checks the properties any sound lending protocol has,
whatever its mechanism (fixed bonus, LLTV incentive, absorb, auction):

* health is monotone in the collateral price;
* every action keeps the protocol's books and the token ledger consistent;
* a healthy position cannot be liquidated, and a refused liquidation changes nothing;
* a liquidation of an unhealthy position improves its health or closes it;
* when collateral runs out, the uncovered debt is recorded as bad debt.
"""

from __future__ import annotations

from typing import Protocol

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

WAD = 10**18
NO_DEBT = 2**256 - 1


class LendingHarness(Protocol):
    """What a lending plug-in exposes to the suite. Amounts base units, prices USD 1e8."""

    collateral: str
    debt: str
    collateral_price: int
    """Starting USD price (1e8) of the collateral; the debt asset is worth 1 USD."""

    def open(self, account: str, collateral: int, debt: int) -> None:
        """Post ``collateral`` and borrow ``debt`` (raises if the protocol refuses the borrow)."""

    def max_debt(self, collateral: int) -> int:
        """Largest debt the protocol lets ``collateral`` back at the starting price."""

    def set_price(self, asset: str, price: int) -> None:
        """The answer of the oracle the protocol reads (takes effect at once)."""

    def advance(self, seconds: int) -> None:
        """Let time pass (interest, auction clocks)."""

    def health(self, account: str) -> int:
        """Health factor, WAD: below 1e18 the position may be liquidated; 2**256-1 without debt."""

    def liquidate(self, account: str) -> bool:
        """Run the protocol's liquidation of ``account`` to completion once (a maximal
        liquidationCall, an absorb, a bark and the takes, ...). True if it happened; False if
        the protocol refused (and then nothing changed)."""

    def debt_of(self, account: str) -> int:
        """The account's debt now, debt-token base units."""

    def collateral_of(self, account: str) -> int:
        """The account's collateral now, collateral base units."""

    def bad_debt(self) -> int:
        """Debt the protocol has recorded as uncovered (deficit, socialised, absorbed loss...),
        debt-token base units, cumulative."""

    def state(self) -> object:
        """An ``==``-comparable snapshot of everything the protocol holds."""

    def invariant_errors(self) -> list[str]:
        """Broken accounting rules: the protocol's own books and the ledger's conservation."""


_settings = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.differing_executors])
"""Each example builds a fresh harness, so one example never sees another's state; the
suite is shared by subclassing, which is what ``differing_executors`` warns about."""


class LendingConformance:
    """Subclass with a ``harness`` fixture returning a fresh :class:`LendingHarness`."""

    COLLATERAL_UNITS = 10  # whole collateral tokens per test position

    def _position(self, h: LendingHarness, account: str, use: float) -> tuple[int, int]:
        coll = self.COLLATERAL_UNITS * 10 ** _decimals(h, h.collateral)
        debt = max(1, int(h.max_debt(coll) * use))
        h.open(account, coll, debt)
        assert h.invariant_errors() == []
        return coll, debt

    @_settings
    @given(use=st.floats(0.3, 0.99), moves=st.lists(st.floats(0.2, 3.0), min_size=2, max_size=6))
    def test_health_is_monotone_in_collateral_price(self, harness, use: float, moves: list[float]) -> None:
        h = harness()
        self._position(h, "alice", use)
        prices = sorted({max(1, int(h.collateral_price * m)) for m in moves})
        healths = []
        for p in prices:
            h.set_price(h.collateral, p)
            healths.append(h.health("alice"))
        assert healths == sorted(healths), list(zip(prices, healths))

    @_settings
    @given(use=st.floats(0.2, 0.95), gap=st.integers(0, 86_400 * 30))
    def test_a_healthy_position_cannot_be_liquidated(self, harness, use: float, gap: int) -> None:
        h = harness()
        self._position(h, "alice", use)
        h.advance(gap)
        if h.health("alice") < WAD:
            return  # interest made it unhealthy: not this property
        before = h.state()
        assert h.liquidate("alice") is False
        assert h.state() == before
        assert h.invariant_errors() == []

    @_settings
    @given(use=st.floats(0.6, 0.99), drop=st.floats(0.5, 0.97))
    def test_liquidation_improves_or_closes_an_unhealthy_position(self, harness, use: float,
                                                                   drop: float) -> None:
        h = harness()
        self._position(h, "alice", use)
        self._position(h, "bob", 0.3)  # a healthy bystander
        h.set_price(h.collateral, max(1, int(h.collateral_price * drop)))
        before = h.health("alice")
        if before >= WAD:
            return
        debt_before = h.debt_of("alice")
        bob_before = (h.debt_of("bob"), h.collateral_of("bob"))
        assert h.liquidate("alice") is True
        after = h.health("alice")
        assert after > before or h.debt_of("alice") == 0 or h.collateral_of("alice") == 0
        assert h.debt_of("alice") < debt_before or h.bad_debt() > 0
        assert (h.debt_of("bob"), h.collateral_of("bob")) == bob_before
        assert h.invariant_errors() == []

    @_settings
    @given(use=st.floats(0.7, 0.99), crash=st.floats(0.02, 0.4))
    def test_bad_debt_is_recorded_when_collateral_runs_out(self, harness, use: float, crash: float) -> None:
        h = harness()
        self._position(h, "alice", use)
        bad_before = h.bad_debt()
        h.set_price(h.collateral, max(1, int(h.collateral_price * crash)))
        # collateral now worth well under the debt: liquidating until nothing is left must
        # leave the shortfall recorded somewhere, never silently vanish
        for _ in range(20):
            if h.collateral_of("alice") == 0 or not h.liquidate("alice"):
                break
        assert h.collateral_of("alice") == 0 or h.debt_of("alice") > 0
        recorded = h.bad_debt() - bad_before
        assert recorded > 0 or h.debt_of("alice") > 0  # written off, or still owed on the books
        assert h.invariant_errors() == []

    @_settings
    @given(ops=st.lists(st.tuples(st.sampled_from(["open", "price", "time", "liquidate"]),
                                  st.floats(0.1, 1.5)), min_size=1, max_size=12))
    def test_books_stay_consistent(self, harness, ops: list[tuple[str, float]]) -> None:
        h = harness()
        n = 0
        for op, x in ops:
            if op == "open":
                try:
                    self._position(h, f"acct{n}", min(x, 0.99))
                except Exception as exc:  # a refused borrow must change nothing observable
                    assert "Error" in type(exc).__name__ or isinstance(exc, ValueError)
                n += 1
            elif op == "price":
                h.set_price(h.collateral, max(1, int(h.collateral_price * x)))
            elif op == "time":
                h.advance(int(x * 86_400))
            elif n:
                h.liquidate(f"acct{int(x * 7) % n}")
            assert h.invariant_errors() == [], (op, x)


def _decimals(h: LendingHarness, asset: str) -> int:
    return getattr(h, "decimals", {}).get(asset, 18)


