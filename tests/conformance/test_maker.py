"""The lending conformance suite (tests/conformance/lending.py) run on Maker Liquidations 2.0.

``liquidate`` = ``bark`` then the auction run to completion by a keeper with ample DAI: at
each step of the stairstep curve (90 s) the keeper resets the sale if it needs a ``redo``,
and otherwise buys the whole lot as soon as the Clipper's price is at or below the feed
price (a keeper that waits for a discount). ``bad_debt`` is the DAI the Vow booked as sin
(``due = art * rate`` at the bark) that the auctions did not raise, i.e. the sum of
``BadDebtRealized``. Health is ``ink * spot / (art * rate)`` (WAD).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.maker import (
    CalcConfig,
    IlkConfig,
    MakerSystem,
    Refusal,
    StaticFeed,
    annual_to_duty,
    to_ray,
    to_wad,
)
from defisim.engine.records import BadDebtRealized
from tests.conformance.lending import LendingConformance

T0 = 1_700_000_000
RAY = 10**27
RAD = 10**45
WAD = 10**18
ILK = "ETH-A"
STEP = 90
DEC = {"WETH": 18, "DAI": 18, "MKR": 18}


class MakerHarness:
    collateral, debt = "WETH", "DAI"
    collateral_price = 3000 * 10**8
    decimals = DEC

    def __init__(self) -> None:
        self.now = T0
        self.block = 0
        self.ledger = Ledger(self.decimals)
        self.feed = StaticFeed(self.collateral_price)
        self.mk = MakerSystem("maker", self.ledger, Hole=10**12 * RAD)
        self.mk.add_ilk(T0, ILK, "WETH", self.feed, IlkConfig(
            mat=to_ray(1.5, "mat"), chop=to_wad(1.13, "chop"), line=10**12 * RAD, dust=100 * RAD,
            duty=annual_to_duty(0.05), hole=10**12 * RAD, buf=to_ray(1.2, "buf"), tail=8400,
            cusp=to_ray(0.4, "cusp"), chip=to_wad(0.001, "chip"), tip=10 * RAD,
            calc=CalcConfig("stairstep-exponential", step=STEP, cut=to_ray(0.99, "cut")),
        ))
        self.mk.fund_dai("keeper", 10**12 * WAD)  # the keeper never runs short
        self.mk.back_external_dai()

    def open(self, account: str, collateral: int, debt: int) -> None:
        self.ledger.mint("WETH", account, collateral)
        self.mk.open_vault(self.now, ILK, account, collateral, debt)

    def max_debt(self, collateral: int) -> int:
        # collateral value in DAI / mat, less a little for the rounded-up normalised debt
        return collateral * self.collateral_price // 10**8 * 2 // 3 - 10**6

    def set_price(self, asset: str, price: int) -> None:
        self.feed.set(price)
        self.mk.poke_if_new(ILK)

    def advance(self, seconds: int) -> None:
        self.now += seconds
        self.mk.jug.drip(ILK, self.now)

    def health(self, account: str) -> int:
        return self.mk.health(ILK, account)

    def liquidate(self, account: str) -> bool:
        self.block += 1
        start = self.mk.liquidate(self.block, self.now, ILK, account, "keeper")
        if isinstance(start, Refusal):
            return False
        auction = start.auction_id
        for _ in range(10_000):
            views = [v for v in self.mk.clip_auctions(self.now) if v.auction_id == auction]
            if not views:
                return True
            view = views[0]
            if view.needs_redo:
                assert not isinstance(self.mk.redo(self.block, self.now, "keeper", ILK, auction), Refusal)
            elif view.price <= self.feed.latest_answer() * 10**19:  # feed price as ray
                out = self.mk.take(self.block, self.now, "keeper", ILK, auction, view.lot, view.price)
                assert not isinstance(out, Refusal), out
                continue
            self.now += STEP
        raise AssertionError("auction did not end")

    def debt_of(self, account: str) -> int:
        return self.mk.debt_of(ILK, account)

    def collateral_of(self, account: str) -> int:
        return self.mk.collateral_of(ILK, account)

    def bad_debt(self) -> int:
        return sum(r.amount for r in self.mk.records if isinstance(r, BadDebtRealized))

    def state(self) -> object:
        return self.mk.snapshot(self.now), tuple(
            (t, tuple(sorted(self.ledger.holders(t).items()))) for t in self.decimals)

    def invariant_errors(self) -> list[str]:
        return self.mk.invariant_errors() + self.ledger.conservation_errors()


class TestMakerLiquidations20(LendingConformance):
    @pytest.fixture
    def harness(self) -> Callable[[], MakerHarness]:
        return MakerHarness
