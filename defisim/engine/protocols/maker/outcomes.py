"""Values the Maker plug-in returns: outcomes of keeper actions, refusals, auction views and
the frozen snapshot.

Units as in dss (see :mod:`.records`): ``*_rad``-style fields are named by their unit in the
docstrings; ``collateral`` amounts are ledger base units of the ilk's token; ``health`` WAD.
"""

from __future__ import annotations

from dataclasses import dataclass

from defisim.engine.protocols.maker.clip import Sale
from defisim.engine.protocols.maker.flap import FlapBid
from defisim.engine.protocols.maker.flip import Bid
from defisim.engine.protocols.maker.flop import FlopBid
from defisim.engine.protocols.maker.vat import Ilk, Urn

__all__ = [
    "AuctionStart",
    "ClipView",
    "DealOutcome",
    "FlipView",
    "MakerSnapshot",
    "Refusal",
    "TakeOutcome",
    "VowAuctionView",
]


@dataclass(frozen=True, slots=True)
class Refusal:
    """An action the contracts would revert; ``reason`` is the revert string. Nothing changed."""

    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AuctionStart:
    """A ``bark`` (``module`` ``"clip"``) or ``bite`` (``"flip"``): ``ink``/``art`` [wad]
    confiscated, ``due`` [rad] sin booked, ``tab`` [rad] to raise, ``top`` [ray] start price
    (0 for a Flipper), keeper reward ``coin`` [rad], ``health_before`` WAD."""

    ilk: str
    urn: str
    auction_id: int
    module: str
    ink: int
    art: int
    due: int
    tab: int
    top: int
    coin: int
    health_before: int


@dataclass(frozen=True, slots=True)
class TakeOutcome:
    """A Clipper ``take`` by a keeper: ``price`` [ray], ``owe`` [rad] paid, ``slice`` [wad]
    bought, ``collateral`` ledger base units the keeper received (``GemJoin.exit``),
    ``dai_joined`` DAI base units it joined to pay; ``tab_left`` [rad] and ``lot_left`` [wad];
    ``ended``; ``bad_debt`` [rad] when this take ended the auction short of ``due``;
    ``health_before`` of the vault when it was barked."""

    ilk: str
    urn: str
    auction_id: int
    price: int
    owe: int
    slice: int
    collateral: int
    dai_joined: int
    tab_left: int
    lot_left: int
    ended: bool
    bad_debt: int
    health_before: int


@dataclass(frozen=True, slots=True)
class DealOutcome:
    """A Flipper ``deal``: the ``winner`` paid ``bid`` [rad] for ``lot`` [wad] (``collateral``
    base units exited to the winner when it dealt itself); ``tab``/``due`` [rad]; ``bad_debt``
    [rad] = ``max(0, due - bid)``."""

    ilk: str
    urn: str
    auction_id: int
    winner: str
    bid: int
    lot: int
    collateral: int
    tab: int
    due: int
    bad_debt: int
    health_before: int


@dataclass(frozen=True, slots=True)
class ClipView:
    """An active Clipper sale as a keeper sees it at ``now``: ``tab`` [rad], ``lot`` [wad],
    ``price`` [ray] (``calc.price(top, now - tic)``), ``needs_redo``."""

    ilk: str
    auction_id: int
    urn: str
    tab: int
    lot: int
    tic: int
    top: int
    price: int
    needs_redo: bool


@dataclass(frozen=True, slots=True)
class FlipView:
    """An undealt Flipper auction at ``now``: ``bid``/``tab`` [rad], ``lot`` [wad], high
    bidder ``guy``, ``tic``/``end`` [s]; ``phase`` ``"tend"`` or ``"dent"``; ``dealable``
    (finished with a bid); ``needs_tick`` (ended without a bid); ``min_bid`` [rad] the next
    ``tend`` must reach and ``max_lot`` [wad] the next ``dent`` must go below or to."""

    ilk: str
    auction_id: int
    urn: str
    bid: int
    lot: int
    guy: str
    tic: int
    end: int
    tab: int
    phase: str
    dealable: bool
    needs_tick: bool
    min_bid: int
    max_lot: int


@dataclass(frozen=True, slots=True)
class VowAuctionView:
    """An undealt surplus (``house`` ``"flap"``) or debt (``"flop"``) auction at ``now``.

    flap: ``bid`` MKR [wad] offered for ``lot`` DAI [rad], ``step`` the smallest MKR bid the
    next ``tend`` may make; flop: ``bid`` DAI [rad] paid for ``lot`` MKR [wad], ``step`` the
    largest MKR lot the next ``dent`` may ask. ``guy`` is the high bidder (the Vow before the
    first bid), ``tic``/``end`` [unix s]; ``dealable`` (finished with a bid); ``needs_tick``
    (ended without a bid); ``open`` (accepting bids now).
    """

    house: str
    auction_id: int
    bid: int
    lot: int
    guy: str
    tic: int
    end: int
    dealable: bool
    needs_tick: bool
    open: bool
    step: int


@dataclass(frozen=True, slots=True)
class MakerSnapshot:
    """Frozen, ``==``-comparable state of a Maker system at ``timestamp``.

    Every tuple is sorted; zero balances are left out. ``vat`` = ``(debt, vice, Line)``;
    ``ilks``/``urns`` the Vat structs; ``gem`` ``(ilk, usr, wad)``; ``dai``/``sin``
    ``(usr, rad)``; ``jug`` ``(ilk, duty, rho)``; ``dog`` ``(Hole, Dirt, ((ilk, chop, hole,
    dirt), ...))``; ``sales`` ``(ilk, id, Sale)``; ``clips`` ``(ilk, kicks, chost)``; ``vow``
    ``(Sin, Ash, queue)``; ``cat`` ``(box, litter)``; ``bids`` ``(ilk, id, Bid)``;
    ``auctions`` ``(flap kicks, fill, lid, flop kicks)``; ``flaps`` ``(id, FlapBid)``;
    ``flops`` ``(id, FlopBid)``.
    """

    name: str
    timestamp: int
    vat: tuple[int, int, int]
    ilks: tuple[tuple[str, Ilk], ...]
    urns: tuple[tuple[str, str, Urn], ...]
    gem: tuple[tuple[str, str, int], ...]
    dai: tuple[tuple[str, int], ...]
    sin: tuple[tuple[str, int], ...]
    jug: tuple[tuple[str, int, int], ...]
    dog: tuple[int, int, tuple[tuple[str, int, int, int], ...]]
    clips: tuple[tuple[str, int, int], ...]
    sales: tuple[tuple[str, int, Sale], ...]
    vow: tuple[int, int, tuple[tuple[int, int], ...]]
    cat: tuple[int, int]
    bids: tuple[tuple[str, int, Bid], ...]
    auctions: tuple[int, int, int, int]
    flaps: tuple[tuple[int, FlapBid], ...]
    flops: tuple[tuple[int, FlopBid], ...]
