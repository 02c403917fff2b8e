"""Debt auctions, simplified: ``flop`` mints MKR and sells it on the AMM to cover bad debt.

dss ``src/flop.sol`` runs a reverse auction: the bid is fixed at ``sump`` DAI, bidders
``dent`` the MKR lot down from ``dump`` by ``beg``, and ``deal`` mints the final lot to the
winner (dilution); the DAI goes to the Vow, which ``kiss``es it against ``Ash``.
**Deviation (documented):** this Flopper settles at once: it mints the MKR needed to buy
``sump`` DAI through the AMM router at the market price, at most ``dump`` (the largest lot
the contract could mint), sells it, joins the DAI and pays it to the Vow. A thin or
crashed MKR market therefore mints up to ``dump`` and raises less than ``sump``. Not
modelled: ``beg``, ``ttl``, ``tau``, ``pad``/``tick``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from defisim.engine.markets.uniswap_v2 import PoolError
from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker.dsmath import RAY, mul, rad_to_wad_up, umin
from defisim.engine.protocols.maker.errors import MakerError
from defisim.engine.protocols.maker.join import DaiJoin
from defisim.engine.protocols.maker.vat import Vat
from defisim.engine.records import SwapExecuted

if TYPE_CHECKING:
    from defisim.engine.markets.router import Router

__all__ = ["FlopSale", "Flopper"]


@dataclass(frozen=True, slots=True)
class FlopSale:
    """One debt sale: ``gov_minted`` MKR base units sold for ``raised`` DAI [wad]
    (``raised_rad`` in the Vat), ``supply_after`` MKR supply, and the swap records."""

    bid: int
    gov_minted: int
    raised: int
    raised_rad: int
    supply_after: int
    swaps: tuple[SwapExecuted, ...]


class Flopper:
    """Immediate AMM debt sale (see module docstring)."""

    def __init__(self, journal: Journal, vat: Vat, dai_join: DaiJoin, router: Router | None,
                 gov: str, address: str) -> None:
        self.j = journal
        self.vat = vat
        self.dai_join = dai_join
        self.router = router
        self.gov = gov
        self.address = address
        self.kicks = 0

    def kick(self, block: int, now: int, gal: str, lot: int, bid: int) -> FlopSale:
        """``kick(gal, lot, bid)``: raise up to ``bid`` [rad] for ``gal`` by minting at most
        ``lot`` MKR [wad] and selling it."""
        router, dai = self.router, self.dai_join.token
        if router is None or not router.has_path(self.gov, dai):
            raise MakerError(E.FLOP_NO_ROUTE, f"no AMM path {self.gov} -> {dai}")
        try:
            need = router.quote_in(self.gov, dai, rad_to_wad_up(bid))
        except PoolError:  # the pool cannot deliver that much DAI: sell the whole lot
            need = lot
        amount = umin(need, lot)
        if amount == 0 or router.quote(self.gov, dai, amount) == 0:
            raise MakerError(E.FLOP_NOTHING_RAISED, f"selling {amount} {self.gov} returns no {dai}")
        self.j.mint(self.gov, self.address, amount)
        got, swaps = router.swap(block, now, self.address, self.gov, dai, amount)
        self.dai_join.join(self.address, got)
        self.vat.move(self.address, gal, mul(got, RAY), self.address)
        self.kicks += 1
        return FlopSale(bid, amount, got, mul(got, RAY), self.j.ledger.supply(self.gov), tuple(swaps))
