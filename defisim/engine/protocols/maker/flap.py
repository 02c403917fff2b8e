"""Surplus auctions, simplified: ``flap`` sells surplus DAI for MKR on the AMM and burns it.

dss ``src/flap.sol`` runs an English auction: the Vow's ``bump`` DAI lot is fixed, bidders
raise MKR bids by at least ``beg`` until ``ttl`` after the last bid (or ``tau``), and ``deal``
burns the winning MKR. **Deviation (documented):** this Flapper settles at once, buying MKR
with the lot through the AMM router at the market price (the price a competitive auction
converges to, minus the bidders' margin and the auction delay) and burning it. The Vow's
checks in front of it (``Vow.flap``) are the contract's. Not modelled: ``beg``, ``ttl``,
``tau``, ``lid``/``fill`` rate limiting.

Flow of ``kick(lot)``: ``vat.move(vow, flapper, lot)`` (the Vow has ``hope``d the flapper),
``DaiJoin.exit`` of the whole DAI in the lot, swap DAI -> MKR, burn the MKR. A sub-wad
remainder of ``lot`` stays as the flapper's Vat dai.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker.dsmath import RAY
from defisim.engine.protocols.maker.errors import MakerError
from defisim.engine.protocols.maker.join import DaiJoin
from defisim.engine.protocols.maker.vat import Vat
from defisim.engine.records import SwapExecuted

if TYPE_CHECKING:
    from defisim.engine.markets.router import Router

__all__ = ["FlapSale", "Flapper"]


@dataclass(frozen=True, slots=True)
class FlapSale:
    """One surplus sale: ``lot`` [rad] taken from the Vow, ``dai_sold`` [wad] swapped,
    ``gov_burned`` MKR base units, ``supply_after`` MKR supply, and the swap records."""

    lot: int
    dai_sold: int
    gov_burned: int
    supply_after: int
    swaps: tuple[SwapExecuted, ...]


class Flapper:
    """Immediate AMM surplus sale (see module docstring)."""

    def __init__(self, journal: Journal, vat: Vat, dai_join: DaiJoin, router: Router | None,
                 gov: str, address: str, vow: str) -> None:
        self.j = journal
        self.vat = vat
        self.dai_join = dai_join
        self.router = router
        self.gov = gov
        self.address = address
        self.vow = vow
        self.kicks = 0

    def kick(self, block: int, now: int, lot: int, bid: int) -> FlapSale:
        """``kick(lot, bid)`` from the Vow: sell ``lot`` [rad] for MKR and burn it at once."""
        router, dai = self.router, self.dai_join.token
        if router is None or not router.has_path(dai, self.gov):
            raise MakerError(E.FLAP_NO_ROUTE, f"no AMM path {dai} -> {self.gov}")
        wad = lot // RAY
        if wad == 0 or router.quote(dai, self.gov, wad) == 0:
            raise MakerError(E.FLAP_NO_ROUTE, f"selling {wad} {dai} returns no {self.gov}")
        self.vat.move(self.vow, self.address, lot, self.address)
        self.dai_join.exit(self.address, wad)
        got, swaps = router.swap(block, now, self.address, dai, self.gov, wad)
        self.j.burn(self.gov, self.address, got)
        self.kicks += 1
        return FlapSale(lot, wad, got, self.j.ledger.supply(self.gov), tuple(swaps))
