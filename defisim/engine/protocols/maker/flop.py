"""``Flopper``: debt auctions, mirrored from ``makerdao/dss`` ``src/flop.sol``.

Version mirrored: dss ``master`` at ``fa4f6630afb0624d04a003e920b0d71a00331d98``.

The Vow raises a fixed ``bid`` of DAI [rad] (``sump``) by minting MKR: ``kick(gal, lot, bid)``
opens an auction with ``guy = gal`` (the Vow) and the initial MKR ``lot`` [wad] (``dump``).
Bidders accept less MKR for the same DAI:

* ``dent(id, lot, bid)``: ``bid`` must equal the auction's, ``lot < old`` and
  ``beg * lot <= old * ONE``. A new bidder pays ``bid`` to the previous high bidder
  (``vat.move``); on the first dent (``tic == 0``) that is the Vow, which at once ``kiss``es
  ``min(bid, Ash)`` of its on-auction debt. ``tic = now + ttl``.
* ``deal(id)`` once ``tic`` or ``end`` has passed, with a bid: mints ``lot`` MKR to ``guy``
  (``gem.mint``) — the dilution.
* ``tick(id)`` after ``end`` without a bid: the lot grows by ``pad`` (``lot = pad * lot / ONE``)
  and ``end = now + tau``.

MKR is minted on the :class:`~defisim.engine.ledger.Ledger` through the journal. Constructor
defaults are the contract's (``beg`` 1.05, ``pad`` 1.50, ``ttl`` 3 h, ``tau`` 2 days).
Mirrored: ``file``, ``kick``, ``tick``, ``dent``, ``deal``. Not modelled: ``cage``/``yank``
(Emergency Shutdown) and ``rely``/``deny``. The Vow the first dent ``kiss``es is the one the
Flopper was wired to (dss calls ``VowLike(guy)``; here ``guy`` must be that Vow's address).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker.dsmath import WAD, add, mul, umin
from defisim.engine.protocols.maker.errors import MakerError
from defisim.engine.protocols.maker.vat import Vat

if TYPE_CHECKING:
    from defisim.engine.protocols.maker.vow import Vow

__all__ = ["FlopBid", "FlopDeal", "FlopDent", "Flopper"]

ONE = WAD


@dataclass(frozen=True, slots=True)
class FlopBid:
    """``Flopper.bids(id)``: ``bid`` DAI paid [rad], ``lot`` MKR for it [wad], high bidder
    ``guy`` (the Vow until the first ``dent``), bid expiry ``tic`` and auction end ``end``
    [unix s]."""

    bid: int
    lot: int
    guy: str
    tic: int
    end: int


@dataclass(frozen=True, slots=True)
class FlopDeal:
    """A dealt debt auction: ``lot`` MKR [wad] minted to ``guy``, who paid ``bid`` [rad]."""

    id: int
    guy: str
    bid: int
    lot: int


@dataclass(frozen=True, slots=True)
class FlopDent:
    """What a ``dent`` replaced: the previous bid and the Ash it ``kiss``ed [rad] (first dent)."""

    previous: FlopBid
    kissed: int


class Flopper:
    """The debt auction house (see module docstring)."""

    def __init__(self, journal: Journal, vat: Vat, gov: str, address: str, vow: Vow) -> None:
        self.j = journal
        self.vat = vat
        self.gov = gov
        self.address = address
        self.vow = vow
        self.beg = 105 * WAD // 100
        self.pad = 150 * WAD // 100
        self.ttl = 3 * 3600
        self.tau = 2 * 86400
        self.kicks = 0
        self.live = 1
        self.bids: dict[int, FlopBid] = {}

    def file(self, what: str, data: int) -> None:
        """``file(what, data)`` for ``beg``/``pad`` [wad] and ``ttl``/``tau`` [s]."""
        if what not in ("beg", "pad", "ttl", "tau"):
            raise MakerError(E.FLOP_FILE_UNRECOGNIZED, what)
        self.j.set(self, what, data)

    # --- auction --------------------------------------------------------------------------------

    def kick(self, gal: str, lot: int, bid: int, now: int) -> int:
        """``kick(gal, lot, bid)``: a new auction for ``bid`` [rad] offering ``lot`` [wad],
        ``guy = gal``, ending at ``now + tau``. Returns the id."""
        if self.live != 1:
            raise MakerError(E.FLOP_NOT_LIVE)
        id_ = self.kicks + 1
        self.j.set(self, "kicks", id_)
        self.j.put(self.bids, id_, FlopBid(bid, lot, gal, 0, add(now, self.tau)))
        return id_

    def tick(self, id_: int, now: int) -> int:
        """``tick(id)``: after ``end`` without a bid, ``lot = pad * lot / ONE`` and ``end =
        now + tau``. Returns the new lot [wad]."""
        b = self.bids.get(id_)
        if b is None or not b.end < now:
            raise MakerError(E.FLOP_NOT_FINISHED)
        if b.tic != 0:
            raise MakerError(E.FLOP_BID_ALREADY_PLACED)
        lot = mul(self.pad, b.lot) // ONE
        self.j.put(self.bids, id_, replace(b, lot=lot, end=add(now, self.tau)))
        return lot

    def check_dent(self, id_: int, lot: int, bid: int, now: int) -> FlopBid:
        """The ``require``s of ``dent`` (raises like the contract); returns the current bid."""
        if self.live != 1:
            raise MakerError(E.FLOP_NOT_LIVE)
        b = self.bids.get(id_)
        if b is None or not b.guy:
            raise MakerError(E.FLOP_GUY_NOT_SET)
        if not (b.tic > now or b.tic == 0):
            raise MakerError(E.FLOP_FINISHED_TIC)
        if not b.end > now:
            raise MakerError(E.FLOP_FINISHED_END)
        if bid != b.bid:
            raise MakerError(E.FLOP_NOT_MATCHING_BID)
        if not lot < b.lot:
            raise MakerError(E.FLOP_LOT_NOT_LOWER)
        if not mul(self.beg, lot) <= mul(b.lot, ONE):
            raise MakerError(E.FLOP_INSUFFICIENT_DECREASE)
        return b

    def dent(self, id_: int, lot: int, bid: int, sender: str, now: int) -> FlopDent:
        """``dent(id, lot, bid)`` sent by ``sender`` (see module docstring)."""
        b = self.check_dent(id_, lot, bid, now)
        guy, kissed = b.guy, 0
        if sender != guy:
            self.vat.move(sender, guy, bid, sender)
            if b.tic == 0:  # on the first dent, clear as much Ash as possible
                if guy != self.vow.address:
                    raise MakerError(E.FLOP_UNKNOWN_GAL, guy)
                kissed = umin(bid, self.vow.Ash)
                self.vow.kiss(kissed)
            guy = sender
        self.j.put(self.bids, id_, replace(b, lot=lot, guy=guy, tic=add(now, self.ttl)))
        return FlopDent(b, kissed)

    def dealable(self, id_: int, now: int) -> bool:
        """Whether ``deal(id)`` would pass now (a bid, and ``tic`` or ``end`` passed)."""
        b = self.bids.get(id_)
        return b is not None and b.tic != 0 and (b.tic < now or b.end < now)

    def deal(self, id_: int, now: int) -> FlopDeal:
        """``deal(id)``: mint ``lot`` MKR to the winner ``guy``."""
        if self.live != 1:
            raise MakerError(E.FLOP_NOT_LIVE)
        if not self.dealable(id_, now):
            raise MakerError(E.FLOP_NOT_FINISHED)
        b = self.bids[id_]
        self.j.mint(self.gov, b.guy, b.lot)
        self.j.delete(self.bids, id_)
        return FlopDeal(id_, b.guy, b.bid, b.lot)

    # --- views ----------------------------------------------------------------------------------

    def max_next_lot(self, id_: int) -> int:
        """Largest ``lot`` [wad] ``dent`` accepts now: below the current lot and at most
        ``floor(lot * ONE / beg)``."""
        b = self.bids[id_]
        return min(b.lot - 1, mul(b.lot, ONE) // self.beg)
