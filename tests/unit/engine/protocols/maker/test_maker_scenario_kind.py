"""The ``maker`` and ``maker-keeper`` scenario kinds: validation names the field, worlds build
with exact dss parameters."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

import defisim
from defisim.engine.agents.maker_keeper import MakerKeeper
from defisim.engine.protocols.maker import (
    LinearDecrease,
    MakerSystem,
    StairstepExponentialDecrease,
)
from defisim.errors import ScenarioError
from defisim.scenario.assemble import build_world

ROOT = Path(__file__).resolve().parents[5]
RAY, RAD, WAD = 10**27, 10**45, 10**18

SMALL: dict[str, Any] = yaml.safe_load("""
name: maker-small
seed: 3
chain: {blocks: 5}
tokens:
  WETH: {decimals: 18}
  DAI: {decimals: 18}
  MKR: {decimals: 18}
prices:
  model: scripted
  assets:
    WETH: {start: 2000}
    DAI: {start: 1.0}
oracles:
  - {kind: osm, name: eth-osm, asset: WETH, source: reference, hop: 1h}
protocols:
  - kind: maker
    name: maker
    Hole: "1000000 DAI"
    vow: {hump: "100 DAI", bump: "50 DAI", sump: "1000 DAI", dump: "10 MKR", wait: 30m}
    ilks:
      ETH-A:
        gem: WETH
        oracle: eth-osm
        mat: 1.5
        chop: 1.13
        line: "10000000 DAI"
        dust: "500 DAI"
        duty: 0.02
        hole: "500000 DAI"
        buf: 1.2
        tail: 140m
        cusp: 0.4
        chip: 0.001
        tip: "300 DAI"
        calc: {kind: stairstep-exponential, step: 90, cut: 0.99}
        accounts:
          - {name: bob, collateral: "3 WETH", debt: "3900 DAI"}
        vaults:
          - {count: 30, collateral: {WETH: 1.0}, debt: DAI, size_usd: {median: 20000, sigma: 0.5}}
agents:
  - {kind: maker-keeper, name: k, capital: {DAI: "100000 DAI"}, max_fee_gwei: 300}
""")


def small() -> dict[str, Any]:
    return copy.deepcopy(SMALL)


def ilk(data: dict[str, Any]) -> dict[str, Any]:
    return data["protocols"][0]["ilks"]["ETH-A"]


def problems_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as info:
        defisim.scenario_from_dict(data)
    return info.value.problems


def has(problems: list[tuple[str, str]], path: str, *words: str) -> bool:
    return any(p == path and all(w.lower() in m.lower() for w in words) for p, m in problems)


def test_bundled_scenarios_validate() -> None:
    two = defisim.load_scenario(ROOT / "scenarios" / "maker.yaml")
    one = defisim.load_scenario(ROOT / "scenarios" / "maker_black_thursday.yaml")
    assert [(p.kind, p.liquidations) for p in two.protocols] == [("maker", "2.0")]
    assert [(p.kind, p.liquidations) for p in one.protocols] == [("maker", "1.2")]


def test_small_scenario_builds_exact_parameters() -> None:
    world = build_world(defisim.scenario_from_dict(small()))
    mk = world.protocols["maker"]
    assert isinstance(mk, MakerSystem)
    cfg = mk.configs["ETH-A"]
    assert (cfg.mat, cfg.chop, cfg.buf, cfg.cusp) == (15 * RAY // 10, 113 * WAD // 100, 12 * RAY // 10, 4 * RAY // 10)
    assert (cfg.line, cfg.dust, cfg.hole, cfg.tip) == (10**7 * RAD, 500 * RAD, 500_000 * RAD, 300 * RAD)
    assert cfg.duty == 1_000_000_000_627_937_192_491_029_810 and cfg.tail == 8_400
    clip = mk.clips["ETH-A"]
    assert isinstance(clip.calc, StairstepExponentialDecrease) and clip.calc.cut == 99 * RAY // 100
    assert clip.chost == 565 * RAD                        # dust 500 * chop 1.13
    assert (mk.vow.hump, mk.vow.bump, mk.vow.sump, mk.vow.dump, mk.vow.wait) == (
        100 * RAD, 50 * RAD, 1_000 * RAD, 10 * WAD, 1_800)
    assert mk.dog.Hole == 10**6 * RAD
    bob = mk.vat.urn("ETH-A", "bob")
    assert (bob.ink, bob.art) == (3 * WAD, 3_900 * WAD)
    # spot from the OSM's first reading: 2,000 / 1.5
    assert mk.vat.ilks["ETH-A"].spot == int("1333" + "3" * 27)
    vaults = [u for u in mk.vat.urns["ETH-A"] if u.startswith("borrower-")]
    assert 20 <= len(vaults) <= 30                         # drawn debt below dust is not opened
    assert all(not mk.is_unsafe("ETH-A", u) for u in vaults)
    keepers = [a for a in world.agents if isinstance(a, MakerKeeper)]
    assert [(k.name, k.protocols, k.max_fee_wei) for k in keepers] == [("k", ["maker"], 300 * 10**9)]
    assert world.ledger.balance_of("DAI", "keeper:k") == 100_000 * WAD
    assert world.invariant_errors() == []


def test_linear_curve_and_exact_duty() -> None:
    data = small()
    ilk(data)["calc"] = {"kind": "linear", "tau": "1h"}
    ilk(data)["duty_ray"] = 1_000_000_000_315_522_921_573_372_069
    mk = build_world(defisim.scenario_from_dict(data)).protocols["maker"]
    assert isinstance(mk.clips["ETH-A"].calc, LinearDecrease) and mk.clips["ETH-A"].calc.tau == 3_600
    assert mk.configs["ETH-A"].duty == 1_000_000_000_315_522_921_573_372_069


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("cusp", 1.0, ("cusp", "(0, 1)")),
        ("cusp", 0.0, ("cusp", "(0, 1)")),
        ("buf", 0.99, ("buf", ">= 1")),
        ("mat", 1.0, ("mat", "> 1")),
        ("chop", 0.9, ("chop", ">= 1")),
        ("beg", 0.0, ("beg", "> 0")),
    ],
)
def test_ilk_number_checks_name_the_field(field: str, value: float, words: tuple[str, ...]) -> None:
    data = small()
    ilk(data)[field] = value
    assert has(problems_of(data), f"protocols.0.ilks.ETH-A.{field}", *words), problems_of(data)


def test_ttl_must_not_exceed_tau() -> None:
    data = small()
    ilk(data)["ttl"] = "7h"
    problems = problems_of(data)
    assert any(p == "protocols.0.ilks.ETH-A" and "ttl" in m and "tau" in m for p, m in problems), problems


def test_cut_and_linear_tau_checks() -> None:
    data = small()
    ilk(data)["calc"] = {"kind": "stairstep-exponential", "cut": 1.5}
    assert has(problems_of(data), "protocols.0.ilks.ETH-A.calc.cut", "(0, 1]")
    data = small()
    ilk(data)["calc"] = {"kind": "linear"}
    assert any(p.startswith("protocols.0.ilks.ETH-A.calc") and "tau" in m for p, m in problems_of(data))


def test_limits_required_by_the_liquidation_module() -> None:
    data = small()
    del data["protocols"][0]["Hole"]
    assert any("Hole" in m for _, m in problems_of(data))
    data = small()
    data["protocols"][0]["liquidations"] = "1.2"
    assert any("box" in m for _, m in problems_of(data))


def test_amounts_must_be_in_the_right_token() -> None:
    data = small()
    ilk(data)["line"] = "10 WETH"
    assert has(problems_of(data), "protocols.0.ilks.ETH-A.line", "wrong token", "DAI")
    data = small()
    data["protocols"][0]["vow"]["dump"] = "10 DAI"
    assert has(problems_of(data), "protocols.0.vow.dump", "wrong token", "MKR")
    data = small()
    ilk(data)["accounts"][0]["collateral"] = "3 DAI"
    assert has(problems_of(data), "protocols.0.ilks.ETH-A.accounts.0.collateral", "wrong token", "WETH")


def test_reference_checks_name_the_field() -> None:
    data = small()
    ilk(data)["oracle"] = "eth-osn"
    assert has(problems_of(data), "protocols.0.ilks.ETH-A.oracle", "no oracle named", "eth-osn")
    data = small()
    ilk(data)["gem"] = "WBTC"
    assert has(problems_of(data), "protocols.0.ilks.ETH-A.gem", "unknown token")
    data = small()
    ilk(data)["vaults"][0]["debt"] = "WETH"
    assert has(problems_of(data), "protocols.0.ilks.ETH-A.vaults.0.debt", "DAI")
    data = small()
    data["agents"][0]["protocols"] = ["aave"]
    assert has(problems_of(data), "agents.0.protocols.0", "no maker protocol")


def test_unsafe_account_fails_assembly_with_the_revert_reason() -> None:
    data = small()
    # 3 WETH * spot 1,333.33... (rounded down) = 3,999.99... < 4,000: not safe
    ilk(data)["accounts"][0]["debt"] = "4000 DAI"
    with pytest.raises(ScenarioError) as info:
        build_world(defisim.scenario_from_dict(data))
    (path, message), = info.value.problems
    assert path == "protocols.0.ilks.ETH-A.accounts.0" and "Vat/not-safe" in message


def test_vow_auction_parameters_become_dss_integers() -> None:
    data = small()
    data["protocols"][0]["vow"]["flap"] = {"beg": 0.04, "ttl": "30m", "tau": "72h", "lid": "150 DAI"}
    data["protocols"][0]["vow"]["flop"] = {"beg": 0.03, "pad": 0.2, "ttl": "6h", "tau": "72h"}
    mk = build_world(defisim.scenario_from_dict(data)).protocols["maker"]
    flap, flop = mk.flapper, mk.flopper
    assert (flap.beg, flap.ttl, flap.tau, flap.lid) == (104 * WAD // 100, 1_800, 259_200, 150 * RAD)
    assert (flop.beg, flop.pad, flop.ttl, flop.tau) == (103 * WAD // 100, 12 * WAD // 10, 21_600, 259_200)


def test_vow_auction_defaults_are_the_contracts() -> None:
    mk = build_world(defisim.scenario_from_dict(small())).protocols["maker"]
    flap, flop = mk.flapper, mk.flopper
    # flap.sol / flop.sol constructor values; lid unlimited (the contract's 0 would stop flaps)
    assert (flap.beg, flap.ttl, flap.tau, flap.lid) == (105 * WAD // 100, 10_800, 172_800, 2**256 - 1)
    assert (flop.beg, flop.pad, flop.ttl, flop.tau) == (105 * WAD // 100, 15 * WAD // 10, 10_800, 172_800)


@pytest.mark.parametrize(
    ("house", "params", "path", "words"),
    [
        ("flap", {"beg": 0}, "flap.beg", ("beg", "> 0")),
        ("flop", {"beg": -0.01}, "flop.beg", ("beg", "> 0")),
        ("flop", {"beg": 1e-19}, "flop.beg", ("beg", "decimals")),
        ("flop", {"pad": -0.1}, "flop.pad", ("pad", ">= 0")),
        ("flap", {"tau": 0}, "flap.tau", ("tau", "> 0")),
        ("flop", {"ttl": "2h", "tau": "1h"}, "flop", ("ttl", "tau")),
        ("flap", {"lid": "10 DAI"}, "", ("flap.lid", "bump")),
        ("flap", {"lid": "10 MKR"}, "flap.lid", ("wrong token", "DAI")),
    ],
)
def test_vow_auction_checks_name_the_field(house: str, params: dict[str, Any], path: str,
                                           words: tuple[str, ...]) -> None:
    data = small()
    data["protocols"][0]["vow"][house] = params
    where = "protocols.0.vow" + (f".{path}" if path else "")
    assert has(problems_of(data), where, *words), problems_of(data)


def test_the_amm_sale_mode_is_gone() -> None:
    data = small()
    data["protocols"][0]["vow"]["auctions"] = "amm"
    assert has(problems_of(data), "protocols.0.vow.auctions", "unknown key")


def test_keeper_auction_switches() -> None:
    data = small()
    data["agents"][0].update({"flap": False, "flop": True})
    world = build_world(defisim.scenario_from_dict(data))
    keeper, = [a for a in world.agents if isinstance(a, MakerKeeper)]
    assert (keeper.do_flap, keeper.do_flop) == (False, True)
