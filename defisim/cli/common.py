"""What every ``defisim`` command shares: consoles, exit codes, failing cleanly, loading."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from defisim.errors import DefisimError, ScenarioError

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "console", "default_scenario", "err_console", "fail",
           "free_dir", "load", "progress_bar", "scenario_problem"]

console = Console()
err_console = Console(stderr=True)

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


def default_scenario() -> Path:
    """The bundled default scenario (scenarios/default.yaml next to the package)."""
    return Path(__file__).resolve().parents[2] / "scenarios" / "default.yaml"


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code`` (no traceback)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def scenario_problem(exc: ScenarioError) -> NoReturn:
    """Print every problem of an invalid scenario and exit 2."""
    where = f" in {exc.source}" if exc.source else ""
    err_console.print(f"[bold red]error:[/] invalid scenario{where}: {len(exc.problems)} problem(s)", highlight=False)
    for path, message in exc.problems:
        err_console.print(f"  [yellow]{path or '<file>'}[/]: {message}", highlight=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def load(path: Path | None):  # type: ignore[no-untyped-def]
    """The scenario at ``path`` (default: the bundled one; a ``.json`` exposure-graph file becomes
    a scenario, see :mod:`defisim.graph.to_scenario`), or exit 2 explaining why not."""
    from defisim.scenario import load_scenario

    try:
        if path is not None and path.suffix.lower() == ".json":  # an exposure-graph file
            from defisim.graph.to_scenario import load_any

            return load_any(path)
        return load_scenario(path if path is not None else default_scenario())
    except ScenarioError as exc:
        scenario_problem(exc)
    except DefisimError as exc:
        fail(str(exc))


def free_dir(base: Path) -> Path:
    """``base`` if it is free, else ``base-2``, ``base-3``... (never reuse a results folder)."""
    if not base.exists() or not any(base.iterdir()):
        return base
    i = 2
    while Path(f"{base}-{i}").exists():
        i += 1
    return Path(f"{base}-{i}")


@contextmanager
def progress_bar(label: str, unit: str, quiet: bool) -> Iterator[Callable[[int, int | None], None]]:
    """A progress bar on stderr counting ``unit`` (blocks, paths); yields ``tick(done, total)``.

    ``total`` may change between ticks (a batch learns its size late) or be ``None`` (unknown).
    With ``quiet`` nothing is drawn.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn(unit), TimeElapsedColumn(), TimeRemainingColumn(),
                   console=err_console, disable=quiet, transient=False)
    with bar:
        task = bar.add_task(label, total=None)

        def tick(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield tick
