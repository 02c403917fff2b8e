"""Scenario script: the generated benchmark scenario (issue "Simulation core", Speed).

``benchmark_scenario(n)`` returns a validated scenario with ``n`` borrowers across two
collateral assets (WETH, WBTC; USDC debt), one simulated day (7,200 blocks of 12 s), a 40 %
crash of both assets within an hour, Chainlink-style feeds reading deep external venues, and
three liquidators. Pools and supplier liquidity scale with ``n`` so the market is equally deep
per borrower at every size.

    python scenarios/benchmark.py 100000          # run once and print timing + summary totals
    python scenarios/benchmark.py 100000 --flat   # same world, prices flat: cost of idle blocks
"""

from __future__ import annotations

import sys
import time
from typing import Any

import defisim


def benchmark_scenario_dict(n_borrowers: int, blocks: int = 7200, crash: bool = True) -> dict[str, Any]:
    """The benchmark scenario as plain data (see module docstring); ``crash=False`` keeps
    prices flat (the cost of blocks where nothing happens)."""
    scale = max(n_borrowers / 100_000, 0.001)
    half = max(n_borrowers // 2, 1)

    def usd(x: float) -> int:
        return int(x * scale)

    shape = [[0, 1.0], ["2h", 1.0], ["3h", 0.6], ["24h", 0.65]] if crash else [[0, 1.0]]

    def path(start: float) -> dict[str, Any]:
        return {"points": [[t, start * f] for t, f in shape]}

    reserve = {"variable_rate_slope1": 0.04, "variable_rate_slope2": 0.6}
    return {
        "name": f"benchmark-{n_borrowers}",
        "seed": 11,
        "chain": {"blocks": blocks, "base_fee_gwei": 10},
        "run": {"sample_every_blocks": 100},
        "tokens": {"WETH": {"decimals": 18}, "WBTC": {"decimals": 8}, "USDC": {"decimals": 6}},
        "prices": {"model": "scripted", "interpolation": "log",
                   "assets": {"WETH": path(3000.0), "WBTC": path(60000.0), "USDC": {"start": 1.0}}},
        "markets": [
            {"kind": "uniswap-v2", "name": "weth-usdc", "tokens": ["WETH", "USDC"],
             "liquidity": {"WETH": f"{usd(40_000_000) // 3000 + 1} WETH", "USDC": f"{usd(40_000_000) + 3000} USDC"}},
            {"kind": "uniswap-v2", "name": "wbtc-usdc", "tokens": ["WBTC", "USDC"],
             "liquidity": {"WBTC": f"{usd(40_000_000) // 60000 + 1} WBTC", "USDC": f"{usd(40_000_000) + 60000} USDC"}},
            {"kind": "external-venue", "name": "eth-cex", "asset": "WETH", "quote": "USDC",
             "depth_usd": 5e9 * scale, "curve": "linear"},
            {"kind": "external-venue", "name": "btc-cex", "asset": "WBTC", "quote": "USDC",
             "depth_usd": 5e9 * scale, "curve": "linear"},
        ],
        "oracles": [
            {"kind": "chainlink", "name": "eth-usd", "asset": "WETH", "source": "eth-cex", "deviation": 0.005},
            {"kind": "chainlink", "name": "btc-usd", "asset": "WBTC", "source": "btc-cex", "deviation": 0.005},
            {"kind": "chainlink", "name": "usdc-usd", "asset": "USDC", "deviation": 0.0025, "heartbeat": "24h"},
        ],
        "protocols": [{
            "kind": "aave-v3", "name": "aave",
            "oracles": {"WETH": "eth-usd", "WBTC": "btc-usd", "USDC": "usdc-usd"},
            "reserves": {
                "WETH": {"ltv": 0.80, "liquidation_threshold": 0.825, "liquidation_bonus": 0.05, **reserve},
                "WBTC": {"ltv": 0.70, "liquidation_threshold": 0.75, "liquidation_bonus": 0.10, **reserve},
                "USDC": {"ltv": 0.75, "liquidation_threshold": 0.78, "liquidation_bonus": 0.045, **reserve},
            },
            "suppliers": {"USDC": f"{usd(3_000_000_000) + 10_000_000} USDC"},
            "borrowers": [
                {"count": half, "collateral": {"WETH": 1.0}, "debt": "USDC",
                 "size_usd": {"median": 20000, "sigma": 1.0, "max": 2_000_000},
                 "health": {"min": 1.05, "max": 3.0}},
                {"count": max(n_borrowers - half, 1), "prefix": "btc-borrower",
                 "collateral": {"WBTC": 0.7, "WETH": 0.3}, "debt": "USDC",
                 "size_usd": {"median": 30000, "sigma": 1.0, "max": 2_000_000},
                 "health": {"min": 1.05, "max": 3.0}},
            ],
            "insurance_fund": {"asset": "USDC", "initial": f"{usd(5_000_000) + 1} USDC"},
        }],
        "agents": [
            {"kind": "arbitrageur", "name": "eth-arb", "pool": "weth-usdc", "venue": "eth-cex",
             "capital": {"WETH": f"{usd(30_000_000) // 3000 + 1} WETH", "USDC": f"{usd(30_000_000) + 1} USDC"}},
            {"kind": "arbitrageur", "name": "btc-arb", "pool": "wbtc-usdc", "venue": "btc-cex",
             "capital": {"WBTC": f"{usd(30_000_000) // 60000 + 1} WBTC", "USDC": f"{usd(30_000_000) + 1} USDC"}},
            {"kind": "liquidator", "name": "alpha", "bid_share": 0.6},
            {"kind": "liquidator", "name": "bravo", "bid_share": 0.5},
            {"kind": "liquidator", "name": "charlie", "bid_share": 0.4},
        ],
    }


def benchmark_scenario(n_borrowers: int, blocks: int = 7200, crash: bool = True) -> Any:
    """The validated benchmark scenario."""
    return defisim.scenario_from_dict(benchmark_scenario_dict(n_borrowers, blocks, crash))


def main(argv: list[str]) -> None:
    n = int(argv[1]) if len(argv) > 1 else 100_000
    scenario = benchmark_scenario(n, crash="--flat" not in argv)
    started = time.perf_counter()
    result = defisim.simulate(scenario)
    total = time.perf_counter() - started
    print(f"borrowers={n} blocks={result.blocks} wall={total:.2f}s "
          f"setup={result.meta['seconds_setup']:.2f}s run={result.meta['seconds_run']:.2f}s")
    print(result.summary["totals"], result.summary["gas"]["deferred_transactions"])


if __name__ == "__main__":
    main(sys.argv)
