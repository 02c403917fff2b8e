"""``Flapper``: surplus auctions, mirrored from ``makerdao/dss`` ``src/flap.sol``.

Version mirrored: dss ``master`` at ``fa4f6630afb0624d04a003e920b0d71a00331d98``, which
includes the rate-limited Flapper (dss PR #244: ``lid``/``fill``).

The Vow sells a fixed ``lot`` of surplus DAI [rad] for MKR: ``kick(lot, bid=0)`` moves the
lot from the Vow to the Flapper. Bidders raise the MKR ``bid`` [wad = MKR base units]:

* ``tend(id, lot, bid)``: ``lot`` must match, ``bid > old`` and ``bid * ONE >= beg * old``;
  the new bidder pays the old bid back to the previous high bidder (``gem.move``) and the
  increase to the Flapper, and becomes ``guy``; ``tic = now + ttl``.
* ``deal(id)`` once ``tic`` (``ttl`` after the last bid) or ``end`` (``tau`` after the kick)
  has passed, with at least one bid: the lot goes to ``guy`` as Vat dai and the Flapper
  burns the MKR it holds for the auction (``gem.burn``); ``fill -= lot``.
* ``tick(id)`` restarts an auction that ended (``end < now``) without a bid: ``end = now + tau``.
* ``lid`` [rad]: the most DAI on auction at once; ``kick`` adds the lot to ``fill`` and reverts
  ``Flapper/over-lid`` above it. (The contract's ``lid`` starts at 0, so nothing can be kicked
  until governance files it; :class:`~.system.MakerSystem` files the
  :class:`~.config.FlapConfig` value, unlimited by default, as the Flapper before #244.)

MKR (the ``gem``) lives on the :class:`~defisim.engine.ledger.Ledger`; ``gem.move`` is a ledger
transfer (reverting ``ds-token-insufficient-balance`` like DSToken) and ``gem.burn`` a ledger
burn, both through the journal. Constructor defaults are the contract's (``beg`` 1.05,
``ttl`` 3 h, ``tau`` 2 days). Mirrored: ``file``, ``kick``, ``tick``, ``tend``, ``deal``. Not
modelled: ``cage``/``yank`` (Emergency Shutdown) and ``rely``/``deny``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker.dsmath import WAD, add, mul, sub
from defisim.engine.protocols.maker.errors import MakerError
from defisim.engine.protocols.maker.vat import Vat

__all__ = ["FlapBid", "FlapDeal", "Flapper"]

ONE = WAD


@dataclass(frozen=True, slots=True)
class FlapBid:
    """``Flapper.bids(id)``: ``bid`` MKR paid [wad], ``lot`` DAI for it [rad], high bidder
    ``guy`` (the Vow until the first ``tend``), bid expiry ``tic`` and auction end ``end``
    [unix s]."""

    bid: int
    lot: int
    guy: str
    tic: int
    end: int


@dataclass(frozen=True, slots=True)
class FlapDeal:
    """A dealt surplus auction: ``guy`` received ``lot`` [rad] for ``bid`` MKR [wad], burned."""

    id: int
    guy: str
    bid: int
    lot: int


class Flapper:
    """The surplus auction house (see module docstring)."""

    def __init__(self, journal: Journal, vat: Vat, gov: str, address: str) -> None:
        self.j = journal
        self.vat = vat
        self.gov = gov
        self.address = address
        self.beg = 105 * WAD // 100
        self.ttl = 3 * 3600
        self.tau = 2 * 86400
        self.kicks = 0
        self.live = 1
        self.lid = 0
        self.fill = 0
        self.bids: dict[int, FlapBid] = {}

    def file(self, what: str, data: int) -> None:
        """``file(what, data)`` for ``beg`` [wad], ``ttl``/``tau`` [s] and ``lid`` [rad]."""
        if what not in ("beg", "ttl", "tau", "lid"):
            raise MakerError(E.FLAP_FILE_UNRECOGNIZED, what)
        self.j.set(self, what, data)

    # --- auction --------------------------------------------------------------------------------

    def kick(self, lot: int, bid: int, sender: str, now: int) -> int:
        """``kick(lot, bid)`` sent by ``sender`` (the Vow, which has ``hope``d the Flapper):
        ``fill += lot <= lid``, a new auction ending at ``now + tau``, and
        ``vat.move(sender, flapper, lot)``. Returns the id."""
        if self.live != 1:
            raise MakerError(E.FLAP_NOT_LIVE)
        fill = add(self.fill, lot)
        if fill > self.lid:
            raise MakerError(E.FLAP_OVER_LID, f"fill {fill} > lid {self.lid}")
        self.j.set(self, "fill", fill)
        id_ = self.kicks + 1
        self.j.set(self, "kicks", id_)
        self.j.put(self.bids, id_, FlapBid(bid, lot, sender, 0, add(now, self.tau)))
        self.vat.move(sender, self.address, lot, self.address)
        return id_

    def tick(self, id_: int, now: int) -> None:
        """``tick(id)``: restart an auction that ended without a bid (``end = now + tau``)."""
        b = self.bids.get(id_)
        if b is None or not b.end < now:
            raise MakerError(E.FLAP_NOT_FINISHED)
        if b.tic != 0:
            raise MakerError(E.FLAP_BID_ALREADY_PLACED)
        self.j.put(self.bids, id_, replace(b, end=add(now, self.tau)))

    def check_tend(self, id_: int, lot: int, bid: int, now: int) -> FlapBid:
        """The ``require``s of ``tend`` (raises like the contract); returns the current bid."""
        if self.live != 1:
            raise MakerError(E.FLAP_NOT_LIVE)
        b = self.bids.get(id_)
        if b is None or not b.guy:
            raise MakerError(E.FLAP_GUY_NOT_SET)
        if not (b.tic > now or b.tic == 0):
            raise MakerError(E.FLAP_FINISHED_TIC)
        if not b.end > now:
            raise MakerError(E.FLAP_FINISHED_END)
        if lot != b.lot:
            raise MakerError(E.FLAP_LOT_NOT_MATCHING)
        if not bid > b.bid:
            raise MakerError(E.FLAP_BID_NOT_HIGHER)
        if not mul(bid, ONE) >= mul(self.beg, b.bid):
            raise MakerError(E.FLAP_INSUFFICIENT_INCREASE)
        return b

    def tend(self, id_: int, lot: int, bid: int, sender: str, now: int) -> FlapBid:
        """``tend(id, lot, bid)`` sent by ``sender``: refund the previous bidder, pay the
        increase to the Flapper, become ``guy``. Returns the bid it replaced."""
        b = self.check_tend(id_, lot, bid, now)
        ledger = self.j.ledger
        need = bid if sender != b.guy else bid - b.bid
        have = ledger.balance_of(self.gov, sender)
        if have < need:
            raise MakerError(E.GOV_INSUFFICIENT, f"{sender} holds {have} {self.gov}, needs {need}")
        guy = b.guy
        if sender != guy:
            self.j.transfer(self.gov, sender, guy, b.bid)
            guy = sender
        self.j.transfer(self.gov, sender, self.address, bid - b.bid)
        self.j.put(self.bids, id_, replace(b, bid=bid, guy=guy, tic=add(now, self.ttl)))
        return b

    def dealable(self, id_: int, now: int) -> bool:
        """Whether ``deal(id)`` would pass now (a bid, and ``tic`` or ``end`` passed)."""
        b = self.bids.get(id_)
        return b is not None and b.tic != 0 and (b.tic < now or b.end < now)

    def deal(self, id_: int, now: int) -> FlapDeal:
        """``deal(id)``: ``vat.move(flapper, guy, lot)``, burn the MKR bid, ``fill -= lot``."""
        if self.live != 1:
            raise MakerError(E.FLAP_NOT_LIVE)
        if not self.dealable(id_, now):
            raise MakerError(E.FLAP_NOT_FINISHED)
        b = self.bids[id_]
        self.vat.move(self.address, b.guy, b.lot, self.address)
        self.j.burn(self.gov, self.address, b.bid)
        self.j.delete(self.bids, id_)
        self.j.set(self, "fill", sub(self.fill, b.lot))
        return FlapDeal(id_, b.guy, b.bid, b.lot)

    # --- views ----------------------------------------------------------------------------------

    def min_next_bid(self, id_: int) -> int:
        """Smallest ``bid`` [wad] ``tend`` accepts now: above the current bid and at least
        ``ceil(beg * bid / ONE)``."""
        b = self.bids[id_]
        return max(b.bid + 1, -(-self.beg * b.bid // ONE))
