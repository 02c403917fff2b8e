"""``defisim check`` and ``defisim schema``: exit codes and what the user sees on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from defisim.cli.main import EXIT_BAD_INPUT, app, default_scenario

runner = CliRunner()


def _flat(text: str) -> str:
    """Output with line wrapping undone (rich wraps long lines at the terminal width)."""
    return " ".join(text.split())


@pytest.fixture
def default_text() -> str:
    return default_scenario().read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_default_scenario_exits_0() -> None:
    result = runner.invoke(app, ["check", str(default_scenario())])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output and "two-pools-eth-crash" in result.output


def test_check_bad_reserve_exits_2_with_path_and_message(tmp_path: Path, default_text: str) -> None:
    path = _write(tmp_path, default_text.replace("liquidation_threshold: 0.825", "liquidation_threshold: 1.2", 1))
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == EXIT_BAD_INPUT == 2
    out = _flat(result.output)
    assert "protocols.0.reserves.WETH.liquidation_threshold" in out
    assert "[0, 1]" in out
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_check_reports_every_problem(tmp_path: Path, default_text: str) -> None:
    data = yaml.safe_load(default_text)
    data["colour"] = "blue"
    data["oracles"][0]["kind"] = "chainlnk"
    data["protocols"][1]["oracles"]["WETH"] = "nowhere"
    result = runner.invoke(app, ["check", str(_write(tmp_path, yaml.safe_dump(data)))])
    assert result.exit_code == 2
    out = _flat(result.output)
    assert "3 problem(s)" in out
    assert "colour" in out and "unknown key" in out
    assert "oracles.0.kind" in out and "did you mean 'chainlink'" in out
    assert "protocols.1.oracles.WETH" in out and "no oracle named 'nowhere'" in out
    assert "Traceback" not in result.output


def test_check_malformed_yaml_exits_2_with_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(_write(tmp_path, "name: x\ntokens: [WETH\n"))])
    assert result.exit_code == 2
    assert "malformed YAML" in result.output and "line" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("text", ["- just\n- a list\n", "", "name: x\nname: y\n"])
def test_check_other_bad_files_exit_2(tmp_path: Path, text: str) -> None:
    result = runner.invoke(app, ["check", str(_write(tmp_path, text))])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_check_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "not found" in result.output
    assert "Traceback" not in result.output


def test_check_bad_toml_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(_write(tmp_path, "name = \n", name="bad.toml"))])
    assert result.exit_code == 2
    assert "malformed TOML" in result.output


def test_run_on_bad_input_leaves_no_output_folder(tmp_path: Path, default_text: str) -> None:
    path = _write(tmp_path, default_text.replace('"2000 WETH"', '"-5 WETH"'))
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    assert "protocols.0.suppliers.WETH" in _flat(result.output)
    assert "Traceback" not in result.output
    assert not out.exists()


def test_schema_prints_json_that_parses() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "protocols" in schema["properties"]
