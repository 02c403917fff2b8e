"""Peg-stability module of a Maker deployment: swap a gem (USDC) for DAI 1:1, with fees.

Mirrors ``DssPsm`` (``makerdao/dss-psm`` ``src/psm.sol``) on a dedicated ilk of the
:class:`~defisim.engine.protocols.maker.MakerSystem`, so DAI minted or burned here is ordinary
Vat debt and every Maker invariant (``vat.dai(daiJoin) == RAY * supply``, GemJoin holdings,
``debt == vice + Σ Art·rate``) keeps holding. With ``to18 = 10**(18 - gem decimals)``:

* ``sellGem(usr, gemAmt)`` (gem in, DAI out)::

      gemAmt18 = gemAmt * to18
      fee      = gemAmt18 * tin // WAD
      daiAmt   = gemAmt18 - fee
      gemJoin.join(psm, gemAmt); vat.frob(ilk, psm, psm, psm, +gemAmt18, +gemAmt18)
      vat.move(psm, vow, fee * RAY); daiJoin.exit(usr, daiAmt)

* ``buyGem(usr, gemAmt)`` (DAI in, gem out)::

      gemAmt18 = gemAmt * to18
      fee      = gemAmt18 * tout // WAD
      daiAmt   = gemAmt18 + fee
      daiJoin.join(psm, daiAmt); vat.frob(ilk, psm, psm, psm, -gemAmt18, -gemAmt18)
      gemJoin.exit(usr, gemAmt); vat.move(psm, vow, fee * RAY)

The **buffer** is the gem the PSM holds (``urn.ink / to18``, base units): ``buyGem`` fails
once it is gone (``Vat/not-safe`` would not trigger: the urn cannot go negative, the contract
reverts on the ``sub`` underflow; here :class:`PsmError` ``"PSM/insufficient-buffer"``). The
**debt ceiling** is the ilk's ``line`` (rad): ``sellGem`` fails with ``Vat/ceiling-exceeded``
beyond it. The ilk has ``mat = 1``, a fixed $1 feed, ``duty = 1`` and no liquidation limit
(``hole = 0``), so its single urn is never unsafe and never accrues fees. Fees are DAI surplus
of the Vow (``vat.dai(vow)``), like the chop.

Each swap is atomic through the Maker journal and returns a :class:`PsmSwapped` record;
:class:`PsmBufferDrained` is emitted once each time the buffer falls below ``drained_below``.
Units: gem base units, DAI base units (wad), fees ``tin``/``tout`` WAD.
"""

from __future__ import annotations

from dataclasses import dataclass

from defisim.engine.contagion import PsmBufferDrained, PsmSwapped
from defisim.engine.protocols.maker import IlkConfig, MakerError, MakerSystem
from defisim.engine.protocols.maker.dsmath import RAY, WAD
from defisim.engine.protocols.maker.system import StaticFeed
from defisim.engine.records import Record
from defisim.errors import DefisimError

__all__ = ["PegStabilityModule", "PsmError", "PsmQuote"]

USD_E8 = 10**8


class PsmError(DefisimError, ValueError):
    """A PSM swap that would revert; ``reason`` is the revert reason."""

    def __init__(self, psm: str, reason: str, detail: str = "") -> None:
        self.psm, self.reason, self.detail = psm, reason, detail
        super().__init__(f"{psm}: {reason}" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True, slots=True)
class PsmQuote:
    """What a swap of ``gem_amount`` moves: DAI paid or received (fee included) and the fee."""

    gem_amount: int
    stable_amount: int
    fee: int


class PegStabilityModule:
    """A ``DssPsm`` on its own ilk of ``system`` (see module docstring).

    Args:
        name: the PSM's name; its ledger/Vat holder is ``address == "psm:<name>"``.
        system: the Maker deployment whose DAI it mints and burns.
        ilk: the PSM's ilk name (e.g. ``"PSM-USDC-A"``).
        gem: the ledger token it holds (decimals <= 18).
        tin, tout: fees in WAD (``10**15`` = 0.1 %).
        line: debt ceiling in DAI base units (wad).
        drained_below: buffer (gem base units) under which the buffer counts as drained.
        now: unix time (s) of deployment.
    """

    def __init__(
        self,
        name: str,
        system: MakerSystem,
        *,
        ilk: str,
        gem: str,
        tin: int,
        tout: int,
        line: int,
        drained_below: int = 0,
        now: int = 0,
    ) -> None:
        for field, value in (("tin", tin), ("tout", tout)):
            if type(value) is not int or not 0 <= value < WAD:
                raise PsmError(name, "PSM/invalid-fee", f"{field} must be an int in [0, WAD), got {value!r}")
        if type(line) is not int or line < 0:
            raise PsmError(name, "PSM/invalid-line", f"line must be a non-negative int, got {line!r}")
        self.name = name
        self.address = f"psm:{name}"
        self.system = system
        self.ilk = ilk
        self.gem = gem
        self.stablecoin = system.dai
        self.tin = tin
        self.tout = tout
        self.drained_below = drained_below
        system.add_ilk(now, ilk, gem, StaticFeed(USD_E8), IlkConfig(
            mat=RAY, chop=WAD, line=line * RAY, dust=0, duty=RAY, hole=0,
        ))
        self.join = system.gem_joins[ilk]
        self.to18 = self.join.conversion
        self._drained = False

    # --- views -----------------------------------------------------------------------------

    @property
    def line(self) -> int:
        """Debt ceiling, DAI base units (the ilk's ``line`` / RAY)."""
        return self.system.vat.ilks[self.ilk].line // RAY

    def buffer(self) -> int:
        """Gem held by the PSM, base units (``urn.ink / to18``)."""
        return self.system.vat.urn(self.ilk, self.address).ink // self.to18

    def minted(self) -> int:
        """DAI outstanding against the PSM, base units (``urn.art``; ``rate`` is 1)."""
        return self.system.vat.urn(self.ilk, self.address).art

    def headroom(self) -> int:
        """DAI that ``sellGem`` can still mint before the ceiling, base units."""
        i = self.system.vat.ilks[self.ilk]
        room = (i.line - i.Art * i.rate) // RAY
        global_room = (self.system.vat.Line - self.system.vat.debt) // RAY
        return max(0, min(room, global_room))

    def quote_sell_gem(self, gem_amount: int) -> PsmQuote:
        """DAI received for ``gem_amount`` gem base units (fee ``tin`` withheld)."""
        amt18 = gem_amount * self.to18
        fee = amt18 * self.tin // WAD
        return PsmQuote(gem_amount, amt18 - fee, fee)

    def quote_buy_gem(self, gem_amount: int) -> PsmQuote:
        """DAI paid for ``gem_amount`` gem base units (fee ``tout`` added)."""
        amt18 = gem_amount * self.to18
        fee = amt18 * self.tout // WAD
        return PsmQuote(gem_amount, amt18 + fee, fee)

    def gem_for_dai(self, dai: int) -> int:
        """Most gem ``buyGem`` delivers for at most ``dai`` DAI base units (buffer ignored)."""
        gem = dai * WAD // ((WAD + self.tout) * self.to18)
        while gem > 0 and self.quote_buy_gem(gem).stable_amount > dai:
            gem -= 1
        return gem

    def gem_to_receive_dai(self, dai: int) -> int:
        """Least gem ``sellGem`` needs to pay out at least ``dai`` DAI base units."""
        net = (WAD - self.tin) * self.to18
        gem = -(-dai * WAD // net)
        while self.quote_sell_gem(gem).stable_amount < dai:
            gem += 1
        return gem

    # --- swaps -----------------------------------------------------------------------------

    def sell_gem(self, block: int, account: str, gem_amount: int) -> list[Record]:
        """``sellGem(account, gem_amount)``: gem from ``account`` in, DAI to ``account``."""
        self._check_amount(gem_amount)
        q = self.quote_sell_gem(gem_amount)
        amt18 = gem_amount * self.to18
        s = self.system
        ledger = s.ledger
        have = ledger.balance_of(self.gem, account)
        if have < gem_amount:
            raise PsmError(self.name, "PSM/insufficient-gem", f"{account} holds {have}, needs {gem_amount}")
        try:
            with s.j.atomic():
                s.j.transfer(self.gem, account, self.address, gem_amount)
                self.join.join(self.address, gem_amount)
                s.vat.frob(self.ilk, self.address, self.address, self.address, amt18, amt18, self.address)
                if q.fee:
                    s.vat.move(self.address, s.vow.address, q.fee * RAY, self.address)
                s.dai_join.exit(self.address, q.stable_amount)  # DaiJoin.exit pays msg.sender's dai
                s.j.transfer(self.stablecoin, self.address, account, q.stable_amount)
        except MakerError as exc:
            raise PsmError(self.name, exc.reason, exc.detail) from None
        return self._records(block, account, "sell-gem", q)

    def buy_gem(self, block: int, account: str, gem_amount: int) -> list[Record]:
        """``buyGem(account, gem_amount)``: DAI (plus ``tout``) from ``account``, gem out."""
        self._check_amount(gem_amount)
        q = self.quote_buy_gem(gem_amount)
        amt18 = gem_amount * self.to18
        s = self.system
        ledger = s.ledger
        if gem_amount > self.buffer():
            raise PsmError(self.name, "PSM/insufficient-buffer", f"buffer {self.buffer()}, asked {gem_amount}")
        have = ledger.balance_of(self.stablecoin, account)
        if have < q.stable_amount:
            raise PsmError(self.name, "PSM/insufficient-dai", f"{account} holds {have}, needs {q.stable_amount}")
        try:
            with s.j.atomic():
                s.j.transfer(self.stablecoin, account, self.address, q.stable_amount)
                s.dai_join.join(self.address, q.stable_amount)
                s.vat.frob(self.ilk, self.address, self.address, self.address, -amt18, -amt18, self.address)
                self.join.exit(self.address, gem_amount)
                s.j.transfer(self.gem, self.address, account, gem_amount)
                if q.fee:
                    s.vat.move(self.address, s.vow.address, q.fee * RAY, self.address)
        except MakerError as exc:
            raise PsmError(self.name, exc.reason, exc.detail) from None
        return self._records(block, account, "buy-gem", q)

    def _records(self, block: int, account: str, direction: str, q: PsmQuote) -> list[Record]:
        buffer = self.buffer()
        out: list[Record] = [PsmSwapped(
            block, self.name, self.system.name, account, direction, self.gem, q.gem_amount,
            self.stablecoin, q.stable_amount, q.fee, buffer,
        )]
        if buffer <= self.drained_below:
            if not self._drained:
                self._drained = True
                out.append(PsmBufferDrained(block, self.name, self.system.name, self.gem,
                                            self.stablecoin, buffer))
        else:
            self._drained = False
        return out

    @property
    def drained(self) -> bool:
        """Whether the buffer is at or below ``drained_below``."""
        return self.buffer() <= self.drained_below

    def _check_amount(self, amount: int) -> None:
        if type(amount) is not int or amount <= 0:
            raise PsmError(self.name, "PSM/invalid-amount", f"{amount!r}")

    def invariant_errors(self) -> list[str]:
        """The PSM keeps nothing loose (no ledger gem/DAI, no Vat dai or gem) and ``ink == art``."""
        s = self.system
        errors: list[str] = []
        if s.ledger.balance_of(self.gem, self.address) or s.ledger.balance_of(self.stablecoin, self.address):
            errors.append(f"{self.name}: tokens left on the PSM's ledger address")
        if s.vat.dai_of(self.address) or s.vat.gem_of(self.ilk, self.address):
            errors.append(f"{self.name}: Vat dai or gem left on the PSM")
        u = s.vat.urn(self.ilk, self.address)
        if u.ink != u.art:  # ink: gem as wad (to18-scaled), art: DAI wad; 1:1 swaps keep them equal
            errors.append(f"{self.name}: urn ink {u.ink} != art {u.art}")
        return errors
