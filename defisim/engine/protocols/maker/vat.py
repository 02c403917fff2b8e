"""``Vat``: the dss CDP database, mirrored from ``makerdao/dss`` ``src/vat.sol``.

Storage (dss units): per ilk ``Art`` [wad], ``rate`` [ray], ``spot`` [ray], ``line`` [rad],
``dust`` [rad]; per urn ``ink`` [wad], ``art`` [wad]; ``gem[ilk][usr]`` [wad], ``dai[usr]``
[rad], ``sin[usr]`` [rad]; ``debt``, ``vice``, ``Line`` [rad]. Addresses are ledger holder
names (strings).

Each function checks what the contract ``require``s, in the same order, with the same revert
strings, and writes through the system's :class:`~._journal.Journal`. Not modelled: ``wards``
(auth functions are plain methods that the other modules call), ``cage``/``live`` toggling
beyond the flag, and ``fork``.

The fundamental equation holds after every call (checked by :meth:`Vat.invariant_errors`)::

    debt == vice + sum over ilks of Art * rate
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker.dsmath import (
    RAY,
    add,
    add_int,
    mul,
    mul_int,
    sub,
    sub_int,
)
from defisim.engine.protocols.maker.errors import MakerError

__all__ = ["Ilk", "Urn", "Vat"]


@dataclass(frozen=True, slots=True)
class Ilk:
    """``Vat.ilks(ilk)``: ``Art`` [wad], ``rate`` [ray], ``spot`` [ray], ``line`` [rad], ``dust`` [rad]."""

    Art: int = 0
    rate: int = 0
    spot: int = 0
    line: int = 0
    dust: int = 0


@dataclass(frozen=True, slots=True)
class Urn:
    """``Vat.urns(ilk, usr)``: locked collateral ``ink`` [wad] and normalised debt ``art`` [wad]."""

    ink: int = 0
    art: int = 0


_EMPTY_URN = Urn()


class Vat:
    """The CDP engine (see module docstring)."""

    def __init__(self, journal: Journal) -> None:
        self.j = journal
        self.ilks: dict[str, Ilk] = {}
        self.urns: dict[str, dict[str, Urn]] = {}
        self.gem: dict[str, dict[str, int]] = {}
        self.dai: dict[str, int] = {}
        self.sin: dict[str, int] = {}
        self.can: set[tuple[str, str]] = set()
        self.debt = 0
        self.vice = 0
        self.Line = 0
        self.live = 1

    # --- views --------------------------------------------------------------------------------

    def urn(self, ilk: str, usr: str) -> Urn:
        """``urns(ilk, usr)`` (zeros if never used)."""
        return self.urns.get(ilk, {}).get(usr, _EMPTY_URN)

    def gem_of(self, ilk: str, usr: str) -> int:
        """``gem(ilk, usr)`` [wad]."""
        return self.gem.get(ilk, {}).get(usr, 0)

    def dai_of(self, usr: str) -> int:
        """``dai(usr)`` [rad]."""
        return self.dai.get(usr, 0)

    def sin_of(self, usr: str) -> int:
        """``sin(usr)`` [rad]."""
        return self.sin.get(usr, 0)

    def wish(self, bit: str, usr: str) -> bool:
        """``wish``: ``bit == usr`` or ``bit`` has ``hope``d ``usr``."""
        return bit == usr or (bit, usr) in self.can

    # --- administration -------------------------------------------------------------------------

    def init(self, ilk: str) -> None:
        """``init(ilk)``: ``rate = RAY``."""
        if self.ilks.get(ilk, Ilk()).rate != 0:
            raise MakerError(E.VAT_ILK_ALREADY_INIT, ilk)
        self.j.put(self.ilks, ilk, Ilk(rate=RAY))
        self.urns.setdefault(ilk, {})
        self.gem.setdefault(ilk, {})

    def file_line_global(self, data: int) -> None:
        """``file("Line", data)`` [rad]."""
        self._live()
        self.j.set(self, "Line", data)

    def file(self, ilk: str, what: str, data: int) -> None:
        """``file(ilk, what, data)`` for ``spot`` [ray], ``line`` [rad] or ``dust`` [rad]."""
        self._live()
        if what not in ("spot", "line", "dust"):
            raise MakerError("Vat/file-unrecognized-param", what)
        self.j.put(self.ilks, ilk, replace(self.ilks.get(ilk, Ilk()), **{what: data}))

    def hope(self, bit: str, usr: str) -> None:
        """``hope(usr)`` sent by ``bit``."""
        if (bit, usr) not in self.can:
            self.can.add((bit, usr))
            self.j.on_undo(lambda: self.can.discard((bit, usr)))

    def _live(self) -> None:
        if self.live != 1:
            raise MakerError(E.VAT_NOT_LIVE)

    # --- fungibility ----------------------------------------------------------------------------

    def slip(self, ilk: str, usr: str, wad: int) -> None:
        """``slip(ilk, usr, wad)`` (auth, signed): ``gem[ilk][usr] += wad``."""
        book = self.gem.setdefault(ilk, {})
        self.j.put(book, usr, add_int(book.get(usr, 0), wad))

    def flux(self, ilk: str, src: str, dst: str, wad: int, sender: str) -> None:
        """``flux(ilk, src, dst, wad)`` sent by ``sender`` (needs ``wish(src, sender)``)."""
        if not self.wish(src, sender):
            raise MakerError(E.VAT_NOT_ALLOWED)
        book = self.gem.setdefault(ilk, {})
        src_bal = sub(book.get(src, 0), wad)
        self.j.put(book, src, src_bal)
        self.j.put(book, dst, add(book.get(dst, 0), wad))

    def move(self, src: str, dst: str, rad: int, sender: str) -> None:
        """``move(src, dst, rad)`` sent by ``sender`` (needs ``wish(src, sender)``)."""
        if not self.wish(src, sender):
            raise MakerError(E.VAT_NOT_ALLOWED)
        src_bal = sub(self.dai.get(src, 0), rad)
        self.j.put(self.dai, src, src_bal)
        self.j.put(self.dai, dst, add(self.dai.get(dst, 0), rad))

    # --- CDP manipulation -----------------------------------------------------------------------

    def frob(self, i: str, u: str, v: str, w: str, dink: int, dart: int, sender: str) -> None:
        """``frob(i, u, v, w, dink, dart)`` sent by ``sender``: lock ``dink`` collateral from
        ``gem[i][v]`` into urn ``u`` and draw ``dart`` normalised debt as DAI for ``w``.

        Checks, in the contract's order: live, ilk initialised, the ceilings when debt rises
        (``Art * rate <= line`` and ``debt <= Line``), safety when the urn gets riskier
        (``art * rate <= ink * spot``), consent of ``u``/``v``/``w``, and the dust floor
        (``art == 0`` or ``art * rate >= dust``).
        """
        self._live()
        urn = self.urn(i, u)
        ilk = self.ilks.get(i)
        if ilk is None or ilk.rate == 0:
            raise MakerError(E.VAT_ILK_NOT_INIT, i)
        ink = add_int(urn.ink, dink)
        art = add_int(urn.art, dart)
        Art = add_int(ilk.Art, dart)
        dtab = mul_int(ilk.rate, dart)
        tab = mul(ilk.rate, art)
        debt = add_int(self.debt, dtab)
        if not (dart <= 0 or (mul(Art, ilk.rate) <= ilk.line and debt <= self.Line)):
            raise MakerError(E.VAT_CEILING_EXCEEDED)
        riskier = not (dart <= 0 and dink >= 0)
        if riskier and tab > mul(ink, ilk.spot):
            raise MakerError(E.VAT_NOT_SAFE)
        if riskier and not self.wish(u, sender):
            raise MakerError(E.VAT_NOT_ALLOWED_U)
        if dink > 0 and not self.wish(v, sender):
            raise MakerError(E.VAT_NOT_ALLOWED_V)
        if dart < 0 and not self.wish(w, sender):
            raise MakerError(E.VAT_NOT_ALLOWED_W)
        if not (art == 0 or tab >= ilk.dust):
            raise MakerError(E.VAT_DUST)
        gem_book = self.gem.setdefault(i, {})
        gem_v = sub_int(gem_book.get(v, 0), dink)
        dai_w = add_int(self.dai.get(w, 0), dtab)
        self.j.put(gem_book, v, gem_v)
        self.j.put(self.dai, w, dai_w)
        self._write_urn(i, u, ink, art)
        self.j.put(self.ilks, i, replace(ilk, Art=Art))
        self.j.set(self, "debt", debt)

    def grab(self, i: str, u: str, v: str, w: str, dink: int, dart: int) -> None:
        """``grab(i, u, v, w, dink, dart)`` (auth): confiscate ``-dink`` collateral to
        ``gem[i][v]`` and ``-dart`` debt, booking ``rate * -dart`` as ``sin[w]`` and ``vice``."""
        urn = self.urn(i, u)
        ilk = self.ilks[i]
        ink = add_int(urn.ink, dink)
        art = add_int(urn.art, dart)
        Art = add_int(ilk.Art, dart)
        dtab = mul_int(ilk.rate, dart)
        gem_book = self.gem.setdefault(i, {})
        gem_v = sub_int(gem_book.get(v, 0), dink)
        sin_w = sub_int(self.sin.get(w, 0), dtab)
        vice = sub_int(self.vice, dtab)
        self._write_urn(i, u, ink, art)
        self.j.put(self.ilks, i, replace(ilk, Art=Art))
        self.j.put(gem_book, v, gem_v)
        self.j.put(self.sin, w, sin_w)
        self.j.set(self, "vice", vice)

    def _write_urn(self, i: str, u: str, ink: int, art: int) -> None:
        book = self.urns.setdefault(i, {})
        if ink == 0 and art == 0:
            self.j.delete(book, u)
        else:
            self.j.put(book, u, Urn(ink, art))

    # --- settlement -----------------------------------------------------------------------------

    def heal(self, u: str, rad: int) -> None:
        """``heal(rad)`` sent by ``u``: cancel ``rad`` of ``u``'s sin against its dai."""
        sin_u = sub(self.sin.get(u, 0), rad)
        dai_u = sub(self.dai.get(u, 0), rad)
        vice = sub(self.vice, rad)
        debt = sub(self.debt, rad)
        self.j.put(self.sin, u, sin_u)
        self.j.put(self.dai, u, dai_u)
        self.j.set(self, "vice", vice)
        self.j.set(self, "debt", debt)

    def suck(self, u: str, v: str, rad: int) -> None:
        """``suck(u, v, rad)`` (auth): mint ``rad`` unbacked dai to ``v``, booked as ``sin[u]``."""
        sin_u = add(self.sin.get(u, 0), rad)
        dai_v = add(self.dai.get(v, 0), rad)
        vice = add(self.vice, rad)
        debt = add(self.debt, rad)
        self.j.put(self.sin, u, sin_u)
        self.j.put(self.dai, v, dai_v)
        self.j.set(self, "vice", vice)
        self.j.set(self, "debt", debt)

    # --- rates ----------------------------------------------------------------------------------

    def fold(self, i: str, u: str, rate: int) -> None:
        """``fold(i, u, rate)`` (auth): ``ilk.rate += rate``; the new debt ``Art * rate`` is
        paid to ``u`` (the Vow) as dai."""
        self._live()
        ilk = self.ilks[i]
        new_rate = add_int(ilk.rate, rate)
        rad = mul_int(ilk.Art, rate)
        dai_u = add_int(self.dai.get(u, 0), rad)
        debt = add_int(self.debt, rad)
        self.j.put(self.ilks, i, replace(ilk, rate=new_rate))
        self.j.put(self.dai, u, dai_u)
        self.j.set(self, "debt", debt)

    # --- checks ---------------------------------------------------------------------------------

    def invariant_errors(self) -> list[str]:
        """Broken Vat identities: ``debt == Σ dai``, ``vice == Σ sin``,
        ``debt == vice + Σ Art·rate``, ``Art == Σ art`` per ilk, nothing negative."""
        errors: list[str] = []
        total_dai = sum(self.dai.values())
        total_sin = sum(self.sin.values())
        if total_dai != self.debt:
            errors.append(f"Vat: debt {self.debt} != sum of dai {total_dai}")
        if total_sin != self.vice:
            errors.append(f"Vat: vice {self.vice} != sum of sin {total_sin}")
        backed = sum(ilk.Art * ilk.rate for ilk in self.ilks.values())
        if self.debt != self.vice + backed:
            errors.append(f"Vat: debt {self.debt} != vice {self.vice} + sum Art*rate {backed}")
        for name, ilk in self.ilks.items():
            arts = sum(u.art for u in self.urns.get(name, {}).values())
            if arts != ilk.Art:
                errors.append(f"Vat: {name} Art {ilk.Art} != sum of urn art {arts}")
            if any(u.ink < 0 or u.art < 0 for u in self.urns.get(name, {}).values()):
                errors.append(f"Vat: {name} has a negative urn")
            if any(g < 0 for g in self.gem.get(name, {}).values()):
                errors.append(f"Vat: {name} has a negative gem balance")
        if any(x < 0 for x in self.dai.values()) or any(x < 0 for x in self.sin.values()):
            errors.append("Vat: negative dai or sin balance")
        return errors
