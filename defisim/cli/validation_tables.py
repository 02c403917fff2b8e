"""Rich tables for ``defisim validate``: simulator and chain side by side, differences marked."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from defisim.chain.parity import Mismatch, compare
from defisim.chain.validate import ProtocolReport, ValidationReport

__all__ = ["validation_tables"]

_WAD = 10**18


def _hf(x: int) -> str:
    return "∞" if x >= 2**255 else f"{x / _WAD:.6f}"


def _pair(sim: int, chain: int, fmt: Any = str) -> str:
    if sim == chain:
        return fmt(sim)
    return f"[bold red]{fmt(sim)} ≠ {fmt(chain)}[/]"


def _liquidations(p: ProtocolReport) -> Table:
    t = Table(title=f"{p.protocol} ({p.family}): liquidations, simulator vs chain "
                    "(one value = equal; a ≠ b = simulator ≠ chain)", title_justify="left")
    for col in ("block", "account", "pair", "debt repaid", "collateral seized", "protocol fee",
                "HF before", "HF after", "match"):
        t.add_column(col, justify="right" if col not in ("account", "pair", "match") else "left")
    for r in p.liquidations:
        s, c = r.simulator, r.chain
        if s.reason or c.reason:
            t.add_row(str(r.block), escape(r.account), f"{r.collateral_asset}/{r.debt_asset}",
                      escape(_pair(s.reason or "ok", c.reason or "ok")), "", "", "", "",
                      "[green]yes[/]" if not r.mismatches else "[bold red]NO[/]")
            continue
        t.add_row(
            str(r.block), escape(r.account), f"{r.collateral_asset}/{r.debt_asset}",
            _pair(s.debt_repaid, c.debt_repaid), _pair(s.collateral_seized, c.collateral_seized),
            _pair(s.protocol_fee, c.protocol_fee), _pair(s.health_before, c.health_before, _hf),
            _pair(s.health_after, c.health_after, _hf),
            "[green]yes[/]" if not r.mismatches else "[bold red]NO[/]",
        )
    return t


def _final(p: ProtocolReport) -> list[Table]:
    """Every reserve/market field side by side; accounts one row each, identical ones counted."""
    leaves = compare(p.final_simulator, p.final_chain, ignore=frozenset({"timestamp", "name"}))
    head = Table(title=f"{p.protocol}: final state, simulator vs chain", title_justify="left")
    for col in ("field", "simulator", "chain", "match"):
        head.add_column(col, justify="right" if col in ("simulator", "chain") else "left")
    accounts: dict[str, list[Mismatch]] = {}
    for m in leaves:
        group = next((g for g in ("accounts[", "positions[") if m.path.startswith(g)), None)
        if group is not None:
            accounts.setdefault(m.path[len(group):].split("]", 1)[0], []).append(m)
            continue
        if m.path.rsplit(".", 1)[-1] in ("asset", "market") and m.simulator == m.chain:
            continue  # the key, already in the path
        ok = m.simulator == m.chain
        head.add_row(escape(m.path), escape(str(m.simulator)), escape(str(m.chain)),
                     "[green]yes[/]" if ok else "[bold red]NO[/]")
    same = [a for a, ms in accounts.items() if all(m.simulator == m.chain for m in ms)]
    head.add_row(f"accounts ({len(accounts)})", f"{len(same)} identical",
                 f"{len(accounts) - len(same)} differ", "[green]yes[/]" if len(same) == len(accounts)
                 else "[bold red]NO[/]")
    tables = [head]
    if len(same) != len(accounts):
        t = Table(title=f"{p.protocol}: accounts that differ", title_justify="left")
        for col in ("field", "simulator", "chain"):
            t.add_column(col)
        for ms in accounts.values():
            for m in ms:
                if m.simulator != m.chain:
                    t.add_row(escape(m.path), f"[bold red]{escape(str(m.simulator))}[/]",
                              f"[bold red]{escape(str(m.chain))}[/]")
        tables.append(t)
    return tables


def _mismatch_lines(ms: list[Mismatch]) -> list[str]:
    return [str(m) for m in ms]


def validation_tables(report: ValidationReport) -> list[Table]:
    """Liquidation and final-state tables per protocol, then the timing summary."""
    tables: list[Table] = []
    for p in report.protocols:
        if p.seed_mismatches:
            t = Table(title=f"{p.protocol}: seeded state differs", title_justify="left")
            t.add_column("difference")
            for line in _mismatch_lines(p.seed_mismatches):
                t.add_row(f"[bold red]{escape(line)}[/]")
            tables.append(t)
        tables.append(_liquidations(p))
        tables.extend(_final(p))
    t = Table(title="summary", title_justify="left")
    for col in ("protocol", "variant", "liquidations", "actions", "mismatches", "simulator s",
                "chain s (deploy)", "chain / simulator"):
        t.add_column(col, justify="right" if col not in ("protocol", "variant") else "left")
    for p in report.protocols:
        ratio = p.chain_seconds / report.simulator_seconds if report.simulator_seconds else float("nan")
        t.add_row(p.protocol, p.family, str(len(p.liquidations)), str(p.actions),
                  "[green]0[/]" if not p.mismatch_count else f"[bold red]{p.mismatch_count}[/]",
                  f"{report.simulator_seconds:.2f}", f"{p.chain_seconds:.2f} ({p.deploy_seconds:.2f})",
                  f"{ratio:.1f}×")
    tables.append(t)
    return tables
