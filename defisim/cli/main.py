"""The ``defisim`` command: parse arguments, call the library, print. No simulation logic here."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from defisim.cli import graph_cmd, risk
from defisim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    console,
    default_scenario,
    err_console,
    progress_bar,
)
from defisim.cli.common import fail as _fail
from defisim.cli.common import free_dir as _free_dir
from defisim.cli.common import load as _load
from defisim.cli.common import scenario_problem as _scenario_problem
from defisim.cli.tables import distress_table, summary_tables
from defisim.errors import DefisimError, InvariantViolation, ScenarioError

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "app", "default_scenario", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="Simulate DeFi liquidation cascades in block time.",
    pretty_exceptions_enable=False,
)
@app.command()
def run(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file (YAML/TOML), or an exposure-graph file (.json) to run as a scenario; default: the bundled scenario")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: runs/<scenario name>)")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the scenario's)")] = None,
    blocks: Annotated[int | None, typer.Option(help="Blocks to simulate (default: chain.blocks)", min=1)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out folder once the new run is complete")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")] = False,
) -> None:
    """Run a scenario: progress bar, summary table, and results written to an output folder."""
    from defisim.report import write_results
    from defisim.simulate import simulate

    spec = _load(scenario)
    if seed is not None and seed < 0:
        _fail(f"--seed must be >= 0, got {seed}")
    n_blocks = blocks if blocks is not None else spec.chain.blocks
    target = out if out is not None else _free_dir(Path("runs") / spec.name)
    if out is not None and not overwrite and out.exists() and any(out.iterdir()):
        _fail(f"output folder {out} exists and is not empty; pass --overwrite to replace it")
    try:
        with progress_bar(spec.name, "blocks", quiet) as tick:
            step = max(1, n_blocks // 200)

            def on_block(block: int) -> None:
                if block % step == 0 or block == n_blocks:
                    tick(block, n_blocks)

            result = simulate(spec, seed=seed, blocks=n_blocks, on_block=on_block)
        for table in summary_tables(result):
            console.print(table)
        if (path := distress_table(result)) is not None:
            console.print(path)
        written = write_results(result, target, overwrite=overwrite)
    except ScenarioError as exc:
        _scenario_problem(exc)
    except InvariantViolation as exc:
        _fail(f"internal invariant broken (please report): {exc}", EXIT_INTERNAL)
    except DefisimError as exc:
        _fail(str(exc))
    console.print(f"results: [bold]{target}[/] ({len(written)} files); "
                  f"setup {result.meta['seconds_setup']:.2f}s, run {result.meta['seconds_run']:.2f}s")


@app.command()
def check(
    scenario: Annotated[Path, typer.Argument(help="Scenario file to validate")],
) -> None:
    """Validate a scenario file and explain every problem (exit 2 if any)."""
    spec = _load(scenario)
    n = len(spec.components())
    console.print(f"[green]ok[/]: {scenario} — scenario {spec.name!r}, {len(spec.tokens)} tokens, "
                  f"{n} components, {spec.chain.blocks} blocks, digest {spec.digest()}")


def default_validation_scenario() -> Path:
    """The bundled validation scenario (scenarios/validation/aave_v36.yaml)."""
    return Path(__file__).resolve().parents[2] / "scenarios" / "validation" / "aave_v36.yaml"


@app.command()
def validate(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file; default: the bundled validation scenario")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the scenario's)")] = None,
    blocks: Annotated[int | None, typer.Option(help="Blocks to simulate (default: chain.blocks)", min=1)] = None,
) -> None:
    """Run a scenario in the simulator and on real contracts (local Anvil); compare to the wei.

    Exit 0 when every liquidation and the final state match exactly, 1 on any mismatch,
    2 on bad input or a chain toolchain problem.
    """
    from defisim.chain.errors import ChainError
    from defisim.chain.validate import validate_scenario
    from defisim.cli.validation_tables import validation_tables

    spec = _load(scenario if scenario is not None else default_validation_scenario())
    try:
        with err_console.status("simulating, deploying real contracts on a local Anvil, replaying..."):
            report = validate_scenario(spec, seed=seed, blocks=blocks)
    except ScenarioError as exc:
        _scenario_problem(exc)
    except ChainError as exc:
        _fail(str(exc))
    for table in validation_tables(report):
        console.print(table)
    n = report.mismatch_count
    liqs = sum(len(p.liquidations) for p in report.protocols)
    if n:
        console.print(f"[bold red]{n} mismatch(es)[/] between the simulator and the contracts")
        raise typer.Exit(1)
    console.print(f"[green]match[/]: {liqs} liquidation(s) and the final state of "
                  f"{len(report.protocols)} protocol(s) are identical to the wei; simulator "
                  f"{report.simulator_seconds:.2f}s, chain {report.chain_seconds:.2f}s")


@app.command()
def fork(
    rpc_url: Annotated[str | None, typer.Option("--rpc-url", envvar="DEFISIM_RPC_URL", show_envvar=True, help="RPC URL of the chain to fork (archive-capable for past blocks); only read from, never printed")] = None,
    block: Annotated[int | None, typer.Option(help="Block to fork (default: the latest)")] = None,
    protocol: Annotated[str, typer.Option(help="aave-v3 or morpho-blue")] = "aave-v3",
    pool: Annotated[str | None, typer.Option(help="Aave V3 Pool address")] = None,
    morpho: Annotated[str | None, typer.Option(help="Morpho Blue contract address (with --protocol morpho-blue)")] = None,
    market: Annotated[str | None, typer.Option(help="Morpho Blue market id: 0x followed by 64 hex digits (with --protocol morpho-blue)")] = None,
    accounts: Annotated[str | None, typer.Option(help="Comma-separated accounts (default: from recent logs: the pool's Supply/Borrow, or the Morpho market's Borrow/SupplyCollateral)")] = None,
    shock: Annotated[list[str] | None, typer.Option(help="Price shock ASSET=±P%, e.g. WETH=-30% (repeatable; symbol or token address; Morpho Blue: one shock of the market's collateral, e.g. collateral=-30%)")] = None,
    log_blocks: Annotated[int, typer.Option(help="Blocks of logs to scan for accounts", min=1)] = 5000,
    max_accounts: Annotated[int, typer.Option(help="At most this many accounts from the logs (most recent first)", min=1)] = 200,
    aave_version: Annotated[str | None, typer.Option(help="Force the Aave rule set (3.0 or 3.6) instead of detecting it")] = None,
    anvil_port: Annotated[int | None, typer.Option(help="Port of the local Anvil fork (default: a free one)")] = None,
    chain_id: Annotated[int | None, typer.Option(help="Chain the RPC must serve, e.g. 1 (refuses a wrong-chain URL)")] = None,
) -> None:
    """Fork a live chain at a block, read a pool into the simulator, shock prices, liquidate on both; compare.

    Aave V3: --pool ADDRESS. Morpho Blue: --protocol morpho-blue --morpho ADDRESS --market ID
    (markets whose IRM is AdaptiveCurveIrm, IrmMock-like, a fixed rate or none).

    Exit 0 when every liquidation and the final state match exactly, 1 on any mismatch,
    2 on bad input or when the chain cannot be read or forked.
    """
    from defisim.chain.errors import ChainError
    from defisim.chain.fork import ForkRequest, parse_accounts, parse_shock, run_fork
    from defisim.cli.fork_tables import fork_tables

    try:
        request = ForkRequest(
            rpc_url=rpc_url, protocol=protocol, pool=pool, block=block,
            accounts=parse_accounts(accounts) if accounts is not None else None,
            shocks=tuple(parse_shock(s) for s in shock or ()), log_blocks=log_blocks,
            max_accounts=max_accounts, morpho=morpho, market=market, aave_version=aave_version,
            anvil_port=anvil_port, chain_id=chain_id,
        )
        with err_console.status("forking...") as status:
            report = run_fork(request, progress=lambda msg: status.update(msg))
    except ChainError as exc:
        _fail(str(exc))
    for table in fork_tables(report):
        console.print(table)
    n = report.mismatch_count
    if n:
        console.print(f"[bold red]{n} mismatch(es)[/] between the simulator and the forked contracts")
        raise typer.Exit(1)
    console.print(f"[green]match[/]: {len(report.liquidations)} liquidation(s) and the final state of "
                  f"{len(report.accounts)} account(s) are identical to the wei on the fork of block {report.block}")


app.command()(risk.mc)
app.command()(risk.sweep)
app.command()(risk.recommend)
app.command()(graph_cmd.graph)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion and checking)."""
    from defisim.scenario import scenario_json_schema

    sys.stdout.write(json.dumps(scenario_json_schema(), indent=2) + "\n")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]: nothing was written")
        sys.exit(130)
