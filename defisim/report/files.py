"""Write one run's results to a folder, atomically.

Layout of the folder :func:`write_results` produces::

    records.parquet     every record, one row each (see :func:`records_table`)
    records.csv         the same rows and columns; integers as exact decimal digits
    summary.json        Result.summary with Result.meta under "meta"; sorted keys, indented
    plots/prices.png    reference vs oracle vs AMM price per asset with an oracle
    plots/health.png    health-factor distribution per protocol
    plots/solvency.png  insurance funds, bad debt, socialised loss, tokens burned

The folder is built in a sibling ``<out>.partial-<random>`` directory and renamed into place
only once every file is written, so a folder named ``out_dir`` is always complete. An
existing non-empty ``out_dir`` is refused (:class:`~defisim.errors.OutputError`) before any
work unless ``overwrite=True``; then it is replaced only after the new folder is complete
(old renamed aside to ``<out>.old-<random>``, new renamed in, old deleted). A process killed
outright can leave a ``.partial-`` folder behind (never one named ``out_dir``); killed between
the two renames, the previous results survive under ``.old-``.

Column types in ``records.parquet`` (one table, a ``record`` column with the record type and
the union of every record type's fields; null where a type lacks the field):

- ints that all fit int64 -> ``int64`` (read back by pandas as nullable ``Int64``, so nulls
  from other record types never turn them into lossy floats);
- ints beyond int64 (token base units, e.g. 1e30 wei) -> ``decimal128(38, 0)`` (read back
  as :class:`decimal.Decimal`, which compares equal to the int; :func:`read_records` turns
  them back into Python ints);
- ints beyond 38 digits (cannot happen for uint128 amounts, but can for uint256) -> decimal
  digit strings, listed in the Parquet metadata key ``defisim.int_strings``;
- floats -> ``float64``; bools -> ``bool``; strings (and anything else, via ``str``) ->
  ``string``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from defisim.errors import OutputError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from defisim.results import Result

__all__ = ["RESULT_FILES", "read_records", "records_table", "write_results"]

RESULT_FILES: tuple[str, ...] = (
    "records.parquet",
    "records.csv",
    "summary.json",
    "plots/prices.png",
    "plots/health.png",
    "plots/solvency.png",
)
"""Relative paths of every file :func:`write_results` writes, in writing order."""

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_DEC38_MAX = 10**38 - 1
_INT_STRINGS_KEY = b"defisim.int_strings"


# --- public API ---------------------------------------------------------------------------

def write_results(result: Result, out_dir: Path, *, overwrite: bool = False) -> list[Path]:
    """Write ``result`` into ``out_dir`` (see the module docstring); return the files written.

    Raises :class:`~defisim.errors.OutputError` if ``out_dir`` exists, is non-empty and
    ``overwrite`` is False (nothing is written then), if ``out_dir`` is not a directory, or if
    the file system refuses a write or rename. Any other failure (e.g. in a plot) propagates
    unchanged; in every failure case the partial folder is removed and an existing
    ``out_dir`` is left as it was.
    """
    from defisim.report import plots  # noqa: PLC0415  (matplotlib import is heavy)

    out_dir = Path(out_dir)
    _check_target(out_dir, overwrite)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = _fresh_sibling(out_dir, "partial")
    except OSError as exc:
        raise OutputError(f"cannot create a working folder next to {out_dir}: {exc}") from exc

    writers: list[tuple[str, Callable[[Path], None]]] = [
        ("records.parquet", lambda p: write_records_parquet(result, p)),
        ("records.csv", lambda p: write_records_csv(result, p)),
        ("summary.json", lambda p: write_summary_json(result, p)),
        ("plots/prices.png", lambda p: plots.plot_prices(result, p)),
        ("plots/health.png", lambda p: plots.plot_health(result, p)),
        ("plots/solvency.png", lambda p: plots.plot_solvency(result, p)),
    ]
    try:
        (tmp / "plots").mkdir()
        for rel, write in writers:
            write(tmp / rel)
        _swap_in(tmp, out_dir, overwrite)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"could not write results to {out_dir}: {exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out_dir / rel for rel, _ in writers]


def records_table(result: Result) -> pa.Table:
    """All records as one Arrow table (column types: see the module docstring)."""
    import pyarrow as pa  # noqa: PLC0415

    names, rows = _columns_and_rows(result)
    columns: dict[str, list[Any]] = {name: [None] * len(rows) for name in names}
    for i, row in enumerate(rows):  # one pass over each row's own fields, not every column
        for key, value in row.items():
            columns[key][i] = value
    arrays: list[pa.Array] = []
    pandas_cols: list[dict[str, Any]] = []
    int_strings: list[str] = []
    for name in names:
        arr, pandas_meta, as_strings = _to_arrow(name, columns[name])
        arrays.append(arr)
        if pandas_meta is not None:
            pandas_cols.append(pandas_meta)
        if as_strings:
            int_strings.append(name)
    table = pa.Table.from_arrays(arrays, names=names)
    meta = {
        b"pandas": json.dumps(_pandas_metadata(pandas_cols)).encode(),
        _INT_STRINGS_KEY: json.dumps(int_strings).encode(),
    }
    return table.replace_schema_metadata(meta)


def read_records(path: Path) -> pd.DataFrame:
    """Read a ``records.parquet`` back with every big-int column as exact Python ints.

    ``pandas.read_parquet`` alone already gives exact values (``Int64`` for int64 columns,
    :class:`decimal.Decimal` for decimal ones); this also turns Decimals and over-38-digit
    strings into ``int`` (object columns, ``None`` for nulls).
    """
    import pandas as pd  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    int_strings = set(json.loads(meta.get(_INT_STRINGS_KEY, b"[]")))
    df = table.to_pandas()
    for field in table.schema:
        if pa.types.is_decimal(field.type) or field.name in int_strings:
            df[field.name] = pd.Series(
                [None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                 else int(v) for v in df[field.name]],
                dtype=object, index=df.index,
            )
    return df


def write_records_parquet(result: Result, path: Path) -> None:
    """``records.parquet`` (zstd-compressed) from :func:`records_table`."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    pq.write_table(records_table(result), path, compression="zstd")


def write_records_csv(result: Result, path: Path) -> None:
    """``records.csv``: same columns as the Parquet file; ints as exact digits, floats as
    their shortest round-trip repr, bools as ``true``/``false``, nulls as empty fields."""
    names, rows = _columns_and_rows(result)
    index = {n: i for i, n in enumerate(names)}
    empty = [_csv_cell(None)] * len(names)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            cells = empty.copy()
            for key, value in row.items():
                cells[index[key]] = _csv_cell(value)
            writer.writerow(cells)


def write_summary_json(result: Result, path: Path) -> None:
    """``summary.json``: ``result.summary`` plus ``"meta": result.meta``.

    Sorted keys, 2-space indent. Non-finite floats (NaN, inf) become ``null`` so the file is
    strict JSON; numpy scalars become Python numbers; other objects their ``str``.
    """
    data = dict(result.summary)
    data["meta"] = dict(result.meta)
    text = json.dumps(_jsonable(data), indent=2, sort_keys=True, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


# --- folder handling ----------------------------------------------------------------------

def _check_target(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() or out_dir.is_symlink():
        if not out_dir.is_dir():
            raise OutputError(f"{out_dir} exists and is not a folder; refusing to replace it")
        if not overwrite and any(out_dir.iterdir()):
            raise OutputError(
                f"{out_dir} exists and is not empty; choose another folder or pass overwrite=True"
            )


def _fresh_sibling(out_dir: Path, tag: str) -> Path:
    """Create (mkdir, honouring the umask) and return ``<out>.<tag>-<random>`` next to it."""
    for _ in range(100):
        candidate = out_dir.with_name(f"{out_dir.name}.{tag}-{secrets.token_hex(4)}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise OutputError(f"could not find a free name for a {tag} folder next to {out_dir}")


def _free_sibling_name(out_dir: Path, tag: str) -> Path:
    for _ in range(100):
        candidate = out_dir.with_name(f"{out_dir.name}.{tag}-{secrets.token_hex(4)}")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
    raise OutputError(f"could not find a free name for a {tag} folder next to {out_dir}")


def _swap_in(tmp: Path, out_dir: Path, overwrite: bool) -> None:
    """Rename the finished ``tmp`` to ``out_dir``; an existing one is replaced only now."""
    if not (out_dir.exists() or out_dir.is_symlink()):
        os.rename(tmp, out_dir)
        return
    # Someone may have filled out_dir while we worked: check again before touching it.
    _check_target(out_dir, overwrite)
    if not any(out_dir.iterdir()):
        out_dir.rmdir()
        os.rename(tmp, out_dir)
        return
    old = _free_sibling_name(out_dir, "old")
    os.rename(out_dir, old)
    try:
        os.rename(tmp, out_dir)
    except BaseException:
        os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


# --- records -> columns -------------------------------------------------------------------

def _columns_and_rows(result: Result) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names (``record``, ``block``, then fields in first-seen order) and row dicts."""
    names: dict[str, None] = {"record": None, "block": None}
    seen_types: set[type] = set()
    rows: list[dict[str, Any]] = []
    for rec in result.records:
        cls = type(rec)
        if cls not in seen_types:
            seen_types.add(cls)
            for f in fields(rec):
                names.setdefault(f.name, None)
        rows.append(rec.as_dict())
    return list(names), rows


def _to_arrow(name: str, values: list[Any]) -> tuple[pa.Array, dict[str, Any] | None, bool]:
    """(array, pandas column metadata or None, stored-as-int-strings) for one column."""
    import pyarrow as pa  # noqa: PLC0415

    present = [v for v in values if v is not None]
    kinds = {_kind(v) for v in present}
    if not present:
        return pa.nulls(len(values), pa.null()), None, False
    if kinds == {"bool"}:
        return (pa.array(values, pa.bool_()),
                _col_meta(name, "bool", "boolean"), False)
    if kinds == {"int"}:
        lo, hi = min(present), max(present)
        if _INT64_MIN <= lo and hi <= _INT64_MAX:
            return pa.array(values, pa.int64()), _col_meta(name, "int64", "Int64"), False
        if -_DEC38_MAX <= lo and hi <= _DEC38_MAX:
            dec = [None if v is None else Decimal(v) for v in values]
            return (pa.array(dec, pa.decimal128(38, 0)),
                    _col_meta(name, "decimal", "object", {"precision": 38, "scale": 0}), False)
        return pa.array([None if v is None else str(v) for v in values], pa.string()), None, True
    if kinds <= {"int", "float"}:
        ints = [v for v in present if _kind(v) == "int"]
        if all(abs(v) <= 2**53 for v in ints):
            return (pa.array([None if v is None else float(v) for v in values], pa.float64()),
                    None, False)
    # strings, and any mixture that no numeric type holds exactly: text
    return pa.array([None if v is None else _text(v) for v in values], pa.string()), None, False


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    return "other"


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _col_meta(name: str, pandas_type: str, numpy_type: str,
              metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "field_name": name, "pandas_type": pandas_type,
            "numpy_type": numpy_type, "metadata": metadata}


def _pandas_metadata(columns: list[dict[str, Any]]) -> dict[str, Any]:
    """Just enough pandas metadata that pyarrow restores nullable Int64/boolean dtypes."""
    try:
        import pandas as pd  # noqa: PLC0415

        pandas_version = pd.__version__
    except ImportError:  # pragma: no cover - pandas is a dependency of the report extra
        pandas_version = ""
    return {"index_columns": [], "column_indexes": [], "columns": columns, "attributes": {},
            "creator": {"library": "defisim"}, "pandas_version": pandas_version}


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    return str(v)


# --- JSON ---------------------------------------------------------------------------------

def _jsonable(obj: Any) -> Any:
    """A copy of ``obj`` that ``json.dumps(..., allow_nan=False)`` accepts."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((_jsonable(v) for v in obj), key=repr)
    if isinstance(obj, Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    item = getattr(obj, "item", None)  # numpy scalars
    if callable(item) and getattr(obj, "shape", None) == ():
        return _jsonable(item())
    tolist = getattr(obj, "tolist", None)  # numpy arrays
    if callable(tolist):
        return _jsonable(tolist())
    if isinstance(obj, Iterable):
        return [_jsonable(v) for v in obj]
    return str(obj)
