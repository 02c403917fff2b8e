"""Token adapters, after ``makerdao/dss`` ``src/join.sol``: ``GemJoin`` and ``DaiJoin``.

``GemJoin.join(usr, amt)`` takes ``amt`` collateral tokens (token base units) from ``usr`` on
the :class:`~defisim.engine.ledger.Ledger` and credits ``gem[ilk][usr] += amt * 10**(18 -
decimals)`` [wad] in the Vat (``GemJoin`` for 18 decimals, ``GemJoin5``-style scaling below);
``exit`` does the reverse. ``DaiJoin.join(usr, wad)`` burns ``wad`` DAI (ERC-20, 18 decimals)
from ``usr`` and moves ``wad * RAY`` of the join's Vat dai to ``usr``; ``exit`` moves Vat dai
to the join and mints ERC-20 DAI. So ``vat.dai(daiJoin) == RAY * DAI in circulation``.

Ledger effects happen after every check that can fail, through the journal, so a reverted
call moves nothing.
"""

from __future__ import annotations

from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker._journal import Journal
from defisim.engine.protocols.maker.dsmath import RAY, mul
from defisim.engine.protocols.maker.errors import MakerError
from defisim.engine.protocols.maker.vat import Vat

__all__ = ["DaiJoin", "GemJoin"]


class GemJoin:
    """Collateral adapter for one ilk; its ledger holder ``address`` keeps the tokens."""

    def __init__(self, journal: Journal, vat: Vat, ilk: str, token: str, decimals: int, address: str) -> None:
        if not 0 <= decimals <= 18:
            raise MakerError("GemJoin/decimals-18-max", f"{token} has {decimals} decimals")
        self.j = journal
        self.vat = vat
        self.ilk = ilk
        self.token = token
        self.decimals = decimals
        self.conversion = 10 ** (18 - decimals)
        """``to18ConversionFactor``: wad per token base unit."""
        self.address = address

    def join(self, usr: str, amt: int) -> None:
        """``join(usr, amt)``: ``amt`` token base units from ``usr`` into ``gem[ilk][usr]``."""
        have = self.j.ledger.balance_of(self.token, usr)
        if have < amt:
            raise MakerError(E.JOIN_INSUFFICIENT, f"{usr} holds {have} {self.token}, needs {amt}")
        self.vat.slip(self.ilk, usr, mul(amt, self.conversion))
        self.j.transfer(self.token, usr, self.address, amt)

    def exit(self, usr: str, amt: int) -> None:
        """``exit(usr, amt)``: ``amt`` token base units out of ``gem[ilk][usr]`` to ``usr``."""
        self.vat.slip(self.ilk, usr, -mul(amt, self.conversion))
        self.j.transfer(self.token, self.address, usr, amt)

    def exit_all(self, usr: str) -> int:
        """Exit every whole token base unit of ``usr``'s gem; returns the amount (base units)."""
        amt = self.vat.gem_of(self.ilk, usr) // self.conversion
        if amt:
            self.exit(usr, amt)
        return amt


class DaiJoin:
    """DAI adapter; ``address`` holds the Vat dai that backs circulating ERC-20 DAI."""

    def __init__(self, journal: Journal, vat: Vat, token: str, address: str) -> None:
        self.j = journal
        self.vat = vat
        self.token = token
        self.address = address

    def join(self, usr: str, wad: int) -> None:
        """``join(usr, wad)``: burn ``wad`` DAI of ``usr``, credit ``wad * RAY`` Vat dai."""
        have = self.j.ledger.balance_of(self.token, usr)
        if have < wad:
            raise MakerError(E.DAI_INSUFFICIENT, f"{usr} holds {have} {self.token}, needs {wad}")
        self.vat.move(self.address, usr, mul(RAY, wad), self.address)
        self.j.burn(self.token, usr, wad)

    def exit(self, usr: str, wad: int) -> None:
        """``exit(usr, wad)``: move ``wad * RAY`` Vat dai of ``usr`` to the join, mint ``wad`` DAI."""
        self.vat.move(usr, self.address, mul(RAY, wad), usr)
        self.j.mint(self.token, usr, wad)

    def exit_all(self, usr: str) -> int:
        """Exit every whole DAI base unit of ``usr``'s Vat dai; returns it (wad)."""
        wad = self.vat.dai_of(usr) // RAY
        if wad:
            self.exit(usr, wad)
        return wad
