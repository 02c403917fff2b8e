"""The Vat's checks and identities, and all-or-nothing actions (the journal)."""

from __future__ import annotations

import pytest
from maker_env import ILK, RAD, RAY, WAD, MakerEnv  # type: ignore[import-not-found]

from defisim.engine.protocols.maker import MakerError


def test_frob_locks_collateral_and_draws_dai(env: MakerEnv) -> None:
    env.vault("alice", 10, 13_000)
    urn = env.vat.urn(ILK, "alice")
    assert (urn.ink, urn.art) == (10 * WAD, 13_000 * WAD)    # rate = RAY: art = debt
    assert env.ledger.balance_of("DAI", "alice") == 13_000 * WAD
    assert env.ledger.balance_of("WETH", "mk:gem-join:ETH-A") == 10 * WAD
    # DaiJoin holds the Vat dai behind the ERC-20 DAI: 13,000 * RAY * WAD rad
    assert env.vat.dai_of("mk:dai-join") == 13_000 * RAD
    assert env.vat.debt == 13_000 * RAD and env.vat.vice == 0
    # health = ink * spot * WAD // (art * rate) = 10 * 1333.33e27 * 1e18 // 13,000e27
    assert env.mk.health(ILK, "alice") == 10 * int("1333" + "3" * 27) * WAD // (13_000 * RAY)
    assert env.mk.invariant_errors() == []


def test_frob_refuses_unsafe_dusty_and_over_ceiling(env: MakerEnv) -> None:
    # 10 WETH at spot 1,333.33: at most 13,333.33 DAI
    with pytest.raises(MakerError, match="Vat/not-safe"):
        env.vault("a", 10, 13_334)
    with pytest.raises(MakerError, match="Vat/dust"):
        env.vault("b", 10, 4_999)              # dust is 5,000 DAI
    small = MakerEnv(line=20_000 * RAD)
    small.vault("c", 10, 13_000)
    with pytest.raises(MakerError, match="Vat/ceiling-exceeded"):
        small.vault("d", 10, 7_001)            # Art * rate 20,001 > line 20,000


def test_a_refused_action_changes_nothing(env: MakerEnv) -> None:
    env.vault("alice", 10, 13_000)
    before = env.mk.snapshot(env.now), env.ledger.holders("WETH"), env.ledger.holders("DAI")
    env.ledger.mint("WETH", "bob", 10 * WAD)
    weth = env.ledger.holders("WETH")
    with pytest.raises(MakerError):
        env.mk.open_vault(env.now, ILK, "bob", 10 * WAD, 14_000 * WAD)  # joins, then frob fails
    assert env.ledger.holders("WETH") == weth                   # the GemJoin.join was undone
    assert (env.mk.snapshot(env.now), env.ledger.holders("DAI")) == (before[0], before[2])
    assert env.mk.invariant_errors() == []


def test_grab_suck_heal_keep_the_fundamental_equation(env: MakerEnv) -> None:
    env.vault("alice", 10, 13_000)
    vat = env.vat
    vat.grab(ILK, "alice", "cat", "vow", -2 * WAD, -3_000 * WAD)
    # 3,000 DAI of debt is now the Vow's sin; 2 WETH free for "cat"
    assert vat.sin_of("vow") == 3_000 * RAD and vat.vice == 3_000 * RAD
    assert vat.gem_of(ILK, "cat") == 2 * WAD and vat.ilks[ILK].Art == 10_000 * WAD
    vat.suck("vow", "keeper", 100 * RAD)
    assert vat.debt == 13_100 * RAD and vat.vice == 3_100 * RAD
    vat.move("keeper", "vow", 100 * RAD, "keeper")
    vat.heal("vow", 100 * RAD)
    assert vat.debt == 13_000 * RAD and vat.vice == 3_000 * RAD
    # debt == vice + sum Art * rate: 13,000 = 3,000 + 10,000
    assert vat.invariant_errors() == []
    with pytest.raises(MakerError):
        vat.heal("vow", 1)                      # the Vow has no dai left
    with pytest.raises(MakerError, match="Vat/not-allowed"):
        vat.move("alice", "bob", 1, "bob")      # bob may not move alice's dai


def test_invariants_catch_broken_books(env: MakerEnv) -> None:
    env.vault("alice", 10, 13_000)
    env.vat.debt += 1
    assert any("debt" in e for e in env.mk.invariant_errors())
