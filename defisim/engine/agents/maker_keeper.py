"""Maker keepers: bark unsafe vaults, take Clipper auctions, bid in Flipper auctions and in the
Vow's surplus (Flapper) and debt (Flopper) auctions.

A :class:`MakerKeeper` watches one or more :class:`~defisim.engine.protocols.maker.MakerSystem`
deployments. Every block (AGENTS phase) it plans on the state at the start of the block and
sends transactions that compete for block space like everyone else's (priority fee, gas
limit, background traffic); each re-checks the state when it runs.

* **bark / bite**: vaults the system screens as unsafe, confirmed exactly (``ink * spot <
  art * rate`` at the Spotter's price, so only after the OSM has published), largest debt
  first. Under 2.0 it barks when the reward ``tip + chip * tab`` pays for the gas (or always,
  with ``bark_unprofitable``); under 1.2 there is no reward and it bites to open auctions.
* **take** (2.0): for each running Clipper sale that does not need a reset, it buys the slice
  its own DAI affords (no flash loans) if selling it on the AMM returns at least the price paid
  plus ``margin`` and gas: ``proceeds >= owe * (1 + margin)`` and profit after gas above
  ``min_profit_usd``. Sizes: the largest affordable, then halving while AMM slippage makes a
  smaller slice pay better. The ``chost`` rule can force the whole lot.
* **redo** (2.0): a sale that needs a reset (``tail`` passed or ``price / top < cusp``) is
  ``redo``ne; the Clipper pays the keeper if the sale is not dusty.
* **Flipper bids** (1.2): the lot is worth its AMM exit ``V``; the keeper is willing to pay
  ``W = V * (1 - margin) - gas``. In the ``tend`` phase it bids ``min(tab, W, its DAI)`` when
  that reaches the ``beg`` step (or the tab); in the ``dent`` phase it offers the smallest lot
  whose exit value covers ``tab * (1 + margin) + gas``, if that meets the ``beg`` step. With an
  ``opening_bid`` it first lowballs every auction nobody has bid on (Black Thursday's winning
  bids of almost nothing). It ``deal``s auctions it won (and sells the lot on the AMM) and
  ``tick``s auctions that ended without bids.
* **Flapper bids** (``flap``): the DAI lot less ``margin`` and gas, ``S = lot * (1 - margin) -
  gas``, buys ``W`` MKR on the AMM; the keeper bids ``W`` (its reservation, as in the Flipper)
  when that reaches the ``beg`` step and it is not the high bidder already. It pays with the
  MKR it holds and buys what it lacks on the AMM with its DAI in the same transaction
  (getAmountIn of the shortfall, refused if that costs more than ``lot * (1 - margin)`` or
  leaves nothing after the gas actually paid), so a keeper needs MKR or DAI capital. After
  ``deal`` it has the DAI lot (exited to its balance); the Flapper burns the MKR.
* **Flopper bids** (``flop``): the keeper accepts a lot down to ``L`` MKR, the smallest lot
  whose AMM sale returns ``bid * (1 + margin) + gas`` (getAmountIn); it ``dent``s to ``L`` when
  that meets the ``beg`` step, paying the fixed DAI bid from its DAI (skipped if it has not
  that much DAI left after this block's other plans). After ``deal`` it sells the minted MKR
  on the AMM. Both houses: it ``deal``s auctions it won and ``tick``s auctions that ended
  without a bid if it could bid in them (a flop ``tick`` raises the lot by ``pad``).
  Liquidation plans (bids, takes, barks) come first; Vow auction plans use the transaction
  slots and the DAI left.

Congestion: a keeper with ``max_fee_gwei`` sends nothing while the base fee is at or above
it (its transactions would wait in the mempool); its tip is ``bid_share`` of the expected
profit per gas, capped so base fee + tip stays within ``max_fee_gwei``. With
``private_bundles`` a failed transaction is dropped at no cost; otherwise it reverts and pays
gas (``LiquidationRefused`` with the gas it burned).

``PositionLiquidated`` is emitted per successful ``take`` (2.0: ``debt_repaid`` = DAI paid,
``collateral_seized`` = collateral bought) and per ``deal`` the keeper wins (1.2: the winning
bid and the final lot); ``profit_usd`` = AMM proceeds - DAI paid - gas of that transaction.
Vow auctions are not liquidations: their outcomes are the system's records
(``SurplusBidPlaced``, ``SurplusAuctioned``, ``DebtBidPlaced``, ``DebtAuctioned``...); a failed
Vow-auction transaction is still a ``LiquidationRefused`` (account ``"flap#<id>"`` or
``"flop#<id>"``), so its gas is counted like any other keeper failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from defisim.engine.blockspace import Tx
from defisim.engine.markets.uniswap_v2 import PoolError
from defisim.engine.protocols.maker import MakerError, MakerSystem, vault_key
from defisim.engine.protocols.maker.dsmath import RAY, WAD, rad_to_wad_up
from defisim.engine.protocols.maker.outcomes import ClipView, FlipView, Refusal
from defisim.engine.records import LiquidationRefused, PositionLiquidated
from defisim.errors import InvariantViolation

if TYPE_CHECKING:
    from defisim.engine.markets.router import Router
    from defisim.engine.world import World

__all__ = ["KeeperGas", "MakerKeeper"]

BPS = 10_000
SIZE_STEPS = 6
EVALUATIONS_PER_TX = 4
"""Unsafe vaults looked at per block, per transaction slot (the rest wait for the next block)."""
USD = 10**8
GWEI = 10**9


@dataclass(frozen=True, slots=True)
class KeeperGas:
    """Gas per transaction kind (units of gas)."""

    bark: int = 450_000
    take: int = 400_000
    redo: int = 150_000
    bid: int = 200_000
    deal: int = 250_000
    tick: int = 80_000


@dataclass(frozen=True, slots=True)
class _Plan:
    """One intended action with its expected profit (USD 1e8, after zero-tip gas)."""

    kind: str
    protocol: str
    ilk: str
    """The ilk, or the auction house (``"flap"``/``"flop"``) of a Vow auction plan."""
    target: str
    """Vault owner (bark) or auction id as text."""
    gas: int
    profit_usd: int
    amount: int = 0
    """take: collateral asked [wad]; tend: bid [rad]; dent: lot [wad]; flap-tend: MKR bid
    [wad]; flop-dent: MKR lot [wad]."""
    price: int = 0
    """take: the price planned at [ray] (``max``); tend/dent: the current lot/bid;
    flap-tend: the DAI lot [rad]; flop-dent: the DAI bid [rad]."""


class MakerKeeper:
    """A Maker keeper bot (see module docstring). Ledger holder: ``keeper:<name>``."""

    def __init__(
        self,
        world: World,
        router: Router,
        *,
        name: str,
        protocols: list[str],
        bark: bool = True,
        take: bool = True,
        bid: bool = True,
        flap: bool = True,
        flop: bool = True,
        bark_unprofitable: bool = False,
        margin_bps: int = 200,
        bid_share: float = 0.5,
        min_profit_usd: int = 0,
        max_fee_wei: int | None = None,
        min_tip_wei: int = 10**9,
        opening_bid: int = 0,
        gas: KeeperGas = KeeperGas(),
        max_txs_per_block: int = 10,
        private_bundles: bool = True,
    ) -> None:
        self.world = world
        self.router = router
        self.name = name
        self.address = f"keeper:{name}"
        self.protocols = protocols
        self.do_bark = bark
        self.do_take = take
        self.do_bid = bid
        self.do_flap = flap
        self.do_flop = flop
        self.bark_unprofitable = bark_unprofitable
        self.margin_bps = margin_bps
        self.bid_share = bid_share
        self.min_profit_usd = min_profit_usd
        self.max_fee_wei = max_fee_wei
        self.min_tip_wei = min_tip_wei
        self.opening_bid = opening_bid
        self.gas = gas
        self.max_txs = max_txs_per_block
        self.private_bundles = private_bundles

    # --- deciding ---------------------------------------------------------------------------

    def propose(self, block: int) -> list[Tx]:
        """This block's transactions (none while the base fee is above ``max_fee_gwei``)."""
        base_fee = self.world.builder.base_fee
        if self.max_fee_wei is not None and base_fee >= self.max_fee_wei:
            return []
        now = self.world.now(block)
        plans: list[_Plan] = []
        for pname in self.protocols:
            system = self.world.protocols[pname]
            if self.do_bid:
                plans += self._flip_plans(pname, system, now)
            if self.do_take:
                plans += self._clip_plans(pname, system, now)
            if self.do_bark:
                plans += self._bark_plans(pname, system, now, len(plans))
        if (self.do_flap or self.do_flop) and len(plans) < self.max_txs:
            committed = sum(_dai_committed(p) for p in plans)
            for pname in self.protocols:
                plans += self._vow_plans(pname, self.world.protocols[pname], now, committed)
        txs = []
        for plan in plans[: self.max_txs]:
            tip = self._tip(plan, base_fee)
            txs.append(Tx(self.address, plan.kind, plan.gas, tip, partial(self._execute, plan, tip),
                          revert_protected=self.private_bundles))
        return txs

    def _tip(self, plan: _Plan, base_fee: int) -> int:
        """Priority fee: ``bid_share`` of the expected profit per gas, at least ``min_tip``,
        capped so that base fee + tip stays within ``max_fee_gwei``."""
        usd_per_wei = self.world.usd_per_gas_wei()
        share = int(max(plan.profit_usd, 0) / USD * self.bid_share / plan.gas / usd_per_wei)
        tip = max(self.min_tip_wei, share)
        if self.max_fee_wei is not None:
            tip = min(tip, self.max_fee_wei - base_fee)
        return max(tip, 0)

    def _gas_usd(self, gas: int) -> int:
        return self.world.gas_cost_usd(gas, 0)

    def _bark_plans(self, pname: str, system: MakerSystem, now: int, planned: int) -> list[_Plan]:
        out: list[_Plan] = []
        gas_usd = self._gas_usd(self.gas.bark)
        for n, (ilk, urn) in enumerate(system.unsafe_candidates(now)):
            if planned + len(out) >= self.max_txs or n >= EVALUATIONS_PER_TX * self.max_txs:
                break
            if not system.is_unsafe(ilk, urn):
                continue
            key = ("maker-bark", pname, ilk, urn)
            refusal = self.world.planning_cache.get(key, False)
            if refusal is False:
                refusal = self.world.planning_cache[key] = system.quote_liquidate(now, ilk, urn)
            if refusal is not None:  # limits hit (hole/Hole/box) or a dusty partial: wait
                continue
            reward = 0
            clip = system.clips.get(ilk)
            if clip is not None:
                cfg = system.configs[ilk]
                u, i = system.vat.urn(ilk, urn), system.vat.ilks[ilk]
                tab = u.art * i.rate * cfg.chop // WAD
                reward = system.value_usd(system.dai, (clip.tip + tab * clip.chip // WAD) // RAY)
            profit = reward - gas_usd
            if profit <= self.min_profit_usd and not self.bark_unprofitable and clip is not None:
                continue
            out.append(_Plan("bark", pname, ilk, urn, self.gas.bark, profit))
        return out

    def _clip_plans(self, pname: str, system: MakerSystem, now: int) -> list[_Plan]:
        out: list[_Plan] = []
        capital = system.dai_available(self.address)
        planned_sales: dict[str, int] = {}
        cache = self.world.planning_cache
        views = cache.get(("maker-clips", pname))
        if views is None:  # the same for every keeper until the first transaction runs
            views = cache[("maker-clips", pname)] = system.clip_auctions(now)
        for view in views:
            if view.needs_redo:
                out.append(_Plan("redo", pname, view.ilk, str(view.auction_id), self.gas.redo,
                                 self._redo_reward_usd(system, view)))
                continue
            if not self._may_pay(system, view.ilk, view.price):
                continue
            plan = self._plan_take(pname, system, now, view, capital, planned_sales)
            if plan is not None:
                out.append(plan)
                capital -= plan.amount * plan.price
        return out

    def _may_pay(self, system: MakerSystem, ilk: str, price: int) -> bool:
        """Whether buying at ``price`` [ray] can beat the AMM exit by the margin at all: the
        exit of one whole token is an upper bound on the exit per token of any larger slice
        (the AMM's price only falls as it sells), so a sale priced above it is skipped."""
        gem = system.gems[ilk]
        key = ("maker-exit-1", gem, system.dai)
        cache = self.world.planning_cache
        unit_exit = cache.get(key)
        if unit_exit is None:
            unit = 10 ** self.world.ledger.decimals[gem]
            unit_exit = self.router.quote(gem, system.dai, unit) if self.router.has_path(gem, system.dai) else 0
            cache[key] = unit_exit
        # owe for one token = price * 1e18 [rad] = price / 1e9 DAI base units
        return price * (BPS + self.margin_bps) <= unit_exit * 10**9 * BPS

    def _redo_reward_usd(self, system: MakerSystem, view: ClipView) -> int:
        clip = system.clips[view.ilk]
        coin = clip.tip + view.tab * clip.chip // WAD if view.tab >= clip.chost else 0
        return system.value_usd(system.dai, coin // RAY) - self._gas_usd(self.gas.redo)

    def _plan_take(self, pname: str, system: MakerSystem, now: int, view: ClipView, capital: int,
                   planned_sales: dict[str, int]) -> _Plan | None:
        """The most profitable affordable take of ``view``'s sale, or None."""
        gem = system.gems[view.ilk]
        if not self.router.has_path(gem, system.dai):
            return None
        conv = system.gem_joins[view.ilk].conversion
        price = view.price
        affordable = view.lot if price == 0 else min(view.lot, capital // price)
        already = planned_sales.get(gem, 0)
        sold_before = self.router.quote(gem, system.dai, already) if already else 0
        gas_usd = self._gas_usd(self.gas.take)
        best: tuple[int, int, int] | None = None  # (profit, amt, tokens)
        tried: set[int] = set()
        for k in range(SIZE_STEPS):
            amt = affordable >> k
            if amt == 0:
                break
            quote = system.quote_take(now, view.ilk, view.auction_id, amt, price)
            if isinstance(quote, Refusal):
                if quote.reason == "Clipper/no-partial-purchase" and view.lot * price <= capital:
                    amt = view.lot
                    quote = system.quote_take(now, view.ilk, view.auction_id, amt, price)
                if isinstance(quote, Refusal):
                    continue
            _, slice_, owe = quote
            if slice_ in tried or slice_ == 0:
                continue
            tried.add(slice_)
            tokens = slice_ // conv
            proceeds = self.router.quote(gem, system.dai, already + tokens) - sold_before
            cost = rad_to_wad_up(owe)
            if proceeds * BPS < cost * (BPS + self.margin_bps):
                continue
            profit = system.value_usd(system.dai, proceeds - cost) - gas_usd
            if best is None or profit > best[0]:
                best = (profit, amt, tokens)
            elif profit < best[0]:
                break
        if best is None or best[0] <= self.min_profit_usd:
            return None
        planned_sales[gem] = already + best[2]
        return _Plan("take", pname, view.ilk, str(view.auction_id), self.gas.take, best[0], best[1], price)

    def _flip_plans(self, pname: str, system: MakerSystem, now: int) -> list[_Plan]:
        out: list[_Plan] = []
        capital = system.dai_available(self.address)
        for view in system.flip_auctions(now):
            if view.dealable:
                if view.guy == self.address:
                    out.append(_Plan("deal", pname, view.ilk, str(view.auction_id), self.gas.deal,
                                     self._deal_value_usd(system, view)))
                continue
            if view.needs_tick:
                out.append(_Plan("tick", pname, view.ilk, str(view.auction_id), self.gas.tick, 0))
                continue
            if view.guy == self.address or view.tic == 0 and view.end <= now:
                continue
            plan = self._plan_bid(pname, system, view, capital)
            if plan is not None:
                out.append(plan)
                capital -= plan.amount if plan.kind == "tend" else view.tab
        return out

    def _lot_value(self, system: MakerSystem, ilk: str, lot: int) -> int:
        """AMM exit value (DAI base units) of ``lot`` [wad] of the ilk's collateral."""
        gem = system.gems[ilk]
        if not self.router.has_path(gem, system.dai):
            return 0
        return self.router.quote(gem, system.dai, lot // system.gem_joins[ilk].conversion)

    def _deal_value_usd(self, system: MakerSystem, view: FlipView) -> int:
        value = self._lot_value(system, view.ilk, view.lot)
        return system.value_usd(system.dai, max(0, value - rad_to_wad_up(view.bid))) - self._gas_usd(self.gas.deal)

    def _plan_bid(self, pname: str, system: MakerSystem, view: FlipView, capital: int) -> _Plan | None:
        """A ``tend`` or ``dent`` on ``view`` by the rules in the module docstring, or None."""
        gas_usd = self._gas_usd(self.gas.bid)
        gas_dai = gas_usd * WAD // USD
        value = self._lot_value(system, view.ilk, view.lot)
        if view.phase == "tend":
            if view.bid == 0 and self.opening_bid:
                bid = min(self.opening_bid * RAY, view.tab)
                if bid <= capital:
                    return _Plan("tend", pname, view.ilk, str(view.auction_id), self.gas.bid,
                                 system.value_usd(system.dai, value) - gas_usd, bid, view.lot)
            willing = value * (BPS - self.margin_bps) // BPS - gas_dai
            bid = min(view.tab, max(willing, 0) * RAY, capital)
            if bid < view.tab:
                bid -= bid % RAY  # whole DAI base units
            if bid <= view.bid or bid < view.min_bid:
                return None
            profit = system.value_usd(system.dai, value - rad_to_wad_up(bid)) - gas_usd
            return _Plan("tend", pname, view.ilk, str(view.auction_id), self.gas.bid, profit, bid, view.lot)
        if value == 0 or capital < view.tab:
            return None
        need = rad_to_wad_up(view.tab) * (BPS + self.margin_bps) // BPS + gas_dai
        lot = -(-view.lot * need // value)
        lot = min(lot, view.max_lot)
        if lot <= 0 or lot >= view.lot or self._lot_value(system, view.ilk, lot) < need:
            return None
        profit = system.value_usd(system.dai, self._lot_value(system, view.ilk, lot) - rad_to_wad_up(view.tab)) - gas_usd
        return _Plan("dent", pname, view.ilk, str(view.auction_id), self.gas.bid, profit, lot, view.tab)

    # --- the Vow's auctions ---------------------------------------------------------------------

    def _vow_plans(self, pname: str, system: MakerSystem, now: int, committed: int) -> list[_Plan]:
        """Deals, ticks and bids in ``pname``'s flap and flop auctions (module docstring);
        ``committed`` [rad] is the DAI this block's liquidation plans may spend.

        Reads the Flapper's and Flopper's ``bids`` directly (as a bot reads public storage):
        every keeper plans before any transaction runs, and most auctions are skipped with a
        few comparisons (hundreds may be open at once after a crash)."""
        flaps, flops = system.flapper.bids, system.flopper.bids
        if not (flaps and self.do_flap or flops and self.do_flop):
            return []
        cache = self.world.planning_cache
        gov, dai = system.gov, system.dai
        key = ("maker-vow-route", gov, dai)
        route = cache.get(key)
        if route is None:
            route = cache[key] = self.router.has_path(gov, dai)
        if not route:
            return []
        me = self.address
        mkr = self.world.ledger.balance_of(gov, me)
        dai_left = max(0, system.dai_available(me) - committed)
        gas_usd = self._gas_usd(self.gas.bid)
        gas_dai = gas_usd * WAD // USD
        out: list[_Plan] = []
        houses = [(h, bids) for h, bids, on in (("flap", flaps, self.do_flap), ("flop", flops, self.do_flop)) if on]
        for house, bids in houses:
            reservation = self._flop_reservation(system, system.vow.sump, gas_dai) if house == "flop" and bids else None
            for id_, b in bids.items():
                if len(out) >= self.max_txs:
                    return out
                tic, end = b.tic, b.end
                if tic != 0 and (tic < now or end < now):   # dealable
                    if b.guy == me:
                        out.append(_Plan(f"{house}-deal", pname, house, str(id_), self.gas.deal, 0))
                    continue
                if end < now:                                # ended without a bid: tick
                    if mkr or dai_left >= (b.bid if house == "flop" else RAY):
                        out.append(_Plan(f"{house}-tick", pname, house, str(id_), self.gas.tick, 0))
                    continue
                if end == now or tic == now or b.guy == me:  # not open, or ours
                    continue
                if house == "flap":
                    plan = self._plan_flap(pname, system, id_, b.bid, b.lot, mkr, dai_left, gas_dai, gas_usd)
                    if plan is not None:
                        from_mkr = min(plan.amount, mkr)
                        mkr -= from_mkr
                        if plan.amount > from_mkr:
                            dai_left = max(0, dai_left - self._flap_spend(b.lot, gas_dai) * RAY)
                else:
                    if dai_left < b.bid:
                        continue
                    lot = reservation if b.bid == system.vow.sump else self._flop_reservation(system, b.bid, gas_dai)
                    if lot is None or lot <= 0 or lot >= b.lot:
                        continue
                    plan = self._plan_flop(pname, system, id_, b.bid, lot, gas_usd)
                    if plan is not None:
                        dai_left -= b.bid
                if plan is not None:
                    out.append(plan)
        return out

    def _flap_spend(self, lot: int, gas_dai: int) -> int:
        """DAI base units the keeper would spend for a flap lot [rad]: ``lot * (1 - margin) - gas``."""
        return max(0, (lot // RAY) * (BPS - self.margin_bps) // BPS - gas_dai)

    def _plan_flap(self, pname: str, system: MakerSystem, id_: int, current: int, lot: int, mkr: int,
                   dai_left: int, gas_dai: int, gas_usd: int) -> _Plan | None:
        """A ``tend`` of ``W`` MKR (what ``lot * (1 - margin) - gas`` DAI buys on the AMM) on an
        auction whose high bid is ``current`` MKR [wad], if ``W`` meets the ``beg`` step."""
        spend = self._flap_spend(lot, gas_dai)
        if spend == 0:
            return None
        cache = self.world.planning_cache
        key = ("maker-flap-w", system.dai, system.gov, spend)
        willing = cache.get(key)
        if willing is None:
            willing = cache[key] = self.router.quote(system.dai, system.gov, spend)
        bid = willing
        if bid > mkr:  # the rest is bought on the AMM with DAI
            buyable = self.router.quote(system.dai, system.gov, dai_left // RAY) if dai_left >= RAY else 0
            bid = min(bid, mkr + buyable)
        if bid <= current or bid < system.flapper.min_next_bid(id_):
            return None
        profit = system.value_usd(system.dai, lot // RAY - spend * bid // willing) - gas_usd
        return _Plan("flap-tend", pname, "flap", str(id_), self.gas.bid, profit, bid, lot)

    def _flop_reservation(self, system: MakerSystem, bid: int, gas_dai: int) -> int | None:
        """The smallest MKR lot [wad] whose AMM sale returns ``bid * (1 + margin) + gas`` DAI,
        or None if the pool cannot return that much."""
        need = rad_to_wad_up(bid) * (BPS + self.margin_bps) // BPS + gas_dai
        cache = self.world.planning_cache
        key = ("maker-flop-l", system.gov, system.dai, need)
        if key not in cache:
            try:
                cache[key] = self.router.quote_in(system.gov, system.dai, need)
            except PoolError:
                cache[key] = None
        lot: int | None = cache[key]
        return lot

    def _plan_flop(self, pname: str, system: MakerSystem, id_: int, bid: int, lot: int,
                   gas_usd: int) -> _Plan | None:
        """A ``dent`` to the keeper's reservation ``lot`` [wad], if the ``beg`` step allows it."""
        if lot > system.flopper.max_next_lot(id_):
            return None
        profit = system.value_usd(system.dai, rad_to_wad_up(bid) * self.margin_bps // BPS) - gas_usd
        return _Plan("flop-dent", pname, "flop", str(id_), self.gas.bid, profit, lot, bid)

    # --- executing --------------------------------------------------------------------------

    def _execute(self, plan: _Plan, tip: int) -> bool:
        system = self.world.protocols[plan.protocol]
        handler = {
            "bark": self._do_bark, "take": self._do_take, "redo": self._do_redo,
            "tend": self._do_tend, "dent": self._do_dent, "deal": self._do_deal, "tick": self._do_tick,
            "flap-tend": self._do_flap_tend, "flop-dent": self._do_flop_dent,
            "flap-deal": self._do_flap_deal, "flop-deal": self._do_flop_deal,
            "flap-tick": self._do_vow_tick, "flop-tick": self._do_vow_tick,
        }[plan.kind]
        return handler(system, plan, tip)

    def _account(self, system: MakerSystem, plan: _Plan) -> str:
        if plan.kind == "bark":
            return vault_key(plan.ilk, plan.target)
        return f"{plan.ilk}#{plan.target}"

    def _fail(self, system: MakerSystem, plan: _Plan, tip: int, reason: str) -> bool:
        """A failed attempt: dropped unsent if bundled privately, else reverted with gas."""
        if self.private_bundles:
            reason, gas_usd = f"DROPPED: {plan.kind}: {reason}", 0
        else:
            reason = f"REVERTED: {plan.kind}: {reason}"
            gas_usd = self.world.charge_gas(self.address, plan.gas, tip)
        self.world.emit([LiquidationRefused(self.world.block, plan.protocol, self.name,
                                            self._account(system, plan), reason, gas_usd)])
        return False

    def _do_bark(self, system: MakerSystem, plan: _Plan, tip: int) -> bool:
        world = self.world
        out = system.liquidate(world.block, world.now(), plan.ilk, plan.target, self.address)
        if isinstance(out, Refusal):
            return self._fail(system, plan, tip, out.reason)
        world.charge_gas(self.address, plan.gas, tip)
        system.exit_dai(self.address)  # the 2.0 reward, if any
        return True

    def _do_redo(self, system: MakerSystem, plan: _Plan, tip: int) -> bool:
        world = self.world
        out = system.redo(world.block, world.now(), self.address, plan.ilk, int(plan.target))
        if isinstance(out, Refusal):
            return self._fail(system, plan, tip, out.reason)
        world.charge_gas(self.address, plan.gas, tip)
        system.exit_dai(self.address)
        return True

    def _do_tick(self, system: MakerSystem, plan: _Plan, tip: int) -> bool:
        world = self.world
        out = system.tick(world.block, world.now(), self.address, plan.ilk, int(plan.target))
        if isinstance(out, Refusal):
            return self._fail(system, plan, tip, out.reason)
        world.charge_gas(self.address, plan.gas, tip)
        return True

    def _do_take(self, system: MakerSystem, plan: _Plan, tip: int) -> bool:
        world = self.world
        block, now = world.block, world.now()
        auction = int(plan.target)
        gem, dai = system.gems[plan.ilk], system.dai
        quote = system.quote_take(now, plan.ilk, auction, plan.amount, plan.price)
        if isinstance(quote, Refusal):
            return self._fail(system, plan, tip, quote.reason)
        _, slice_, owe = quote
        if system.dai_available(self.address) < owe:
            return self._fail(system, plan, tip, "not enough DAI")
        tokens = slice_ // system.gem_joins[plan.ilk].conversion
        proceeds = self.router.quote(gem, dai, tokens)
        cost = rad_to_wad_up(owe)
        gas_usd = world.gas_cost_usd(plan.gas, tip)
        if proceeds * BPS < cost * (BPS + self.margin_bps) or system.value_usd(dai, proceeds - cost) <= gas_usd:
            return self._fail(system, plan, tip, "unprofitable after AMM exit, margin and gas")
        out = system.take(block, now, self.address, plan.ilk, auction, plan.amount, plan.price)
        if isinstance(out, Refusal):
            return self._fail(system, plan, tip, out.reason)
        if out.owe != owe or out.slice != slice_:
            raise InvariantViolation(f"take quote {quote} disagrees with the outcome {out}")
        world.charge_gas(self.address, plan.gas, tip)
        got, swaps = self.router.swap(block, now, self.address, gem, dai, out.collateral)
        system.exit_dai(self.address)
        world.emit(swaps)
        repaid = rad_to_wad_up(out.owe)
        world.emit([PositionLiquidated(
            block=block, protocol=plan.protocol, liquidator=self.name, account=vault_key(plan.ilk, out.urn),
            collateral_asset=gem, debt_asset=dai, debt_repaid=repaid, collateral_seized=out.collateral,
            protocol_fee=0, health_before=out.health_before, health_after=system.health(plan.ilk, out.urn),
            debt_repaid_usd=system.value_usd(dai, repaid),
            collateral_seized_usd=system.value_usd(gem, out.collateral),
            profit_usd=_signed_usd(system, dai, got - repaid) - gas_usd, gas_cost_usd=gas_usd,
        )])
        return True

    def _do_tend(self, system: MakerSystem, plan: _Plan, tip: int) -> bool:
        world = self.world
        out = system.tend(world.block, world.now(), self.address, plan.ilk, int(plan.target),
                          plan.price, plan.amount)
        if isinstance(out, Refusal):
            return self._fail(system, plan, tip, out.reason)
        world.charge_gas(self.address, plan.gas, tip)
        system.exit_dai(self.address)
        return True

    def _do_dent(self, system: MakerSystem, plan: _Plan, tip: int) -> bool:
        world = self.world
        out = system.dent(world.block, world.now(), self.address, plan.ilk, int(plan.target),
                          plan.amount, plan.price)
        if isinstance(out, Refusal):
            return self._fail(system, plan, tip, out.reason)
        world.charge_gas(self.address, plan.gas, tip)
        system.exit_dai(self.address)
        return True

    def _do_deal(self, system: MakerSystem, plan: _Plan, tip: int) -> bool:
        world = self.world
        block, now = world.block, world.now()
        out = system.deal(block, now, self.address, plan.ilk, int(plan.target))
        if isinstance(out, Refusal):
            return self._fail(system, plan, tip, out.reason)
        gas_usd = world.charge_gas(self.address, plan.gas, tip)
        gem, dai = system.gems[plan.ilk], system.dai
        got, swaps = 0, []
        if out.collateral and self.router.has_path(gem, dai):
            got, swaps = self.router.swap(block, now, self.address, gem, dai, out.collateral)
        world.emit(swaps)
        paid = rad_to_wad_up(out.bid)
        world.emit([PositionLiquidated(
            block=block, protocol=plan.protocol, liquidator=self.name, account=vault_key(plan.ilk, out.urn),
            collateral_asset=gem, debt_asset=dai, debt_repaid=paid, collateral_seized=out.collateral,
            protocol_fee=0, health_before=out.health_before, health_after=system.health(plan.ilk, out.urn),
            debt_repaid_usd=system.value_usd(dai, paid), collateral_seized_usd=system.value_usd(gem, out.collateral),
            profit_usd=_signed_usd(system, dai, got - paid) - gas_usd, gas_cost_usd=gas_usd,
        )])
        return True


    def _do_flap_tend(self, system: MakerSystem, plan: _Plan, tip: int) -> bool:
        """Buy the MKR the keeper lacks on the AMM (if the bid passes and stays within the
        DAI budget), then ``tend``."""
        world = self.world
        block, now = world.block, world.now()
        auction = int(plan.target)
        gov, dai = system.gov, system.dai
        try:
            b = system.flapper.check_tend(auction, plan.price, plan.amount, now)
        except MakerError as exc:
            return self._fail(system, plan, tip, exc.reason)
        need = plan.amount if b.guy != self.address else plan.amount - b.bid
        short = need - world.ledger.balance_of(gov, self.address)
        if short > 0:
            try:
                cost = self.router.quote_in(dai, gov, short)
            except PoolError:
                return self._fail(system, plan, tip, "the MKR pool cannot supply the bid")
            lot = plan.price // RAY
            gas_dai = world.gas_cost_usd(plan.gas, tip) * WAD // USD
            if cost * BPS > lot * (BPS - self.margin_bps) or cost + gas_dai >= lot:
                return self._fail(system, plan, tip, "unprofitable: MKR costs more than the lot after margin and gas")
            system.exit_dai(self.address)
            if world.ledger.balance_of(dai, self.address) < cost:
                return self._fail(system, plan, tip, "not enough DAI to buy the MKR bid")
            _, swaps = self.router.swap(block, now, self.address, dai, gov, cost, min_out=short)
            world.emit(swaps)
        out = system.flap_tend(block, now, self.address, auction, plan.price, plan.amount)
        if isinstance(out, Refusal):
            return self._fail(system, plan, tip, out.reason)
        world.charge_gas(self.address, plan.gas, tip)
        return True

    def _do_flop_dent(self, system: MakerSystem, plan: _Plan, tip: int) -> bool:
        """``dent`` to the planned lot if selling it on the AMM still returns the bid plus margin."""
        world = self.world
        gov, dai = system.gov, system.dai
        proceeds = self.router.quote(gov, dai, plan.amount)
        if proceeds * BPS < rad_to_wad_up(plan.price) * (BPS + self.margin_bps):
            return self._fail(system, plan, tip, "unprofitable after AMM exit and margin")
        out = system.flop_dent(world.block, world.now(), self.address, int(plan.target), plan.amount, plan.price)
        if isinstance(out, Refusal):
            return self._fail(system, plan, tip, out.reason)
        world.charge_gas(self.address, plan.gas, tip)
        system.exit_dai(self.address)
        return True

    def _do_flap_deal(self, system: MakerSystem, plan: _Plan, tip: int) -> bool:
        world = self.world
        out = system.flap_deal(world.block, world.now(), self.address, int(plan.target))
        if isinstance(out, Refusal):
            return self._fail(system, plan, tip, out.reason)
        world.charge_gas(self.address, plan.gas, tip)
        return True

    def _do_flop_deal(self, system: MakerSystem, plan: _Plan, tip: int) -> bool:
        """``deal``, then sell the minted MKR on the AMM."""
        world = self.world
        block, now = world.block, world.now()
        out = system.flop_deal(block, now, self.address, int(plan.target))
        if isinstance(out, Refusal):
            return self._fail(system, plan, tip, out.reason)
        world.charge_gas(self.address, plan.gas, tip)
        if out.guy == self.address and out.lot:
            _, swaps = self.router.swap(block, now, self.address, system.gov, system.dai, out.lot)
            world.emit(swaps)
        return True

    def _do_vow_tick(self, system: MakerSystem, plan: _Plan, tip: int) -> bool:
        world = self.world
        tick = system.flap_tick if plan.ilk == "flap" else system.flop_tick
        out = tick(world.block, world.now(), self.address, int(plan.target))
        if isinstance(out, Refusal):
            return self._fail(system, plan, tip, out.reason)
        world.charge_gas(self.address, plan.gas, tip)
        return True


def _signed_usd(system: MakerSystem, asset: str, amount: int) -> int:
    value = system.value_usd(asset, abs(amount))
    return value if amount >= 0 else -value


def _dai_committed(plan: _Plan) -> int:
    """DAI [rad] a liquidation plan may spend: a take's ``amt * price``, a tend's bid, a
    dent's tab."""
    if plan.kind == "take":
        return plan.amount * plan.price
    if plan.kind in ("tend", "dent"):
        return plan.amount if plan.kind == "tend" else plan.price
    return 0
