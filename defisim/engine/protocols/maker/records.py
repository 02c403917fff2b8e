"""Records of the Maker family (Liquidations 2.0 and 1.2, Vow auctions), in the past tense.

They subclass :class:`defisim.engine.records.Record` and sit beside the engine's generic ones
(``PositionLiquidated``, ``BadDebtRealized``, ``TokensBurned``), which the Maker plug-in also
emits so ``results.summarize`` counts it like every other protocol.

Amounts keep dss units, named by suffix: ``*_rad`` (DAI in the Vat, 1e45), ``*_wad``
(collateral in the Vat, 1e18 per whole token), ``*_ray`` (prices, 1e27 DAI per whole token);
token amounts without a suffix are ledger base units. ``urn`` is the vault owner;
``auction_id`` the Clipper's (2.0) or Flipper's (1.2) id within the ilk, or the Flapper's
(``Surplus*``) or Flopper's (``Debt*``) id. MKR amounts are ledger base units (= wad).

Vow auctions: ``SurplusAuctionStarted`` (``flap``) → ``SurplusBidPlaced`` (``tend``) /
``SurplusAuctionReset`` (``tick``) → ``SurplusAuctioned`` + ``TokensBurned`` (``deal``);
``DebtAuctionStarted`` (``flop``) → ``DebtBidPlaced`` (``dent``) / ``DebtAuctionReset``
(``tick``) → ``DebtAuctioned`` + ``TokensMinted`` (``deal``).
"""

from __future__ import annotations

from dataclasses import dataclass

from defisim.engine.records import Record

__all__ = [
    "AuctionReset",
    "AuctionSettled",
    "AuctionStarted",
    "AuctionTaken",
    "BidPlaced",
    "DebtAuctionReset",
    "DebtAuctionStarted",
    "DebtAuctioned",
    "DebtBidPlaced",
    "DebtHealed",
    "SurplusAuctionReset",
    "SurplusAuctionStarted",
    "SurplusAuctioned",
    "SurplusBidPlaced",
    "TokensMinted",
]


@dataclass(frozen=True, slots=True)
class AuctionStarted(Record):
    """``bark`` (module ``"clip"``) or ``bite`` (``"flip"``) confiscated a vault and started an
    auction. ``due_rad = art * rate`` became the Vow's sin; ``tab_rad = due * chop`` is what the
    auction raises; ``top_ray`` the Clipper's start price (0 for a Flipper); ``coin_rad`` the
    keeper's reward (0 in 1.2); ``health_before`` WAD (``ink * spot / (art * rate)``)."""

    protocol: str
    ilk: str
    auction_id: int
    module: str
    urn: str
    keeper: str
    ink_wad: int
    art_wad: int
    due_rad: int
    tab_rad: int
    top_ray: int
    coin_rad: int
    health_before: int


@dataclass(frozen=True, slots=True)
class AuctionTaken(Record):
    """A Clipper ``take``: ``slice_wad`` collateral bought for ``owe_rad`` at ``price_ray``;
    ``tab_left_rad``/``lot_left_wad`` remain in the sale."""

    protocol: str
    ilk: str
    auction_id: int
    urn: str
    keeper: str
    price_ray: int
    owe_rad: int
    slice_wad: int
    tab_left_rad: int
    lot_left_wad: int


@dataclass(frozen=True, slots=True)
class AuctionReset(Record):
    """A Clipper ``redo`` (new ``top_ray``, reward ``coin_rad``; ``reason`` ``"tail"`` or
    ``"cusp"``) or a Flipper ``tick`` (``reason`` ``"tick"``, ``top_ray`` 0)."""

    protocol: str
    ilk: str
    auction_id: int
    keeper: str
    top_ray: int
    coin_rad: int
    reason: str


@dataclass(frozen=True, slots=True)
class BidPlaced(Record):
    """A Flipper bid: ``phase`` ``"tend"`` (``bid_rad`` raised for the whole lot) or
    ``"dent"`` (``lot_wad`` lowered for the full tab)."""

    protocol: str
    ilk: str
    auction_id: int
    bidder: str
    phase: str
    bid_rad: int
    lot_wad: int
    tab_rad: int


@dataclass(frozen=True, slots=True)
class AuctionSettled(Record):
    """An auction ended: the Clipper's lot or tab ran out, or a Flipper was ``deal``t.

    ``raised_rad`` DAI went to the Vow in total against ``due_rad`` of sin booked at the start
    and ``tab_rad`` wanted; ``sold_wad`` collateral went to buyers, ``returned_wad`` back to the
    urn owner's gem; ``bad_debt_rad = max(0, due - raised)`` is sin no auction proceeds cover.
    ``winner`` is the last taker or the Flipper's high bidder.
    """

    protocol: str
    ilk: str
    auction_id: int
    module: str
    urn: str
    winner: str
    due_rad: int
    tab_rad: int
    raised_rad: int
    sold_wad: int
    returned_wad: int
    bad_debt_rad: int


@dataclass(frozen=True, slots=True)
class DebtHealed(Record):
    """The Vow ``heal``ed ``rad`` of released debt against surplus; balances after."""

    protocol: str
    rad: int
    sin_after_rad: int
    dai_after_rad: int


@dataclass(frozen=True, slots=True)
class SurplusAuctionStarted(Record):
    """``Vow.flap`` kicked a surplus auction: ``lot_rad`` DAI moved from the Vow to the
    Flapper, for sale for MKR until ``end`` [unix s]; ``fill_rad`` DAI now on auction."""

    protocol: str
    auction_id: int
    lot_rad: int
    end: int
    fill_rad: int


@dataclass(frozen=True, slots=True)
class SurplusBidPlaced(Record):
    """A Flapper ``tend``: ``bidder`` offers ``bid`` MKR for the ``lot_rad`` DAI;
    ``refunded`` (the previous high bidder, the Vow before the first bid) got its
    ``refund`` MKR back; ``tic`` [unix s] the bid's expiry."""

    protocol: str
    auction_id: int
    bidder: str
    bid: int
    lot_rad: int
    refunded: str
    refund: int
    tic: int


@dataclass(frozen=True, slots=True)
class SurplusAuctionReset(Record):
    """A Flapper ``tick``: the auction ended without a bid and runs again until ``end``."""

    protocol: str
    auction_id: int
    keeper: str
    end: int


@dataclass(frozen=True, slots=True)
class SurplusAuctioned(Record):
    """A Flapper ``deal``: ``winner`` received ``lot_rad`` surplus DAI for ``gov_burned`` of
    ``gov_token``, which the Flapper burned; ``supply_after`` its supply."""

    protocol: str
    auction_id: int
    winner: str
    lot_rad: int
    gov_token: str
    gov_burned: int
    supply_after: int


@dataclass(frozen=True, slots=True)
class DebtAuctionStarted(Record):
    """``Vow.flop`` kicked a debt auction: ``lot`` MKR (``dump``) offered for ``bid_rad`` DAI
    (``sump``, added to the Vow's ``Ash``) until ``end`` [unix s]."""

    protocol: str
    auction_id: int
    lot: int
    bid_rad: int
    end: int


@dataclass(frozen=True, slots=True)
class DebtBidPlaced(Record):
    """A Flopper ``dent``: ``bidder`` pays ``bid_rad`` DAI for ``lot`` MKR; ``refunded`` (the
    previous high bidder, or the Vow on the first dent) received the ``bid_rad``;
    ``kissed_rad`` the Ash the Vow cancelled with it (first dent only); ``tic`` the expiry."""

    protocol: str
    auction_id: int
    bidder: str
    lot: int
    bid_rad: int
    refunded: str
    kissed_rad: int
    tic: int


@dataclass(frozen=True, slots=True)
class DebtAuctionReset(Record):
    """A Flopper ``tick``: no bid by ``end``; the lot grew by ``pad`` to ``lot`` MKR and the
    auction runs until the new ``end``."""

    protocol: str
    auction_id: int
    keeper: str
    lot: int
    end: int


@dataclass(frozen=True, slots=True)
class DebtAuctioned(Record):
    """A Flopper ``deal``: ``gov_minted`` of ``gov_token`` minted to ``winner``, who paid
    ``bid_rad`` DAI (``sump``) to cover the Vow's debt; ``supply_after`` its supply (dilution)."""

    protocol: str
    auction_id: int
    winner: str
    bid_rad: int
    gov_token: str
    gov_minted: int
    supply_after: int


@dataclass(frozen=True, slots=True)
class TokensMinted(Record):
    """``amount`` of ``token`` was minted by the protocol (``reason``), ``supply_after``."""

    protocol: str
    token: str
    amount: int
    reason: str
    supply_after: int
