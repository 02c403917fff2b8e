"""``Dog``: Liquidations 2.0 ``bark``, mirrored from ``makerdao/dss`` ``src/dog.sol``.

Per ilk the Clipper, ``chop`` [wad] (liquidation penalty, >= 1), ``hole`` [rad] (limit on DAI
being raised by the ilk's active auctions) and ``dirt`` [rad] (what they are raising now);
globally ``Hole`` and ``Dirt``.

``bark(ilk, urn, kpr)`` on an unsafe urn (``ink * spot < art * rate``):

* ``room = min(Hole - Dirt, hole - dirt)`` (both must be positive);
* ``dart = min(art, room * WAD / rate / chop)`` — a partial liquidation when the limits bind;
  if what would be left is dusty (``(art - dart) * rate < dust``) the whole urn is taken,
  otherwise the auctioned part must itself be at least ``dust``;
* ``dink = ink * dart / art`` (rounded down, must be > 0);
* ``vat.grab`` moves ``dink`` collateral to the Clipper and books ``due = dart * rate`` as
  the Vow's sin, queued with ``vow.fess(due)``;
* ``tab = due * chop / WAD`` is added to ``Dirt`` and ``dirt`` and the Clipper ``kick``s an
  auction for ``tab`` DAI and ``dink`` collateral, paying the keeper ``tip + chip * tab``.

``digs`` lowers ``Dirt``/``dirt`` as auctions collect DAI or end.
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
    from defisim.engine.protocols.maker.clip import Clipper
    from defisim.engine.protocols.maker.vow import Vow

__all__ = ["Bark", "Dog", "DogIlk"]

_MAX_INT = 2**255


@dataclass(frozen=True, slots=True)
class DogIlk:
    """``Dog.ilks(ilk)``: ``chop`` [wad], ``hole`` [rad], ``dirt`` [rad] (the Clipper is kept apart)."""

    chop: int = 0
    hole: int = 0
    dirt: int = 0


@dataclass(frozen=True, slots=True)
class Bark:
    """The ``Bark`` event plus the auction's ``tab``: ``ink``/``art`` confiscated [wad],
    ``due = art * rate`` [rad] booked as sin, ``tab`` [rad] to raise, auction ``id``, and the
    keeper's reward ``coin`` [rad]."""

    ilk: str
    urn: str
    ink: int
    art: int
    due: int
    tab: int
    id: int
    coin: int


class Dog:
    """The Liquidations 2.0 liquidation module (see module docstring)."""

    def __init__(self, journal: Journal, vat: Vat, vow: Vow, address: str) -> None:
        self.j = journal
        self.vat = vat
        self.vow = vow
        self.address = address
        self.ilks: dict[str, DogIlk] = {}
        self.clips: dict[str, Clipper] = {}
        self.Hole = 0
        self.Dirt = 0
        self.live = 1

    def file_hole_global(self, data: int) -> None:
        """``file("Hole", data)`` [rad]."""
        self.j.set(self, "Hole", data)

    def file(self, ilk: str, what: str, data: int) -> None:
        """``file(ilk, "chop" | "hole", data)``; ``chop`` must be at least ``WAD``."""
        if what == "chop":
            if data < WAD:
                raise MakerError(E.DOG_CHOP_LT_WAD)
        elif what != "hole":
            raise MakerError("Dog/file-unrecognized-param", what)
        self.j.put(self.ilks, ilk, replace(self.ilks.get(ilk, DogIlk()), **{what: data}))

    def file_clip(self, ilk: str, clip: Clipper) -> None:
        """``file(ilk, "clip", clip)``: the Clipper must be for ``ilk``."""
        if clip.ilk != ilk:
            raise MakerError("Dog/file-ilk-neq-clip.ilk")
        self.clips[ilk] = clip

    def chop(self, ilk: str) -> int:
        """``chop(ilk)`` [wad]."""
        return self.ilks[ilk].chop

    def bark(self, ilk: str, urn: str, kpr: str, now: int) -> Bark:
        """``bark(ilk, urn, kpr)``: start an auction for the unsafe ``urn`` (see module docstring)."""
        if self.live != 1:
            raise MakerError(E.DOG_NOT_LIVE)
        u = self.vat.urn(ilk, urn)
        ink, art = u.ink, u.art
        milk = self.ilks.get(ilk)
        vilk = self.vat.ilks.get(ilk)
        if milk is None or vilk is None or ilk not in self.clips:
            raise MakerError(E.UNKNOWN_ILK, ilk)
        rate, spot, dust = vilk.rate, vilk.spot, vilk.dust
        if not (spot > 0 and mul(ink, spot) < mul(art, rate)):
            raise MakerError(E.DOG_NOT_UNSAFE)
        if not (self.Hole > self.Dirt and milk.hole > milk.dirt):
            raise MakerError(E.DOG_LIMIT_HIT)
        room = umin(self.Hole - self.Dirt, milk.hole - milk.dirt)
        dart = umin(art, mul(room, WAD) // rate // milk.chop)
        if art > dart:
            if mul(art - dart, rate) < dust:
                dart = art  # the rest would be dusty: take the whole urn
            elif mul(dart, rate) < dust:
                raise MakerError(E.DOG_DUSTY_PARTIAL)
        dink = mul(ink, dart) // art
        if dink == 0:
            raise MakerError(E.DOG_NULL_AUCTION)
        if dart > _MAX_INT or dink > _MAX_INT:
            raise MakerError(E.DOG_OVERFLOW)
        clip = self.clips[ilk]
        self.vat.grab(ilk, urn, clip.address, self.vow.address, -dink, -dart)
        due = mul(dart, rate)
        self.vow.fess(due, now)
        tab = mul(due, milk.chop) // WAD
        self.j.set(self, "Dirt", add(self.Dirt, tab))
        self.j.put(self.ilks, ilk, replace(milk, dirt=add(milk.dirt, tab)))
        id_, coin = clip.kick(tab, dink, urn, kpr, now)
        return Bark(ilk, urn, dink, dart, due, tab, id_, coin)

    def digs(self, ilk: str, rad: int) -> None:
        """``digs(ilk, rad)``: ``Dirt -= rad``, ``dirt -= rad``."""
        self.j.set(self, "Dirt", sub(self.Dirt, rad))
        milk = self.ilks[ilk]
        self.j.put(self.ilks, ilk, replace(milk, dirt=sub(milk.dirt, rad)))
