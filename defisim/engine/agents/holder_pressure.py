"""Stablecoin holders who sell when the issuing CDP becomes undercollateralised.

The issuer's backing (a Maker deployment, all amounts rad = 1e45 unless noted):

    B = vat.sin(vow)            all debt the Vow carries (queued Sin, free debt, Ash)
    J = vat.dai(vow)            its surplus (Joy)
    A = dog.Dirt                debt still on collateral auction (cat.litter for 1.2): counted
                                as covered until its auction ends (conservative)
    U = max(0, B - J - A)       uncovered bad debt
    S = DAI supply (wad)        every DAI in circulation
    u = U * WAD / (S * RAY)     unbacked share of the supply (WAD)

The holders (ledger holder ``holders:<name>``, whose balance is the float of DAI that reacts
to solvency news) sell, in every block where ``u >= u_min``, the fraction

    phi = min(phi_max, kappa * u)          (WAD; kappa a WAD sensitivity)
    sell = floor(H * phi / WAD)            H: their balance at the start of the block

into the stablecoin/USDC AMM pool (no minimum output: a panic sale). Selling only while the
backing is short makes the pressure vanish once flop auctions (or surplus) cover the debt.
While the PSM still holds USDC the peg arbitrageur buys what they sell and redeems it, so
the AMM price stays within the PSM fee of $1; once the buffer is drained the AMM price falls.

The same agent watches the peg: when the pool's spot price of the stablecoin (quote $1) is
below ``10**8 * (10_000 - band_bps) / 10_000`` it records :class:`PegLost` once (cause
``psm-drained`` if the PSM buffer is at or below its drained mark, else ``amm-pressure``), and
:class:`PegRestored` when the price is back within the band.

Maker has no redemption mechanism (DAI cannot be redeemed for vault collateral outside
Emergency Shutdown); its redemption-equivalent is the PSM's ``buyGem``, which the arbitrageur
uses on the holders' behalf. Integer math throughout; gas and tips are ordinary transactions.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from defisim.engine.blockspace import Tx
from defisim.engine.contagion import HolderSold, PegLost, PegRestored
from defisim.engine.markets.psm import PegStabilityModule
from defisim.engine.markets.uniswap_v2 import UniswapV2Pool
from defisim.engine.protocols.maker import MakerSystem
from defisim.engine.protocols.maker.dsmath import RAY, WAD

if TYPE_CHECKING:
    from defisim.engine.world import World

__all__ = ["HolderPressure", "sell_fraction", "unbacked_debt", "unbacked_share"]


def unbacked_debt(system: MakerSystem) -> int:
    """``U = max(0, vat.sin(vow) - vat.dai(vow) - on-auction debt)`` in rad."""
    vat, vow = system.vat, system.vow.address
    on_auction = system.dog.Dirt if system.dog is not None else (system.cat.litter if system.cat else 0)
    return max(0, vat.sin_of(vow) - vat.dai_of(vow) - on_auction)


def unbacked_share(system: MakerSystem) -> int:
    """``u = U * WAD / (S * RAY)`` (WAD), S the DAI supply in wad; 0 with no supply."""
    supply = system.ledger.supply(system.dai)
    if supply == 0:
        return 0
    return unbacked_debt(system) * WAD // (supply * RAY)


def sell_fraction(u: int, kappa: int, phi_max: int, u_min: int = 0) -> int:
    """``phi = min(phi_max, kappa * u / WAD)`` if ``u >= u_min`` and ``u > 0``, else 0 (WAD)."""
    if u <= 0 or u < u_min:
        return 0
    return min(phi_max, kappa * u // WAD)


class HolderPressure:
    """The reactive float of a CDP stablecoin (see module docstring).

    Args:
        system: the issuing Maker deployment.
        pool: the stablecoin/USDC Uniswap V2 pool they sell into.
        kappa, phi_max, u_min: WAD parameters of the selling rule.
        band_bps: depeg band for :class:`PegLost` (50 = 0.5 %).
        psm: the PSM (for the ``PegLost`` cause and buffer), optional.
        gas, tip_wei: per selling transaction.
    """

    def __init__(
        self,
        world: World,
        *,
        name: str,
        system: MakerSystem,
        pool: UniswapV2Pool,
        kappa: int,
        phi_max: int,
        u_min: int = 0,
        band_bps: int = 100,
        psm: PegStabilityModule | None = None,
        gas: int = 150_000,
        tip_wei: int = 10**9,
    ) -> None:
        if system.dai not in (pool.token0, pool.token1):
            raise ValueError(f"pool {pool.name} does not trade {system.dai}")
        self.world = world
        self.name = name
        self.address = f"holders:{name}"
        self.system = system
        self.pool = pool
        self.stable = system.dai
        self.kappa = kappa
        self.phi_max = phi_max
        self.u_min = u_min
        self.band_bps = band_bps
        self.psm = psm
        self.gas = gas
        self.tip_wei = tip_wei
        self.pegged = True

    def peg_price(self) -> int:
        """The pool's spot price of the stablecoin, USD 8 decimals (quote at $1)."""
        return self.pool.spot_price_e8(self.stable, 10**8)

    def _watch_peg(self, block: int, u: int) -> None:
        price = self.peg_price()
        floor = 10**8 * (10_000 - self.band_bps) // 10_000
        if self.pegged and price < floor:
            self.pegged = False
            buffer = self.psm.buffer() if self.psm is not None else 0
            drained = self.psm is None or self.psm.drained
            self.world.emit([PegLost(block, self.system.name, self.stable, self.pool.name, price, buffer, u,
                                     "psm-drained" if drained else "amm-pressure")])
        elif not self.pegged and price >= floor:
            self.pegged = True
            self.world.emit([PegRestored(block, self.system.name, self.stable, self.pool.name, price)])

    def propose(self, block: int) -> list[Tx]:
        """Watch the peg; one selling transaction when the issuer is unbacked."""
        u = unbacked_share(self.system)
        self._watch_peg(block, u)
        phi = sell_fraction(u, self.kappa, self.phi_max, self.u_min)
        held = self.world.ledger.balance_of(self.stable, self.address)
        amount = held * phi // WAD
        if amount <= 0:
            return []
        return [Tx(self.address, "holder-sell", self.gas, self.tip_wei,
                   partial(self._execute, amount, u, phi))]

    def _execute(self, amount: int, u: int, phi: int) -> bool:
        world = self.world
        block, now = world.block, world.now()
        amount = min(amount, world.ledger.balance_of(self.stable, self.address))
        if amount <= 0:
            return False
        swap = self.pool.swap_exact_in(block, now, self.address, self.stable, amount, 0)
        if swap is None:
            return False
        world.charge_gas(self.address, self.gas, self.tip_wei)
        world.emit([swap, HolderSold(
            block, self.address, self.system.name, self.stable, self.pool.name, amount, swap.amount_out,
            unbacked_debt(self.system) // RAY, u, phi, "uncovered bad debt in the Vow",
        )])
        return True
