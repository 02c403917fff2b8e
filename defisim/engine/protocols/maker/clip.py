"""``Clipper``: Liquidations 2.0 Dutch auctions, mirrored from ``makerdao/dss`` ``src/clip.sol``.

One Clipper per ilk. Parameters: ``buf`` [ray] (start price over the feed), ``tail`` [s] and
``cusp`` [ray] (reset after ``tail`` seconds or once ``price / top < cusp``), ``chip`` [wad]
and ``tip`` [rad] (keeper reward ``tip + chip * tab`` paid by ``vat.suck`` on ``kick`` and,
for non-dusty auctions, on ``redo``), ``chost`` [rad] (``dust * chop / WAD``, refreshed by
``upchost``) and the price curve ``calc`` (:mod:`.abaci`).

A sale holds ``tab`` [rad] to raise, ``lot`` [wad] to sell, the urn ``usr``, start time
``tic`` and start price ``top`` [ray]. ``take(id, amt, max, who)`` buys up to ``amt`` at the
current price ``calc.price(top, now - tic)``:

* ``slice = min(lot, amt)``, ``owe = slice * price``;
* if ``owe > tab``: ``owe = tab``, ``slice = owe / price`` (the whole tab is paid);
* else if a partial purchase would leave ``0 < tab - owe < chost``: it must leave exactly
  ``chost`` (``owe = tab - chost``, ``slice = owe / price``), and when ``tab <= chost`` only
  the whole lot can be bought (``Clipper/no-partial-purchase``);
* collateral goes to ``who``, ``owe`` DAI from the buyer to the Vow, ``dog.digs`` releases
  what was collected (everything once the lot is gone); when the tab is paid the rest of the
  lot goes back to the urn owner's ``gem`` (free collateral in the Vat).

Mirrored: ``kick``, ``redo``, ``take`` (without the ``clipperCall`` callback), ``status``,
``getStatus``, ``upchost``, ``_remove`` (the ``active`` array with swap-and-pop), ``stopped``
levels. Not modelled: ``yank``, ``file`` of addresses, the reentrancy lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker.dsmath import (
    BLN,
    RAY,
    add,
    mul,
    rdiv,
    rmul,
    sub,
    umin,
    wmul,
)
from defisim.engine.protocols.maker.errors import MakerError
from defisim.engine.protocols.maker.spot import Spotter
from defisim.engine.protocols.maker.vat import Vat

if TYPE_CHECKING:
    from defisim.engine.protocols.maker.abaci import Abacus
    from defisim.engine.protocols.maker.dog import Dog

__all__ = ["Clipper", "Sale", "Take"]


@dataclass(frozen=True, slots=True)
class Sale:
    """``Clipper.sales(id)``: ``pos`` in ``active``, ``tab`` [rad], ``lot`` [wad], ``usr``,
    ``tic`` [unix s], ``top`` [ray]."""

    pos: int
    tab: int
    lot: int
    usr: str
    tic: int
    top: int


@dataclass(frozen=True, slots=True)
class Take:
    """What one ``take`` did (the ``Take`` event plus the slice bought).

    ``price`` [ray], ``owe`` [rad] paid, ``slice`` [wad] bought, ``tab``/``lot`` left in the
    sale after the take, ``returned`` [wad] collateral sent back to ``usr`` (tab paid with
    lot left), ``ended`` whether the sale is over.
    """

    id: int
    max: int
    price: int
    owe: int
    slice: int
    tab: int
    lot: int
    usr: str
    returned: int
    ended: bool


class Clipper:
    """The Dutch auction house of one ilk (see module docstring)."""

    def __init__(self, journal: Journal, vat: Vat, spotter: Spotter, dog: Dog, ilk: str,
                 address: str, vow: str, calc: Abacus) -> None:
        self.j = journal
        self.vat = vat
        self.spotter = spotter
        self.dog = dog
        self.ilk = ilk
        self.address = address
        self.vow = vow
        self.calc = calc
        self.buf = RAY
        self.tail = 0
        self.cusp = 0
        self.chip = 0
        self.tip = 0
        self.chost = 0
        self.kicks = 0
        self.active: list[int] = []
        self.sales: dict[int, Sale] = {}
        self.stopped = 0

    def file(self, what: str, data: int) -> None:
        """``file(what, data)`` for ``buf``, ``tail``, ``cusp``, ``chip``, ``tip``, ``stopped``."""
        if what not in ("buf", "tail", "cusp", "chip", "tip", "stopped"):
            raise MakerError("Clipper/file-unrecognized-param", what)
        self.j.set(self, what, data)

    def _is_stopped(self, level: int) -> None:
        if self.stopped >= level:
            raise MakerError(E.CLIP_STOPPED)

    # --- prices -------------------------------------------------------------------------------

    def feed_price(self) -> int:
        """``getFeedPrice()``: ``rdiv(mul(val, BLN), par)`` from the Spotter's pip [ray]."""
        val, has = self.spotter.ilks[self.ilk].pip()
        if not has:
            raise MakerError(E.CLIP_INVALID_PRICE)
        return rdiv(mul(val, BLN), self.spotter.par)

    def status(self, tic: int, top: int, now: int) -> tuple[bool, int]:
        """``status(tic, top)``: ``(done, price)`` with ``price = calc.price(top, now - tic)``
        and ``done = now - tic > tail or rdiv(price, top) < cusp``."""
        dur = sub(now, tic)
        price = self.calc.price(top, dur)
        done = dur > self.tail or rdiv(price, top) < self.cusp
        return done, price

    def get_status(self, id_: int, now: int) -> tuple[bool, int, int, int]:
        """``getStatus(id)``: ``(needsRedo, price, lot, tab)``.

        For an id with no sale the contract computes ``rdiv(price, top)`` with ``top == 0`` and
        reverts (division by zero); so does this.
        """
        sale = self.sales.get(id_)
        if sale is None:
            raise MakerError(E.MATH, f"getStatus({id_}): no sale, rdiv by top == 0")
        done, price = self.status(sale.tic, sale.top, now)
        return done, price, sale.lot, sale.tab

    # --- auction ------------------------------------------------------------------------------

    def kick(self, tab: int, lot: int, usr: str, kpr: str, now: int) -> tuple[int, int]:
        """``kick(tab, lot, usr, kpr)`` (called by the Dog): returns ``(id, coin)``.

        ``top = rmul(getFeedPrice(), buf)``; the keeper ``kpr`` receives
        ``coin = tip + wmul(tab, chip)`` sucked from the Vow when either is set.
        """
        self._is_stopped(1)
        if tab <= 0:
            raise MakerError(E.CLIP_ZERO_TAB)
        if lot <= 0:
            raise MakerError(E.CLIP_ZERO_LOT)
        if not usr:
            raise MakerError(E.CLIP_ZERO_USR)
        id_ = self.kicks + 1
        self.j.set(self, "kicks", id_)
        self.j.append(self.active, id_)
        top = rmul(self.feed_price(), self.buf)
        if top <= 0:
            raise MakerError(E.CLIP_ZERO_TOP)
        self.j.put(self.sales, id_, Sale(len(self.active) - 1, tab, lot, usr, now, top))
        coin = 0
        if self.tip > 0 or self.chip > 0:
            coin = add(self.tip, wmul(tab, self.chip))
            self.vat.suck(self.vow, kpr, coin)
        return id_, coin

    def redo(self, id_: int, kpr: str, now: int) -> tuple[int, int]:
        """``redo(id, kpr)``: restart a sale that needs it at ``top = feed * buf``; returns
        ``(top, coin)``. The keeper is paid only if ``tab >= chost`` and ``lot * feed >= chost``."""
        self._is_stopped(2)
        sale = self.sales.get(id_)
        if sale is None:
            raise MakerError(E.CLIP_NOT_RUNNING)
        done, _ = self.status(sale.tic, sale.top, now)
        if not done:
            raise MakerError(E.CLIP_CANNOT_RESET)
        feed = self.feed_price()
        top = rmul(feed, self.buf)
        if top <= 0:
            raise MakerError(E.CLIP_ZERO_TOP)
        self.j.put(self.sales, id_, Sale(sale.pos, sale.tab, sale.lot, sale.usr, now, top))
        coin = 0
        rewarded = self.tip > 0 or self.chip > 0
        if rewarded and sale.tab >= self.chost and mul(sale.lot, feed) >= self.chost:  # not dusty
            coin = add(self.tip, wmul(sale.tab, self.chip))
            self.vat.suck(self.vow, kpr, coin)
        return top, coin

    def quote_take(self, id_: int, amt: int, max_: int, now: int) -> tuple[int, int, int]:
        """``(price, slice, owe)`` that ``take(id, amt, max)`` would use now (no writes);
        raises the same reverts as :meth:`take`."""
        self._is_stopped(3)
        sale = self.sales.get(id_)
        if sale is None:
            raise MakerError(E.CLIP_NOT_RUNNING)
        done, price = self.status(sale.tic, sale.top, now)
        if done:
            raise MakerError(E.CLIP_NEEDS_RESET)
        if max_ < price:
            raise MakerError(E.CLIP_TOO_EXPENSIVE)
        lot, tab = sale.lot, sale.tab
        slice_ = umin(lot, amt)
        owe = mul(slice_, price)
        if owe > tab:
            owe = tab
            slice_ = owe // price
        elif owe < tab and slice_ < lot and tab - owe < self.chost:
            # a partial purchase must leave at least chost; if tab <= chost, only the whole lot
            if not tab > self.chost:
                raise MakerError(E.CLIP_NO_PARTIAL)
            owe = tab - self.chost
            slice_ = owe // price
        return price, slice_, owe

    def take(self, id_: int, amt: int, max_: int, who: str, sender: str, now: int) -> Take:
        """``take(id, amt, max, who, "")`` sent by ``sender`` (see module docstring)."""
        price, slice_, owe = self.quote_take(id_, amt, max_, now)
        sale = self.sales[id_]
        tab = sale.tab - owe
        lot = sale.lot - slice_
        self.vat.flux(self.ilk, self.address, who, slice_, self.address)
        self.vat.move(sender, self.vow, owe, sender)
        self.dog.digs(self.ilk, tab + owe if lot == 0 else owe)
        returned = 0
        if lot == 0:
            self._remove(id_)
        elif tab == 0:
            self.vat.flux(self.ilk, self.address, sale.usr, lot, self.address)
            returned = lot
            self._remove(id_)
        else:
            self.j.put(self.sales, id_, Sale(sale.pos, tab, lot, sale.usr, sale.tic, sale.top))
        return Take(id_, max_, price, owe, slice_, tab, lot, sale.usr, returned, lot == 0 or tab == 0)

    def _remove(self, id_: int) -> None:
        """``_remove(id)``: swap the last active id into ``id``'s slot, pop, delete the sale."""
        move = self.active[-1]
        if id_ != move:
            index = self.sales[id_].pos
            self.j.set_item(self.active, index, move)
            moved = self.sales[move]
            self.j.put(self.sales, move, Sale(index, moved.tab, moved.lot, moved.usr, moved.tic, moved.top))
        self.j.pop(self.active)
        self.j.delete(self.sales, id_)

    def upchost(self) -> None:
        """``upchost()``: ``chost = wmul(vat.ilks(ilk).dust, dog.chop(ilk))``."""
        self.j.set(self, "chost", wmul(self.vat.ilks[self.ilk].dust, self.dog.chop(self.ilk)))

    def count(self) -> int:
        """``count()``: number of active sales."""
        return len(self.active)

    def list(self) -> list[int]:
        """``list()``: the active sale ids (the ``active`` array)."""
        return list(self.active)
