"""``defisim graph --from-chain``: an exposure graph from real contracts at a block, read-only.

Anvil A stands in for mainnet: a real Aave 3.6 market, a real Aave 3.0 market and a real
Morpho Blue with two markets are deployed and seeded on it (the fork tests' seeds,
:mod:`tests.chain.seeded_markets`); block N is noted, then more actions follow on A. The
graph built from a registry naming those addresses at N must carry the integers the
contracts hold at N (and the seeded amounts where no interest accrues), nothing from after
N, and leave A untouched. Bad input exits 2 with one message naming the field, no traceback,
no key from the URL, and no node left running.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from typer.testing import CliRunner

from defisim.chain.anvil import Anvil, free_port
from defisim.chain.backend import AdvanceTo, Borrow, SupplyCollateral
from defisim.chain.chain_backend import ChainBackend
from defisim.chain.fork import ForkInputError
from defisim.chain.rpc import LocalNode, address_of
from defisim.cli.main import app
from defisim.engine.protocols.morpho_blue.sharesmath import to_assets_up
from defisim.graph import load_graph
from defisim.graph.from_chain import build_graph_from_chain
from defisim.graph.io import graph_to_file
from defisim.graph.registry import RegistryError, load_registry
from defisim.graph.to_scenario import load_any
from tests.chain.seeded_markets import (
    AAVE_AFTER,
    DAY,
    E18,
    MORPHO_MARKET,
    USDC,
    fork_nodes,
    seed_aave,
    seed_morpho,
)

runner = CliRunner()
SECRET = "SECRETKEY123"
E8 = 10**8
AAVE_DECIMALS = {"WETH": 18, "WBTC": 8, "USDC": 6, "DAI": 18}
MAINNET_REGISTRY = Path(__file__).resolve().parents[2] / "graphs" / "ethereum_mainnet_registry.yaml"


@dataclass
class ChainA:
    """Anvil A with Aave 3.6, Aave 3.0 and Morpho Blue seeded; ``block`` N, its ``timestamp``."""

    anvil: Anvil
    node: LocalNode
    aave36: ChainBackend
    aave30: ChainBackend
    morpho: ChainBackend
    block: int
    timestamp: int

    @property
    def url(self) -> str:
        return self.anvil.url

    def market_id(self, name: str) -> str:
        return "0x" + self.morpho.market.markets[name].id.hex()

    def call(self, to: str, sig: str, args: tuple[Any, ...], out: list[str], block: int | str) -> Any:
        """An independent ``eth_call`` on A at ``block`` (not through the code under test)."""
        types = [t for t in sig[sig.index("(") + 1:-1].split(",") if t]
        raw = self.node.call(to, keccak(text=sig)[:4] + abi_encode(types, list(args)), block)
        values = abi_decode(out, raw)
        return values[0] if len(values) == 1 else values

    def fingerprint(self) -> tuple[Any, ...]:
        """A's block number and a few state reads (nothing the builder does may change them)."""
        a, m = self.aave36.market, self.morpho.market
        return (self.node.block_number(), a.pool.call("getReserveData", a.tokens["USDC"].address),
                m.morpho.call("market", m.markets[MORPHO_MARKET].id), self.node.timestamp())


@pytest.fixture(scope="module")
def chain_a() -> Iterator[ChainA]:
    anvil = Anvil(timestamp=1_700_000_000).start()
    try:
        node = LocalNode(anvil.url)
        aave36, _ = seed_aave(node, "aave-v3.6")
        aave30, _ = seed_aave(node, "aave-v3.0", node.timestamp() + DAY)
        morpho, _ = seed_morpho(node, node.timestamp() + DAY)
        block, now = node.block_number(), node.timestamp()
        # after N: more supply and borrowing on every protocol
        for chain in (aave36, aave30):
            chain.apply(AdvanceTo(node.timestamp() + DAY))
            for action in AAVE_AFTER:
                chain.apply(action)
        morpho.apply(AdvanceTo(node.timestamp() + DAY))
        for action in (SupplyCollateral("frank", MORPHO_MARKET, 5 * E18),
                       Borrow("frank", "USDC", 1000 * USDC, MORPHO_MARKET)):
            morpho.apply(action)
        assert node.block_number() > block
        yield ChainA(anvil, node, aave36, aave30, morpho, block, now)
    finally:
        anvil.stop()


def _registry(a: ChainA, **changes: Any) -> dict[str, Any]:
    m = a.morpho.market
    data: dict[str, Any] = {
        "name": "anvil-a", "chain_id": 31337, "chain": "anvil",
        "protocols": [
            {"id": "aave36", "label": "Aave 3.6 on A", "family": "aave-v3", "pool": a.aave36.market.pool.address,
             "source": "deployed by the test (tests/chain/seeded_markets.py)"},
            {"id": "aave30", "label": "Aave 3.0 on A", "family": "aave-v3", "pool": a.aave30.market.pool.address,
             "source": "deployed by the test"},
            {"id": "morpho", "label": "Morpho Blue on A", "family": "morpho-blue", "address": m.morpho.address,
             "source": "deployed by the test", "logs_from_block": 0,
             "markets": [{"id": a.market_id(MORPHO_MARKET), "label": "WETH/USDC 86%", "source": "test"},
                         {"id": a.market_id("wbtc-usdc"), "label": "WBTC/USDC 91.5%", "source": "test"}]},
        ],
        "tokens": [
            {"address": a.aave36.market.tokens["DAI"].address, "symbol": "DAI", "issuer": "cdp",
             "issuer_label": "a CDP", "source": "test"},
            {"address": m.tokens["USDC"].address, "symbol": "USDC", "source": "test",
             "usd_feed": {"address": m.oracle_feeds["USDC"].address, "source": "test"}},
        ],
    }
    data.update(changes)
    return data


@pytest.fixture
def registry_file(chain_a: ChainA, tmp_path: Path) -> Path:
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(_registry(chain_a), sort_keys=False), encoding="utf-8")
    return path


def _node_at(g: Any, address: str) -> str:
    (nid,) = [n.id for n in g.file.nodes if n.kind == "asset" and (n.address or "").lower() == address.lower()]
    return nid


def _edge(g: Any, source: str, target: str, kind: str) -> Any:
    (edge,) = [e for e in g.file.edges if (e.source, e.target, e.kind) == (source, target, kind)]
    return edge


def _usd(amount: int, price_e8: int, decimals: int) -> float:
    return (amount * price_e8 // 10**decimals) / E8


# --- the graph ------------------------------------------------------------------------------------

def test_graph_carries_the_contracts_integers_at_block_n(chain_a: ChainA, registry_file: Path) -> None:
    a = chain_a
    before = a.fingerprint()
    messages: list[str] = []
    g = build_graph_from_chain(registry_file, a.url, a.block, top_accounts=0, progress=messages.append)
    assert a.fingerprint() == before  # A untouched
    assert fork_nodes(a.url) == []  # no node started
    assert g.nx.graph["block"] == a.block and g.nx.graph["timestamp"] == a.timestamp
    assert g.meta.as_of == datetime.fromtimestamp(a.timestamp, tz=UTC).date()  # the block's own date
    sources = g.meta.sources
    assert all(n.source in sources for n in g.file.nodes) and all(e.source_ref in sources for e in g.file.edges)
    assert all(f"block {a.block} (timestamp {a.timestamp})" in s.title for s in sources.values()
               if s.title.startswith("eth_call"))

    for pid, chain in (("aave36", a.aave36), ("aave30", a.aave30)):
        mk = chain.market
        assert g.node(pid).family == "aave-v3" and g.node(pid).kind == "protocol"
        weth, wbtc, usdc = (mk.tokens[s].address for s in ("WETH", "WBTC", "USDC"))
        # WETH and WBTC are never borrowed: the seeded amounts exactly (erin's 2 WETH came after N)
        e = _edge(g, _node_at(g, weth), pid, "collateral_held_in")
        assert e.amount_base_units == (1000 + 10 + 3 + 5) * E18 and e.token == "WETH"
        assert e.value_usd == 1018 * 3000
        assert _edge(g, _node_at(g, wbtc), pid, "collateral_held_in").amount_base_units == 10**8
        a_weth = mk.a_tokens["WETH"].address
        assert a.call(a_weth, "totalSupply()", (), ["uint256"], "latest") == 1020 * E18  # A moved on after N
        # USDC earned interest: the aToken's own totalSupply at N, to the unit
        e = _edge(g, _node_at(g, usdc), pid, "collateral_held_in")
        at_n = a.call(mk.a_tokens["USDC"].address, "totalSupply()", (), ["uint256"], a.block)
        assert e.amount_base_units == at_n > 5_000_000 * USDC
        assert e.value_usd == _usd(at_n, E8, 6)
        # equity: the treasury's aTokens + accruedToTreasury x income, priced at the oracle
        treasury = address_of("treasury")
        reserves = 0
        for sym, price in (("WETH", 3000 * E8), ("WBTC", 60_000 * E8), ("USDC", E8), ("DAI", E8)):
            asset = mk.tokens[sym].address
            data = a.call(mk.pool.address, "getReserveData(address)", (asset,), ["uint256"] * 12 + ["uint128"] * 3,
                          a.block)
            income = a.call(mk.pool.address, "getReserveNormalizedIncome(address)", (asset,), ["uint256"], a.block)
            bal = a.call(mk.a_tokens[sym].address, "balanceOf(address)", (treasury,), ["uint256"], a.block)
            units = bal + (data[12] * income + 10**27 // 2) // 10**27
            reserves += units * price // 10**AAVE_DECIMALS[sym]
        assert reserves > 0 and g.node(pid).equity_usd == reserves / E8
        # value: the sum of its collateral edges; one oracle node per feed, each feeding the pool
        into = [e for e in g.file.edges if e.target == pid and e.kind == "collateral_held_in"]
        assert len(into) == 4 and g.node(pid).value_usd == pytest.approx(sum(e.value_usd for e in into))
        feed = mk.oracle_feeds["WETH"].address.lower()
        assert _edge(g, f"oracle:{feed}", pid, "oracle_feeds").value_usd == 1018 * 3000

    # Morpho: 31 WETH of the four borrowers at N (frank's 5 WETH came after), 1 WBTC of erin
    mid = a.market_id(MORPHO_MARKET)
    mm = a.morpho.market
    weth, wbtc, usdc = (mm.tokens[s].address for s in ("WETH", "WBTC", "USDC"))
    e = _edge(g, _node_at(g, weth), "morpho", "collateral_held_in")
    assert e.amount_base_units == 31 * E18 and e.value_usd == 31 * 3000  # oracle 3000e24 x USDC feed $1
    held = a.call(weth, "balanceOf(address)", (mm.morpho.address,), ["uint256"], a.block)
    assert f"Morpho holds {held} base units of WETH" in sources[e.source_ref].notes and held == 31 * E18
    assert "complete scan" in sources[e.source_ref].notes
    e = _edge(g, _node_at(g, wbtc), "morpho", "collateral_held_in")
    assert e.amount_base_units == 10**8 and e.value_usd == 60_000
    # equity: the over-collateralisation of the positions, debt as toAssetsUp on the stored totals
    buffer = 0
    for name, market, coll_usd in (("alice", mid, 30_000), ("bob", mid, 30_000), ("carol", mid, 30_000),
                                   ("dave", mid, 3_000), ("erin", a.market_id("wbtc-usdc"), 60_000)):
        stored = a.call(mm.morpho.address, "market(bytes32)", (bytes.fromhex(market[2:]),), ["uint128"] * 6, a.block)
        _s, shares, _c = a.call(mm.morpho.address, "position(bytes32,address)",
                                (bytes.fromhex(market[2:]), address_of(name)), ["uint256", "uint128", "uint128"],
                                a.block)
        debt = to_assets_up(shares, stored[2], stored[3])
        assert debt > 0
        buffer += max(0, coll_usd * E8 - debt * E8 // USDC)
    assert g.node("morpho").equity_usd == buffer / E8 and g.node("morpho").value_usd == 153_000
    oracle = mm.markets[MORPHO_MARKET].oracle.address.lower()
    assert _edge(g, f"oracle:{oracle}", "morpho", "oracle_feeds").value_usd == 93_000

    # issued token: DAI's totalSupply at N, issued by a node the registry names
    dai = a.aave36.market.tokens["DAI"].address
    supply = a.call(dai, "totalSupply()", (), ["uint256"], a.block)
    e = _edge(g, _node_at(g, dai), "cdp", "token_issued_by")
    assert e.amount_base_units == supply and e.value_usd == _usd(supply, E8, 18)
    assert g.node("cdp").kind == "protocol" and g.node("cdp").label == "a CDP"
    assert g.node(_node_at(g, dai)).value_usd == _usd(supply, E8, 18) > 5_000_000
    # three WETH tokens on A: the ids tell them apart by address
    assert len({_node_at(g, x.market.tokens["WETH"].address) for x in (a.aave36, a.aave30, a.morpho)}) == 3
    assert any("reading morpho" in m for m in messages)



def test_large_morpho_positions_become_account_nodes(chain_a: ChainA, registry_file: Path) -> None:
    a = chain_a
    g = build_graph_from_chain(registry_file, a.url, a.block, top_accounts=1)
    erin = address_of("erin")
    (acct,) = [n for n in g.file.nodes if n.kind == "account"]
    assert acct.address == erin and acct.value_usd == 60_000
    wbtc = _node_at(g, a.morpho.market.tokens["WBTC"].address)
    assert _edge(g, wbtc, acct.id, "collateral_held_in").amount_base_units == 10**8
    assert not [e for e in g.file.edges if e.source == wbtc and e.target == "morpho"]
    market = bytes.fromhex(a.market_id("wbtc-usdc")[2:])
    stored = a.call(a.morpho.market.morpho.address, "market(bytes32)", (market,), ["uint128"] * 6, a.block)
    _s, shares, _c = a.call(a.morpho.market.morpho.address, "position(bytes32,address)", (market, erin),
                            ["uint256", "uint128", "uint128"], a.block)
    debt = _edge(g, acct.id, "morpho", "debt_owed_to")
    assert debt.amount_base_units == to_assets_up(shares, stored[2], stored[3]) >= 30_000 * USDC
    assert debt.token == "USDC" and acct.equity_usd == 60_000 - debt.value_usd
    assert g.node("morpho").value_usd == 153_000  # the protocol's total is unchanged


def test_cli_writes_a_valid_graph_and_analyses_it(chain_a: ChainA, registry_file: Path, tmp_path: Path) -> None:
    a = chain_a
    before = a.fingerprint()
    out = tmp_path / "out"
    res = runner.invoke(app, ["graph", "--rpc-url", a.url, "--block", str(a.block), str(registry_file),
                              "-o", str(out), "--no-draw", "--no-export", "--top-accounts", "0"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "Systemic importance" in res.stdout and "aave36" in res.stdout
    written = load_graph(out / "graph.json")
    library = build_graph_from_chain(registry_file, a.url, a.block, top_accounts=0)
    assert written.file == library.file
    report = json.loads((out / "report.json").read_text())
    assert report["graph"]["block"] == a.block and report["graph"]["chain_id"] == 31337
    # the written file is a graph file like any other: analysed, and runnable as a scenario
    res = runner.invoke(app, ["graph", str(out / "graph.json"), "-o", str(tmp_path / "again"), "--no-draw",
                              "--no-export", "--shock", f"{_node_at(written, a.aave36.market.tokens['WETH'].address)}=-30%"])
    assert res.exit_code == 0, res.stdout + res.stderr
    scenario = load_any(out / "graph.json")
    assert {p.name for p in scenario.protocols} >= {"aave36", "aave30", "morpho"}
    assert a.fingerprint() == before and fork_nodes(a.url) == []


def test_the_latest_block_by_default_includes_what_came_after_n(chain_a: ChainA, registry_file: Path) -> None:
    a = chain_a
    g = build_graph_from_chain(registry_file, a.url, top_accounts=0)
    assert g.nx.graph["block"] == a.node.block_number() > a.block
    weth = a.aave36.market.tokens["WETH"].address
    assert _edge(g, _node_at(g, weth), "aave36", "collateral_held_in").amount_base_units == 1020 * E18
    mweth = a.morpho.market.tokens["WETH"].address
    assert _edge(g, _node_at(g, mweth), "morpho", "collateral_held_in").amount_base_units == 36 * E18


# --- bad input ------------------------------------------------------------------------------------

def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    res = runner.invoke(app, ["graph", *args], env={"COLUMNS": "300", **(env or {})})
    text = " ".join((res.stdout + res.stderr).split())
    assert "Traceback" not in text, res.stdout + res.stderr
    assert text.count("error:") == 1, text
    return res.exit_code, text


def _write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "reg.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def test_missing_url_says_what_is_needed(registry_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEFISIM_RPC_URL", raising=False)
    code, text = _cli("--from-chain", str(registry_file))
    assert code == 2 and "--rpc-url" in text and "DEFISIM_RPC_URL" in text and "only read from" in text


def test_url_from_the_environment(chain_a: ChainA, registry_file: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["graph", "--from-chain", str(registry_file), "--block", str(chain_a.block),
                              "-o", str(tmp_path / "o"), "--no-draw", "--no-export"],
                        env={"DEFISIM_RPC_URL": chain_a.url, "COLUMNS": "200"})
    assert res.exit_code == 0, res.stdout + res.stderr
    assert load_graph(tmp_path / "o" / "graph.json").nx.graph["name"].endswith(f"block {chain_a.block}")


def test_non_http_url(registry_file: Path) -> None:
    code, text = _cli("--rpc-url", f"ftp://127.0.0.1/{SECRET}", str(registry_file))
    assert code == 2 and "http(s)" in text and SECRET not in text


def test_a_key_in_an_unreachable_url_is_never_printed(registry_file: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v2/{SECRET}?apikey={SECRET}"
    code, text = _cli("--rpc-url", url, str(registry_file))
    assert code == 2 and "unreachable" in text and SECRET not in text and "127.0.0.1" in text


def test_an_address_that_is_not_a_pool(chain_a: ChainA, tmp_path: Path) -> None:
    data = _registry(chain_a)
    token = chain_a.aave36.market.tokens["USDC"].address
    data["protocols"][1]["pool"] = token
    code, text = _cli("--rpc-url", chain_a.url, _write(tmp_path, data))
    assert code == 2 and "protocols.1.pool (aave30)" in text and "does not answer as an Aave V3 pool" in text
    assert token in text
    nobody = to_checksum_address("0x" + "de" * 20)
    data["protocols"][1]["pool"] = nobody
    code, text = _cli("--rpc-url", chain_a.url, _write(tmp_path, data))
    assert code == 2 and "protocols.1.pool" in text and f"no contract code at {nobody}" in text
    assert fork_nodes(chain_a.url) == []


def test_a_morpho_market_that_does_not_exist_at_the_block(chain_a: ChainA, tmp_path: Path) -> None:
    data = _registry(chain_a)
    nope = "0x" + "ab" * 32
    data["protocols"][2]["markets"][1]["id"] = nope
    code, text = _cli("--rpc-url", chain_a.url, "--block", str(chain_a.block), _write(tmp_path, data))
    assert code == 2 and "protocols.2.markets.1.id (morpho)" in text and f"market {nope} does not exist" in text


@pytest.mark.parametrize("change, field, message", [
    ({"bogus": 1}, "bogus", "unknown key"),
    ({"protocols": [{"id": "m", "family": "morpho-blue", "address": "0x" + "bb" * 20, "source": "s",
                     "markets": [{"id": "0x1234", "source": "s"}]}]}, "protocols.0.markets.0.id", "64 hex digits"),
    ({"protocols": [{"id": "a", "family": "aave-v3", "pool": "0x12", "source": "s"}]}, "protocols.0.pool",
     "40 hex digits"),
    ({"protocols": [{"id": "a", "family": "compound", "pool": "0x" + "12" * 20, "source": "s"}]},
     "protocols.0.family", "aave-v3 or morpho-blue"),
    ({"protocols": [{"id": "a", "family": "aave-v3", "pool": "0x" + "12" * 20}]}, "protocols.0.source", "missing"),
])
def test_an_invalid_registry_names_the_field(chain_a: ChainA, tmp_path: Path, change: dict[str, Any], field: str,
                                             message: str) -> None:
    path = _write(tmp_path, _registry(chain_a, **change))
    code, text = _cli("--rpc-url", chain_a.url, path)
    assert code == 2 and f"{field}: " in text and message in text and "invalid registry" in text
    with pytest.raises(RegistryError) as err:
        load_registry(path)
    assert any(p == field for p, _ in err.value.problems)


def test_wrong_chain_and_future_block(chain_a: ChainA, tmp_path: Path) -> None:
    code, text = _cli("--rpc-url", chain_a.url, _write(tmp_path, _registry(chain_a, chain_id=1)))
    assert code == 2 and "chain_id: " in text and "serves chain 31337, not chain 1" in text
    future = chain_a.node.block_number() + 100
    with pytest.raises(ForkInputError, match=f"--block: block {future} is in the future"):
        build_graph_from_chain(_write(tmp_path, _registry(chain_a)), chain_a.url, future)


def test_an_unquoted_address_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("name: x\nchain_id: 1\nprotocols:\n  - id: a\n    family: aave-v3\n    pool: 0x12\n"
                    "    source: s\n", encoding="utf-8")
    code, text = _cli("--rpc-url", "http://127.0.0.1:1", str(path))
    assert code == 2 and "protocols.0.pool: must be a quoted string" in text


# --- the mainnet registry --------------------------------------------------------------------------

def test_the_mainnet_registry_is_valid() -> None:
    reg = load_registry(MAINNET_REGISTRY)
    assert reg.chain_id == 1
    pools = {p.id: p for p in reg.protocols}
    assert pools["aave-v3"].pool == "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2"  # type: ignore[union-attr]
    assert pools["morpho-blue"].address == "0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb"  # type: ignore[union-attr]
    assert all(p.source.startswith("https://") for p in reg.protocols)


@pytest.mark.skipif(not os.environ.get("DEFISIM_MAINNET_RPC_URL"),
                    reason="set DEFISIM_MAINNET_RPC_URL to an Ethereum mainnet (archive) RPC URL to read mainnet")
def test_mainnet_registry_at_the_latest_block(tmp_path: Path) -> None:
    url = os.environ["DEFISIM_MAINNET_RPC_URL"]
    g = build_graph_from_chain(MAINNET_REGISTRY, url, top_accounts=3, log_blocks=20_000)
    for pid in ("aave-v3", "spark", "morpho-blue"):
        assert g.node(pid).kind == "protocol" and g.node(pid).value_usd > 0
    weth = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
    assert _edge(g, _node_at(g, weth), "aave-v3", "collateral_held_in").value_usd > 1e8
    issued = {(e.source, e.target) for e in g.file.edges if e.kind == "token_issued_by"}
    assert len(issued) >= 3
    path = graph_to_file(g, tmp_path / "mainnet.json")
    assert load_graph(path).file == g.file
