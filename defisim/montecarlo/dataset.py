"""The on-disk Monte Carlo dataset: per-path rows, their columns, and atomic part files.

Folder layout written by :func:`defisim.montecarlo.runner.run_paths`::

    out_dir/
      manifest.json                 written once, atomically, before any path runs
      paths/part-000000.parquet     one row: path 0
      paths/part-000001.parquet     one row: path 1
      ...

Every file is written to a hidden temporary name in the same folder
(``.part-000007.parquet.tmp-<random>``), flushed and fsynced, then renamed to its final name
(and the folder fsynced), so a file named ``part-*.parquet`` or ``manifest.json`` is always
complete: an interrupted run (Ctrl-C, a killed worker, ``kill -9`` of the runner) leaves at
most a hidden temporary file, which :func:`read_dataset` ignores and a resumed run deletes.
One file per path keeps resume exact at path granularity (a path is either fully present or
absent; it can never be counted twice, since its file name is its index).

Columns of every part (fixed by the scenario and the metric list, recorded in the manifest):

- ``path`` (int64): the 0-based path index;
- ``path_seed`` (int64): the integer seed given to :func:`defisim.simulate` for the path
  (see :mod:`defisim.montecarlo.seeding`);
- one column per protocol and metric, named ``<protocol>.<metric>``, in scenario order then
  metric order; for ``tokens_burned_base_units`` one column per scenario token,
  ``<protocol>.tokens_burned_base_units.<TOKEN>`` (token base units, 0 when none burned);
- ``run_seconds`` (float64): wall time of the path in its worker. It is the only column that
  is not a function of (scenario, seed, path, blocks); compare datasets without it
  (:data:`TIMING_COLUMNS`).

Types: ``*_usd`` columns are float64 USD rounded to cents, exactly as ``Result.summary``
gives them; counts are int64; token amounts are ``decimal128(38, 0)`` in Parquet (amounts
beyond int64, e.g. 476 AAVE = 4.76e20 base units, are common) and exact Python ``int`` in the
DataFrame :func:`read_dataset` returns.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from defisim.errors import DefisimError, OutputError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from defisim.results import Result
    from defisim.scenario.models import ScenarioBase

__all__ = [
    "DEFAULT_METRICS",
    "FORMAT",
    "METRICS",
    "TIMING_COLUMNS",
    "Layout",
    "Metric",
    "MetricError",
    "ResultsMismatchError",
    "existing_paths",
    "missing_paths",
    "part_path",
    "read_dataset",
    "read_manifest",
]

FORMAT = "defisim.montecarlo.paths/1"
"""``format`` field of ``manifest.json``; bumped if the layout changes incompatibly."""

MANIFEST = "manifest.json"
PARTS_DIR = "paths"
TIMING_COLUMNS: tuple[str, ...] = ("run_seconds",)
"""Columns that vary between runs of the same path (wall time); every other column is exact."""

_PART_RE = re.compile(r"^part-(\d+)\.parquet$")
_TMP_RE = re.compile(r"^\..+\.tmp-[0-9a-f]+$")
_DEC38_MAX = 10**38 - 1

MetricKind = Literal["usd", "count", "base_units"]


class MetricError(DefisimError, ValueError):
    """An unknown metric name was asked for. ``name`` and ``known`` say which and what exists."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name, self.known = name, tuple(known)
        close = difflib.get_close_matches(name, self.known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        super().__init__(f"unknown metric {name!r}{hint} (known: {', '.join(self.known)})")


class ResultsMismatchError(DefisimError, ValueError):
    """A results folder belongs to a different batch than the one asked for.

    ``field`` names the manifest entry that differs (``scenario_digest``, ``seed``, ``paths``,
    ``blocks``, ``metrics``, ``version``, ...); ``expected`` is the value in the folder,
    ``actual`` the value of this call.
    """

    def __init__(self, out_dir: Path, field: str, expected: Any, actual: Any, what: str) -> None:
        self.out_dir, self.field, self.expected, self.actual = out_dir, field, expected, actual
        super().__init__(
            f"results folder {out_dir} is from a different {what}: its manifest has "
            f"{field}={expected!r}, this run has {field}={actual!r}; resume only with the same "
            "scenario, seed, paths, blocks and metrics, or choose another folder"
        )


@dataclass(frozen=True, slots=True)
class Metric:
    """One per-protocol figure taken from ``result.summary["protocols"][<protocol>]``.

    ``kind``: ``"usd"`` (float USD, cents), ``"count"`` (int) or ``"base_units"`` (a
    ``{token: int}`` mapping of token base units, one column per scenario token).
    """

    name: str
    summary_key: str
    kind: MetricKind
    doc: str


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("bad_debt_usd", "bad_debt_usd", "usd", "bad debt realised, USD"),
    Metric("liquidation_volume_usd", "debt_repaid_usd", "usd",
           "debt repaid by liquidations (liquidation volume), USD"),
    Metric("insurance_fund_drawn_usd", "insurance_fund_drawn_usd", "usd",
           "bad debt covered by the insurance fund, USD"),
    Metric("socialized_usd", "socialized_usd", "usd", "bad debt socialised to suppliers, USD"),
    Metric("tokens_burned_base_units", "tokens_burned_base_units", "base_units",
           "tokens burned, token base units, per scenario token"),
    Metric("liquidations", "liquidations", "count", "number of liquidations"),
    Metric("accounts_liquidated", "accounts_liquidated", "count",
           "distinct accounts liquidated at least once"),
    Metric("collateral_seized_usd", "collateral_seized_usd", "usd", "collateral seized, USD"),
    Metric("failed_liquidation_attempts", "failed_liquidation_attempts", "count",
           "liquidations refused (not allowed, reverted, unprofitable)"),
)}
"""Every metric a batch can record, by name."""

DEFAULT_METRICS: tuple[str, ...] = (
    "bad_debt_usd",
    "liquidation_volume_usd",
    "insurance_fund_drawn_usd",
    "socialized_usd",
    "tokens_burned_base_units",
    "liquidations",
)
"""The metrics :func:`~defisim.montecarlo.runner.run_paths` records unless told otherwise."""

_ARROW_TYPES = {"int64": "int64", "float64": "float64", "decimal": "decimal128(38,0)"}


def check_metrics(metrics: Iterable[str]) -> tuple[str, ...]:
    """``metrics`` as a tuple, each a key of :data:`METRICS` (else :class:`MetricError`)."""
    if isinstance(metrics, str):
        metrics = (metrics,)
    out = tuple(metrics)
    for name in out:
        if name not in METRICS:
            raise MetricError(name, list(METRICS))
    if len(set(out)) != len(out):
        dup = sorted({m for m in out if out.count(m) > 1})
        raise ValueError(f"metric(s) listed twice: {', '.join(dup)}")
    return out


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns of a batch: which protocols, tokens and metrics, and each column's type.

    Built from the scenario (:meth:`for_scenario`) so every part file of a batch has the
    same schema before any path runs.
    """

    protocols: tuple[str, ...]
    tokens: tuple[str, ...]
    metrics: tuple[str, ...]

    @classmethod
    def for_scenario(cls, scenario: ScenarioBase, metrics: Iterable[str]) -> Layout:
        """The layout of ``scenario``'s protocols (file order) and tokens for ``metrics``."""
        protocols = tuple(spec.name for spec in getattr(scenario, "protocols", []))
        return cls(protocols, tuple(scenario.tokens), check_metrics(metrics))

    def columns(self) -> list[tuple[str, str]]:
        """``(name, type)`` of every column in order; type is ``int64``, ``float64`` or
        ``decimal`` (exact int of base units)."""
        cols = [("path", "int64"), ("path_seed", "int64")]
        for protocol in self.protocols:
            for name in self.metrics:
                metric = METRICS[name]
                if metric.kind == "base_units":
                    cols += [(f"{protocol}.{name}.{token}", "decimal") for token in self.tokens]
                else:
                    cols.append((f"{protocol}.{name}", "int64" if metric.kind == "count" else "float64"))
        cols.append(("run_seconds", "float64"))
        return cols

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of a part file."""
        import pyarrow as pa

        types = {"int64": pa.int64(), "float64": pa.float64(), "decimal": pa.decimal128(38, 0)}
        return pa.schema([pa.field(name, types[kind], nullable=False) for name, kind in self.columns()])

    def row(self, result: Result, path: int | None, path_seed: int, seconds: float) -> dict[str, Any]:
        """The flat row of one finished path (Python ``int`` / ``float`` values)."""
        per_protocol = result.summary["protocols"]
        row: dict[str, Any] = {"path": path, "path_seed": int(path_seed)}
        for protocol in self.protocols:
            figures = per_protocol.get(protocol)
            if figures is None:
                raise DefisimError(f"result has no summary for protocol {protocol!r}")
            for name in self.metrics:
                metric = METRICS[name]
                value = figures[metric.summary_key]
                if metric.kind == "base_units":
                    unknown = set(value) - set(self.tokens)
                    if unknown:
                        raise DefisimError(
                            f"{protocol}.{name} names token(s) {sorted(unknown)} the scenario lacks")
                    for token in self.tokens:
                        row[f"{protocol}.{name}.{token}"] = int(value.get(token, 0))
                elif metric.kind == "count":
                    row[f"{protocol}.{name}"] = int(value)
                else:
                    row[f"{protocol}.{name}"] = float(value)
        row["run_seconds"] = float(seconds)
        return row

    def table(self, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
        """Rows as an Arrow table with :meth:`arrow_schema` (checks decimal range)."""
        import pyarrow as pa

        schema = self.arrow_schema()
        arrays = []
        for name, kind in self.columns():
            values = [r[name] for r in rows]
            if kind == "decimal":
                for v in values:
                    if not -_DEC38_MAX <= v <= _DEC38_MAX:
                        raise OutputError(f"{name} = {v} does not fit decimal128(38, 0)")
                values = [Decimal(v) for v in values]
            arrays.append(pa.array(values, schema.field(name).type))
        return pa.Table.from_arrays(arrays, schema=schema)


# --- manifest -----------------------------------------------------------------------------

def build_manifest(scenario: ScenarioBase, *, seed: int, paths: int, blocks: int,
                   layout: Layout, version: str) -> dict[str, Any]:
    """The ``manifest.json`` content of a batch (JSON-ready; no timestamps, so the same
    inputs give the same bytes)."""
    return {
        "format": FORMAT,
        "scenario": scenario.name,
        "scenario_digest": scenario.digest(),
        "seed": seed,
        "paths": paths,
        "blocks": blocks,
        "metrics": list(layout.metrics),
        "protocols": list(layout.protocols),
        "tokens": list(layout.tokens),
        "columns": [{"name": n, "type": _ARROW_TYPES[k]} for n, k in layout.columns()],
        "seeding": "path i: numpy SeedSequence(seed, spawn_key=(i,)); "
                   "simulate seed = generate_state(1, uint64)[0] >> 1",
        "version": version,
        "scenario_data": scenario.model_dump(mode="json"),
    }


def read_manifest(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a results folder (:class:`OutputError` if missing or unreadable)."""
    path = Path(out_dir) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise OutputError(f"{Path(out_dir)} has no {MANIFEST}; it is not a Monte Carlo results folder") from exc
    except (OSError, ValueError) as exc:
        raise OutputError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise OutputError(f"{path} is not a {FORMAT} manifest")
    return data


_COMPARED = (  # manifest key, what differs when it does
    ("scenario_digest", "scenario"),
    ("seed", "seed"),
    ("paths", "number of paths"),
    ("blocks", "number of blocks"),
    ("metrics", "metric list"),
    ("columns", "column layout"),
    ("version", "defisim version"),
)


def check_manifest(out_dir: Path, found: Mapping[str, Any], wanted: Mapping[str, Any]) -> None:
    """Raise :class:`ResultsMismatchError` at the first compared field that differs."""
    for key, what in _COMPARED:
        if found.get(key) != wanted[key]:
            raise ResultsMismatchError(out_dir, key, found.get(key), wanted[key], what)


# --- part files ---------------------------------------------------------------------------

def part_path(out_dir: str | os.PathLike[str], path: int) -> Path:
    """Final file name of path ``path``'s part."""
    return Path(out_dir) / PARTS_DIR / f"part-{path:06d}.parquet"


def existing_paths(out_dir: str | os.PathLike[str]) -> set[int]:
    """Indexes of the paths whose part file is present (complete by construction)."""
    parts = Path(out_dir) / PARTS_DIR
    if not parts.is_dir():
        return set()
    return {int(m.group(1)) for p in parts.iterdir() if (m := _PART_RE.match(p.name))}


def missing_paths(out_dir: str | os.PathLike[str]) -> list[int]:
    """Paths of the manifest's batch that have no part file yet, in order."""
    total = int(read_manifest(out_dir)["paths"])
    have = existing_paths(out_dir)
    return [i for i in range(total) if i not in have]


def temp_files(folder: Path) -> list[Path]:
    """Hidden temporary files left in ``folder`` by an interrupted atomic write."""
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if _TMP_RE.match(p.name)]


def write_part(out_dir: Path, layout: Layout, row: Mapping[str, Any]) -> Path:
    """Write one row to its part file atomically; return the final path."""
    import pyarrow.parquet as pq

    table = layout.table([row])
    target = part_path(out_dir, int(row["path"]))
    atomic_write(target, lambda fh: pq.write_table(table, fh, compression="zstd"))
    return target


def atomic_write(target: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``target`` via a hidden temp file in its folder: write, flush, fsync, rename,
    fsync the folder. The temp file is removed if anything fails (a ``kill -9`` can leave it;
    it never has the final name)."""
    tmp = target.with_name(f".{target.name}.tmp-{secrets.token_hex(4)}")
    try:
        with open(tmp, "xb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, DefisimError):
            raise OutputError(f"could not write {target}: {exc}") from exc
        raise
    fsync_dir(target.parent)


def atomic_write_json(target: Path, data: Any) -> None:
    """``data`` as indented, key-sorted JSON, written with :func:`atomic_write`."""
    blob = (json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n").encode()
    atomic_write(target, lambda fh: fh.write(blob))


def fsync_dir(folder: Path) -> None:
    """fsync a folder so a rename in it survives a crash (no-op where unsupported)."""
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:
        return
    try:
        fd = os.open(folder, os.O_RDONLY | flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- reading ------------------------------------------------------------------------------

def read_dataset(out_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """Every finished path of a results folder as a DataFrame, sorted by ``path``.

    Columns as in the module docstring: ``path``/``path_seed``/counts int64, ``*_usd`` and
    ``run_seconds`` float64, token base units as exact Python ``int`` (object dtype). An
    interrupted batch gives the paths finished so far (:func:`missing_paths` lists the rest);
    temporary files are ignored.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    manifest = read_manifest(out)
    files = sorted(part_path(out, i) for i in existing_paths(out))
    if files:
        table = pa.concat_tables([pq.read_table(f) for f in files])
    else:
        layout = Layout(tuple(manifest["protocols"]), tuple(manifest["tokens"]), tuple(manifest["metrics"]))
        table = layout.arrow_schema().empty_table()
    df = table.to_pandas()
    for field in table.schema:
        if pa.types.is_decimal(field.type):
            df[field.name] = pd.Series([int(v) for v in df[field.name]], dtype=object, index=df.index)
    return df.sort_values("path", kind="stable").reset_index(drop=True)
