"""``defisim fork`` against a local "mainnet": an Anvil A with a seeded Aave market, forked offline.

For Aave 3.6 and 3.0: Anvil A gets a real market deployed and seeded by ``ChainBackend``
while a ``SimulatorBackend`` runs the same actions; block N is noted, and more actions follow
on A after N. The fork flow then forks A at N and must

* read exactly the seeded state (integer for integer, accounts found in the logs),
* liquidate after the shock exactly as the simulator does — both the model it builds from
  the fork and the independent simulator that seeded the state,
* leave A untouched.

Bad input ends with exit 2, a one-line message, no traceback, no key from the URL and no
Anvil left running.
"""

from __future__ import annotations

import http.client
import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from eth_utils import to_checksum_address
from typer.testing import CliRunner

from defisim.chain.anvil import Anvil, free_port
from defisim.chain.artifacts import load_artifact
from defisim.chain.backend import AdvanceTo, Liquidate, SetPrice
from defisim.chain.chain_backend import ChainBackend
from defisim.chain.errors import ChainError
from defisim.chain.fork import (
    ForkError,
    ForkInputError,
    ForkRequest,
    parse_accounts,
    parse_shock,
    run_fork,
    scrub,
)
from defisim.chain.fork_aave import (
    FORK_ADMIN,
    decode_configuration,
    read_market,
    take_over_prices,
)
from defisim.chain.parity import diff
from defisim.chain.rpc import Contract, LocalNode, address_of
from defisim.chain.sim_backend import SimulatorBackend
from defisim.cli.main import app
from tests.chain.seeded_markets import (
    AAVE_AFTER,
    AAVE_PRICES,
    AAVE_RESERVES,
    AAVE_SEED,
    AAVE_TOKENS,
    E18,
    aave_spec,
    fork_nodes,
    seed_aave,
)

runner = CliRunner()
MAX = 2**256 - 1
TOKENS, PRICES, RESERVES, SEED, AFTER = AAVE_TOKENS, AAVE_PRICES, AAVE_RESERVES, AAVE_SEED, AAVE_AFTER
NAMES = ("lp", "alice", "bob", "carol", "dave", "treasury")
SHOCKS = ("WETH=-30%", "WBTC=-12%")
SECRET = "SECRETKEY123"


@dataclass
class Mainnet:
    """Anvil A with a seeded market; ``block`` is N; ``sim`` is the simulator at N."""

    family: str
    anvil: Anvil
    node: LocalNode
    chain: ChainBackend
    sim: SimulatorBackend
    block: int
    timestamp: int
    pool: str
    seeded: Any

    @property
    def url(self) -> str:
        return self.anvil.url

    def fingerprint(self) -> tuple[Any, ...]:
        """A's block number and a few state reads (must not change when A is forked)."""
        m = self.chain.market
        return (self.node.block_number(), m.pool.call("getUserAccountData", address_of("alice")),
                m.pool.call("getReserveData", m.tokens["USDC"].address),
                m.tokens["USDC"].call("balanceOf", m.a_tokens["USDC"].address))


def _deploy(family: str) -> Iterator[Mainnet]:
    anvil = Anvil(timestamp=aave_spec(family).start_time).start()
    try:
        node = LocalNode(anvil.url)
        chain, sim = seed_aave(node, family)
        block, now = node.block_number(), node.timestamp()
        seeded = sim.snapshot()
        chain.apply(AdvanceTo(now + 86400))
        for action in AFTER:
            chain.apply(action)
        assert node.block_number() > block
        yield Mainnet(family, anvil, node, chain, sim, block, now, chain.market.pool.address, seeded)
    finally:
        anvil.stop()


@pytest.fixture(scope="module", params=["aave-v3.6", "aave-v3.0"])
def mainnet(request: pytest.FixtureRequest) -> Iterator[Mainnet]:
    """A seeded market per Aave variant (for the fork flow itself)."""
    yield from _deploy(request.param)


@pytest.fixture(scope="module")
def a36() -> Iterator[Mainnet]:
    """One seeded 3.6 market (for the bad-input tests, which do not depend on the variant)."""
    yield from _deploy("aave-v3.6")


def _by_address(snapshot: Any) -> Any:
    """``snapshot`` with account names replaced by their addresses (as the fork labels them)."""
    return replace(snapshot, accounts=tuple(replace(a, account=address_of(a.account)) for a in snapshot.accounts))


def _name(address: str) -> str:
    return {address_of(n): n for n in NAMES}[address]


def _shocked(asset: str, pct: int) -> int:
    return PRICES[asset] * (100 + pct) // 100


# --- the fork flow -----------------------------------------------------------------------------------

def test_fork_reads_the_seeded_state_and_liquidates_exactly_as_the_simulator(mainnet: Mainnet) -> None:
    before = mainnet.fingerprint()
    messages: list[str] = []
    report = run_fork(ForkRequest(mainnet.url, pool=mainnet.pool, block=mainnet.block,
                                  shocks=tuple(parse_shock(s) for s in SHOCKS)), progress=messages.append)

    # what was forked
    assert report.block == mainnet.block and report.timestamp == mainnet.timestamp
    assert report.family == mainnet.family and report.chain_id == 31337
    assert [r.asset for r in report.reserves] == list(TOKENS)
    assert {r.asset: (r.ltv, r.liquidation_threshold, r.liquidation_bonus, r.reserve_factor,
                      r.liquidation_protocol_fee, r.decimals) for r in report.reserves} == {
        a: (c.ltv, c.liquidation_threshold, c.liquidation_bonus, c.reserve_factor, c.liquidation_protocol_fee,
            c.decimals) for a, c in RESERVES.items()}
    assert {r.asset: (r.price, r.shocked_price) for r in report.reserves} == {
        "WETH": (PRICES["WETH"], _shocked("WETH", -30)), "WBTC": (PRICES["WBTC"], _shocked("WBTC", -12)),
        "USDC": (PRICES["USDC"], None), "DAI": (PRICES["DAI"], None)}
    # accounts came from the Supply/Borrow logs up to block N (erin acted after N), plus the treasury
    assert sorted(map(_name, report.accounts)) == sorted(NAMES)
    assert report.skipped == []

    # the state read from the fork is the seeded state, integer for integer
    assert report.snapshot.timestamp == mainnet.timestamp
    assert diff(_by_address(mainnet.seeded), report.snapshot, ignore=frozenset({"name"})) == []
    assert report.read_mismatches == []

    # liquidations: the model built from the fork and the fork itself agree ...
    assert [(_name(r.account), r.collateral_asset, r.debt_asset) for r in report.liquidations] == [
        ("bob", "WBTC", "DAI"), ("alice", "WETH", "USDC"), ("dave", "WETH", "USDC")]
    assert all(r.chain.ok and r.mismatches == () for r in report.liquidations), report.liquidations
    assert report.final_mismatches == [] and report.mismatch_count == 0
    # ... and the simulator that seeded the state, driven independently, agrees with both
    sim = mainnet.sim
    for s in SHOCKS:
        shock = parse_shock(s)
        sim.apply(SetPrice(shock.asset, shock.apply(PRICES[shock.asset])))
    for row in report.liquidations:
        got = sim.apply(Liquidate("liquidator", _name(row.account), row.collateral_asset, row.debt_asset, MAX))
        assert got == row.chain == row.simulator
    bob, alice, _dave = report.liquidations
    assert 10**27 > bob.chain.health_before > 95 * E18 // 100  # the 50 % close factor applies
    assert bob.chain.debt_repaid < 42_000 * E18 * 6 // 10
    assert alice.chain.health_after in (MAX, 0)  # all collateral taken (3.6: rest is deficit)
    assert diff(_by_address(sim.snapshot()), report.final_chain, ignore=frozenset({"name", "timestamp"})) == []

    # A is untouched; the fork node is gone
    assert mainnet.fingerprint() == before
    pid = int(re.search(r"pid (\d+)", " ".join(messages)).group(1))
    assert not Path(f"/proc/{pid}").exists()


def test_cli_fork_prints_the_comparison_and_exits_0(mainnet: Mainnet) -> None:
    before = mainnet.fingerprint()
    args = ["fork", "--rpc-url", mainnet.url, "--block", str(mainnet.block), "--pool", mainnet.pool,
            "--accounts", ",".join(address_of(n) for n in ("alice", "bob", "carol")),
            *[x for s in SHOCKS for x in ("--shock", s)]]
    proc = subprocess.run([sys.executable, "-c", "from defisim.cli.main import main; main()", *args],
                          check=False, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "match" in out and "2 liquidation(s)" in out  # dave was not named
    for text in ("reserves read from the fork", "liquidations, simulator vs chain", "final state",
                 "WETH -30%", "WBTC -12%", str(mainnet.block), mainnet.family):
        assert text in out
    assert mainnet.fingerprint() == before


def test_fork_of_the_latest_block_by_default(mainnet: Mainnet) -> None:
    report = run_fork(ForkRequest(mainnet.url, pool=mainnet.pool, accounts=(address_of("erin"),)))
    assert report.block == mainnet.node.block_number()
    assert [_name(a) if a != address_of("erin") else "erin" for a in report.accounts] == ["erin", "treasury"]
    assert report.liquidations == [] and report.mismatch_count == 0


# --- bad input --------------------------------------------------------------------------------------

def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    res = runner.invoke(app, ["fork", *args], env=env)
    text = " ".join((res.stdout + res.stderr).split())
    assert "Traceback" not in text, res.stdout + res.stderr
    return res.exit_code, text


def test_missing_rpc_url_explains_what_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEFISIM_RPC_URL", raising=False)
    code, text = _cli("--pool", "0x" + "11" * 20)
    assert code == 2
    assert "--rpc-url" in text and "DEFISIM_RPC_URL" in text and "archive" in text
    assert "only read from" in text and "No transaction" in text


def test_unreachable_url_is_a_clean_error() -> None:
    code, text = _cli("--rpc-url", f"http://127.0.0.1:{free_port()}", "--pool", "0x" + "11" * 20)
    assert code == 2 and "unreachable" in text


def test_a_key_in_the_url_is_never_printed() -> None:
    url = f"http://127.0.0.1:{free_port()}/v2/{SECRET}?apikey={SECRET}"
    code, text = _cli("--rpc-url", url, "--pool", "0x" + "11" * 20)
    assert code == 2 and "unreachable" in text and SECRET not in text
    with pytest.raises(ForkError) as err:
        run_fork(ForkRequest(url, pool="0x" + "11" * 20))
    assert SECRET not in str(err.value)


class _KeyedProxy(http.server.BaseHTTPRequestHandler):
    """Forwards JSON-RPC to ``target`` only on ``/v2/SECRET?apikey=SECRET`` (like a provider)."""

    target = ""
    protocol_version = "HTTP/1.1"  # keep-alive, as providers do
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != f"/v2/{SECRET}?apikey={SECRET}":
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        conn = getattr(self, "_upstream", None)
        if conn is None:
            host, port = self.target.removeprefix("http://").split(":")
            conn = self._upstream = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("POST", "/", body, {"Content-Type": "application/json"})
        data = conn.getresponse().read()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the fork node stopped mid-request
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def keyed_url(a36: Mainnet) -> Iterator[str]:
    handler = type("Proxy", (_KeyedProxy,), {"target": a36.url})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v2/{SECRET}?apikey={SECRET}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_keyed_url_works_and_its_key_stays_hidden(a36: Mainnet, keyed_url: str) -> None:
    code, text = _cli("--rpc-url", keyed_url, "--block", str(a36.block), "--pool", a36.pool,
                      "--shock", "WETH=-30%")
    assert code == 0, text
    assert SECRET not in text and "127.0.0.1" in text
    # a failure after the fork node started (unknown asset) shows no key either, and leaves no node
    code, text = _cli("--rpc-url", keyed_url, "--block", str(a36.block), "--pool", a36.pool,
                      "--shock", "NOPE=-30%")
    assert code == 2 and "NOPE" in text and "WETH" in text and SECRET not in text
    assert _fork_nodes(keyed_url) == []


def test_address_without_code_is_named(a36: Mainnet) -> None:
    nobody = to_checksum_address("0x" + "de" * 20)
    code, text = _cli("--rpc-url", a36.url, "--pool", nobody)
    assert code == 2 and f"no contract code at {nobody}" in text


def test_block_before_the_pool_existed(a36: Mainnet) -> None:
    code, text = _cli("--rpc-url", a36.url, "--pool", a36.pool, "--block", "1")
    assert code == 2 and f"no contract code at {a36.pool} at block 1" in text


def test_a_contract_that_is_not_an_aave_pool(a36: Mainnet) -> None:
    token = a36.chain.market.tokens["USDC"].address
    code, text = _cli("--rpc-url", a36.url, "--pool", token)
    assert code == 2 and "does not answer as an Aave V3 pool" in text and token in text


def test_block_in_the_future(a36: Mainnet) -> None:
    future = a36.node.block_number() + 100
    code, text = _cli("--rpc-url", a36.url, "--pool", a36.pool, "--block", str(future))
    assert code == 2 and f"block {future} is in the future" in text


@pytest.mark.parametrize("args, message", [
    (["--shock", "WETH-30"], "is not ASSET=±P%"),
    (["--shock", "WETH=-100%"], "100 %"),
    (["--accounts", "0x12,0x34"], "is not an address"),
    (["--protocol", "compound"], "unknown protocol"),
    (["--protocol", "morpho-blue"], "--morpho ADDRESS and --market ID"),
])
def test_malformed_options(a36: Mainnet, args: list[str], message: str) -> None:
    code, text = _cli("--rpc-url", a36.url, "--pool", a36.pool, *args)
    assert code == 2 and message in text


def test_port_in_use_is_a_clear_chain_error(a36: Mainnet) -> None:
    busy = int(a36.url.rsplit(":", 1)[1])
    with pytest.raises(ChainError, match=f"port {busy} .* already in use"):
        Anvil(port=busy).start()
    with pytest.raises(ForkError, match=f"port {busy} .* already in use"):
        run_fork(ForkRequest(a36.url, pool=a36.pool, anvil_port=busy))
    assert _fork_nodes(a36.url) == []


_fork_nodes = fork_nodes


def test_no_anvil_is_left_after_a_failure_after_start(a36: Mainnet) -> None:
    messages: list[str] = []
    with pytest.raises(ForkInputError, match="NOPE: not a reserve"):
        run_fork(ForkRequest(a36.url, pool=a36.pool, block=a36.block, shocks=(parse_shock("NOPE=-5%"),)),
                 progress=messages.append)
    pid = int(re.search(r"pid (\d+)", " ".join(messages)).group(1))
    assert not Path(f"/proc/{pid}").exists()
    assert _fork_nodes(a36.url) == []
    # the CLI process as well: it exits 2 and leaves no fork node behind
    proc = subprocess.run([sys.executable, "-c", "from defisim.cli.main import main; main()", "fork",
                           "--rpc-url", a36.url, "--pool", a36.pool, "--shock", "NOPE=-5%"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert _fork_nodes(a36.url) == []


# --- pieces ------------------------------------------------------------------------------------------

def test_configuration_bitfield_decodes_both_layouts() -> None:
    data = (7500 | 8000 << 16 | 10500 << 32 | 6 << 48 | 1 << 56 | 1 << 58 | 1 << 59 | 1 << 63
            | 1000 << 64 | 123 << 80 | 456 << 116 | 2000 << 152 | 3 << 168 | 7 << 176 | 99 << 212)
    v36 = decode_configuration(data, "3.6")
    assert (v36.ltv, v36.liquidation_threshold, v36.liquidation_bonus, v36.decimals) == (7500, 8000, 10500, 6)
    assert (v36.reserve_factor, v36.liquidation_protocol_fee, v36.borrow_cap, v36.supply_cap) == (1000, 2000, 123, 456)
    assert v36.active and v36.borrowing_enabled and v36.flashloan_enabled and not v36.paused and not v36.frozen
    assert v36.debt_ceiling == 99 and v36.emode_category == 0 and not v36.stable_borrowing_enabled
    v30 = decode_configuration(data, "3.0")
    assert v30.stable_borrowing_enabled and v30.emode_category == 3 and v30.unbacked_mint_cap == 7
    assert replace(v30, stable_borrowing_enabled=False, emode_category=0, unbacked_mint_cap=0) == v36


def test_scrub_hides_every_part_of_a_key() -> None:
    url = f"https://user:pa55word@eth.example.com/v2/{SECRET}?apikey={SECRET}&x=1"
    text = scrub(f"failed {url} with key {SECRET} for user and pa55word", url)
    assert SECRET not in text and "pa55word" not in text and "https://eth.example.com/…" in text


def test_shock_and_account_parsing() -> None:
    s = parse_shock("weth = -12.5%")
    assert s.asset == "weth" and s.apply(3000 * 10**8) == 2625 * 10**8
    assert parse_shock("WBTC=+10%").apply(101) == 111
    assert parse_accounts(" 0x" + "ab" * 20 + ",") == (to_checksum_address("0x" + "ab" * 20),)
    with pytest.raises(ForkInputError):
        parse_shock("WETH=-30")



def test_oracle_takeover_without_a_pool_admin(a36: Mainnet) -> None:
    """No pool admin: the ACL admin grants defisim the listing role; no admin at all: storage."""
    with Anvil(fork_url=a36.url, fork_block=a36.block) as fork_node:
        node = LocalNode(fork_node.url)
        now = node.timestamp()
        market = read_market(node, a36.pool)
        acl = Contract(node, market.provider.call("getACLManager"), load_artifact("aave-v3.6", "ACLManager").abi)
        deployer = address_of("deployer")
        acl.send(deployer, "removePoolAdmin", deployer)
        node.mine(now)
        assert take_over_prices(market, {"WETH": 1234 * 10**8}, now).endswith(f"sent by {FORK_ADMIN}")
        acl.send(deployer, "removeAssetListingAdmin", FORK_ADMIN)
        acl.send(deployer, "renounceRole", b"\0" * 32, deployer)
        node.mine(now)
        assert "storage" in take_over_prices(market, {"WBTC": 777}, now)
        assert market.oracle.call("getAssetPrice", market.reserve("WBTC").address) == 777
        assert market.oracle.call("getAssetPrice", market.reserve("WETH").address) == 1234 * 10**8
    assert a36.chain.market.pool.call("getReservesList")  # A still answers, unchanged


def test_a_wrong_chain_url_is_refused_before_anything_else(a36: Mainnet) -> None:
    code, text = _cli("--rpc-url", a36.url, "--chain-id", "1", "--pool", a36.pool)
    assert code == 2
    assert "serves chain 31337, not chain 1" in text and "Traceback" not in text
    assert _fork_nodes(a36.url) == []
