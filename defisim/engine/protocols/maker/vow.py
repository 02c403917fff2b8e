"""``Vow``: the system's balance sheet, mirrored from ``makerdao/dss`` ``src/vow.sol``.

The Vow's dai in the Vat is surplus (stability fees, liquidation proceeds); its sin is debt
(confiscated vault debt from ``grab``, keeper rewards from ``suck``). Liquidations push the
debt they confiscate onto a queue with ``fess(tab)`` (``sin[now] += tab``, ``Sin += tab``);
``flog(era)`` releases an era after ``wait`` seconds. Only released debt
(``vat.sin(vow) - Sin - Ash``) can be ``heal``ed against surplus or auctioned with ``flop``;
surplus beyond ``sin + bump + hump`` can be auctioned with ``flap`` once no released debt is
left. ``hump`` is the surplus buffer, ``bump`` the flap lot [rad], ``sump`` the flop bid
[rad], ``dump`` the flop's initial MKR lot [wad].

Mirrored (dss ``master`` ``fa4f6630``): ``file``, ``fess``, ``flog``, ``heal``, ``kiss``, ``flop``,
``flap`` with their checks and revert strings. ``flop`` and ``flap`` kick real auctions in the
:class:`~.flop.Flopper` and :class:`~.flap.Flapper`; keepers bid in them. While a debt auction
has no bid its ``sump`` sits in ``Ash`` (on-auction debt), which neither ``heal`` nor another
``flop`` can use; the first ``dent`` pays the Vow and ``kiss``es it. The debt queue is the
contract's, keyed by timestamp; the simulation's vow keeper (:meth:`~.system.MakerSystem.settle`)
flogs every era as soon as ``wait`` has passed. Not modelled: ``cage`` (Emergency Shutdown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker.dsmath import add, sub
from defisim.engine.protocols.maker.errors import MakerError
from defisim.engine.protocols.maker.vat import Vat

if TYPE_CHECKING:
    from defisim.engine.protocols.maker.flap import Flapper
    from defisim.engine.protocols.maker.flop import Flopper

__all__ = ["Vow"]


class Vow:
    """Debt queue, surplus buffer and the auction triggers (see module docstring)."""

    def __init__(self, journal: Journal, vat: Vat, address: str) -> None:
        self.j = journal
        self.vat = vat
        self.address = address
        self.flapper: Flapper | None = None
        self.flopper: Flopper | None = None
        self.sin: dict[int, int] = {}
        """Debt queue: era (unix seconds) -> rad."""
        self.Sin = 0
        self.Ash = 0
        self.wait = 0
        self.dump = 0
        self.sump = 0
        self.bump = 0
        self.hump = 0
        self.live = 1

    def file(self, what: str, data: int) -> None:
        """``file(what, data)`` for ``wait``, ``bump``, ``sump``, ``dump``, ``hump``."""
        if what not in ("wait", "bump", "sump", "dump", "hump"):
            raise MakerError(E.VOW_FILE_UNRECOGNIZED, what)
        self.j.set(self, what, data)

    def set_auctions(self, flapper: Flapper, flopper: Flopper) -> None:
        """``file("flapper", ...)``/``file("flopper", ...)``; the Vow ``hope``s the flapper."""
        self.flapper = flapper
        self.flopper = flopper
        self.vat.hope(self.address, flapper.address)

    # --- debt queue ---------------------------------------------------------------------------

    def fess(self, tab: int, now: int) -> None:
        """``fess(tab)``: push ``tab`` [rad] onto the queue at era ``now``."""
        self.j.put(self.sin, now, add(self.sin.get(now, 0), tab))
        self.j.set(self, "Sin", add(self.Sin, tab))

    def flog(self, era: int, now: int) -> None:
        """``flog(era)``: release the era's debt once ``era + wait <= now``."""
        if add(era, self.wait) > now:
            raise MakerError(E.VOW_WAIT_NOT_FINISHED)
        self.j.set(self, "Sin", sub(self.Sin, self.sin.get(era, 0)))
        self.j.delete(self.sin, era)

    def free_debt(self) -> int:
        """``vat.sin(vow) - Sin - Ash`` [rad]: released debt (reverts like the contract if negative)."""
        return sub(sub(self.vat.sin_of(self.address), self.Sin), self.Ash)

    def surplus(self) -> int:
        """``vat.dai(vow)`` [rad]."""
        return self.vat.dai_of(self.address)

    # --- settlement ---------------------------------------------------------------------------

    def heal(self, rad: int) -> None:
        """``heal(rad)``: cancel released debt against surplus."""
        if rad > self.vat.dai_of(self.address):
            raise MakerError(E.VOW_INSUFFICIENT_SURPLUS)
        if rad > self.free_debt():
            raise MakerError(E.VOW_INSUFFICIENT_DEBT)
        self.vat.heal(self.address, rad)

    def kiss(self, rad: int) -> None:
        """``kiss(rad)``: cancel on-auction debt (``Ash``) against surplus."""
        if rad > self.Ash:
            raise MakerError(E.VOW_NOT_ENOUGH_ASH)
        if rad > self.vat.dai_of(self.address):
            raise MakerError(E.VOW_INSUFFICIENT_SURPLUS)
        self.j.set(self, "Ash", sub(self.Ash, rad))
        self.vat.heal(self.address, rad)

    # --- auctions -----------------------------------------------------------------------------

    def flop(self, now: int) -> int:
        """``flop()``: ``sump <= sin - Sin - Ash`` and ``dai == 0``, then ``Ash += sump`` and
        ``flopper.kick(vow, dump, sump)``. Returns the auction id."""
        if self.flopper is None:
            raise MakerError(E.VOW_NO_AUCTION_HOUSE, "flopper")
        if self.sump > self.free_debt():
            raise MakerError(E.VOW_INSUFFICIENT_DEBT)
        if self.vat.dai_of(self.address) != 0:
            raise MakerError(E.VOW_SURPLUS_NOT_ZERO)
        self.j.set(self, "Ash", add(self.Ash, self.sump))
        return self.flopper.kick(self.address, self.dump, self.sump, now)

    def flap(self, now: int) -> int:
        """``flap()``: ``dai >= sin + bump + hump`` and ``sin - Sin - Ash == 0``, then
        ``flapper.kick(bump, 0)``. Returns the auction id."""
        if self.flapper is None:
            raise MakerError(E.VOW_NO_AUCTION_HOUSE, "flapper")
        if self.vat.dai_of(self.address) < add(add(self.vat.sin_of(self.address), self.bump), self.hump):
            raise MakerError(E.VOW_INSUFFICIENT_SURPLUS)
        if self.free_debt() != 0:
            raise MakerError(E.VOW_DEBT_NOT_ZERO)
        return self.flapper.kick(self.bump, 0, self.address, now)
