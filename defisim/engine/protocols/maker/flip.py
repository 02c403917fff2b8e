"""``Flipper``: Liquidations 1.2 English auctions, mirrored from ``makerdao/dss`` ``src/flip.sol``.

A bid holds ``bid`` [rad] DAI offered, ``lot`` [wad] collateral, the high bidder ``guy``, the
bid expiry ``tic`` and auction end ``end`` [unix s], the urn ``usr``, the beneficiary ``gal``
(the Vow) and ``tab`` [rad]. Parameters: ``beg`` [wad] (minimum step, 1.03 = 3 %), ``ttl``
[s] (bid lifetime), ``tau`` [s] (auction length).

* ``tend(id, lot, bid)`` — phase 1, raising DAI for the whole lot: ``bid <= tab``,
  ``bid > old``, ``bid * ONE >= beg * old`` unless ``bid == tab``; the new bidder refunds the
  old one and pays the increase to ``gal``.
* ``dent(id, lot, bid)`` — phase 2, once ``bid == tab``: bidders accept less collateral,
  ``beg * lot <= old_lot * ONE``; the collateral given up goes back to ``usr``'s gem.
* every bid sets ``tic = now + ttl``; ``deal`` once ``tic`` or ``end`` has passed (with at
  least one bid) gives the lot to ``guy`` and ``claw``s ``tab`` from the Cat's ``litter``;
  ``tick`` restarts an auction that ended without bids.

A lone bidder therefore wins with any bid above zero once ``ttl`` passes (Black Thursday).
Mirrored: ``kick``, ``tick``, ``tend``, ``dent``, ``deal``. Not modelled: ``yank``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker.dsmath import WAD, add, mul, sub
from defisim.engine.protocols.maker.errors import MakerError
from defisim.engine.protocols.maker.vat import Vat

if TYPE_CHECKING:
    from defisim.engine.protocols.maker.cat import Cat

__all__ = ["Bid", "Deal", "Flipper"]

ONE = WAD


@dataclass(frozen=True, slots=True)
class Bid:
    """``Flipper.bids(id)`` (see module docstring)."""

    bid: int
    lot: int
    guy: str
    tic: int
    end: int
    usr: str
    gal: str
    tab: int


@dataclass(frozen=True, slots=True)
class Deal:
    """A dealt auction: the winner ``guy``, final ``bid`` [rad] and ``lot`` [wad], ``tab``
    [rad] that was wanted, and the urn ``usr``."""

    id: int
    guy: str
    bid: int
    lot: int
    tab: int
    usr: str


class Flipper:
    """The English auction house of one ilk (see module docstring)."""

    def __init__(self, journal: Journal, vat: Vat, cat: Cat, ilk: str, address: str) -> None:
        self.j = journal
        self.vat = vat
        self.cat = cat
        self.ilk = ilk
        self.address = address
        self.beg = 105 * WAD // 100
        self.ttl = 3 * 3600
        self.tau = 2 * 86400
        self.kicks = 0
        self.bids: dict[int, Bid] = {}

    def file(self, what: str, data: int) -> None:
        """``file(what, data)`` for ``beg`` [wad], ``ttl`` and ``tau`` [s]."""
        if what not in ("beg", "ttl", "tau"):
            raise MakerError("Flipper/file-unrecognized-param", what)
        self.j.set(self, what, data)

    def kick(self, usr: str, gal: str, tab: int, lot: int, bid: int, sender: str, now: int) -> int:
        """``kick(usr, gal, tab, lot, bid)`` sent by the Cat: pulls ``lot`` from the sender."""
        id_ = self.kicks + 1
        self.j.set(self, "kicks", id_)
        self.j.put(self.bids, id_, Bid(bid, lot, sender, 0, add(now, self.tau), usr, gal, tab))
        self.vat.flux(self.ilk, sender, self.address, lot, self.address)
        return id_

    def tick(self, id_: int, now: int) -> None:
        """``tick(id)``: restart an auction that ended (``end < now``) without a bid."""
        b = self.bids.get(id_)
        if b is None or not b.end < now:
            raise MakerError(E.FLIP_NOT_FINISHED)
        if b.tic != 0:
            raise MakerError(E.FLIP_BID_ALREADY_PLACED)
        self.j.put(self.bids, id_, replace(b, end=add(now, self.tau)))

    def _open(self, id_: int, now: int) -> Bid:
        b = self.bids.get(id_)
        if b is None or not b.guy:
            raise MakerError(E.FLIP_GUY_NOT_SET)
        if not (b.tic > now or b.tic == 0):
            raise MakerError(E.FLIP_FINISHED_TIC)
        if not b.end > now:
            raise MakerError(E.FLIP_FINISHED_END)
        return b

    def check_tend(self, id_: int, lot: int, bid: int, now: int) -> Bid:
        """The ``require``s of ``tend`` (raises like the contract); returns the current bid."""
        b = self._open(id_, now)
        if lot != b.lot:
            raise MakerError(E.FLIP_LOT_NOT_MATCHING)
        if bid > b.tab:
            raise MakerError(E.FLIP_HIGHER_THAN_TAB)
        if not bid > b.bid:
            raise MakerError(E.FLIP_BID_NOT_HIGHER)
        if not (mul(bid, ONE) >= mul(self.beg, b.bid) or bid == b.tab):
            raise MakerError(E.FLIP_INSUFFICIENT_INCREASE)
        return b

    def tend(self, id_: int, lot: int, bid: int, sender: str, now: int) -> None:
        """``tend(id, lot, bid)`` sent by ``sender`` (phase 1, see module docstring)."""
        b = self.check_tend(id_, lot, bid, now)
        guy = b.guy
        if sender != guy:
            self.vat.move(sender, guy, b.bid, sender)
            guy = sender
        self.vat.move(sender, b.gal, bid - b.bid, sender)
        self.j.put(self.bids, id_, replace(b, bid=bid, guy=guy, tic=add(now, self.ttl)))

    def check_dent(self, id_: int, lot: int, bid: int, now: int) -> Bid:
        """The ``require``s of ``dent`` (raises like the contract); returns the current bid."""
        b = self._open(id_, now)
        if bid != b.bid:
            raise MakerError(E.FLIP_NOT_MATCHING_BID)
        if bid != b.tab:
            raise MakerError(E.FLIP_TEND_NOT_FINISHED)
        if not lot < b.lot:
            raise MakerError(E.FLIP_LOT_NOT_LOWER)
        if not mul(self.beg, lot) <= mul(b.lot, ONE):
            raise MakerError(E.FLIP_INSUFFICIENT_DECREASE)
        return b

    def dent(self, id_: int, lot: int, bid: int, sender: str, now: int) -> None:
        """``dent(id, lot, bid)`` sent by ``sender`` (phase 2, see module docstring)."""
        b = self.check_dent(id_, lot, bid, now)
        guy = b.guy
        if sender != guy:
            self.vat.move(sender, guy, bid, sender)
            guy = sender
        self.vat.flux(self.ilk, self.address, b.usr, b.lot - lot, self.address)
        self.j.put(self.bids, id_, replace(b, lot=lot, guy=guy, tic=add(now, self.ttl)))

    def dealable(self, id_: int, now: int) -> bool:
        """Whether ``deal(id)`` would pass now."""
        b = self.bids.get(id_)
        return b is not None and b.tic != 0 and (b.tic < now or b.end < now)

    def deal(self, id_: int, now: int) -> Deal:
        """``deal(id)``: give the lot to the winner and release ``tab`` from ``litter``."""
        if not self.dealable(id_, now):
            raise MakerError(E.FLIP_NOT_FINISHED)
        b = self.bids[id_]
        self.cat.claw(b.tab)
        self.vat.flux(self.ilk, self.address, b.guy, b.lot, self.address)
        self.j.delete(self.bids, id_)
        return Deal(id_, b.guy, b.bid, b.lot, b.tab, b.usr)

    def active(self) -> list[int]:
        """Ids of auctions not yet dealt (kick order)."""
        return sorted(self.bids)

    def min_next_bid(self, id_: int) -> int:
        """Smallest ``bid`` [rad] ``tend`` accepts now: ``ceil(beg * bid / ONE)``, above the
        current bid, capped at ``tab`` (which is always accepted)."""
        b = self.bids[id_]
        need = max(b.bid + 1, -(-self.beg * b.bid // ONE))
        return min(need, b.tab)

    def max_next_lot(self, id_: int) -> int:
        """Largest ``lot`` [wad] ``dent`` accepts now: ``floor(lot * ONE / beg)``, below the
        current lot."""
        b = self.bids[id_]
        return min(b.lot - 1, sub(mul(b.lot, ONE) // self.beg, 0))
