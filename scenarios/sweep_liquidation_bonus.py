"""Scenario script: sweep the WETH liquidation bonus of the "aave" pool in the default scenario.

For each bonus it runs the crash and prints what a protocol designer weighs: bad debt (and
how much the insurance fund covered), liquidation volume, and what liquidators earned.

    python scenarios/sweep_liquidation_bonus.py                 # 2% .. 10%, full 6 h run
    python scenarios/sweep_liquidation_bonus.py --blocks 600    # quicker
"""

from __future__ import annotations

import argparse
from pathlib import Path

import defisim

HERE = Path(__file__).resolve().parent


def sweep(bonuses: list[float], blocks: int | None) -> list[dict[str, float]]:
    """One row per bonus: the aave pool's figures and the liquidators' total profit."""
    base = defisim.load_scenario(HERE / "default.yaml")
    rows = []
    for bonus in bonuses:
        scenario = defisim.with_overrides(base, {"protocols.aave.reserves.WETH.liquidation_bonus": bonus})
        result = defisim.simulate(scenario, blocks=blocks)
        aave = result.summary["protocols"]["aave"]
        liquidator_profit = sum(
            a["profit_usd"] for name, a in result.summary["agents"].items() if "liquidations" in a
        )
        rows.append({
            "bonus": bonus,
            "liquidations": aave["liquidations"],
            "debt_repaid_usd": aave["debt_repaid_usd"],
            "bad_debt_usd": aave["bad_debt_usd"],
            "fund_drawn_usd": aave["insurance_fund_drawn_usd"],
            "socialized_usd": aave["socialized_usd"],
            "liquidator_profit_usd": liquidator_profit,
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=None, help="blocks per run (default: the scenario's)")
    parser.add_argument("--bonuses", type=float, nargs="+", default=[0.02, 0.04, 0.05, 0.075, 0.10])
    args = parser.parse_args()
    rows = sweep(args.bonuses, args.blocks)
    header = f"{'bonus':>6} {'liqs':>6} {'repaid $':>14} {'bad debt $':>12} {'fund $':>10} {'socialised $':>13} {'liq. profit $':>14}"
    print(header)
    for r in rows:
        print(f"{r['bonus']:>6.3f} {r['liquidations']:>6} {r['debt_repaid_usd']:>14,.0f} {r['bad_debt_usd']:>12,.0f} "
              f"{r['fund_drawn_usd']:>10,.0f} {r['socialized_usd']:>13,.0f} {r['liquidator_profit_usd']:>14,.0f}")


if __name__ == "__main__":
    main()
