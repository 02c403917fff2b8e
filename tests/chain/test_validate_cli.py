"""``defisim validate`` end to end on the bundled validation scenarios (real contracts on Anvil).

Each bundled scenario must replay on chain with 0 mismatches and at least one liquidation;
a simulator with a deliberately wrong liquidation incentive must be caught (exit 1, the
differing fields marked).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from defisim.cli.main import app

runner = CliRunner()
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "validation"
_MARKED = re.compile(r"│\s*NO\s*│")  # a row whose values differ
_LEGEND_NE = 2  # "a ≠ b = simulator ≠ chain" in each liquidation table's title
_SUMMARY = re.compile(r"│\s*(\S+)\s*│\s*(aave-v3\.\d|morpho-blue)\s*│\s*(\d+)\s*│\s*(\d+)\s*│\s*(\d+)\s*│")


def _validate(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("COLUMNS", "200")  # one summary row per protocol, unwrapped
    result = runner.invoke(app, ["validate", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("name, family", [
    ("aave_v36.yaml", "aave-v3.6"),
    ("aave_v30.yaml", "aave-v3.0"),
    ("morpho_blue.yaml", "morpho-blue"),
])
def test_bundled_scenario_validates_with_zero_mismatches(
    name: str, family: str, monkeypatch: pytest.MonkeyPatch, record_property
) -> None:
    code, out = _validate(monkeypatch, str(SCENARIOS / name))
    assert code == 0, out[-3000:]
    rows = _SUMMARY.findall(out)
    assert [r[1] for r in rows] == [family], out[-3000:]
    _protocol, _family, liquidations, actions, mismatches = rows[0]
    record_property("liquidations", int(liquidations))
    assert int(mismatches) == 0
    assert int(liquidations) > 0 and int(actions) > int(liquidations)
    match = re.search(r"match: (\d+) liquidation\(s\)", " ".join(out.split()))
    assert match is not None and int(match.group(1)) == int(liquidations), out[-2000:]
    assert "mismatch(es)" not in out and not _MARKED.search(out)
    assert out.count("≠") == _LEGEND_NE


def test_wrong_simulator_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A liquidation incentive factor 0.01 % too high in the model: validate exits 1 and marks
    the liquidation amounts and the final state that differ."""
    from defisim.engine.protocols.morpho_blue import morpho

    right = morpho.liquidation_incentive_factor
    monkeypatch.setattr(morpho, "liquidation_incentive_factor", lambda lltv: right(lltv) + 10**14)
    code, out = _validate(monkeypatch, str(SCENARIOS / "morpho_blue.yaml"), "--blocks", "120")
    assert code == 1, out[-3000:]
    (row,) = _SUMMARY.findall(out)
    assert int(row[2]) > 0 and int(row[4]) > 0  # liquidations replayed, mismatches counted
    assert f"{row[4]} mismatch(es)" in " ".join(out.split())
    assert out.count("≠") > _LEGEND_NE and _MARKED.search(out)  # values side by side, rows marked


def test_missing_anvil_is_a_clean_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFISIM_ANVIL", "/nonexistent/anvil")
    code, out = _validate(monkeypatch, str(SCENARIOS / "morpho_blue.yaml"))
    assert code == 2
    assert "Anvil not found" in out and "npm ci" in out
    assert "Traceback" not in out


def test_what_cannot_be_replayed_is_refused_by_name(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    text = (SCENARIOS / "aave_v36.yaml").read_text()
    # the same scenario with treasury collection on: validate must say what it cannot replay
    text = text.replace("treasury_every_blocks: 100000", "treasury_every_blocks: 5")
    bad = tmp_path / "collects.yaml"
    bad.write_text(text)
    code, out = _validate(monkeypatch, str(bad))
    assert code == 2
    assert "treasury collection" in out and "treasury_every_blocks" in out
    assert "Traceback" not in out
