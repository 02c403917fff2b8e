"""The Vow: debt queue (fess/flog), heal/kiss, and the simplified flap/flop AMM sales.

The MKR/DAI pool starts with 1,000 MKR and 1,000,000 DAI (fee 0.3 %); sale amounts follow
``getAmountOut``/``getAmountIn`` of Uniswap V2 (fee written as 9,970 / 10,000).
"""

from __future__ import annotations

import pytest
from maker_env import ILK, RAD, WAD, MakerEnv  # type: ignore[import-not-found]

from defisim.engine.markets.router import Router
from defisim.engine.markets.uniswap_v2 import UniswapV2Pool
from defisim.engine.protocols.maker import MakerError, VowConfig
from defisim.engine.protocols.maker.records import (
    DebtAuctioned,
    SurplusAuctioned,
    TokensMinted,
)
from defisim.engine.records import TokensBurned


def with_pool(vow: VowConfig) -> MakerEnv:
    env = MakerEnv(vow=vow)
    pool = UniswapV2Pool("mkr-dai", "MKR", "DAI", env.ledger)
    env.ledger.mint("MKR", "lp", 1_000 * WAD)
    env.ledger.mint("DAI", "lp", 1_000_000 * WAD)
    pool.add_liquidity("lp", 1_000 * WAD, 1_000_000 * WAD, env.now)
    router = Router({"mkr-dai": pool})
    env.mk.flapper.router = router
    env.mk.flopper.router = router
    env.mk.back_external_dai()       # the pool's DAI existed before: back it with genesis sin
    return env


def test_fess_queues_debt_until_wait_has_passed() -> None:
    env = MakerEnv(vow=VowConfig(wait=3_600))
    vow = env.mk.vow
    env.vault("alice", 10, 13_000)
    env.price(1_500)
    env.mk.liquidate(1, env.now, ILK, "alice", "kpr")
    assert vow.sin == {env.now: 13_000 * RAD} and vow.Sin == 13_000 * RAD
    # sin(vow) = 13,000 due + 314.69 reward; only the reward is free debt while queued
    assert vow.free_debt() == 31_469 * RAD // 100
    with pytest.raises(MakerError, match="Vow/wait-not-finished"):
        vow.flog(env.now, env.now + 3_599)
    vow.flog(env.now, env.now + 3_600)
    assert vow.Sin == 0 and vow.free_debt() == 13_000 * RAD + 31_469 * RAD // 100


def test_heal_needs_surplus_and_free_debt() -> None:
    env = MakerEnv()
    vow = env.mk.vow
    env.vat.suck(vow.address, "x", 500 * RAD)          # 500 DAI of free debt
    with pytest.raises(MakerError, match="Vow/insufficient-surplus"):
        vow.heal(100 * RAD)
    env.vat.suck("mk:genesis", vow.address, 300 * RAD)  # 300 DAI of surplus
    with pytest.raises(MakerError, match="Vow/insufficient-surplus"):
        vow.heal(301 * RAD)
    vow.heal(300 * RAD)
    assert env.vat.sin_of(vow.address) == 200 * RAD and vow.surplus() == 0
    env.mk.settle(1, env.now)                          # the keeper heals min(surplus, debt) = 0
    assert env.vat.sin_of(vow.address) == 200 * RAD


def test_flap_sells_surplus_for_mkr_and_burns_it() -> None:
    env = with_pool(VowConfig(bump=10_000 * RAD, hump=20_000 * RAD))
    vow = env.mk.vow
    env.vat.suck("mk:genesis", vow.address, 29_999 * RAD)
    with pytest.raises(MakerError, match="Vow/insufficient-surplus"):
        vow.flap(1, env.now)                           # 29,999 < sin 0 + bump + hump
    env.vat.suck("mk:genesis", vow.address, 1 * RAD)
    supply = env.ledger.supply("MKR")
    env.mk.settle(1, env.now)
    # getAmountOut(10,000 DAI): 10,000e18 * 9,970 * 1,000e18 / (1,000,000e18 * 10,000 + 10,000e18 * 9,970)
    #   = 997e21 / 100,997 = 9,871,580,343,970,612,988 (remainder 50,964)
    burned = 9_871_580_343_970_612_988
    assert env.ledger.supply("MKR") == supply - burned
    assert vow.surplus() == 20_000 * RAD
    flaps = [r for r in env.mk.records if isinstance(r, (SurplusAuctioned, TokensBurned))]
    assert [(type(r).__name__, r.supply_after) for r in flaps] == [
        ("SurplusAuctioned", supply - burned), ("TokensBurned", supply - burned)]
    assert flaps[1].amount == burned and flaps[1].paid_amount == 10_000 * WAD
    assert env.mk.invariant_errors() == [] and env.ledger.conservation_errors() == []


def test_flap_waits_while_there_is_free_debt() -> None:
    env = with_pool(VowConfig(bump=10_000 * RAD))
    vow = env.mk.vow
    env.vat.suck("mk:genesis", vow.address, 50_000 * RAD)
    env.vat.suck(vow.address, "x", 1 * RAD)
    with pytest.raises(MakerError, match="Vow/debt-not-zero"):
        vow.flap(1, env.now)


def test_flop_mints_mkr_to_cover_bad_debt() -> None:
    env = with_pool(VowConfig(sump=5_000 * RAD, dump=10 * WAD))
    vow = env.mk.vow
    env.vat.suck(vow.address, "x", 20_000 * RAD)       # 20,000 DAI of unbacked debt
    supply = env.ledger.supply("MKR")
    env.mk.settle(1, env.now)
    # MKR needed for 5,000 DAI, getAmountIn: 1,000e18 * 5,000e18 * 10,000 / ((1,000,000 - 5,000)e18 * 9,970) + 1
    #   = 5e25 / 9,920,150 + 1 = 5,040,246,367,242,430,811
    minted = 5_040_246_367_242_430_811
    # its sale: minted * 9,970 * 1e24 // (1e25 + minted * 9,970) = 5,000.000000000000000969 DAI
    raised = 5_000_000_000_000_000_000_969
    assert env.ledger.supply("MKR") == supply + minted
    # kiss(min(raised, Ash = sump)) heals 5,000; the 969 wei above it stay as surplus
    assert env.vat.sin_of(vow.address) == 15_000 * RAD and vow.Ash == 0
    assert vow.surplus() == (raised - 5_000 * WAD) * 10**27
    d = [r for r in env.mk.records if isinstance(r, DebtAuctioned)]
    m = [r for r in env.mk.records if isinstance(r, TokensMinted)]
    assert [(r.gov_minted, r.dai_raised, r.supply_after) for r in d] == [(minted, raised, supply + minted)]
    assert [(r.amount, r.reason) for r in m] == [(minted, "flop")]
    with pytest.raises(MakerError, match="Vow/surplus-not-zero"):
        vow.flop(2, env.now)
    assert env.mk.invariant_errors() == [] and env.ledger.conservation_errors() == []


def test_flop_mints_at_most_dump() -> None:
    env = with_pool(VowConfig(sump=5_000 * RAD, dump=2 * WAD))
    vow = env.mk.vow
    env.vat.suck(vow.address, "x", 20_000 * RAD)
    env.mk.settle(1, env.now)
    # only 2 MKR may be minted: 2e18 * 9,970 * 1e24 // (1e25 + 2e18 * 9,970) = 1,990.0318... DAI
    raised = 1_990_031_876_438_381_866_558
    assert env.vat.sin_of(vow.address) == 20_000 * RAD - raised * 10**27
    assert vow.Ash == 0 and vow.surplus() == 0   # the unraised part of sump left Ash


def test_without_a_route_flop_changes_nothing() -> None:
    env = MakerEnv(vow=VowConfig(sump=5_000 * RAD, dump=2 * WAD))
    env.vat.suck(env.mk.vow.address, "x", 20_000 * RAD)
    before = env.mk.snapshot(env.now)
    env.mk.settle(1, env.now)
    assert env.mk.snapshot(env.now) == before and env.ledger.supply("MKR") == 0
