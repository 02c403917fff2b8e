"""``defisim fork --protocol morpho-blue`` against a local "mainnet": Anvil A with a seeded market.

Anvil A gets the real Morpho Blue (``IrmMock``, ``PairOracle`` over settable feeds) deployed and
seeded by ``ChainBackend`` while a ``SimulatorBackend`` runs the same actions; interest accrues
over a month, block N is noted, and more actions follow on A after N (a new borrower, and two
markets whose IRMs are raw-bytecode stubs: a fixed rate, and one that is neither modelled kind).
The fork flow then forks A and must

* read exactly the seeded state (integer for integer; borrowers found in the market's logs),
* liquidate after a collateral shock exactly as the model it builds does — and as the
  independent simulator that seeded the state — including a liquidation that ends in bad debt,
* leave A untouched and no Anvil running.

Bad input ends with exit 2, a clean one-line message and no Anvil left.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from eth_utils import to_checksum_address
from typer.testing import CliRunner

from defisim.chain.adapters.aave_v3 import DEPLOYER
from defisim.chain.adapters.morpho_blue import market_id
from defisim.chain.anvil import Anvil, free_port
from defisim.chain.backend import (
    AdvanceTo,
    Borrow,
    Liquidate,
    SetPrice,
    SupplyCollateral,
)
from defisim.chain.chain_backend import ChainBackend
from defisim.chain.fork import ForkInputError, ForkRequest, parse_shock, run_fork
from defisim.chain.parity import diff
from defisim.chain.rpc import LocalNode, address_of
from defisim.chain.sim_backend import SimulatorBackend
from defisim.cli.main import app
from defisim.engine.ledger import Ledger
from defisim.engine.protocols.morpho_blue import (
    FixedPriceOracle,
    LinearUtilizationIrm,
    MarketParams,
    MorphoBlue,
)
from defisim.engine.protocols.morpho_blue.restore import morpho_from_snapshot
from tests.chain.seeded_markets import (
    DAY,
    E18,
    MORPHO_BORROWERS,
    MORPHO_LLTV,
    MORPHO_MARKET,
    MORPHO_PRICES,
    MORPHO_TOKENS,
    USDC,
    fork_nodes,
    morpho_spec,
    seed_morpho,
)

runner = CliRunner()
MAX = 2**256 - 1
TOKENS, PRICES, M, LLTV, BORROWERS = MORPHO_TOKENS, MORPHO_PRICES, MORPHO_MARKET, MORPHO_LLTV, MORPHO_BORROWERS
SHOCK = "WETH=-30%"
FIXED_RATE = 5 * 10**16 // (365 * DAY)  # 5 % APR per second, WAD
FIXED_IRM = "0x" + "f1" * 20
ODD_IRM = "0x" + "0d" * 20
# runtime code: return a constant (any selector) / return calldata word 0xe4 (totalBorrowAssets)
FIXED_CODE = "0x7f" + FIXED_RATE.to_bytes(32, "big").hex() + "60005260206000f3"
ODD_CODE = "0x60e43560005260206000f3"


@dataclass
class Mainnet:
    """Anvil A with a seeded Morpho Blue; ``block`` is N; ``sim`` is the simulator at N."""

    anvil: Anvil
    node: LocalNode
    chain: ChainBackend
    sim: SimulatorBackend
    block: int
    timestamp: int
    seeded: Any
    fixed_id: str
    odd_id: str

    @property
    def url(self) -> str:
        return self.anvil.url

    @property
    def morpho(self) -> str:
        return self.chain.market.morpho.address

    @property
    def id(self) -> str:
        return "0x" + self.chain.market.markets[M].id.hex()

    def fingerprint(self) -> tuple[Any, ...]:
        """A's block number and a few state reads (must not change when A is forked)."""
        m = self.chain.market
        mid = m.markets[M].id
        return (self.node.block_number(), m.morpho.call("market", mid),
                m.morpho.call("position", mid, address_of("alice")), m.markets[M].oracle.call("price"),
                m.tokens["USDC"].call("balanceOf", m.morpho.address))


def _stub_market(mn: ChainBackend, node: LocalNode, irm: str, code: str, ts: int) -> tuple[str, tuple[Any, ...]]:
    """A WETH/USDC market on A whose IRM is raw ``code`` at ``irm``; returns (id, params)."""
    m = mn.market
    node.request("anvil_setCode", [irm, code])
    params = (m.tokens["USDC"].address, m.tokens["WETH"].address, m.markets[M].oracle.address,
              to_checksum_address(irm), LLTV)
    m.morpho.send(DEPLOYER, "enableIrm", to_checksum_address(irm))
    m.morpho.send(DEPLOYER, "createMarket", params)
    node.mine(ts)
    return "0x" + market_id(params).hex(), params


def _act(mn: ChainBackend, node: LocalNode, who: str, fn: str, params: tuple[Any, ...], *args: Any) -> None:
    m = mn.market
    addr = address_of(who)
    for token in ("USDC", "WETH"):
        m.tokens[token].send(DEPLOYER, "mint", addr, 10**30)
        m.tokens[token].send(addr, "approve", m.morpho.address, MAX)
    m.morpho.send(addr, fn, params, *args)
    node.mine(mn.now)


@pytest.fixture(scope="module")
def mainnet() -> Iterator[Mainnet]:
    anvil = Anvil(timestamp=morpho_spec().start_time).start()
    try:
        node = LocalNode(anvil.url)
        chain, sim = seed_morpho(node)
        block, now = node.block_number(), node.timestamp()
        seeded = sim.snapshot()
        # after N: a new borrower, and two markets with stub IRMs (one seeded, interest accrued)
        for action in [AdvanceTo(now + DAY), SupplyCollateral("frank", M, 5 * E18), Borrow("frank", "USDC", 1000 * USDC, M)]:
            chain.apply(action)
        odd_id, _ = _stub_market(chain, node, ODD_IRM, ODD_CODE, chain.now)
        fixed_id, fixed = _stub_market(chain, node, FIXED_IRM, FIXED_CODE, chain.now)
        lp, gus = address_of("lp"), address_of("gus")
        _act(chain, node, "lp", "supply", fixed, 50_000 * USDC, 0, lp, b"")
        _act(chain, node, "gus", "supplyCollateral", fixed, 10 * E18, gus, b"")
        _act(chain, node, "gus", "borrow", fixed, 25_000 * USDC, 0, gus, gus)
        chain.apply(AdvanceTo(chain.now + 20 * DAY))
        assert node.block_number() > block
        yield Mainnet(anvil, node, chain, sim, block, now, seeded, fixed_id, odd_id)
    finally:
        anvil.stop()


_fork_nodes = fork_nodes


def _on_chain(snapshot: Any, mid: str, users: set[str]) -> Any:
    """The simulator's snapshot as the fork labels it: market ``M`` by id, users by address."""
    return replace(
        snapshot,
        markets=tuple(replace(m, market=mid) for m in snapshot.markets if m.market == M),
        positions=tuple(replace(p, market=mid, user=address_of(p.user))
                        for p in sorted(snapshot.positions, key=lambda p: address_of(p.user))
                        if p.market == M and p.user in users),
    )


def _name(address: str) -> str:
    return {address_of(n): n for n in (*BORROWERS, "treasury", "lp", "frank")}[address]


# --- the fork flow -----------------------------------------------------------------------------------

def test_fork_reads_the_seeded_market_and_liquidates_exactly_as_the_simulator(mainnet: Mainnet) -> None:
    before = mainnet.fingerprint()
    messages: list[str] = []
    report = run_fork(ForkRequest(mainnet.url, protocol="morpho-blue", morpho=mainnet.morpho, market=mainnet.id,
                                  block=mainnet.block, shocks=(parse_shock(SHOCK),)), progress=messages.append)

    assert report.block == mainnet.block and report.timestamp == mainnet.timestamp
    assert report.family == "morpho-blue" and report.address == mainnet.morpho
    # borrowers from the market's Borrow/SupplyCollateral logs up to N (not frank, not erin), then the fee recipient
    assert sorted(map(_name, report.accounts)) == sorted([*BORROWERS, "treasury"])
    assert any("IrmMock" in n for n in report.notes)

    # the state read is the seeded state, integer for integer (interest accrued; lastUpdate < now)
    users = {*BORROWERS, "treasury"}
    seeded = _on_chain(mainnet.seeded, mainnet.id, users)
    assert report.snapshot.markets[0].last_update < report.timestamp
    assert report.snapshot.markets[0].total_borrow_assets > 59_000 * USDC
    assert diff(seeded, report.snapshot, ignore=frozenset({"name"})) == []
    assert report.read_mismatches == []

    # market rows: loan (fee 10 %), collateral (LLTV 86 %, price 3000 -> 2100 loan tokens)
    loan, coll = report.reserves
    assert (loan.asset, loan.reserve_factor, coll.asset, coll.liquidation_threshold) == ("USDC", 1000, "WETH", 8600)
    assert (coll.price, coll.shocked_price) == (3000 * 10**8, 2100 * 10**8)

    # liquidations: alice (all collateral, bad debt) then carol; both sides agree
    assert [_name(r.account) for r in report.liquidations] == ["alice", "carol"]
    assert all(r.chain.ok and r.mismatches == () for r in report.liquidations), report.liquidations
    assert report.final_mismatches == [] and report.mismatch_count == 0
    alice, carol = report.liquidations
    assert alice.chain.collateral_seized == 10 * E18 and alice.chain.health_after == MAX
    assert carol.chain.collateral_seized < 10 * E18 and carol.chain.health_after == MAX
    bad = [n for n in report.notes if "bad debt" in n]
    assert len(bad) == 1 and address_of("alice") in bad[0]
    final = {p.user: p for p in report.final_chain.positions}
    assert address_of("alice") not in final  # nothing left: debt repaid or written off
    assert final[address_of("carol")].borrow_shares == 0 and final[address_of("carol")].collateral > 0

    # the simulator that seeded the state, shocked and driven independently, agrees with both
    sim = mainnet.sim
    sim.apply(SetPrice("WETH", parse_shock(SHOCK).apply(PRICES["WETH"])))
    assert sim.protocol.oracle_price(M) == 2100 * 10**24  # the same integer as the fork's OracleMock
    for row in report.liquidations:
        name = _name(row.account)
        seized, shares = sim.protocol.liquidation_args(sim.now, M, name, MAX)
        got = sim.apply(Liquidate("liquidator", name, market=M, seized_assets=seized, repaid_shares=shares))
        assert got == row.chain == row.simulator
    assert diff(_on_chain(sim.snapshot(), mainnet.id, users), report.final_chain,
                ignore=frozenset({"name", "timestamp"})) == []

    # A is untouched; the fork node is gone
    assert mainnet.fingerprint() == before
    pid = int(re.search(r"pid (\d+)", " ".join(messages)).group(1))
    assert not Path(f"/proc/{pid}").exists()
    assert _fork_nodes(mainnet.url) == []


def test_cli_fork_morpho_prints_the_comparison_and_exits_0(mainnet: Mainnet) -> None:
    before = mainnet.fingerprint()
    args = ["fork", "--rpc-url", mainnet.url, "--protocol", "morpho-blue", "--morpho", mainnet.morpho,
            "--market", mainnet.id, "--block", str(mainnet.block), "--shock", "collateral=-30%"]
    proc = subprocess.run([sys.executable, "-c", "from defisim.cli.main import main; main()", *args],
                          check=False, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for text in ("match", "2 liquidation(s)", "liquidations, simulator vs chain", "final state", "WETH -30%",
                 "OracleMock", "bad debt", str(mainnet.block), "morpho-blue"):
        assert text in out, text
    assert mainnet.fingerprint() == before
    assert _fork_nodes(mainnet.url) == []


def test_fork_of_a_fixed_rate_market_at_the_latest_block(mainnet: Mainnet) -> None:
    """A market created after N whose IRM is a constant: modelled as FixedRateIrm, liquidations match."""
    report = run_fork(ForkRequest(mainnet.url, protocol="morpho-blue", morpho=mainnet.morpho,
                                  market=mainnet.fixed_id, shocks=(parse_shock("WETH=-20%"),)))
    assert report.block == mainnet.node.block_number()
    assert any(f"fixed rate of {FIXED_RATE}" in n for n in report.notes)
    assert report.snapshot.markets[0].last_update < report.timestamp  # 20 days of interest to accrue
    assert [r.account for r in report.liquidations] == [address_of("gus")]
    assert report.liquidations[0].chain.ok and report.mismatch_count == 0


def test_fork_without_shock_reads_and_liquidates_nothing(mainnet: Mainnet) -> None:
    report = run_fork(ForkRequest(mainnet.url, protocol="morpho-blue", morpho=mainnet.morpho, market=mainnet.id,
                                  block=mainnet.block, accounts=(address_of("bob"),)))
    assert report.accounts == [address_of("bob"), address_of("treasury")]
    assert report.liquidations == [] and report.mismatch_count == 0 and report.oracle_takeover == ""


# --- bad input --------------------------------------------------------------------------------------

def _cli(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["fork", "--protocol", "morpho-blue", *args])
    text = " ".join((res.stdout + res.stderr).split())
    assert "Traceback" not in text, res.stdout + res.stderr
    return res.exit_code, text


def test_unknown_market_id(mainnet: Mainnet) -> None:
    nope = "0x" + "ab" * 32
    code, text = _cli("--rpc-url", mainnet.url, "--morpho", mainnet.morpho, "--market", nope)
    assert code == 2 and f"market {nope} does not exist at block" in text
    # a market created after N does not exist at N
    code, text = _cli("--rpc-url", mainnet.url, "--morpho", mainnet.morpho, "--market", mainnet.fixed_id,
                      "--block", str(mainnet.block))
    assert code == 2 and f"market {mainnet.fixed_id} does not exist at block {mainnet.block}" in text


def test_a_contract_that_is_not_morpho(mainnet: Mainnet) -> None:
    token = mainnet.chain.market.tokens["USDC"].address
    code, text = _cli("--rpc-url", mainnet.url, "--morpho", token, "--market", mainnet.id)
    assert code == 2 and "does not answer as Morpho Blue" in text and token in text
    nobody = to_checksum_address("0x" + "de" * 20)
    code, text = _cli("--rpc-url", mainnet.url, "--morpho", nobody, "--market", mainnet.id)
    assert code == 2 and f"no contract code at {nobody}" in text


def test_an_irm_that_is_not_modelled_is_refused(mainnet: Mainnet) -> None:
    code, text = _cli("--rpc-url", mainnet.url, "--morpho", mainnet.morpho, "--market", mainnet.odd_id)
    assert code == 2, text
    assert to_checksum_address(ODD_IRM) in text and "is not modelled" in text and "AdaptiveCurveIrm" in text
    assert _fork_nodes(mainnet.url) == []


@pytest.mark.parametrize("args, message", [
    (["--market", "0x1234"], "is not a Morpho Blue market id"),
    (["--shock", "WETH=-10%", "--shock", "USDC=+5%"], "takes one --shock"),
    (["--shock", "USDC=+5%"], "that is the market's loan token"),
    (["--shock", "WBTC=-5%"], "not the collateral of market"),
])
def test_malformed_morpho_options(mainnet: Mainnet, args: list[str], message: str) -> None:
    base = ["--rpc-url", mainnet.url, "--morpho", mainnet.morpho, "--market", mainnet.id, "--block", str(mainnet.block)]
    if args[0] == "--market":
        base = base[:4] + base[6:]
    code, text = _cli(*base, *args)
    assert code == 2 and message in text, text
    assert _fork_nodes(mainnet.url) == []


def test_a_key_in_the_url_is_never_printed() -> None:
    secret = "SECRETKEY123"
    url = f"http://127.0.0.1:{free_port()}/v2/{secret}?apikey={secret}"
    code, text = _cli("--rpc-url", url, "--morpho", "0x" + "11" * 20, "--market", "0x" + "ab" * 32)
    assert code == 2 and "unreachable" in text and secret not in text


def test_missing_market_is_named() -> None:
    with pytest.raises(ForkInputError, match="--morpho ADDRESS and --market ID"):
        run_fork(ForkRequest("http://127.0.0.1:1", protocol="morpho-blue", morpho="0x" + "11" * 20))


# --- the model from a snapshot -------------------------------------------------------------------------

def test_model_from_its_own_snapshot_behaves_identically() -> None:
    """morpho_from_snapshot(snapshot) snapshots back to the same integers and liquidates the same."""
    def build() -> MorphoBlue:
        ledger = Ledger({"USDC": 6, "WETH": 18})
        mb = MorphoBlue("mb", ledger, lambda t: PRICES[t], fee_recipient="fees")
        irm = LinearUtilizationIrm()
        mb.enable_irm(irm)
        mb.enable_lltv(LLTV)
        mb.create_market(0, MarketParams("m", "USDC", "WETH", FixedPriceOracle(3000 * 10**24), irm, LLTV))
        mb.set_fee(0, "m", 10**17)
        ledger.mint("USDC", "lp", 10**12)
        ledger.mint("WETH", "a", 10 * E18)
        mb.supply(0, "lp", "m", 10**11, 0)
        mb.open_position(0, "m", "a", 10 * E18, 25_000 * USDC)
        mb.accrue_interest(86400 * 40, "m")
        return mb

    original = build()
    now = 86400 * 50
    snap = original.snapshot(now)
    params = original.market_params("m")
    oracle = FixedPriceOracle(2100 * 10**24)
    copy = morpho_from_snapshot(snap, {"m": replace(params, oracle=oracle)}, {"USDC": 6, "WETH": 18},
                                lambda t: PRICES[t], fee_recipient="fees", name="mb")
    assert copy.snapshot(now) == snap and copy.invariant_errors() == []
    params.oracle.set_price(2100 * 10**24)  # type: ignore[attr-defined]
    for mb in (original, copy):
        mb.ledger.mint("USDC", "liq", 10**12)
    args = original.liquidation_args(now, "m", "a", MAX)
    assert copy.liquidation_args(now, "m", "a", MAX) == args
    assert original.liquidate(now, "liq", "m", "a", *args) == copy.liquidate(now, "liq", "m", "a", *args)
    assert original.snapshot(now) == copy.snapshot(now)
