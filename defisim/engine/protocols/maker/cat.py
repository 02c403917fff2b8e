"""``Cat``: Liquidations 1.2 ``bite``, mirrored from ``makerdao/dss`` ``src/cat.sol``.

Per ilk the Flipper, ``chop`` [wad] and ``dunk`` [rad] (the most DAI one auction raises);
globally ``box`` [rad] (limit on DAI out for liquidation) and ``litter`` [rad] (DAI out now).

``bite(ilk, urn)`` on an unsafe urn:

* ``room = box - litter`` must be positive and at least ``dust``;
* ``dart = min(art, min(dunk, room) * WAD / rate / chop)``;
* ``dink = min(ink, ink * dart / art)`` (both must be > 0) — this may leave a dusty urn;
* ``vat.grab`` moves ``dink`` to the Cat and books ``dart * rate`` as the Vow's sin, queued
  with ``vow.fess``;
* ``tab = dart * rate * chop / WAD`` joins ``litter`` and the Flipper ``kick``s an English
  auction for ``tab`` DAI (to the Vow, ``gal``) and ``dink`` collateral, opening bid 0.

There is no keeper reward in 1.2. ``claw`` releases ``litter`` when an auction is dealt.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker.dsmath import WAD, add, mul, sub, umin
from defisim.engine.protocols.maker.errors import MakerError
from defisim.engine.protocols.maker.vat import Vat

if TYPE_CHECKING:
    from defisim.engine.protocols.maker.flip import Flipper
    from defisim.engine.protocols.maker.vow import Vow

__all__ = ["Bite", "Cat", "CatIlk"]

_MAX_INT = 2**255


@dataclass(frozen=True, slots=True)
class CatIlk:
    """``Cat.ilks(ilk)``: ``chop`` [wad] and ``dunk`` [rad]."""

    chop: int = 0
    dunk: int = 0


@dataclass(frozen=True, slots=True)
class Bite:
    """The ``Bite`` event: ``ink``/``art`` confiscated [wad], ``due = art * rate`` [rad],
    ``tab`` [rad] to raise, Flipper auction ``id``."""

    ilk: str
    urn: str
    ink: int
    art: int
    due: int
    tab: int
    id: int


class Cat:
    """The Liquidations 1.2 liquidation module (see module docstring)."""

    def __init__(self, journal: Journal, vat: Vat, vow: Vow, address: str) -> None:
        self.j = journal
        self.vat = vat
        self.vow = vow
        self.address = address
        self.ilks: dict[str, CatIlk] = {}
        self.flips: dict[str, Flipper] = {}
        self.box = 0
        self.litter = 0
        self.live = 1

    def file_box(self, data: int) -> None:
        """``file("box", data)`` [rad]."""
        self.j.set(self, "box", data)

    def file(self, ilk: str, what: str, data: int) -> None:
        """``file(ilk, "chop" | "dunk", data)``."""
        if what not in ("chop", "dunk"):
            raise MakerError("Cat/file-unrecognized-param", what)
        self.j.put(self.ilks, ilk, replace(self.ilks.get(ilk, CatIlk()), **{what: data}))

    def file_flip(self, ilk: str, flip: Flipper) -> None:
        """``file(ilk, "flip", flip)``: the Cat ``hope``s the Flipper (it pulls the lot)."""
        self.flips[ilk] = flip
        self.vat.hope(self.address, flip.address)

    def bite(self, ilk: str, urn: str, now: int) -> Bite:
        """``bite(ilk, urn)`` (see module docstring)."""
        vilk = self.vat.ilks.get(ilk)
        milk = self.ilks.get(ilk)
        if vilk is None or milk is None or ilk not in self.flips:
            raise MakerError(E.UNKNOWN_ILK, ilk)
        rate, spot, dust = vilk.rate, vilk.spot, vilk.dust
        u = self.vat.urn(ilk, urn)
        ink, art = u.ink, u.art
        if self.live != 1:
            raise MakerError(E.CAT_NOT_LIVE)
        if not (spot > 0 and mul(ink, spot) < mul(art, rate)):
            raise MakerError(E.CAT_NOT_UNSAFE)
        room = sub(self.box, self.litter)
        if not (self.litter < self.box and room >= dust):
            raise MakerError(E.CAT_LIMIT_HIT)
        dart = umin(art, mul(umin(milk.dunk, room), WAD) // rate // milk.chop)
        dink = umin(ink, mul(ink, dart) // art)
        if not (dart > 0 and dink > 0):
            raise MakerError(E.CAT_NULL_AUCTION)
        if dart > _MAX_INT or dink > _MAX_INT:
            raise MakerError(E.CAT_OVERFLOW)
        self.vat.grab(ilk, urn, self.address, self.vow.address, -dink, -dart)
        due = mul(dart, rate)
        self.vow.fess(due, now)
        tab = mul(due, milk.chop) // WAD
        self.j.set(self, "litter", add(self.litter, tab))
        id_ = self.flips[ilk].kick(urn, self.vow.address, tab, dink, 0, self.address, now)
        return Bite(ilk, urn, dink, dart, due, tab, id_)

    def claw(self, rad: int) -> None:
        """``claw(rad)``: ``litter -= rad``."""
        self.j.set(self, "litter", sub(self.litter, rad))
