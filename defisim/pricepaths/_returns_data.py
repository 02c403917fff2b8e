"""Historical price files for the data-driven price models (``garch`` fits, ``bootstrap``).

File format (CSV, UTF-8)::

    # any number of comment lines: source, provider, date range, retrieval date, licence
    timestamp,ETH,BTC
    2020-01-01T00:00:00Z,128.87,7177.02
    2020-01-01T01:00:00Z,130.64,7216.27

- Lines starting with ``#`` (and blank lines) are comments. The first other line is the
  header: ``timestamp`` then one column per asset (the names scenarios refer to).
- ``timestamp``: ISO 8601 (``2020-01-01T00:00:00Z``; a time without zone is read as UTC)
  or integer Unix seconds; strictly increasing.
- Prices: USD (or a USD stablecoin) per whole token, finite and > 0, no empty cells.
- The data step (``step_s``, seconds) is the most common gap between consecutive rows
  (ties: the shorter). Log returns are taken only between rows exactly one step apart; a
  longer gap (an exchange outage) contributes no return, so the return series joins the
  pieces on either side of it.

A reference is ``builtin:<name>`` (the file ``defisim/data/returns/<name>.csv`` shipped in
the package) or a path; a relative path is resolved against ``base_dir`` (the scenario's
folder when the scenario loader knows it) or else the working directory. Parsed files are
cached by their SHA-256 digest, so a file is read once per process however many paths are
generated.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np

from defisim.errors import DefisimError

__all__ = [
    "BUILTIN_PREFIX",
    "ReturnsData",
    "ReturnsDataError",
    "builtin_names",
    "load_returns_data",
    "resolve_reference",
]

#: Prefix of references to data files shipped in the package.
BUILTIN_PREFIX = "builtin:"
_BUILTIN_DIR = ("data", "returns")


class ReturnsDataError(DefisimError, ValueError):
    """A historical price file is missing or malformed.

    ``file`` is the file as given, ``row`` its 1-based line number (``None`` when the
    problem is not on one line) and ``column`` the column name (or ``None``).
    """

    def __init__(self, file: str, message: str, row: int | None = None, column: str | None = None) -> None:
        self.file, self.row, self.column = file, row, column
        where = file
        if row is not None:
            where += f", line {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True, eq=False)
class ReturnsData:
    """A parsed price file.

    ``timestamps``: Unix seconds (int64), strictly increasing. ``prices[i, c]``: price of
    ``columns[c]`` at row ``i``, USD per whole token (float64, read-only). ``step_s``: the
    data step in seconds. ``digest``: SHA-256 (hex) of the file's bytes. ``comments``: the
    comment lines (without ``#``), which state the data's source and terms.
    """

    source: str
    digest: str
    columns: tuple[str, ...]
    timestamps: np.ndarray
    prices: np.ndarray
    step_s: int
    comments: tuple[str, ...] = field(default=())

    def column_index(self, name: str) -> int:
        """Position of column ``name``; :class:`ReturnsDataError` listing the columns."""
        try:
            return self.columns.index(name)
        except ValueError:
            raise ReturnsDataError(
                self.source, f"no column {name!r}; the file has {list(self.columns)}"
            ) from None

    def log_returns(self, columns: tuple[str, ...]) -> np.ndarray:
        """Log returns of ``columns`` over one data step, shape ``(n_returns, len(columns))``.

        Only pairs of rows exactly ``step_s`` apart give a return (same rows for every
        column, so cross-correlation is kept). Read-only; cached per column tuple.
        """
        return _log_returns(self, tuple(columns))


def builtin_names() -> list[str]:
    """Names of the data files shipped in the package (``builtin:<name>``)."""
    folder = resources.files("defisim").joinpath(*_BUILTIN_DIR)
    if not folder.is_dir():
        return []
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".csv"))


def resolve_reference(ref: str, base_dir: str | os.PathLike[str] | None = None) -> str:
    """Canonical form of a data reference: ``builtin:<name>`` or an absolute POSIX path.

    Raises :class:`ReturnsDataError` for an unknown built-in name (listing the known ones)
    or a file that does not exist.
    """
    text = ref.strip()
    if text.startswith(BUILTIN_PREFIX):
        name = text[len(BUILTIN_PREFIX):].strip()
        known = builtin_names()
        if name not in known:
            raise ReturnsDataError(text, f"no built-in data set {name!r}; known: {known}")
        return BUILTIN_PREFIX + name
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = Path(base_dir if base_dir is not None else os.getcwd()) / path
    path = path.resolve()
    if not path.is_file():
        raise ReturnsDataError(text, f"file not found (looked at {path.as_posix()})")
    return path.as_posix()


def load_returns_data(ref: str, base_dir: str | os.PathLike[str] | None = None) -> ReturnsData:
    """Read and validate a price file (see the module docstring).

    Cached: by content digest, and by path, modification time and size, so a file that has
    not changed is neither read nor parsed again in this process.
    """
    canonical = resolve_reference(ref, base_dir)
    key = _stat_key(canonical)
    known = _BY_STAT.get(key)
    if known is not None and known in _BY_DIGEST:
        return _BY_DIGEST[known]
    raw = _read_bytes(canonical)
    digest = hashlib.sha256(raw).hexdigest()
    data = _BY_DIGEST.get(digest)
    if data is None:
        data = _parse(raw, canonical, digest)
        if len(_BY_DIGEST) >= _CACHE_SIZE:
            _BY_DIGEST.clear()
        _BY_DIGEST[digest] = data
    if len(_BY_STAT) >= _CACHE_SIZE:
        _BY_STAT.clear()
    _BY_STAT[key] = digest
    return data


_CACHE_SIZE = 16
_BY_DIGEST: dict[str, ReturnsData] = {}
_BY_STAT: dict[tuple[object, ...], str] = {}


def _stat_key(canonical: str) -> tuple[object, ...]:
    if canonical.startswith(BUILTIN_PREFIX):
        return (canonical,)
    try:
        st = os.stat(canonical)
    except OSError as exc:
        raise ReturnsDataError(canonical, f"cannot read: {exc}") from None
    return (canonical, st.st_mtime_ns, st.st_size)


def _read_bytes(canonical: str) -> bytes:
    try:
        if canonical.startswith(BUILTIN_PREFIX):
            name = canonical[len(BUILTIN_PREFIX):]
            return resources.files("defisim").joinpath(*_BUILTIN_DIR, f"{name}.csv").read_bytes()
        return Path(canonical).read_bytes()
    except OSError as exc:
        raise ReturnsDataError(canonical, f"cannot read: {exc}") from None


def _parse_time(text: str, source: str, line: int) -> int:
    s = text.strip()
    if s.lstrip("-").isdigit():
        return int(s)
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        raise ReturnsDataError(
            source, f"cannot read timestamp {text!r}; expected ISO 8601 (2020-01-01T00:00:00Z) "
            "or Unix seconds", row=line, column="timestamp",
        ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp())


def _parse(raw: bytes, source: str, digest: str) -> ReturnsData:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReturnsDataError(source, f"not UTF-8 text: {exc}") from None
    comments: list[str] = []
    header: list[str] | None = None
    times: list[int] = []
    values: list[list[float]] = []
    for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if row[0].lstrip().startswith("#"):
            comments.append(",".join(row).lstrip()[1:].strip())
            continue
        if header is None:
            header = [cell.strip() for cell in row]
            if len(header) < 2 or header[0].lower() != "timestamp":
                raise ReturnsDataError(
                    source, f"header must be 'timestamp,<column>,...'; got {','.join(header)!r}",
                    row=line_no,
                )
            dupes = sorted({c for c in header if header.count(c) > 1})
            if dupes or any(not c for c in header):
                raise ReturnsDataError(
                    source, f"column names must be unique and non-empty; got {header}", row=line_no
                )
            continue
        if len(row) != len(header):
            raise ReturnsDataError(
                source, f"expected {len(header)} cells ({','.join(header)}), got {len(row)}",
                row=line_no,
            )
        t = _parse_time(row[0], source, line_no)
        if times and t <= times[-1]:
            raise ReturnsDataError(
                source, f"timestamps must be strictly increasing: {row[0].strip()!r} is not after "
                "the previous row", row=line_no, column="timestamp",
            )
        prices: list[float] = []
        for name, cell in zip(header[1:], row[1:]):
            try:
                p = float(cell)
            except ValueError:
                raise ReturnsDataError(
                    source, f"price {cell.strip()!r} is not a number", row=line_no, column=name
                ) from None
            if not math.isfinite(p) or p <= 0:
                raise ReturnsDataError(
                    source, f"price {cell.strip()!r} must be finite and > 0 (USD per whole token)",
                    row=line_no, column=name,
                )
            prices.append(p)
        times.append(t)
        values.append(prices)
    if header is None:
        raise ReturnsDataError(source, "no header line ('timestamp,<column>,...') and no data")
    if len(times) < 3:
        raise ReturnsDataError(source, f"needs at least 3 rows of prices, got {len(times)}")
    ts = np.array(times, dtype=np.int64)
    gaps = np.diff(ts)
    uniq, counts = np.unique(gaps, return_counts=True)
    step = int(uniq[np.argmax(counts)])  # np.unique sorts, argmax takes the first: ties -> shorter
    arr = np.array(values, dtype=np.float64)
    ts.flags.writeable = False
    arr.flags.writeable = False
    return ReturnsData(
        source=source, digest=digest, columns=tuple(header[1:]), timestamps=ts, prices=arr,
        step_s=step, comments=tuple(comments),
    )


@functools.lru_cache(maxsize=32)
def _log_returns(data: ReturnsData, columns: tuple[str, ...]) -> np.ndarray:
    idx = [data.column_index(c) for c in columns]
    ok = np.diff(data.timestamps) == data.step_s
    out = np.diff(np.log(data.prices[:, idx]), axis=0)[ok]
    out.flags.writeable = False
    return out
