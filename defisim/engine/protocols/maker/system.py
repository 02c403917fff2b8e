"""One Maker deployment: Vat, Jug, Spotter, joins, Vow, and Dog + Clippers (Liquidations 2.0)
or Cat + Flippers (Liquidations 1.2), wired as on mainnet, with the engine-facing interface.

:class:`MakerSystem` owns the dss modules (each mirrored in its own module) and one
:class:`~._journal.Journal`, so every public action here is all-or-nothing. It adds what the
contracts leave to the outside world:

* **Keepers' entry points** (:meth:`liquidate` = ``bark``/``bite``, :meth:`take`, :meth:`redo`,
  :meth:`tend`, :meth:`dent`, :meth:`deal`, :meth:`tick`; for the Vow's auctions
  :meth:`flap_tend`, :meth:`flop_dent`, :meth:`flap_deal`, :meth:`flop_deal`,
  :meth:`flap_tick`, :meth:`flop_tick`) that also move the keeper's DAI through ``DaiJoin``
  and its collateral out through ``GemJoin`` in the same transaction, and emit the family
  records (:mod:`.records`) plus ``BadDebtRealized``, ``TokensBurned`` (flap ``deal``) and
  ``TokensMinted`` (flop ``deal``). ``PositionLiquidated`` is emitted by the keeper agent,
  which knows its profit and gas.
* **Block hooks** (registered by the scenario kind): :meth:`on_block` in the ORACLE phase —
  ``Spotter.poke`` whenever an ilk's price feed (an OSM) publishes, and ``Jug.drip`` every
  ``drip_every_blocks``, as prompt poke and drip keepers would; :meth:`settle` in the
  SETTLEMENT phase — the Vow keeper: ``flog`` every era whose ``wait`` has passed, ``heal``
  what surplus covers, then kick at most one ``flop`` or one ``flap`` auction per block
  (keepers bid in them, deal and tick them).
* **Genesis DAI.** DAI that exists outside the modelled vaults (AMM liquidity, agents'
  capital minted by the scenario) has no Vat dai behind it. At the first block,
  :meth:`back_external_dai` backs it with ``vat.suck(genesis, daiJoin, ·)``: the unbacked
  debt is the ``sin`` of the holder ``<name>:genesis`` (vaults outside the simulation), not
  the Vow's, so it never counts as bad debt. From then on ``vat.dai(daiJoin) == RAY * DAI
  supply`` exactly (checked).

Accounts are urn owners; a vault's key for records is ``"<ilk>/<owner>"``.

Liquidation accounting (choices, also in the README of the kind): one ``PositionLiquidated``
per successful ``take`` (2.0) or per ``deal`` (1.2), with ``debt_repaid`` = DAI paid (owe or
the winning bid, rounded up to a DAI base unit) and ``collateral_seized`` = collateral bought;
``BadDebtRealized`` when an auction ends having raised less than the ``due`` (``art * rate``)
booked as sin at its start, for ``due - raised``. The chop penalty is not a protocol fee in
the generic sense (``protocol_fee`` = 0): it is surplus of the Vow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker._screen import IlkScreen
from defisim.engine.protocols.maker.cat import Cat
from defisim.engine.protocols.maker.clip import Clipper
from defisim.engine.protocols.maker.config import (
    FlapConfig,
    FlopConfig,
    IlkConfig,
    VowConfig,
)
from defisim.engine.protocols.maker.dog import Dog
from defisim.engine.protocols.maker.dsmath import (
    RAY,
    UINT256_MAX,
    WAD,
    mul,
    rad_to_wad_up,
    sub,
)
from defisim.engine.protocols.maker.errors import MakerError
from defisim.engine.protocols.maker.flap import FlapDeal, Flapper
from defisim.engine.protocols.maker.flip import Flipper
from defisim.engine.protocols.maker.flop import FlopDeal, Flopper
from defisim.engine.protocols.maker.join import DaiJoin, GemJoin
from defisim.engine.protocols.maker.jug import Jug
from defisim.engine.protocols.maker.outcomes import (
    AuctionStart,
    ClipView,
    DealOutcome,
    FlipView,
    MakerSnapshot,
    Refusal,
    TakeOutcome,
    VowAuctionView,
)
from defisim.engine.protocols.maker.records import (
    AuctionReset,
    AuctionSettled,
    AuctionStarted,
    AuctionTaken,
    BidPlaced,
    DebtAuctioned,
    DebtAuctionReset,
    DebtAuctionStarted,
    DebtBidPlaced,
    DebtHealed,
    SurplusAuctioned,
    SurplusAuctionReset,
    SurplusAuctionStarted,
    SurplusBidPlaced,
    TokensMinted,
)
from defisim.engine.protocols.maker.spot import Spotter
from defisim.engine.protocols.maker.vat import Vat
from defisim.engine.protocols.maker.vow import Vow
from defisim.engine.records import BadDebtRealized, Record, TokensBurned
from defisim.errors import InsufficientBalanceError

__all__ = ["Feed", "MakerSystem", "StaticFeed", "vault_key"]

USD = 10**8
E8_TO_WAD = 10**10


class Feed(Protocol):
    """A price feed the Spotter reads (an OSM oracle): USD per whole token, 8 decimals."""

    @property
    def has_answer(self) -> bool: ...

    @property
    def version(self) -> int: ...

    def latest_answer(self) -> int: ...


class StaticFeed:
    """A settable feed (tests, harnesses): ``set(price_e8)`` publishes at once."""

    def __init__(self, price_e8: int | None = None) -> None:
        self._price = price_e8
        self.version = 0 if price_e8 is None else 1

    @property
    def has_answer(self) -> bool:
        return self._price is not None

    def latest_answer(self) -> int:
        if self._price is None:
            raise MakerError(E.CLIP_INVALID_PRICE, "feed has no answer")
        return self._price

    def set(self, price_e8: int) -> None:
        """Publish ``price_e8`` (USD per whole token, 8 decimals)."""
        self._price = price_e8
        self.version += 1


def vault_key(ilk: str, urn: str) -> str:
    """The account name of ``urn``'s vault in ``ilk`` used in records: ``"<ilk>/<urn>"``."""
    return f"{ilk}/{urn}"


class _Rollback(Exception):
    """Raised inside an atomic block to undo a dry run."""


@dataclass(slots=True)
class _Book:
    """What the system remembers about one auction beyond the contract's storage."""

    urn: str
    due: int
    tab: int
    lot: int
    raised: int
    sold: int
    returned: int
    health_before: int
    winner: str


class MakerSystem:
    """A Maker deployment (see module docstring).

    ``ledger`` holds DAI (``dai``, 18 decimals), MKR (``gov``) and the collateral tokens.
    ``vow`` sets the Vow and its Flapper/Flopper (:class:`~.config.VowConfig`).
    ``liquidations`` selects Dog + Clipper (``"2.0"``) or Cat + Flipper (``"1.2"``).
    ``Line`` [rad]: global ceiling (default: the sum of the ilks' ``line``); ``Hole`` [rad]
    (2.0) and ``box`` [rad] (1.2): global liquidation limits.
    """

    def __init__(
        self,
        name: str,
        ledger: Ledger,
        *,
        liquidations: Literal["2.0", "1.2"] = "2.0",
        dai: str = "DAI",
        gov: str = "MKR",
        vow: VowConfig | None = None,
        Line: int | None = None,
        Hole: int = 0,
        box: int = 0,
        drip_every_blocks: int = 1,
        usd_price: Callable[[str], int] | None = None,
    ) -> None:
        if liquidations not in ("2.0", "1.2"):
            raise ValueError(f"liquidations must be '2.0' or '1.2', got {liquidations!r}")
        if ledger.decimals.get(dai) != 18:
            raise ValueError(f"{dai} must be a ledger token with 18 decimals (DAI is a wad token)")
        self.name = name
        self.ledger = ledger
        self.liquidations = liquidations
        self.dai = dai
        self.gov = gov
        self.usd_price = usd_price
        self.drip_every_blocks = drip_every_blocks
        self.j = Journal(ledger)
        self.vat = Vat(self.j)
        self.vow = Vow(self.j, self.vat, f"{name}:vow")
        self.jug = Jug(self.j, self.vat, self.vow.address)
        self.spotter = Spotter(self.j, self.vat)
        self.dai_join = DaiJoin(self.j, self.vat, dai, f"{name}:dai-join")
        self.flapper = Flapper(self.j, self.vat, gov, f"{name}:flapper")
        self.flopper = Flopper(self.j, self.vat, gov, f"{name}:flopper", self.vow)
        self.vow.set_auctions(self.flapper, self.flopper)
        vow_cfg = vow if vow is not None else VowConfig()
        for what in ("hump", "bump", "sump", "dump", "wait"):
            self.vow.file(what, getattr(vow_cfg, what))
        self.file_flap(vow_cfg.flap)
        self.file_flop(vow_cfg.flop)
        self.dog: Dog | None = None
        self.cat: Cat | None = None
        if liquidations == "2.0":
            self.dog = Dog(self.j, self.vat, self.vow, f"{name}:dog")
            self.dog.file_hole_global(Hole)
        else:
            self.cat = Cat(self.j, self.vat, self.vow, f"{name}:cat")
            self.cat.file_box(box)
        self._fixed_line = Line
        self.vat.file_line_global(Line or 0)
        self.genesis = f"{name}:genesis"
        self.configs: dict[str, IlkConfig] = {}
        self.gems: dict[str, str] = {}
        self.feeds: dict[str, Feed] = {}
        self.gem_joins: dict[str, GemJoin] = {}
        self.clips: dict[str, Clipper] = {}
        self.flips: dict[str, Flipper] = {}
        self._screens: dict[str, IlkScreen] = {}
        self._feed_versions: dict[str, int] = {}
        self._books: dict[tuple[str, int], _Book] = {}
        self._genesis_done = False
        self._records: list[Record] = []
        self.emit: Callable[[Iterable[Record]], None] = self._records.extend
        """Where records go: the world's log once the scenario wires it (else kept here)."""

    # --- building -----------------------------------------------------------------------------

    @property
    def records(self) -> list[Record]:
        """Records emitted while no world was attached (unit tests)."""
        return self._records

    def add_ilk(self, now: int, ilk: str, gem: str, feed: Feed, cfg: IlkConfig) -> None:
        """Deploy collateral type ``ilk`` of ledger token ``gem`` priced by ``feed`` (an OSM).

        Runs the governance spell: ``vat.init``, ``line``/``dust``, ``spotter`` ``pip``/``mat``,
        ``jug.init`` + ``duty``, the GemJoin, the Clipper (``buf``, ``tail``, ``cusp``,
        ``chip``, ``tip``, ``calc``; ``dog`` ``chop``/``hole``; ``upchost``) or the Flipper
        (``beg``, ``ttl``, ``tau``; ``cat`` ``chop``/``dunk``), and a first ``poke``.
        """
        if ilk in self.configs:
            raise MakerError(E.VAT_ILK_ALREADY_INIT, ilk)
        if gem not in self.ledger.decimals:
            raise MakerError(E.UNKNOWN_ILK, f"{gem} is not a ledger token")
        self.vat.init(ilk)
        self.vat.file(ilk, "line", cfg.line)
        self.vat.file(ilk, "dust", cfg.dust)
        if self._fixed_line is None:
            self.vat.file_line_global(self.vat.Line + cfg.line)
        self.spotter.file(ilk, _pip(feed), cfg.mat)
        self.jug.init(ilk, now)
        self.jug.file_duty(ilk, cfg.duty, now)
        self.gem_joins[ilk] = GemJoin(self.j, self.vat, ilk, gem, self.ledger.decimals[gem],
                                      f"{self.name}:gem-join:{ilk}")
        if self.dog is not None:
            clip = Clipper(self.j, self.vat, self.spotter, self.dog, ilk, f"{self.name}:clip:{ilk}",
                           self.vow.address, cfg.calc.build())
            for what in ("buf", "tail", "cusp", "chip", "tip"):
                clip.file(what, getattr(cfg, what))
            self.dog.file(ilk, "chop", cfg.chop)
            self.dog.file(ilk, "hole", cfg.hole)
            self.dog.file_clip(ilk, clip)
            clip.upchost()
            self.clips[ilk] = clip
        else:
            cat = self.cat
            if cat is None:  # pragma: no cover - set in __init__ for 1.2
                raise MakerError(E.WRONG_MODE)
            flip = Flipper(self.j, self.vat, cat, ilk, f"{self.name}:flip:{ilk}")
            flip.file("beg", cfg.beg)
            flip.file("ttl", cfg.ttl)
            flip.file("tau", cfg.tau)
            cat.file(ilk, "chop", cfg.chop)
            cat.file(ilk, "dunk", cfg.dunk)
            cat.file_flip(ilk, flip)
            self.flips[ilk] = flip
        self.configs[ilk] = cfg
        self.gems[ilk] = gem
        self.feeds[ilk] = feed
        self._screens[ilk] = IlkScreen()
        self._feed_versions[ilk] = -1
        self.poke_if_new(ilk)

    def file_flap(self, cfg: FlapConfig) -> None:
        """Governance: ``flapper.file`` ``beg``, ``ttl``, ``tau``, ``lid``."""
        for what in ("beg", "ttl", "tau", "lid"):
            self.flapper.file(what, getattr(cfg, what))

    def file_flop(self, cfg: FlopConfig) -> None:
        """Governance: ``flopper.file`` ``beg``, ``pad``, ``ttl``, ``tau``."""
        for what in ("beg", "pad", "ttl", "tau"):
            self.flopper.file(what, getattr(cfg, what))

    def open_vault(self, now: int, ilk: str, owner: str, collateral: int, debt: int) -> None:
        """Open (or add to) ``owner``'s vault: lock ``collateral`` base units of the ilk's token
        (which ``owner`` must hold) and draw ``debt`` DAI base units, exited to ``owner``.

        As ``DssProxyActions.lockGemAndDraw``: ``jug.drip``, ``GemJoin.join``, ``frob`` with
        ``dart`` from ``_getDrawDart`` (``(wad*RAY - dai) / rate``, plus one if that falls
        short), ``DaiJoin.exit``. Atomic: raises :class:`MakerError` and changes nothing if the
        Vat refuses (``Vat/not-safe``, ``Vat/dust``, ``Vat/ceiling-exceeded``...).
        """
        join = self._gem_join(ilk)
        with self.j.atomic():
            rate = self.jug.drip(ilk, now)
            join.join(owner, collateral)
            dart = 0
            if debt:
                dai = self.vat.dai_of(owner)
                want = mul(debt, RAY)
                if dai < want:
                    dart = (want - dai) // rate
                    if mul(dart, rate) < want:
                        dart += 1
            self.vat.frob(ilk, owner, owner, owner, mul(collateral, join.conversion), dart, owner)
            if debt:
                self.dai_join.exit(owner, debt)
        self._touch(ilk, owner)

    def fund_dai(self, holder: str, wad: int) -> None:
        """Give ``holder`` ``wad`` DAI that existed before the run (backed by genesis sin)."""
        with self.j.atomic():
            self.vat.suck(self.genesis, holder, mul(wad, RAY))
            self.dai_join.exit(holder, wad)
            self._raise_default_line(mul(wad, RAY))

    def back_external_dai(self) -> int:
        """Back DAI minted outside the Vat (see module docstring); returns the wad backed.
        Call once every holder's DAI exists (the first ORACLE phase does)."""
        supply = self.ledger.supply(self.dai) * RAY
        have = self.vat.dai_of(self.dai_join.address)
        self._genesis_done = True
        if supply > have:
            self.vat.suck(self.genesis, self.dai_join.address, supply - have)
            self._raise_default_line(supply - have)
            return (supply - have) // RAY
        return 0

    def _raise_default_line(self, rad: int) -> None:
        """Genesis DAI counts in ``vat.debt``; a default ``Line`` (the sum of the ilks'
        lines) grows with it so that it does not crowd out vault debt."""
        if self._fixed_line is None:
            self.vat.file_line_global(self.vat.Line + rad)

    # --- block hooks --------------------------------------------------------------------------

    def poke_if_new(self, ilk: str) -> bool:
        """``Spotter.poke(ilk)`` if the feed published since the last poke."""
        feed = self.feeds[ilk]
        if not feed.has_answer or feed.version == self._feed_versions[ilk]:
            return False
        self.spotter.poke(ilk)
        self._feed_versions[ilk] = feed.version
        return True

    def on_block(self, block: int, now: int) -> None:
        """ORACLE phase (after the oracles): genesis backing once, pokes, drips."""
        if not self._genesis_done:
            self.back_external_dai()
        for ilk in self.configs:
            self.poke_if_new(ilk)
            if block % self.drip_every_blocks == 0 and now > self.jug.ilks[ilk].rho:
                self.jug.drip(ilk, now)

    def settle(self, block: int, now: int) -> None:
        """SETTLEMENT phase: the Vow keeper (flog, heal, then one flop or flap at most)."""
        vow = self.vow
        for era in sorted(vow.sin):
            if era + vow.wait <= now:
                vow.flog(era, now)
        free, surplus = vow.free_debt(), vow.surplus()
        heal = min(free, surplus)
        if heal:
            vow.heal(heal)
            self.emit([DebtHealed(block, self.name, heal, self.vat.sin_of(vow.address), vow.surplus())])
        if vow.sump and vow.sump <= vow.free_debt() and vow.surplus() == 0:
            try:
                with self.j.atomic():
                    id_ = vow.flop(now)
            except MakerError:
                return
            b = self.flopper.bids[id_]
            self.emit([DebtAuctionStarted(block, self.name, id_, b.lot, b.bid, b.end)])
        elif (vow.bump and vow.free_debt() == 0
              and vow.surplus() >= self.vat.sin_of(vow.address) + vow.bump + vow.hump
              and self.flapper.fill + vow.bump <= self.flapper.lid):
            try:
                with self.j.atomic():
                    id_ = vow.flap(now)
            except MakerError:
                return
            f = self.flapper.bids[id_]
            self.emit([SurplusAuctionStarted(block, self.name, id_, f.lot, f.end, self.flapper.fill)])

    # --- vault views --------------------------------------------------------------------------

    def _gem_join(self, ilk: str) -> GemJoin:
        join = self.gem_joins.get(ilk)
        if join is None:
            raise MakerError(E.UNKNOWN_ILK, ilk)
        return join

    def health(self, ilk: str, urn: str) -> int:
        """``ink * spot * WAD / (art * rate)`` rounded down (WAD); ``2**256 - 1`` without debt.
        Below ``WAD`` exactly when the urn is unsafe (``ink * spot < art * rate``)."""
        u = self.vat.urn(ilk, urn)
        if u.art == 0:
            return UINT256_MAX
        i = self.vat.ilks[ilk]
        return u.ink * i.spot * WAD // (u.art * i.rate)

    def is_unsafe(self, ilk: str, urn: str) -> bool:
        """The ``bark``/``bite`` condition: ``spot > 0`` and ``ink * spot < art * rate``."""
        u = self.vat.urn(ilk, urn)
        i = self.vat.ilks.get(ilk)
        return i is not None and i.spot > 0 and u.ink * i.spot < u.art * i.rate

    def debt_of(self, ilk: str, urn: str) -> int:
        """The vault's debt ``art * rate`` in DAI base units, rounded up."""
        u = self.vat.urn(ilk, urn)
        return rad_to_wad_up(u.art * self.vat.ilks[ilk].rate) if u.art else 0

    def collateral_of(self, ilk: str, urn: str) -> int:
        """The vault's locked collateral ``ink`` in ledger base units (rounded down)."""
        return self.vat.urn(ilk, urn).ink // self._gem_join(ilk).conversion

    def unsafe_candidates(self, now: int) -> list[tuple[str, str]]:
        """``(ilk, urn)`` of vaults that may be unsafe, largest debt first (float screen, so
        callers confirm with :meth:`is_unsafe`; no unsafe vault is missed)."""
        found: list[tuple[float, str, str]] = []
        for ilk, screen in self._screens.items():
            i = self.vat.ilks[ilk]
            if i.spot == 0:
                continue
            for urn, debt in screen.candidates(i.spot, i.rate):
                found.append((debt, ilk, urn))
        found.sort(key=lambda t: (-t[0], t[1], t[2]))
        return [(ilk, urn) for _, ilk, urn in found]

    def _touch(self, ilk: str, urn: str) -> None:
        u = self.vat.urn(ilk, urn)
        self._screens[ilk].set_row(urn, u.ink, u.art)

    # --- engine interface ------------------------------------------------------------------------

    def liquidation_candidates(self, now: int) -> list[str]:
        """Always empty: Maker vaults are liquidated by ``bark``/``bite`` and auctions, which
        the generic liquidator does not speak; :class:`~defisim.engine.agents.maker_keeper.MakerKeeper`
        uses :meth:`unsafe_candidates`."""
        return []

    def health_factors_estimate(self, now: int) -> np.ndarray:
        """Float health (``ink * spot / (art * rate)``) of vaults with debt, for plots."""
        parts = []
        for ilk, screen in self._screens.items():
            i = self.vat.ilks[ilk]
            if i.spot:
                parts.append(screen.estimates(i.spot, i.rate))
        return np.concatenate(parts) if parts else np.zeros(0)

    def value_usd(self, asset: str, amount: int) -> int:
        """USD (8 decimals, rounded down) of ``amount`` base units: DAI at par ($1), collateral
        at its feed (the OSM answer), anything else through ``usd_price`` (0 without it)."""
        if asset == self.dai:
            return amount * USD // WAD
        for ilk, gem in self.gems.items():
            if gem == asset and self.feeds[ilk].has_answer:
                return amount * self.feeds[ilk].latest_answer() // 10 ** self.ledger.decimals[asset]
        if self.usd_price is not None:
            return amount * self.usd_price(asset) // 10 ** self.ledger.decimals[asset]
        return 0

    def assets(self) -> list[str]:
        """Tokens the system holds: DAI and every ilk's collateral."""
        return [self.dai, *dict.fromkeys(self.gems.values())]

    # --- liquidation: bark / bite -------------------------------------------------------------

    def liquidate(self, block: int, now: int, ilk: str, urn: str, keeper: str) -> AuctionStart | Refusal:
        """``dog.bark(ilk, urn, keeper)`` (2.0) or ``cat.bite(ilk, urn)`` (1.2); the 2.0 reward
        stays as the keeper's Vat dai. Emits ``AuctionStarted``."""
        health = self.health(ilk, urn) if ilk in self.configs else 0
        try:
            with self.j.atomic():
                if self.dog is not None:
                    b = self.dog.bark(ilk, urn, keeper, now)
                    top, coin, module = self.clips[ilk].sales[b.id].top, b.coin, "clip"
                    ink, art, due, tab, id_ = b.ink, b.art, b.due, b.tab, b.id
                else:
                    cat = self.cat
                    if cat is None:  # pragma: no cover
                        raise MakerError(E.WRONG_MODE)
                    c = cat.bite(ilk, urn, now)
                    top, coin, module = 0, 0, "flip"
                    ink, art, due, tab, id_ = c.ink, c.art, c.due, c.tab, c.id
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        self._touch(ilk, urn)
        self._books[(ilk, id_)] = _Book(urn, due, tab, ink, 0, 0, 0, health, "")
        self.emit([AuctionStarted(block, self.name, ilk, id_, module, urn, keeper, ink, art, due, tab,
                                  top, coin, health)])
        return AuctionStart(ilk, urn, id_, module, ink, art, due, tab, top, coin, health)

    def quote_liquidate(self, now: int, ilk: str, urn: str) -> Refusal | None:
        """Whether :meth:`liquidate` would pass now: runs ``bark``/``bite`` and rolls it back.
        None if it would start an auction, else the revert."""
        try:
            with self.j.atomic():
                if self.dog is not None:
                    self.dog.bark(ilk, urn, self.genesis, now)
                elif self.cat is not None:
                    self.cat.bite(ilk, urn, now)
                raise _Rollback
        except _Rollback:
            return None
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)

    # --- Liquidations 2.0: Clipper ------------------------------------------------------------

    def clip_auctions(self, now: int) -> list[ClipView]:
        """Every active Clipper sale, ilk by ilk in ``active`` order, as seen at ``now``."""
        out = []
        for ilk, clip in self.clips.items():
            for id_ in clip.active:
                s = clip.sales[id_]
                done, price = clip.status(s.tic, s.top, now)
                out.append(ClipView(ilk, id_, s.usr, s.tab, s.lot, s.tic, s.top, price, done))
        return out

    def quote_take(self, now: int, ilk: str, auction_id: int, amt: int, max_price: int) -> tuple[int, int, int] | Refusal:
        """``(price [ray], slice [wad], owe [rad])`` of ``take(id, amt, max)`` now, or the revert."""
        clip = self.clips.get(ilk)
        if clip is None:
            return Refusal(E.UNKNOWN_ILK, ilk)
        try:
            return clip.quote_take(auction_id, amt, max_price, now)
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)

    def take(self, block: int, now: int, keeper: str, ilk: str, auction_id: int, amt: int,
             max_price: int) -> TakeOutcome | Refusal:
        """A keeper's ``take``: join the DAI it lacks in the Vat (from its ledger DAI), ``take``
        with ``who = keeper``, exit the bought collateral to its ledger balance. Emits
        ``AuctionTaken`` and, when the sale ends, ``AuctionSettled`` (+ ``BadDebtRealized``)."""
        clip = self.clips.get(ilk)
        if clip is None:
            return Refusal(E.UNKNOWN_ILK, ilk)
        try:
            with self.j.atomic():
                _, _, owe = clip.quote_take(auction_id, amt, max_price, now)
                joined = self._join_for(keeper, owe)
                t = clip.take(auction_id, amt, max_price, keeper, keeper, now)
                got = self.gem_joins[ilk].exit_all(keeper)
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        book = self._books[(ilk, auction_id)]
        book.raised += t.owe
        book.sold += t.slice
        book.returned += t.returned
        book.winner = keeper
        self.emit([AuctionTaken(block, self.name, ilk, auction_id, t.usr, keeper, t.price, t.owe, t.slice,
                                t.tab, t.lot)])
        bad = self._settled(block, ilk, auction_id, "clip") if t.ended else 0
        return TakeOutcome(ilk, t.usr, auction_id, t.price, t.owe, t.slice, got, joined, t.tab, t.lot,
                           t.ended, bad, book.health_before)

    def redo(self, block: int, now: int, keeper: str, ilk: str, auction_id: int) -> tuple[int, int] | Refusal:
        """A keeper's ``redo``: ``(new top [ray], reward coin [rad])``. Emits ``AuctionReset``."""
        clip = self.clips.get(ilk)
        if clip is None:
            return Refusal(E.UNKNOWN_ILK, ilk)
        sale = clip.sales.get(auction_id)
        reason = "tail"
        if sale is not None and sub(now, sale.tic) <= clip.tail:
            reason = "cusp"
        try:
            with self.j.atomic():
                top, coin = clip.redo(auction_id, keeper, now)
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        self.emit([AuctionReset(block, self.name, ilk, auction_id, keeper, top, coin, reason)])
        return top, coin

    # --- Liquidations 1.2: Flipper ------------------------------------------------------------

    def flip_auctions(self, now: int) -> list[FlipView]:
        """Every undealt Flipper auction, ilk by ilk in kick order, as seen at ``now``."""
        out = []
        for ilk, flip in self.flips.items():
            for id_ in flip.active():
                b = flip.bids[id_]
                out.append(FlipView(
                    ilk, id_, b.usr, b.bid, b.lot, b.guy, b.tic, b.end, b.tab,
                    "dent" if b.bid == b.tab else "tend", flip.dealable(id_, now),
                    b.tic == 0 and b.end < now, flip.min_next_bid(id_), flip.max_next_lot(id_),
                ))
        return out

    def _flip(self, ilk: str) -> Flipper:
        flip = self.flips.get(ilk)
        if flip is None:
            raise MakerError(E.UNKNOWN_ILK, ilk)
        return flip

    def tend(self, block: int, now: int, keeper: str, ilk: str, auction_id: int, lot: int,
             bid: int) -> Refusal | None:
        """A keeper's ``tend`` (joining the DAI it lacks). Emits ``BidPlaced``."""
        try:
            with self.j.atomic():
                flip = self._flip(ilk)
                b = flip.check_tend(auction_id, lot, bid, now)
                self._join_for(keeper, bid if keeper != b.guy else bid - b.bid)
                flip.tend(auction_id, lot, bid, keeper, now)
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        self.emit([BidPlaced(block, self.name, ilk, auction_id, keeper, "tend", bid, lot, b.tab)])
        return None

    def dent(self, block: int, now: int, keeper: str, ilk: str, auction_id: int, lot: int,
             bid: int) -> Refusal | None:
        """A keeper's ``dent`` (joining the DAI it lacks). Emits ``BidPlaced``."""
        try:
            with self.j.atomic():
                flip = self._flip(ilk)
                b = flip.check_dent(auction_id, lot, bid, now)
                self._join_for(keeper, bid if keeper != b.guy else 0)
                flip.dent(auction_id, lot, bid, keeper, now)
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        book = self._books[(ilk, auction_id)]
        book.returned += b.lot - lot
        self.emit([BidPlaced(block, self.name, ilk, auction_id, keeper, "dent", bid, lot, b.tab)])
        return None

    def tick(self, block: int, now: int, keeper: str, ilk: str, auction_id: int) -> Refusal | None:
        """``tick``: restart an auction that ended without bids. Emits ``AuctionReset``."""
        try:
            with self.j.atomic():
                self._flip(ilk).tick(auction_id, now)
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        self.emit([AuctionReset(block, self.name, ilk, auction_id, keeper, 0, 0, "tick")])
        return None

    def deal(self, block: int, now: int, keeper: str, ilk: str, auction_id: int) -> DealOutcome | Refusal:
        """``deal``: the lot goes to the high bidder (exited to its ledger balance when it deals
        itself). Emits ``AuctionSettled`` (+ ``BadDebtRealized``)."""
        try:
            with self.j.atomic():
                d = self._flip(ilk).deal(auction_id, now)
                got = self.gem_joins[ilk].exit_all(d.guy) if d.guy == keeper else 0
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        book = self._books[(ilk, auction_id)]
        book.raised = d.bid
        book.sold = d.lot
        book.winner = d.guy
        bad = self._settled(block, ilk, auction_id, "flip")
        return DealOutcome(ilk, d.usr, auction_id, d.guy, d.bid, d.lot, got, d.tab, book.due, bad,
                           book.health_before)

    # --- The Vow's auctions: Flapper and Flopper -----------------------------------------------

    def vow_auctions(self, now: int) -> list[VowAuctionView]:
        """Every undealt flap, then flop auction, in kick order, as seen at ``now``."""
        out = []
        flap, flop = self.flapper, self.flopper
        for id_, b in flap.bids.items():
            out.append(VowAuctionView(
                "flap", id_, b.bid, b.lot, b.guy, b.tic, b.end, b.tic != 0 and (b.tic < now or b.end < now),
                b.tic == 0 and b.end < now, b.end > now and (b.tic == 0 or b.tic > now), flap.min_next_bid(id_)))
        for id_, d in flop.bids.items():
            out.append(VowAuctionView(
                "flop", id_, d.bid, d.lot, d.guy, d.tic, d.end, d.tic != 0 and (d.tic < now or d.end < now),
                d.tic == 0 and d.end < now, d.end > now and (d.tic == 0 or d.tic > now), flop.max_next_lot(id_)))
        return out

    def flap_tend(self, block: int, now: int, keeper: str, auction_id: int, lot: int,
                  bid: int) -> Refusal | None:
        """A keeper's Flapper ``tend``, paid from its ledger MKR. Emits ``SurplusBidPlaced``."""
        try:
            with self.j.atomic():
                old = self.flapper.tend(auction_id, lot, bid, keeper, now)
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        refund = old.bid if old.guy != keeper else 0
        self.emit([SurplusBidPlaced(block, self.name, auction_id, keeper, bid, lot, old.guy, refund,
                                    self.flapper.bids[auction_id].tic)])
        return None

    def flop_dent(self, block: int, now: int, keeper: str, auction_id: int, lot: int,
                  bid: int) -> Refusal | None:
        """A keeper's Flopper ``dent`` (joining the DAI it lacks). Emits ``DebtBidPlaced``."""
        try:
            with self.j.atomic():
                b = self.flopper.check_dent(auction_id, lot, bid, now)
                self._join_for(keeper, bid if keeper != b.guy else 0)
                dent = self.flopper.dent(auction_id, lot, bid, keeper, now)
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        self.emit([DebtBidPlaced(block, self.name, auction_id, keeper, lot, bid, dent.previous.guy,
                                 dent.kissed, self.flopper.bids[auction_id].tic)])
        return None

    def flap_deal(self, block: int, now: int, keeper: str, auction_id: int) -> FlapDeal | Refusal:
        """Flapper ``deal``: the DAI lot to the winner (exited to its ledger balance when it
        deals itself), the MKR bid burned. Emits ``SurplusAuctioned`` and ``TokensBurned``."""
        try:
            with self.j.atomic():
                d = self.flapper.deal(auction_id, now)
                if d.guy == keeper:
                    self.dai_join.exit_all(keeper)
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        supply = self.ledger.supply(self.gov)
        self.emit([
            SurplusAuctioned(block, self.name, auction_id, d.guy, d.lot, self.gov, d.bid, supply),
            TokensBurned(block, self.name, self.gov, d.bid, self.dai, d.lot // RAY, supply),
        ])
        return d

    def flop_deal(self, block: int, now: int, keeper: str, auction_id: int) -> FlopDeal | Refusal:
        """Flopper ``deal``: mint the MKR lot to the winner. Emits ``DebtAuctioned`` and
        ``TokensMinted``."""
        try:
            with self.j.atomic():
                d = self.flopper.deal(auction_id, now)
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        supply = self.ledger.supply(self.gov)
        self.emit([
            DebtAuctioned(block, self.name, auction_id, d.guy, d.bid, self.gov, d.lot, supply),
            TokensMinted(block, self.name, self.gov, d.lot, "flop", supply),
        ])
        return d

    def flap_tick(self, block: int, now: int, keeper: str, auction_id: int) -> Refusal | None:
        """Flapper ``tick``: restart an auction that ended without a bid.
        Emits ``SurplusAuctionReset``."""
        try:
            with self.j.atomic():
                self.flapper.tick(auction_id, now)
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        self.emit([SurplusAuctionReset(block, self.name, auction_id, keeper, self.flapper.bids[auction_id].end)])
        return None

    def flop_tick(self, block: int, now: int, keeper: str, auction_id: int) -> Refusal | None:
        """Flopper ``tick``: restart an auction that ended without a bid, its lot times ``pad``.
        Emits ``DebtAuctionReset``."""
        try:
            with self.j.atomic():
                lot = self.flopper.tick(auction_id, now)
        except MakerError as exc:
            return Refusal(exc.reason, exc.detail)
        self.emit([DebtAuctionReset(block, self.name, auction_id, keeper, lot, self.flopper.bids[auction_id].end)])
        return None

    # --- DAI and collateral in and out --------------------------------------------------------------

    def _join_for(self, usr: str, rad: int) -> int:
        """Join the DAI (wad, rounded up) ``usr`` lacks in the Vat to hold ``rad``; returns it."""
        have = self.vat.dai_of(usr)
        if have >= rad:
            return 0
        wad = rad_to_wad_up(rad - have)
        try:
            self.dai_join.join(usr, wad)
        except InsufficientBalanceError as exc:  # pragma: no cover - join checks first
            raise MakerError(E.DAI_INSUFFICIENT, str(exc)) from None
        return wad

    def exit_dai(self, usr: str) -> int:
        """Exit all whole DAI base units of ``usr``'s Vat dai to its ledger balance."""
        with self.j.atomic():
            return self.dai_join.exit_all(usr)

    def exit_gem(self, ilk: str, usr: str) -> int:
        """Exit all whole base units of ``usr``'s free collateral in ``ilk``."""
        with self.j.atomic():
            return self._gem_join(ilk).exit_all(usr)

    def dai_available(self, usr: str) -> int:
        """``usr``'s DAI in rad: Vat dai plus ledger DAI."""
        return self.vat.dai_of(usr) + self.ledger.balance_of(self.dai, usr) * RAY

    # --- settlement of one auction ------------------------------------------------------------------

    def _settled(self, block: int, ilk: str, auction_id: int, module: str) -> int:
        book = self._books.pop((ilk, auction_id))
        bad = book.due - book.raised if book.raised < book.due else 0
        self.emit([AuctionSettled(block, self.name, ilk, auction_id, module, book.urn, book.winner,
                                  book.due, book.tab, book.raised, book.sold, book.returned, bad)])
        if bad:
            wad = rad_to_wad_up(bad)
            self.emit([BadDebtRealized(block, self.name, vault_key(ilk, book.urn), self.dai, wad,
                                       self.value_usd(self.dai, wad))])
        return bad

    # --- snapshot and invariants --------------------------------------------------------------------

    def snapshot(self, now: int) -> MakerSnapshot:
        """Frozen state of every module (see :class:`~.outcomes.MakerSnapshot`)."""
        vat = self.vat
        dog = self.dog
        return MakerSnapshot(
            name=self.name,
            timestamp=now,
            vat=(vat.debt, vat.vice, vat.Line),
            ilks=tuple(sorted(vat.ilks.items())),
            urns=tuple((i, u, urn) for i in sorted(vat.urns) for u, urn in sorted(vat.urns[i].items())),
            gem=tuple((i, u, w) for i in sorted(vat.gem) for u, w in sorted(vat.gem[i].items()) if w),
            dai=tuple(sorted((u, r) for u, r in vat.dai.items() if r)),
            sin=tuple(sorted((u, r) for u, r in vat.sin.items() if r)),
            jug=tuple((i, x.duty, x.rho) for i, x in sorted(self.jug.ilks.items())),
            dog=(dog.Hole, dog.Dirt, tuple((i, x.chop, x.hole, x.dirt) for i, x in sorted(dog.ilks.items())))
            if dog is not None else (0, 0, ()),
            clips=tuple((i, c.kicks, c.chost) for i, c in sorted(self.clips.items())),
            sales=tuple((i, k, s) for i, c in sorted(self.clips.items()) for k, s in sorted(c.sales.items())),
            vow=(self.vow.Sin, self.vow.Ash, tuple(sorted(self.vow.sin.items()))),
            cat=(self.cat.box, self.cat.litter) if self.cat is not None else (0, 0),
            bids=tuple((i, k, b) for i, f in sorted(self.flips.items()) for k, b in sorted(f.bids.items())),
            auctions=(self.flapper.kicks, self.flapper.fill, self.flapper.lid, self.flopper.kicks),
            flaps=tuple(sorted(self.flapper.bids.items())),
            flops=tuple(sorted(self.flopper.bids.items())),
        )

    def invariant_errors(self) -> list[str]:
        """Every broken accounting rule (empty when consistent).

        The Vat's identities (:meth:`Vat.invariant_errors`, including ``debt == vice + Σ
        Art·rate``); per ilk the GemJoin's tokens equal ``Σ ink + Σ gem`` (in token units); the
        Clipper's (Flipper's) gem equals ``Σ lot`` of its sales (bids); ``dirt == Σ tab`` of the
        ilk's sales and ``Dirt == Σ dirt``; ``litter == Σ tab`` of undealt bids; ``Sin == Σ``
        queue; ``vat.dai(daiJoin) == RAY * DAI supply`` once genesis DAI is backed (before,
        ``<=``). Vow auctions: the Flapper's Vat dai ``== fill == Σ lot`` of its auctions and
        its MKR ``== Σ bid``; ``Ash == Σ bid`` of debt auctions nobody has bid on yet (the
        first ``dent`` kisses its own ``sump``); the Flopper holds nothing.
        """
        errors = [f"{self.name}: {e}" for e in self.vat.invariant_errors()]
        vat = self.vat
        for ilk, join in self.gem_joins.items():
            held = self.ledger.balance_of(join.token, join.address) * join.conversion
            books = sum(u.ink for u in vat.urns.get(ilk, {}).values()) + sum(vat.gem.get(ilk, {}).values())
            if held != books:
                errors.append(f"{self.name}: {ilk} GemJoin holds {held} wad, Vat books {books}")
        dirt_total = 0
        for ilk, clip in self.clips.items():
            lots = sum(s.lot for s in clip.sales.values())
            tabs = sum(s.tab for s in clip.sales.values())
            if vat.gem_of(ilk, clip.address) != lots:
                errors.append(f"{self.name}: {ilk} Clipper gem {vat.gem_of(ilk, clip.address)} != sum of lots {lots}")
            if self.dog is not None:
                dirt = self.dog.ilks[ilk].dirt
                dirt_total += dirt
                if dirt != tabs:
                    errors.append(f"{self.name}: {ilk} dirt {dirt} != sum of sale tabs {tabs}")
            if sorted(clip.active) != sorted(clip.sales) or any(
                    clip.active[s.pos] != k for k, s in clip.sales.items()):
                errors.append(f"{self.name}: {ilk} Clipper active array out of sync with sales")
        if self.dog is not None and self.dog.Dirt != dirt_total:
            errors.append(f"{self.name}: Dirt {self.dog.Dirt} != sum of dirt {dirt_total}")
        litter = 0
        for ilk, flip in self.flips.items():
            lots = sum(b.lot for b in flip.bids.values())
            litter += sum(b.tab for b in flip.bids.values())
            if vat.gem_of(ilk, flip.address) != lots:
                errors.append(f"{self.name}: {ilk} Flipper gem {vat.gem_of(ilk, flip.address)} != sum of lots {lots}")
        if self.cat is not None and self.cat.litter != litter:
            errors.append(f"{self.name}: litter {self.cat.litter} != sum of bid tabs {litter}")
        flap, flop = self.flapper, self.flopper
        lots = sum(b.lot for b in flap.bids.values())
        if not vat.dai_of(flap.address) == flap.fill == lots:
            errors.append(f"{self.name}: Flapper dai {vat.dai_of(flap.address)}, fill {flap.fill}, sum of lots {lots}")
        held, bids = self.ledger.balance_of(self.gov, flap.address), sum(b.bid for b in flap.bids.values())
        if held != bids:
            errors.append(f"{self.name}: Flapper holds {held} {self.gov}, sum of bids {bids}")
        unbid = sum(b.bid for b in flop.bids.values() if b.guy == self.vow.address)
        if self.vow.Ash != unbid:
            errors.append(f"{self.name}: Ash {self.vow.Ash} != sum of unbid flop auctions {unbid}")
        if vat.dai_of(flop.address) or self.ledger.balance_of(self.gov, flop.address):
            errors.append(f"{self.name}: the Flopper holds dai or {self.gov}")
        if self.vow.Sin != sum(self.vow.sin.values()):
            errors.append(f"{self.name}: Sin {self.vow.Sin} != sum of the debt queue")
        backing = vat.dai_of(self.dai_join.address)
        supply = self.ledger.supply(self.dai) * RAY
        if self._genesis_done and backing != supply:
            errors.append(f"{self.name}: DaiJoin holds {backing} rad, DAI supply is {supply} rad")
        elif backing > supply:
            errors.append(f"{self.name}: DaiJoin holds {backing} rad > DAI supply {supply} rad")
        return errors


def _pip(feed: Feed) -> Callable[[], tuple[int, bool]]:
    """``PipLike.peek`` over a feed: ``(USD 8 dp * 1e10 = wad, has)``."""
    def peek() -> tuple[int, bool]:
        if not feed.has_answer:
            return 0, False
        return feed.latest_answer() * E8_TO_WAD, True
    return peek
