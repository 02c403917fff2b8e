"""defisim.report: results folder (Parquet, CSV, JSON, PNG), atomic writes, plots.

The results here are synthetic (built from records by hand), so the tests depend on neither
the default scenario nor the engine, only on the record types and :class:`Result`.
"""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from defisim.engine.records import (
    ArbitrageExecuted,
    BadDebtRealized,
    BadDebtSocialized,
    BlockBuilt,
    HealthSampled,
    InsuranceFundDrawn,
    InsuranceFundFunded,
    LiquidationRefused,
    PositionLiquidated,
    PriceUpdated,
    RecordLog,
    SwapExecuted,
    TokensBurned,
)
from defisim.errors import OutputError
from defisim.pricepaths import PricePaths
from defisim.report import (
    RESULT_FILES,
    files,
    plot_health,
    plot_prices,
    plot_solvency,
    read_records,
    write_results,
)
from defisim.results import PoolInfo, Result

BIG = 2**64 + 12_345  # beyond int64 and uint64
HUGE_NEG = -(2**70) - 7
E18, E6, E8 = 10**18, 10**6, 10**8
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- a synthetic run: WETH crashes 3000 -> 1800 over blocks 50..350 of 600 ----------------

def make_result(*, liquidations: bool = True, blocks: int = 600) -> Result:
    """A small but complete Result: oracle rounds, swaps, health samples, funds, burns."""
    scenario = SimpleNamespace(
        name="synthetic-crash",
        chain=SimpleNamespace(block_time_s=12),
        tokens={"WETH": SimpleNamespace(decimals=18), "USDC": SimpleNamespace(decimals=6),
                "AAVE": SimpleNamespace(decimals=18)},
        oracles=[SimpleNamespace(name="eth-usd", asset="WETH"),
                 SimpleNamespace(name="usdc-usd", asset="USDC")],
        protocols=[
            SimpleNamespace(name="aave", insurance_fund=SimpleNamespace(asset="USDC", initial=250_000 * E6)),
            SimpleNamespace(name="spark", insurance_fund=SimpleNamespace(asset="USDC", initial=50_000 * E6)),
        ],
    )
    t = np.arange(blocks + 1)
    weth = np.where(t < 50, 3000.0, np.where(t < 350, 3000.0 * (0.6 ** ((t - 50) / 300)), 1800.0))
    weth = np.where(t > 450, 1800 + (t - 450) * 2.0, weth)
    reference = PricePaths(("WETH", "USDC"), np.vstack([weth, np.ones_like(weth)]), 12)

    log = RecordLog()
    pools = {"weth-usdc": PoolInfo("WETH", "USDC", 18, 6, (4000 * E18, 12_000_000 * E6)),
             "aave-weth": PoolInfo("AAVE", "WETH", 18, 18, (150_000 * E18, 4500 * E18))}
    log.append(PriceUpdated(0, "eth-usd", "WETH", 3000 * E8, 1, "initial"))
    log.append(PriceUpdated(0, "usdc-usd", "USDC", E8, 1, "initial"))
    last, rnd = 3000.0, 1
    k = 4000 * E18 * 12_000_000 * E6
    health = {"aave": 1.6, "spark": 1.4}
    for b in range(1, blocks + 1):
        ref = float(weth[b])
        lagged = float(weth[max(b - 3, 0)])
        log.append(BlockBuilt(b, 12 * 10**9, 15_000_000, 100_000, 1, 0))
        if abs(lagged / last - 1) >= 0.005:
            rnd += 1
            last = lagged
            log.append(PriceUpdated(b, "eth-usd", "WETH", round(lagged * E8), rnd, "deviation"))
        if b % 5 == 0:
            amm = ref * 1.003  # AMM lags a little above the reference
            r0 = int((k / (amm * E6 / E18)) ** 0.5)
            r1 = k // r0
            log.append(SwapExecuted(b, "weth-usdc", "arb", "WETH", 10 * E18, "USDC", 10 * E6, r0, r1))
            log.append(ArbitrageExecuted(b, "weth-usdc", "arb", "WETH", 10 * E18, "USDC",
                                         10 * E6, -3 * E8 if b % 2 else 5 * E8, E8))
        crash = 50 < b < 380
        if liquidations and crash and b % 3 == 0:
            for proto in ("aave", "spark"):
                log.append(PositionLiquidated(
                    b, proto, "alpha", f"{proto}-borrower-{b}", "WETH", "USDC",
                    20_000 * E6, 7 * E18, E18 // 10, 97 * E18 // 100, 105 * E18 // 100,
                    20_000 * E8, 21_000 * E8, 500 * E8, 2 * E8))
            if b % 30 == 0:
                log.append(LiquidationRefused(b, "spark", "bravo", f"spark-borrower-{b}", "too late", E8))
        if b % 25 == 0:
            for proto, h0 in health.items():
                drop = ref / 3000.0
                p = np.array([0.95, 1.05, 1.4, 2.5]) * drop / 0.6 * h0 / 1.5
                liq = int(max(0.0, (1.0 - p[0]) * 400)) if liquidations or not crash else 0
                log.append(HealthSampled(b, proto, 1500 - b // 10, liq, float(p[0]), float(p[1]),
                                         float(p[2]), 1e9 if b % 100 == 0 else float(p[3]), liq * 3))
            if liquidations and crash:
                log.append(InsuranceFundFunded(b, "aave", "USDC", 1_000 * E6, "fees", 250_000 * E6 + b * E6))
                log.append(TokensBurned(b, "aave", "AAVE", BIG + b, "WETH", E18, 16_000_000 * E18 - b * E18))
        if liquidations and b in (200, 260, 320):
            log.append(BadDebtRealized(b, "spark", f"spark-borrower-{b}", "USDC", 40_000 * E6, 40_000 * E8))
            drawn = 25_000 if b < 320 else 0
            if drawn:
                log.append(InsuranceFundDrawn(b, "spark", "USDC", drawn * E6, drawn * E8,
                                              (50_000 - drawn * (1 + (b == 260))) * E6))
            log.append(BadDebtSocialized(b, "spark", "USDC", (40_000 - drawn) * E6, (40_000 - drawn) * E8))
    return Result(
        scenario=scenario,  # type: ignore[arg-type]
        seed=7, blocks=blocks, records=log, reference=reference, pools=pools,
        protocols=["aave", "spark"], gas_spent_usd={"alpha": 10 * E8},
        token_supply={"AAVE": 16_000_000 * E18, "WETH": 10**6 * E18},
        meta={"scenario_digest": "abc123", "version": "0+test", "seconds_run": 0.1},
    )


def tiny_result(records: list) -> Result:
    """A minimal Result around the given records (for exact-value column tests)."""
    log = RecordLog()
    for r in records:
        log.append(r)
    base = make_result(liquidations=False, blocks=10)
    return Result(scenario=base.scenario, seed=1, blocks=10, records=log, reference=base.reference,
                  pools={}, protocols=["aave"], gas_spent_usd={}, token_supply={}, meta={})


@pytest.fixture(scope="module")
def result() -> Result:
    return make_result()


@pytest.fixture(scope="module")
def calm_result() -> Result:
    return make_result(liquidations=False)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _assert_png(path: Path, min_px: tuple[int, int] = (1600, 1000)) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 20_000  # a real plot, not an empty canvas
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert (width, height) >= min_px


# --- the folder -------------------------------------------------------------------------

def test_write_results_writes_every_file(result: Result, tmp_path: Path) -> None:
    out = tmp_path / "run"
    written = write_results(result, out)
    assert written == [out / rel for rel in RESULT_FILES]
    for p in written:
        assert p.is_file() and p.stat().st_size > 0, p
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no .partial- left
    for name in ("prices", "health", "solvency"):
        _assert_png(out / "plots" / f"{name}.png")


def test_write_results_into_existing_empty_folder(calm_result: Result, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    write_results(calm_result, out)
    assert (out / "summary.json").is_file()


def test_summary_json_has_summary_and_meta_sorted(result: Result, tmp_path: Path) -> None:
    write_results(result, tmp_path / "run")
    text = (tmp_path / "run" / "summary.json").read_text()
    data = json.loads(text)
    assert data["meta"] == result.meta
    assert data["totals"] == result.summary["totals"]
    assert data["protocols"]["spark"]["bad_debt_usd"] == 120_000.0
    assert text.startswith("{\n  ")
    assert list(data) == sorted(data)
    assert "NaN" not in text and "Infinity" not in text


def test_refuses_existing_non_empty_folder_untouched(result: Result, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "records.csv").write_text("precious\n")
    (out / "notes").mkdir()
    (out / "notes" / "a.txt").write_text("keep me")
    before = _tree(out)
    called: list[str] = []
    monkeypatch.setattr(files, "write_records_parquet", lambda *a: called.append("parquet"))
    with pytest.raises(OutputError, match=str(out)):
        write_results(result, out)
    assert called == []  # refused before any work
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_refuses_a_file_in_the_way(result: Result, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.write_text("x")
    with pytest.raises(OutputError):
        write_results(result, out, overwrite=True)
    assert out.read_text() == "x"


def test_overwrite_replaces_after_success(result: Result, calm_result: Result, tmp_path: Path) -> None:
    out = tmp_path / "run"
    write_results(calm_result, out)
    (out / "stale.txt").write_text("from an older run")
    write_results(result, out, overwrite=True)
    assert not (out / "stale.txt").exists()
    assert json.loads((out / "summary.json").read_text())["totals"]["liquidations"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no .partial-/.old- left


@pytest.mark.parametrize("overwrite", [True, False])
def test_failure_mid_write_keeps_old_folder(result: Result, calm_result: Result, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, overwrite: bool) -> None:
    out = tmp_path / "run"
    if overwrite:
        write_results(calm_result, out)
    before = _tree(out) if overwrite else None

    def boom(*args: object) -> None:
        raise RuntimeError("plot failed")

    from defisim.report import plots

    monkeypatch.setattr(plots, "plot_health", boom)
    with pytest.raises(RuntimeError, match="plot failed"):
        write_results(result, out, overwrite=overwrite)
    if overwrite:
        assert _tree(out) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    else:
        assert list(tmp_path.iterdir()) == []  # no half-written folder that looks finished


# --- records.parquet ---------------------------------------------------------------------

def test_parquet_round_trips_big_and_negative_ints(tmp_path: Path) -> None:
    recs = [
        TokensBurned(1, "aave", "AAVE", BIG, "WETH", 3 * BIG, 2**100),
        TokensBurned(2, "aave", "AAVE", 1, "WETH", -(2**80), 0),
        ArbitrageExecuted(3, "p", "arb", "WETH", 10**30, "USDC", 5, -(2**63), -1),
        ArbitrageExecuted(4, "p", "arb", "WETH", 7, "USDC", 5, 2**63 - 1, HUGE_NEG),
        HealthSampled(5, "aave", 10, 1, 0.5, 0.9, 1.2, float("nan"), 2),
        PriceUpdated(6, "eth-usd", "WETH", 3000 * E8, 9, "deviation"),
    ]
    res = tiny_result(recs)
    files.write_records_parquet(res, tmp_path / "r.parquet")
    df = pd.read_parquet(tmp_path / "r.parquet")
    assert list(df["record"]) == [r.kind for r in recs]
    assert list(df.columns[:2]) == ["record", "block"]
    for i, rec in enumerate(recs):
        for name, value in rec.as_dict().items():
            got = df[name].iloc[i]
            if isinstance(value, float) and np.isnan(value):
                assert np.isnan(got)
            else:
                assert got == value, (name, got, value)
    # fields a record type lacks are null, and ints never become floats
    assert pd.isna(df["amount"].iloc[2]) and pd.isna(df["price"].iloc[0])
    assert str(df["price"].dtype) == "Int64"
    schema = pq.read_schema(tmp_path / "r.parquet")
    assert str(schema.field("amount").type) == "decimal128(38, 0)"       # holds 2**64 + ...
    assert str(schema.field("profit_usd").type) == "int64"               # fits int64 exactly
    assert str(schema.field("gas_cost_usd").type) == "decimal128(38, 0)"  # -(2**70)
    assert str(schema.field("p50").type) == "double"
    assert str(schema.field("reason").type) == "string"
    back = read_records(tmp_path / "r.parquet")
    assert back["amount"].iloc[0] == BIG and type(back["amount"].iloc[0]) is int
    assert back["paid_amount"].iloc[1] == -(2**80)
    assert back["gas_cost_usd"].iloc[3] == HUGE_NEG


def test_parquet_beyond_38_digits_is_exact_text(tmp_path: Path) -> None:
    huge = 2**255 + 1
    res = tiny_result([TokensBurned(1, "aave", "AAVE", huge, "WETH", 1, 2)])
    files.write_records_parquet(res, tmp_path / "r.parquet")
    assert read_records(tmp_path / "r.parquet")["amount"].iloc[0] == huge


def test_parquet_of_full_run_matches_records(result: Result, tmp_path: Path) -> None:
    write_results(result, tmp_path / "run")
    df = read_records(tmp_path / "run" / "records.parquet")
    assert len(df) == len(result.records)
    burned = df[df["record"] == "TokensBurned"]["amount"].tolist()
    assert burned == [r.amount for r in result.records.of_type(TokensBurned)]
    assert max(burned) > 2**64


# --- records.csv --------------------------------------------------------------------------

def test_csv_ints_are_exact_digits(tmp_path: Path) -> None:
    recs = [
        TokensBurned(1, "aave", "AAVE", BIG, "WETH", -(2**80), 10**40),
        ArbitrageExecuted(2, "p", "arb", "WETH", 10**30, "USDC", 5, -12_345, 0),
        HealthSampled(3, "aave", 10, 1, 0.1, 0.9, 1.25, 3.0, 2),
    ]
    files.write_records_csv(tiny_result(recs), tmp_path / "r.csv")
    text = (tmp_path / "r.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    assert rows[0]["amount"] == str(BIG)
    assert rows[0]["paid_amount"] == str(-(2**80))
    assert rows[0]["supply_after"] == "1" + "0" * 40
    assert rows[1]["amount_in"] == "1" + "0" * 30
    assert rows[1]["profit_usd"] == "-12345"
    assert rows[0]["profit_usd"] == ""  # a field TokensBurned lacks
    assert rows[2]["p50"] == "1.25" and rows[2]["block"] == "3"
    assert "e+" not in text and "E+" not in text
    assert int(rows[0]["amount"]) == BIG


# --- plots ----------------------------------------------------------------------------------

@pytest.mark.parametrize("plot", [plot_prices, plot_health, plot_solvency])
@pytest.mark.parametrize("liquidations", [True, False])
def test_plots_render_png(plot, liquidations: bool, result: Result, calm_result: Result,
                          tmp_path: Path) -> None:
    res = result if liquidations else calm_result
    if not liquidations:
        assert not res.records.of_type(PositionLiquidated)
        assert not res.records.of_type(BadDebtRealized)
    path = tmp_path / "plot.png"
    plot(res, path)
    _assert_png(path)


@pytest.mark.parametrize("plot", [plot_prices, plot_health, plot_solvency])
def test_plots_render_for_an_empty_log(plot, tmp_path: Path) -> None:
    res = tiny_result([])
    res.scenario = SimpleNamespace(name="empty", chain=SimpleNamespace(block_time_s=2), tokens={},
                                   oracles=[], protocols=[])
    path = tmp_path / "plot.png"
    plot(res, path)
    _assert_png(path)


def test_plots_leave_no_open_pyplot_figures(result: Result, tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    for plot in (plot_prices, plot_health, plot_solvency):
        plot(result, tmp_path / f"{plot.__name__}.png")
    assert plt.get_fignums() == before


def test_amm_prices_are_quoted_in_the_steadier_token(result: Result) -> None:
    from defisim.report.plots import _pool_base_quote

    assert _pool_base_quote(result, "WETH", "USDC") == ("WETH", "USDC")
    assert _pool_base_quote(result, "USDC", "WETH") == ("WETH", "USDC")
    assert _pool_base_quote(result, "AAVE", "WETH") == ("AAVE", "WETH")  # AAVE has no USD price
    assert _pool_base_quote(result, "AAVE", "FOO") is None
