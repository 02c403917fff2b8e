"""Rich tables for the run summary (presentation only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from defisim.results import Result


def _usd(x: float) -> str:
    return f"${x:,.0f}"


def summary_tables(result: Result) -> list[Table]:
    """The per-protocol table, then markets/oracles, then agents."""
    s = result.summary
    bt = result.scenario.chain.block_time_s
    protocols = Table(title=f"{s['scenario']} — seed {s['seed']}, {s['blocks']} blocks "
                            f"({s['blocks'] * bt / 3600:.1f} h)")
    protocols.add_column("")
    names = list(s["protocols"])
    for name in names:
        protocols.add_column(name, justify="right")
    decimals = {t: spec.decimals for t, spec in result.scenario.tokens.items()}

    def row(label: str, fmt: Callable[[dict[str, Any]], str]) -> None:
        protocols.add_row(label, *(fmt(s["protocols"][n]) for n in names))

    def block(value: int | None) -> str:
        return "-" if value is None else f"{value} ({value * bt / 60:.0f} min)"

    row("liquidations", lambda p: f"{p['liquidations']:,}")
    row("accounts liquidated", lambda p: f"{p['accounts_liquidated']:,}")
    row("debt repaid", lambda p: _usd(p["debt_repaid_usd"]))
    row("collateral seized", lambda p: _usd(p["collateral_seized_usd"]))
    row("bad debt", lambda p: _usd(p["bad_debt_usd"]))
    row("insurance fund drawn", lambda p: _usd(p["insurance_fund_drawn_usd"]))
    row("socialised to suppliers", lambda p: _usd(p["socialized_usd"]))
    row("tokens burned", lambda p: ", ".join(
        f"{v / 10**decimals[t]:,.2f} {t}" for t, v in p["tokens_burned_base_units"].items()) or "-")
    row("first liquidation block", lambda p: block(p["first_liquidation_block"]))
    row("last liquidation block", lambda p: block(p["last_liquidation_block"]))
    prices = Table(title="prices (USD per token; AMM rows: token0 in token1)")
    for col in ("source", "kind", "start", "lowest", "rounds/swaps"):
        prices.add_column(col, justify="right" if col not in ("source", "kind") else "left")
    for asset, low in s["reference_min"].items():
        prices.add_row(asset, "reference", f"{float(result.reference.of(asset)[0]):,.2f}", f"{low:,.2f}", "-")
    for name, o in s["oracles"].items():
        _, series = result.oracle_price_series(name)
        prices.add_row(name, f"oracle {o['asset']}", f"{series[0]:,.2f}", f"{o['min_price']:,.2f}", str(o["rounds"]))
    for name, pool in s["pools"].items():
        prices.add_row(name, f"amm {pool['pair']}", f"{pool['start_price']:,.4f}", f"{pool['min_price']:,.4f}", "-")
    agents = Table(title="agents")
    for col in ("agent", "liquidations", "arbitrages", "profit", "gas spent"):
        agents.add_column(col, justify="right" if col != "agent" else "left")
    gas = s["gas"]["spent_usd"]
    for name, a in s["agents"].items():
        spent = next((v for k, v in gas.items() if k.endswith(f":{name}")), 0.0)
        agents.add_row(name, str(a.get("liquidations", 0)), str(a.get("arbitrages", 0)),
                       _usd(a["profit_usd"]), _usd(spent))
    agents.caption = (f"max base fee {s['gas']['max_base_fee_gwei']:,.1f} gwei; "
                      f"{s['gas']['deferred_transactions']} transactions deferred by full blocks")
    return [protocols, prices, agents]


def distress_table(result: Result) -> Table | None:
    """The path of distress between protocols and tokens (first event of each kind per node),
    or ``None`` when distress stays inside one protocol."""
    from defisim.engine.contagion import distress_path

    events = distress_path(result.records)
    if len({e.node for e in events}) < 2:
        return None
    table = Table(title="path of distress (first event of each kind per protocol or token)",
                  title_justify="left")
    for col in ("block", "node", "event", "arrived through"):
        table.add_column(col, justify="right" if col == "block" else "left")
    for e in events:
        table.add_row(str(e.block), e.node, e.kind, e.link)
    return table
