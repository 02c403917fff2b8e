"""Historical price files: the shipped data, their provenance, and validation errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from defisim.errors import ScenarioError
from defisim.pricepaths import (
    ReturnsDataError,
    builtin_names,
    generate,
    load_returns_data,
    parse_price_model,
)

BUILTINS = {
    "binance-eth-btc-1h-2020-2022": (24316, "2020-01-01T00:00:00Z", "2022-10-11T10:00:00Z"),
    "binance-eth-btc-1h-2024": (6412, "2024-01-01T00:00:00Z", "2024-09-24T03:00:00Z"),
}


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_files_and_provenance(name: str) -> None:
    assert name in builtin_names()
    data = load_returns_data(f"builtin:{name}")
    rows, first, last = BUILTINS[name]
    assert data.columns == ("ETH", "BTC") and data.step_s == 3600
    assert data.prices.shape == (rows, 2) and np.all(data.prices > 0)
    assert np.all(np.diff(data.timestamps) > 0)
    text = "\n".join(data.comments)
    for needed in ("Provider: Binance", "https://github.com/", "commit ", "Date range:", first, last,
                   "Retrieved: 2026-11-21", "Licence/terms:", "https://www.binance.com/en/terms"):
        assert needed in text, needed
    path = Path(__file__).parents[3] / "defisim" / "data" / "returns" / f"{name}.csv"
    assert path.stat().st_size < 1_500_000


def test_known_prices_in_the_crashes() -> None:
    """Spot checks against the source rows (LUNA week, Black Thursday, 5 Aug 2024)."""
    def close(name: str, ts: str, col: str) -> float:
        d = load_returns_data(f"builtin:{name}")
        t = int(np.datetime64(ts.rstrip("Z"), "s").astype(np.int64))
        return float(d.prices[np.searchsorted(d.timestamps, t), d.columns.index(col)])

    assert close("binance-eth-btc-1h-2020-2022", "2022-05-12T03:00:00Z", "ETH") == 1971.56
    assert close("binance-eth-btc-1h-2020-2022", "2022-05-12T03:00:00Z", "BTC") == 28406.15
    assert close("binance-eth-btc-1h-2020-2022", "2020-03-13T01:00:00Z", "ETH") == 96.62
    assert close("binance-eth-btc-1h-2024", "2024-08-05T01:00:00Z", "ETH") == 2319.25


def test_returns_skip_gaps() -> None:
    d = load_returns_data("builtin:binance-eth-btc-1h-2020-2022")
    r = d.log_returns(("BTC", "ETH"))
    assert r.shape == (24301, 2)  # 24315 row pairs, 14 of them across a gap
    ok = np.diff(d.timestamps) == 3600
    np.testing.assert_array_equal(r[:, 1], np.diff(np.log(d.prices[:, 0]))[ok])
    assert not r.flags.writeable


def _write(tmp_path: Path, body: str, name: str = "p.csv") -> Path:
    p = tmp_path / name
    p.write_text("# test data\n" + body)
    return p


@pytest.mark.parametrize(
    ("body", "line", "column", "words"),
    [
        ("timestamp,A\n2020-01-01T01:00:00Z,1\n2020-01-01T00:00:00Z,2\n2020-01-01T02:00:00Z,2\n",
         4, "timestamp", "strictly increasing"),
        ("timestamp,A\n2020-01-01T00:00:00Z,1\n2020-01-01T01:00:00Z,-2\n2020-01-01T02:00:00Z,2\n",
         4, "A", "> 0"),
        ("timestamp,A,B\n0,1,2\n3600,1,x\n7200,1,2\n", 4, "B", "not a number"),
        ("timestamp,A\n0,1\n3600,1,4\n7200,1\n", 4, None, "expected 2 cells"),
        ("time,A\n0,1\n", 2, None, "header"),
        ("timestamp,A\nyesterday,1\n", 3, "timestamp", "ISO 8601"),
        ("timestamp,A\n0,1\n3600,2\n", None, None, "at least 3 rows"),
    ],
)
def test_file_errors_name_file_line_column(
    tmp_path: Path, body: str, line: int | None, column: str | None, words: str
) -> None:
    p = _write(tmp_path, body)
    with pytest.raises(ReturnsDataError) as info:
        load_returns_data(str(p))
    err = info.value
    assert err.row == line and err.column == column and words in str(err)
    assert str(p) in str(err)


def test_missing_column_and_unknown_builtin_are_field_errors() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_price_model({"model": "bootstrap", "data": "builtin:binance-eth-btc-1h-2024",
                           "assets": {"WETH": {"start": 3000}}})
    (path, msg), = info.value.problems
    assert path == "bootstrap.assets" and "WETH -> column 'WETH'" in msg and "['ETH', 'BTC']" in msg
    with pytest.raises(ScenarioError) as info:
        parse_price_model({"model": "bootstrap", "data": "builtin:eth", "assets": {"ETH": {"start": 1}}})
    (path, msg), = info.value.problems
    assert path == "bootstrap.data" and "binance-eth-btc-1h-2024" in msg


def _table(n: int = 200, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    p = 100 * np.exp(np.cumsum(0.01 * rng.standard_normal((n, 2)), axis=0))
    return "timestamp,X,Y\n" + "".join(f"{3600 * i},{float(a)!r},{float(b)!r}\n" for i, (a, b) in enumerate(p))


def test_relative_path_against_base_dir_and_dump_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data").mkdir()
    _write(tmp_path / "data", _table(), "mine.csv")
    raw = {"model": "bootstrap", "data": "data/mine.csv", "assets": {"A": {"column": "X", "start": 1.0}}}
    model = parse_price_model(raw, base_dir=tmp_path)
    assert model.data == (tmp_path / "data" / "mine.csv").resolve().as_posix()
    assert len(model.sha256) == 64
    monkeypatch.chdir("/")  # the dump validates again anywhere (Monte Carlo workers)
    assert parse_price_model(model.model_dump(mode="json")) == model
    with pytest.raises(ScenarioError, match="file not found"):
        parse_price_model(raw)  # relative to the working directory now


def test_scenario_loader_resolves_against_the_scenario_folder(tmp_path: Path) -> None:
    from defisim.scenario.loader import scenario_from_dict

    _write(tmp_path, _table(), "prices.csv")
    scen = tmp_path / "s.yaml"
    scen.write_text("name: x\n")
    data = {
        "name": "x", "tokens": {"A": {"decimals": 18}},
        "chain": {"gas_asset": "A"},
        "prices": {"model": "bootstrap", "data": "prices.csv", "assets": {"A": {"column": "X", "start": 1.0}}},
    }
    s = scenario_from_dict(data, source=str(scen))
    assert s.prices.data == (tmp_path / "prices.csv").resolve().as_posix()


def test_pinned_and_changed_file(tmp_path: Path) -> None:
    p = _write(tmp_path, _table())
    model = parse_price_model({"model": "bootstrap", "data": str(p), "assets": {"A": {"column": "X", "start": 1.0}}})
    with pytest.raises(ScenarioError, match="the file changed"):
        parse_price_model({**model.model_dump(mode="json"), "sha256": "0" * 64})
    _write(tmp_path, _table(seed=1))
    with pytest.raises(ScenarioError) as info:
        generate(model, 10, 12, np.random.default_rng(0))
    (path, msg), = info.value.problems
    assert path == "data" and "changed since the model was validated" in msg
