"""Seeded "mainnet" markets shared by the chain tests: the same real Aave and Morpho Blue
contracts, seeded by ``ChainBackend`` while a ``SimulatorBackend`` runs the same actions.

:func:`seed_aave` and :func:`seed_morpho` deploy onto a node the caller started (several
markets may share one node: each starts at ``start_time``, which must not be before the
node's latest block). The positions (amounts in token base units):

* Aave (each variant): lp supplies 5M USDC, 5M DAI, 1,000 WETH; alice 10 WETH / 23,500 USDC;
  bob 1 WBTC / 42,000 DAI; carol 3 WETH + 1,000 DAI / 3,000 USDC (+1 USDC after 40 days);
  dave 5 WETH / 6,000 USDC + 3,000 DAI. WETH and WBTC are never borrowed.
* Morpho Blue: market ``weth-usdc`` (LLTV 86 %, fee 10 %): lp supplies 100k USDC; alice,
  carol, bob 10 WETH each, dave 1 WETH, borrowing 24k / 19k / 15k / 1k (+1) USDC; market
  ``wbtc-usdc``: erin 1 WBTC / 30k USDC.
"""

from __future__ import annotations

from pathlib import Path

from defisim.chain.backend import (
    AdvanceTo,
    Borrow,
    MarketSpec,
    MorphoMarketSpec,
    Supply,
    SupplyCollateral,
)
from defisim.chain.chain_backend import ChainBackend
from defisim.chain.rpc import LocalNode
from defisim.chain.sim_backend import SimulatorBackend
from defisim.engine.protocols.aave_v3.config import BPS_TO_RAY, ReserveConfig

__all__ = [
    "AAVE_AFTER",
    "AAVE_PRICES",
    "AAVE_RESERVES",
    "AAVE_SEED",
    "AAVE_TOKENS",
    "DAY",
    "E18",
    "MORPHO_BORROWERS",
    "MORPHO_LLTV",
    "MORPHO_MARKET",
    "MORPHO_MARKETS",
    "MORPHO_PRICES",
    "MORPHO_SEED",
    "MORPHO_TOKENS",
    "USDC",
    "aave_spec",
    "fork_nodes",
    "morpho_spec",
    "seed_aave",
    "seed_morpho",
]

E18 = 10**18
USDC = 10**6
DAY = 86400

# --- Aave V3 (3.6 and 3.0) ---------------------------------------------------------------------

AAVE_TOKENS = {"WETH": 18, "WBTC": 8, "USDC": 6, "DAI": 18}
AAVE_PRICES = {"WETH": 3000 * 10**8, "WBTC": 60_000 * 10**8, "USDC": 10**8, "DAI": 10**8}


def _reserve(d: int, ltv: int, lt: int, bonus: int, fee: int, rf: int, opt: int, s1: int, s2: int,
             base: int = 0) -> ReserveConfig:
    return ReserveConfig(ltv=ltv, liquidation_threshold=lt, liquidation_bonus=bonus, liquidation_protocol_fee=fee,
                         reserve_factor=rf, optimal_usage_ratio=opt * BPS_TO_RAY,
                         base_variable_borrow_rate=base * BPS_TO_RAY, variable_rate_slope1=s1 * BPS_TO_RAY,
                         variable_rate_slope2=s2 * BPS_TO_RAY, decimals=d)


AAVE_RESERVES = {
    "WETH": _reserve(18, 8000, 8250, 10500, 1000, 1500, 8000, 300, 8000),
    "WBTC": _reserve(8, 7300, 7800, 10650, 2000, 2000, 4500, 400, 30000),
    "USDC": _reserve(6, 7500, 7800, 10450, 1000, 1000, 9000, 550, 6000, base=25),
    "DAI": _reserve(18, 6300, 7700, 10500, 500, 1200, 8000, 500, 7500),
}

AAVE_SEED = [
    Supply("lp", "USDC", 5_000_000 * 10**6), Supply("lp", "DAI", 5_000_000 * E18),
    Supply("lp", "WETH", 1000 * E18),
    Supply("alice", "WETH", 10 * E18), Borrow("alice", "USDC", 23_500 * 10**6),      # all collateral goes
    Supply("bob", "WBTC", 10**8), Borrow("bob", "DAI", 42_000 * E18),                # close factor 50 %
    Supply("carol", "WETH", 3 * E18), Supply("carol", "DAI", 1000 * E18),
    Borrow("carol", "USDC", 3000 * 10**6),                                             # stays healthy
    Supply("dave", "WETH", 5 * E18), Borrow("dave", "USDC", 6000 * 10**6), Borrow("dave", "DAI", 3000 * E18),
]
AAVE_AFTER = [Supply("erin", "WETH", 2 * E18), Borrow("erin", "USDC", 1000 * 10**6)]  # after block N only


def aave_spec(family: str, start_time: int = 1_700_000_000) -> MarketSpec:
    return MarketSpec(family=family, tokens=dict(AAVE_TOKENS), prices=dict(AAVE_PRICES),
                      reserves=dict(AAVE_RESERVES), start_time=start_time)


def seed_aave(node: LocalNode, family: str, start_time: int = 1_700_000_000) -> tuple[ChainBackend, SimulatorBackend]:
    """Deploy an Aave ``family`` market on ``node`` and apply :data:`AAVE_SEED` on both backends
    over 40 days from ``start_time`` (then carol borrows 1 more USDC)."""
    spec = aave_spec(family, start_time)
    chain = ChainBackend(spec, node=node)
    sim = SimulatorBackend(spec)
    t = spec.start_time
    for action in [*AAVE_SEED[:3], AdvanceTo(t + 3600), *AAVE_SEED[3:], AdvanceTo(t + 40 * DAY),
                   Borrow("carol", "USDC", 10**6)]:
        chain.apply(action)
        sim.apply(action)
    return chain, sim


# --- Morpho Blue ---------------------------------------------------------------------------------

MORPHO_TOKENS = {"WETH": 18, "USDC": 6, "WBTC": 8}
MORPHO_PRICES = {"WETH": 3000 * 10**8, "USDC": 10**8, "WBTC": 60_000 * 10**8}
MORPHO_MARKET = "weth-usdc"
MORPHO_LLTV = 86 * 10**16
MORPHO_MARKETS = (MorphoMarketSpec(MORPHO_MARKET, "USDC", "WETH", MORPHO_LLTV, 10**17),
                  MorphoMarketSpec("wbtc-usdc", "USDC", "WBTC", 915 * 10**15))
MORPHO_BORROWERS = ("alice", "bob", "carol", "dave")
_M = MORPHO_MARKET
MORPHO_SEED = [
    Supply("lp", "USDC", 100_000 * USDC, _M),
    SupplyCollateral("alice", _M, 10 * E18), Borrow("alice", "USDC", 24_000 * USDC, _M),  # bad debt after -30 %
    SupplyCollateral("carol", _M, 10 * E18), Borrow("carol", "USDC", 19_000 * USDC, _M),  # liquidated, no bad debt
    SupplyCollateral("bob", _M, 10 * E18), Borrow("bob", "USDC", 15_000 * USDC, _M),      # stays healthy
    SupplyCollateral("dave", _M, E18), Borrow("dave", "USDC", 1_000 * USDC, _M),          # stays healthy
    Supply("lp", "USDC", 50_000 * USDC, "wbtc-usdc"),                                     # another market
    SupplyCollateral("erin", "wbtc-usdc", 10**8), Borrow("erin", "USDC", 30_000 * USDC, "wbtc-usdc"),
]


def morpho_spec(start_time: int = 1_700_000_000) -> MarketSpec:
    return MarketSpec(family="morpho-blue", tokens=dict(MORPHO_TOKENS), prices=dict(MORPHO_PRICES),
                      markets=MORPHO_MARKETS, start_time=start_time)


def seed_morpho(node: LocalNode, start_time: int = 1_700_000_000) -> tuple[ChainBackend, SimulatorBackend]:
    """Deploy Morpho Blue on ``node`` and apply :data:`MORPHO_SEED` on both backends, then 30
    days of interest, dave borrows 1 more USDC, and one more day passes."""
    spec = morpho_spec(start_time)
    chain = ChainBackend(spec, node=node)
    sim = SimulatorBackend(spec)
    t = spec.start_time
    for action in [*MORPHO_SEED, AdvanceTo(t + 30 * DAY), Borrow("dave", "USDC", USDC, _M), AdvanceTo(t + 31 * DAY)]:
        chain.apply(action)
        sim.apply(action)
    return chain, sim


def fork_nodes(url: str) -> list[int]:
    """Pids of live anvil processes forking ``url`` (none may outlive a run; forks of other
    URLs, e.g. another test session's, are not this test's business)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            argv = (d / "cmdline").read_bytes().split(b"\0")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if url.encode() in argv and argv[0].endswith(b"anvil") and state != "Z":
            pids.append(int(d.name))
    return pids
