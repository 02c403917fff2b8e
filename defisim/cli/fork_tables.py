"""Rich tables for ``defisim fork``: what was forked and read, then simulator vs fork side by side.

The liquidation and final-state tables are ``defisim validate``'s (same styles: one value when
equal, ``a ≠ b`` in red when the simulator and the chain differ).
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.table import Table

from defisim.chain.fork import ForkReport
from defisim.chain.validate import ProtocolReport, ValidationReport
from defisim.cli.validation_tables import validation_tables

__all__ = ["fork_tables"]


def _pct(bps: int) -> str:
    return f"{bps / 100:.2f}%"


def _price(p: int | None) -> str:
    return "" if p is None else f"{p / 10**8:,.8f}".rstrip("0").rstrip(".")


def _amount(x: int, decimals: int) -> str:
    return f"{x / 10**decimals:,.4f}"


def _header(r: ForkReport) -> Table:
    t = Table(title="fork", title_justify="left", show_header=False)
    t.add_column("what", style="bold")
    t.add_column("value")
    when = datetime.fromtimestamp(r.timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    t.add_row("RPC (read only)", r.rpc)
    t.add_row("chain id", str(r.chain_id))
    t.add_row("block", f"{r.block} ({when}; latest {r.latest_block})")
    if r.family == "morpho-blue":
        t.add_row("Morpho Blue", r.address)
        t.add_row("assets", str(len(r.reserves)))
    else:
        t.add_row("pool", f"{r.address} ({r.family}, POOL_REVISION {r.revision})")
        t.add_row("reserves", str(len(r.reserves)))
    t.add_row("accounts read", f"{len(r.accounts)} ({r.accounts_source})")
    if r.skipped:
        t.add_row("accounts left out", f"{len(r.skipped)} (not modelled: see below)")
    t.add_row("shock", ", ".join(r.shocks) if r.shocks else "none")
    if r.oracle_takeover:
        t.add_row("oracle takeover", r.oracle_takeover)
    t.add_row("fork node start", f"{r.fork_seconds:.2f} s")
    return t


def _reserves(r: ForkReport) -> Table:
    t = Table(title="reserves read from the fork (prices USD; amounts in whole tokens)", title_justify="left")
    for col in ("asset", "LTV", "LT", "bonus", "reserve factor", "liq. fee", "price", "shocked",
                "supplied", "borrowed"):
        t.add_column(col, justify="left" if col == "asset" else "right")
    for x in r.reserves:
        shocked = "" if x.shocked_price is None else f"[bold yellow]{_price(x.shocked_price)}[/]"
        t.add_row(x.asset, _pct(x.ltv), _pct(x.liquidation_threshold), _pct(x.liquidation_bonus - 10_000),
                  _pct(x.reserve_factor), _pct(x.liquidation_protocol_fee), _price(x.price), shocked,
                  _amount(x.supplied, x.decimals), _amount(x.borrowed, x.decimals))
    return t


def _remarks(r: ForkReport) -> Table | None:
    if not r.notes and not r.skipped:
        return None
    t = Table(title="not modelled / notes", title_justify="left", show_header=False)
    t.add_column("note", style="yellow")
    for n in r.notes:
        t.add_row(n)
    for account, why in r.skipped:
        t.add_row(f"left out {account}: {why}")
    return t


def _read_check(r: ForkReport) -> Table:
    t = Table(title="state read from the fork vs the simulator's model built from it", title_justify="left")
    t.add_column("difference")
    for m in r.read_mismatches:
        t.add_row(f"[bold red]{m}[/]")
    return t


def _summary(r: ForkReport) -> Table:
    t = Table(title="summary", title_justify="left")
    for col in ("pool", "variant", "accounts", "liquidations", "mismatches", "simulator s", "chain s"):
        t.add_column(col, justify="left" if col in ("pool", "variant") else "right")
    n = r.mismatch_count
    t.add_row(r.address, r.family, str(len(r.accounts)), str(len(r.liquidations)),
              "[green]0[/]" if not n else f"[bold red]{n}[/]",
              f"{r.simulator_seconds:.2f}", f"{r.chain_seconds:.2f}")
    return t


def fork_tables(r: ForkReport) -> list[Table]:
    """Header, reserves, notes, liquidations and final state side by side, summary."""
    tables = [_header(r), _reserves(r)]
    remarks = _remarks(r)
    if remarks is not None:
        tables.append(remarks)
    if r.read_mismatches:
        tables.append(_read_check(r))
    p = ProtocolReport(r.address, r.family, [], list(r.liquidations), list(r.final_mismatches),
                       r.final_simulator, r.final_chain, r.chain_seconds, r.fork_seconds, len(r.liquidations))
    tables += [t for t in validation_tables(ValidationReport(f"fork {r.block}", [p], r.simulator_seconds))
               if t.title != "summary"]
    tables.append(_summary(r))
    return tables
