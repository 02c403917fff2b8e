"""The bad-input contract of scenario files.

Each test starts from the bundled default scenario (as parsed YAML), changes one thing, and
checks that :class:`~defisim.errors.ScenarioError` names the exact dotted field path of the
problem and a message with the right key words. Paths are the file's own paths: no pydantic
internals (``function-after[...]``, union tags) in them.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import defisim
from defisim.errors import DefisimError, ScenarioError
from defisim.scenario import load_scenario, scenario_from_dict

Problems = list[tuple[str, str]]


# --------------------------------------------------------------------------- helpers


def problems_of(data: Any) -> Problems:
    """The problems ScenarioError reports for ``data`` (fails the test if it validates)."""
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    problems = info.value.problems
    assert problems, "ScenarioError without problems"
    for path, message in problems:
        assert isinstance(path, str) and isinstance(message, str)
        assert "function-" not in path and "union[" not in path and "[key]" not in path, path
        assert "Value error" not in message, message
    return problems


def assert_problem(problems: Problems, path: str, *words: str) -> str:
    """Some problem has exactly ``path`` and a message containing every word (any case)."""
    at_path = [m for p, m in problems if p == path]
    assert at_path, f"no problem at {path!r}; got {problems}"
    for message in at_path:
        if all(w.lower() in message.lower() for w in words):
            return message
    raise AssertionError(f"no problem at {path!r} mentions {words}; got {at_path}")


def load_yaml_text(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Problems:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.source == str(path)
    return info.value.problems


def dump(data: dict[str, Any], tmp_path: Path, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------------ valid input


def test_default_scenario_loads(default_path: Path) -> None:
    scenario = load_scenario(default_path)
    assert scenario.name == "two-pools-eth-crash"
    assert [m.name for m in scenario.markets] == ["weth-usdc", "aave-weth", "cex"]
    assert scenario.tokens["AAVE"].genesis_supply == 15_850_000 * 10**18


def test_scenario_from_dict_matches_file(scn: dict[str, Any], default_path: Path) -> None:
    assert scenario_from_dict(scn).digest() == load_scenario(default_path).digest()


def test_scenario_error_is_a_value_error_and_defisim_error() -> None:
    err = ScenarioError([("a.b", "broken")], source="x.yaml")
    assert isinstance(err, ValueError) and isinstance(err, DefisimError)
    assert "a.b: broken" in str(err) and str(err).startswith("x.yaml")


@pytest.mark.parametrize(
    ("written", "base_units"),
    [
        ("2.5 WETH", 2_500_000_000_000_000_000),
        ("0.000000000000000001 WETH", 1),
        ("3000 WETH", 3000 * 10**18),
        (7, 7),
        (10**30, 10**30),
        ("12345", 12345),
        ("1_000", 1000),
    ],
)
def test_amounts_in_weth_parse_exactly(scn: dict[str, Any], written: Any, base_units: int) -> None:
    scn["agents"][0]["capital"]["WETH"] = written
    assert scenario_from_dict(scn).agents[0].capital["WETH"] == base_units


@pytest.mark.parametrize(
    ("written", "base_units"),
    [("1_000 USDC", 1_000_000_000), ("0.000001 USDC", 1), ("1.5 USDC", 1_500_000), ("1e3 USDC", 10**9)],
)
def test_amounts_in_usdc_parse_exactly(scn: dict[str, Any], written: Any, base_units: int) -> None:
    scn["agents"][1]["capital"]["USDC"] = written
    assert scenario_from_dict(scn).agents[1].capital["USDC"] == base_units


def test_single_amount_field_parses(scn: dict[str, Any]) -> None:
    scn["protocols"][0]["insurance_fund"]["initial"] = "0.25 USDC"
    assert scenario_from_dict(scn).protocols[0].insurance_fund.initial == 250_000


def test_yaml_merge_keys_still_work(tmp_path: Path, default_path: Path) -> None:
    # The loader rejects duplicate keys but must keep YAML's ``<<`` merge (override allowed).
    text = default_path.read_text(encoding="utf-8").replace(
        "  - kind: liquidator\n    name: bravo\n",
        "  - &bravo\n    kind: liquidator\n    name: bravo\n",
    ) + "  - <<: *bravo\n    name: delta\n"
    path = tmp_path / "merge.yaml"
    path.write_text(text, encoding="utf-8")
    agents = load_scenario(path).agents
    assert [a.name for a in agents][-2:] == ["charlie", "delta"]
    assert agents[-1].capital == agents[2].capital


def test_toml_loads_the_same_scenario(tmp_path: Path, default_path: Path) -> None:
    toml = tmp_path / "default.toml"
    toml.write_text(_to_toml(yaml.safe_load(default_path.read_text(encoding="utf-8"))), encoding="utf-8")
    assert load_scenario(toml).digest() == load_scenario(default_path).digest()


def test_toml_errors_use_the_same_paths(tmp_path: Path, scn: dict[str, Any]) -> None:
    scn["protocols"][0]["reserves"]["WETH"]["liquidation_threshold"] = 1.5
    toml = tmp_path / "bad.toml"
    toml.write_text(_to_toml(scn), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(toml)
    assert_problem(info.value.problems, "protocols.0.reserves.WETH.liquidation_threshold", "1.5", "[0, 1]")


def test_malformed_toml(tmp_path: Path) -> None:
    problems = load_yaml_text(tmp_path, 'name = "x"\ntokens = {WETH = \n', name="bad.toml")
    assert_problem(problems, "", "malformed TOML", "line 2")


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f'"{k}" = {_toml_value(x)}' for k, x in v.items()) + "}"
    raise TypeError(type(v))


def _to_toml(data: dict[str, Any]) -> str:
    """A small TOML writer, enough for scenario files (tables and arrays of tables)."""
    head, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append(f"[{key}]\n" + "".join(f'"{k}" = {_toml_value(v)}\n' for k, v in value.items()))
        elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            for item in value:
                tables.append(f"[[{key}]]\n" + "".join(f'"{k}" = {_toml_value(v)}\n' for k, v in item.items()))
        else:
            head.append(f"{key} = {_toml_value(value)}\n")
    return "".join(head) + "\n" + "\n".join(tables)


# --------------------------------------------------------------------- file and shape


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    problems = load_yaml_text(tmp_path, "name: x\ntokens:\n  WETH: {decimals: 18\nprices: {}\n")
    message = assert_problem(problems, "", "malformed YAML", "line")
    assert re.search(r"line [34]\b", message), message


def test_yaml_tab_indentation_names_the_line(tmp_path: Path) -> None:
    problems = load_yaml_text(tmp_path, "name: x\ntokens:\n\tWETH: {decimals: 18}\n")
    assert_problem(problems, "", "malformed YAML", "line 3")


def test_duplicate_yaml_key_is_rejected(tmp_path: Path, default_path: Path) -> None:
    # PyYAML alone keeps the second reserve silently; a scenario must not lose a reserve.
    text = default_path.read_text(encoding="utf-8").replace(
        "      USDC: {ltv: 0.75,", "      WETH: {ltv: 0.75,", 1
    )
    problems = load_yaml_text(tmp_path, text)
    assert_problem(problems, "", "duplicate key", "WETH", "line")


@pytest.mark.parametrize(("text", "what"), [("- a\n- b\n", "list"), ("just a string\n", "string"), ("42\n", "number")])
def test_non_mapping_document(tmp_path: Path, text: str, what: str) -> None:
    assert_problem(load_yaml_text(tmp_path, text), "", "mapping", what)


def test_empty_document(tmp_path: Path) -> None:
    assert_problem(load_yaml_text(tmp_path, "# nothing here\n"), "", "empty")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert_problem(info.value.problems, "", "not found")


@pytest.mark.parametrize("section", ["name", "tokens", "prices"])
def test_missing_required_section(scn: dict[str, Any], section: str) -> None:
    del scn[section]
    assert_problem(problems_of(scn), section, "required")


# -------------------------------------------------------------------------- unknown keys


def test_unknown_top_level_key(scn: dict[str, Any]) -> None:
    scn["protocol"] = []
    assert_problem(problems_of(scn), "protocol", "unknown key")


def test_unknown_key_in_reserve(scn: dict[str, Any]) -> None:
    scn["protocols"][0]["reserves"]["WETH"]["liquidation_treshold"] = 0.8
    assert_problem(problems_of(scn), "protocols.0.reserves.WETH.liquidation_treshold", "unknown key")


def test_unknown_key_in_market(scn: dict[str, Any]) -> None:
    scn["markets"][2]["depth"] = 5
    assert_problem(problems_of(scn), "markets.2.depth", "unknown key")


def test_unknown_key_in_chain_and_oracle(scn: dict[str, Any]) -> None:
    scn["chain"]["blocktime"] = 12
    scn["oracles"][0]["heartbeats"] = "1h"
    problems = problems_of(scn)
    assert_problem(problems, "chain.blocktime", "unknown key")
    assert_problem(problems, "oracles.0.heartbeats", "unknown key")


def test_unknown_key_in_price_asset(scn: dict[str, Any]) -> None:
    scn["prices"]["assets"]["USDC"]["sigma"] = 0.1
    assert_problem(problems_of(scn), "prices.assets.USDC.sigma", "unknown key")


# -------------------------------------------------------------------------- kinds


def test_unknown_protocol_kind_suggests_aave_v3(scn: dict[str, Any]) -> None:
    scn["protocols"][1]["kind"] = "aave-v4"
    assert_problem(problems_of(scn), "protocols.1.kind", "unknown", "aave-v4", "did you mean", "aave-v3")


def test_unknown_oracle_kind_suggests_chainlink(scn: dict[str, Any]) -> None:
    scn["oracles"][0]["kind"] = "chainlnk"
    message = assert_problem(problems_of(scn), "oracles.0.kind", "unknown", "chainlnk", "did you mean")
    assert "'chainlink'" in message.split("did you mean")[1]


def test_unknown_kind_far_from_everything_lists_the_known_kinds(scn: dict[str, Any]) -> None:
    scn["markets"][0]["kind"] = "zzzz"
    message = assert_problem(problems_of(scn), "markets.0.kind", "unknown", "zzzz", "uniswap-v2", "external-venue")
    assert "did you mean" not in message


def test_kind_in_the_wrong_section(scn: dict[str, Any]) -> None:
    scn["markets"][2]["kind"] = "chainlink"
    assert_problem(problems_of(scn), "markets.2.kind", "unknown market kind", "chainlink")


@pytest.mark.parametrize(("section", "index"), [("markets", 0), ("oracles", 1), ("protocols", 0), ("agents", 2)])
def test_missing_kind(scn: dict[str, Any], section: str, index: int) -> None:
    del scn[section][index]["kind"]
    assert_problem(problems_of(scn), f"{section}.{index}.kind", "missing", "kind")


def test_component_that_is_not_a_mapping(scn: dict[str, Any]) -> None:
    scn["markets"][1] = "weth-usdc"
    assert_problem(problems_of(scn), "markets.1", "dictionary")


def test_field_error_inside_a_tagged_component_has_a_clean_path(scn: dict[str, Any]) -> None:
    scn["oracles"][1]["deviation"] = 2
    assert_problem(problems_of(scn), "oracles.1.deviation", "less than 1")


@pytest.mark.parametrize(("model", "suggestion"), [("gbmm", "gbm"), ("scriptd", "scripted")])
def test_unknown_price_model(scn: dict[str, Any], model: str, suggestion: str) -> None:
    scn["prices"]["model"] = model
    assert_problem(problems_of(scn), "prices.model", "unknown price model", model, "did you mean", f"'{suggestion}'")


def test_missing_price_model(scn: dict[str, Any]) -> None:
    del scn["prices"]["model"]
    assert_problem(problems_of(scn), "prices.model", "missing", "model", "scripted")


# -------------------------------------------------------------------------- amounts


@pytest.mark.parametrize("written", [-5, "-5 WETH", "-5"])
def test_negative_amount(scn: dict[str, Any], written: Any) -> None:
    scn["markets"][0]["liquidity"]["WETH"] = written
    assert_problem(problems_of(scn), "markets.0.liquidity.WETH", "negative")


def test_negative_single_amount(scn: dict[str, Any]) -> None:
    scn["protocols"][0]["insurance_fund"]["initial"] = "-1 USDC"
    assert_problem(problems_of(scn), "protocols.0.insurance_fund.initial", "negative")


def test_amount_finer_than_the_token_decimals(scn: dict[str, Any]) -> None:
    scn["agents"][0]["capital"]["WETH"] = "0.0000000000000000001 WETH"
    assert_problem(problems_of(scn), "agents.0.capital.WETH", "whole number of base units", "18 decimals")


def test_amount_finer_than_usdc_decimals(scn: dict[str, Any]) -> None:
    scn["protocols"][1]["suppliers"]["USDC"] = "0.0000001 USDC"
    assert_problem(problems_of(scn), "protocols.1.suppliers.USDC", "whole number of base units", "6 decimals")


def test_fractional_base_units_string(scn: dict[str, Any]) -> None:
    scn["agents"][0]["capital"]["USDC"] = "1.5"
    assert_problem(problems_of(scn), "agents.0.capital.USDC", "1.5", "base units")


def test_float_amount_from_yaml(tmp_path: Path, default_path: Path) -> None:
    text = default_path.read_text(encoding="utf-8").replace(
        'capital: {USDC: "2000000 USDC"}', "capital: {USDC: 1.5}"
    )
    problems = load_yaml_text(tmp_path, text)
    assert_problem(problems, "agents.1.capital.USDC", "1.5", "float")


@pytest.mark.parametrize("written", [True, None, [1], ""])
def test_amount_of_the_wrong_type(scn: dict[str, Any], written: Any) -> None:
    scn["agents"][0]["capital"]["USDC"] = written
    assert_problem(problems_of(scn), "agents.0.capital.USDC", "amount")


def test_amount_in_the_wrong_token(scn: dict[str, Any]) -> None:
    scn["markets"][0]["liquidity"]["WETH"] = "5 USDC"
    assert_problem(problems_of(scn), "markets.0.liquidity.WETH", "wrong token", "USDC", "WETH")


def test_genesis_supply_in_the_wrong_token(scn: dict[str, Any]) -> None:
    scn["tokens"]["AAVE"]["genesis_supply"] = "5 WETH"
    assert_problem(problems_of(scn), "tokens.AAVE.genesis_supply", "wrong token", "WETH", "AAVE")


def test_insurance_fund_initial_in_the_wrong_token(scn: dict[str, Any]) -> None:
    scn["protocols"][0]["insurance_fund"]["initial"] = "5 WETH"  # the fund holds USDC
    assert_problem(problems_of(scn), "protocols.0.insurance_fund.initial", "wrong token", "WETH", "USDC")


def test_amount_in_an_unknown_token(scn: dict[str, Any]) -> None:
    scn["protocols"][0]["insurance_fund"]["initial"] = "5 DAI"
    assert_problem(problems_of(scn), "protocols.0.insurance_fund.initial", "unknown token", "DAI")


def test_amount_keyed_by_an_unknown_token(scn: dict[str, Any]) -> None:
    scn["agents"][1]["capital"]["DAI"] = "5 DAI"
    assert_problem(problems_of(scn), "agents.1.capital.DAI", "unknown token", "DAI")


def test_lowercase_symbol_is_an_unknown_token(scn: dict[str, Any]) -> None:
    scn["agents"][1]["capital"]["USDC"] = "5 usdc"
    assert_problem(problems_of(scn), "agents.1.capital.USDC", "unknown token", "usdc")


def test_every_bad_amount_in_one_mapping_is_reported(scn: dict[str, Any]) -> None:
    scn["agents"][0]["capital"] = {"WETH": -1, "USDC": "0.0000001 USDC", "DAI": 5}
    problems = problems_of(scn)
    assert_problem(problems, "agents.0.capital.WETH", "negative")
    assert_problem(problems, "agents.0.capital.USDC", "whole number")
    assert_problem(problems, "agents.0.capital.DAI", "unknown token")


def test_broken_token_entry_is_reported_once_not_on_every_amount(scn: dict[str, Any]) -> None:
    scn["tokens"]["WETH"]["decimals"] = -1
    problems = problems_of(scn)
    assert_problem(problems, "tokens.WETH.decimals", "greater than or equal to 0")
    assert [p for p, _ in problems] == ["tokens.WETH.decimals"], problems


def test_tokens_not_a_mapping_is_reported_once(scn: dict[str, Any]) -> None:
    scn["tokens"] = ["WETH", "USDC"]
    problems = problems_of(scn)
    assert [p for p, _ in problems] == ["tokens"], problems


def test_bad_token_symbol(scn: dict[str, Any]) -> None:
    scn["tokens"]["W ETH"] = {"decimals": 18}
    assert_problem(problems_of(scn), "tokens.W ETH", "invalid key", "pattern")


# ------------------------------------------------------------------ reserve parameters


def test_liquidation_threshold_above_100_percent(scn: dict[str, Any]) -> None:
    scn["protocols"][0]["reserves"]["WETH"]["liquidation_threshold"] = 1.05
    assert_problem(problems_of(scn), "protocols.0.reserves.WETH.liquidation_threshold", "liquidation_threshold", "[0, 1]")


def test_ltv_above_liquidation_threshold(scn: dict[str, Any]) -> None:
    scn["protocols"][0]["reserves"]["WETH"]["ltv"] = 0.83
    assert_problem(problems_of(scn), "protocols.0.reserves.WETH", "ltv", "must not exceed", "liquidation_threshold")


def test_threshold_times_bonus_above_one(scn: dict[str, Any]) -> None:
    scn["protocols"][1]["reserves"]["WETH"]["liquidation_bonus"] = 0.25  # 0.83 * 1.25 > 1
    assert_problem(problems_of(scn), "protocols.1.reserves.WETH", "liquidation_threshold * (1 + liquidation_bonus)", "exceed 1")


def test_fraction_not_whole_basis_points(scn: dict[str, Any]) -> None:
    scn["protocols"][0]["reserves"]["USDC"]["reserve_factor"] = 0.10005
    assert_problem(problems_of(scn), "protocols.0.reserves.USDC.reserve_factor", "basis points")


# ------------------------------------------------------------------ cross-references


def test_protocol_names_a_missing_oracle(scn: dict[str, Any]) -> None:
    scn["protocols"][0]["oracles"]["WETH"] = "eth-usd-v2"
    assert_problem(problems_of(scn), "protocols.0.oracles.WETH", "no oracle", "eth-usd-v2", "eth-usd")


def test_reserve_without_an_oracle(scn: dict[str, Any]) -> None:
    del scn["protocols"][1]["oracles"]["USDC"]
    assert_problem(problems_of(scn), "protocols.1.oracles", "USDC", "no oracle")


def test_reserve_of_an_unknown_token(scn: dict[str, Any]) -> None:
    scn["protocols"][0]["reserves"]["DAI"] = {"ltv": 0.7, "liquidation_threshold": 0.75, "liquidation_bonus": 0.05}
    scn["protocols"][0]["oracles"]["DAI"] = "usdc-usd"
    problems = problems_of(scn)
    assert_problem(problems, "protocols.0.reserves.DAI", "unknown token", "DAI")


def test_oracle_source_names_nothing(scn: dict[str, Any]) -> None:
    scn["oracles"][0]["source"] = "binance"
    assert_problem(problems_of(scn), "oracles.0.source", "binance", "reference")


def test_oracle_source_listed_after_it(scn: dict[str, Any]) -> None:
    scn["oracles"][0]["source"] = "usdc-usd"
    assert_problem(problems_of(scn), "oracles.0.source", "usdc-usd", "before")


def test_oracle_listed_for_the_wrong_asset(scn: dict[str, Any]) -> None:
    scn["protocols"][1]["oracles"]["WETH"] = "usdc-usd"
    assert_problem(problems_of(scn), "protocols.1.oracles.WETH", "usdc-usd", "prices USDC", "not WETH")


def test_oracle_reading_a_venue_of_another_asset(scn: dict[str, Any]) -> None:
    scn["oracles"][1]["source"] = "cex"
    assert_problem(problems_of(scn), "oracles.1.source", "cex", "WETH", "not USDC")


def test_liquidator_names_a_missing_protocol(scn: dict[str, Any]) -> None:
    scn["agents"][2]["protocols"] = ["aave", "compound"]
    assert_problem(problems_of(scn), "agents.2.protocols.1", "no protocol", "compound")


def test_arbitrageur_pool_and_venue_trade_different_tokens(scn: dict[str, Any]) -> None:
    scn["agents"][0]["pool"] = "aave-weth"
    assert_problem(problems_of(scn), "agents.0.pool", "aave-weth", "cex")


def test_arbitrageur_venue_that_is_a_pool(scn: dict[str, Any]) -> None:
    scn["agents"][0]["venue"] = "weth-usdc"
    assert_problem(problems_of(scn), "agents.0.venue", "no external-venue", "weth-usdc")


def test_market_of_an_unknown_token(scn: dict[str, Any]) -> None:
    scn["markets"][0]["tokens"] = ["WETH", "DAI"]
    scn["markets"][0]["liquidity"] = {"WETH": 1, "DAI": 1}
    problems = problems_of(scn)
    assert_problem(problems, "markets.0.liquidity.DAI", "unknown token")


@pytest.mark.parametrize(
    ("section", "index", "name", "first"),
    [("agents", 3, "alpha", "agents.1"), ("oracles", 1, "cex", "markets.2"), ("protocols", 1, "aave", "protocols.0")],
)
def test_duplicate_component_names(scn: dict[str, Any], section: str, index: int, name: str, first: str) -> None:
    scn[section][index]["name"] = name
    if section == "oracles":
        scn["protocols"][0]["oracles"]["USDC"] = scn["protocols"][1]["oracles"]["USDC"] = "cex"
    assert_problem(problems_of(scn), f"{section}.{index}.name", "already used", name, first)


def test_gas_asset_without_a_reference_price(scn: dict[str, Any]) -> None:
    scn["chain"]["gas_asset"] = "AAVE"
    assert_problem(problems_of(scn), "chain.gas_asset", "AAVE", "reference price")


def test_reference_price_for_an_unknown_token(scn: dict[str, Any]) -> None:
    scn["prices"]["assets"]["DAI"] = {"start": 1.0}
    assert_problem(problems_of(scn), "prices.assets.DAI", "not in tokens")


# -------------------------------------------------------------------------- price paths


@pytest.mark.parametrize("price", [0, -5, 0.0])
def test_price_path_to_zero_or_negative(scn: dict[str, Any], price: float) -> None:
    scn["prices"]["assets"]["WETH"]["points"][2] = ["70m", price]
    assert_problem(problems_of(scn), "prices.assets.WETH.points", "zero or negative", "point 2")


def test_price_path_short_form_to_zero(scn: dict[str, Any]) -> None:
    scn["prices"]["assets"]["WETH"] = [[0, 3000], ["1h", 0]]
    assert_problem(problems_of(scn), "prices.assets.WETH.points", "zero or negative")


def test_constant_price_zero(scn: dict[str, Any]) -> None:
    scn["prices"]["assets"]["USDC"] = {"start": 0}
    assert_problem(problems_of(scn), "prices.assets.USDC.start", "greater than 0")


def test_gbm_start_price_negative(scn: dict[str, Any]) -> None:
    scn["prices"] = {"model": "gbm", "assets": {"WETH": {"start": -5, "sigma": 0.8}, "USDC": {"start": 1, "sigma": 0}}}
    assert_problem(problems_of(scn), "prices.assets.WETH.start", "greater than 0")


@pytest.mark.parametrize(
    "points",
    [
        [[0, 3000], ["70m", 1800], ["10m", 3000]],  # durations out of order
        [[0, 3000], [300, 1800], [300, 2000]],  # equal block numbers
        [[0, 3000], [600, 1800], ["1h", 2000]],  # 1h is block 300 at 12 s blocks
    ],
)
def test_non_increasing_scripted_times(scn: dict[str, Any], points: list[Any]) -> None:
    scn["prices"]["assets"]["WETH"]["points"] = points
    assert_problem(problems_of(scn), "prices.assets.WETH.points", "strictly increasing")


def test_durations_colliding_on_one_block_depend_on_block_time(scn: dict[str, Any]) -> None:
    scn["prices"]["assets"]["WETH"]["points"] = [[0, 3000], ["60s", 2000], ["70s", 1900]]
    scenario_from_dict(copy.deepcopy(scn))  # 12 s blocks: blocks 5 and 6
    scn["chain"]["block_time_s"] = 30  # blocks 2 and 2
    assert_problem(problems_of(scn), "prices.assets.WETH.points", "strictly increasing", "30 s blocks")


# -------------------------------------------------------------------- several at once


def test_several_problems_are_all_reported(scn: dict[str, Any]) -> None:
    scn["colour"] = "blue"  # unknown top-level key
    scn["protocols"][0]["reserves"]["WETH"]["ltv"] = 0.9  # ltv above lt
    scn["markets"][0]["liquidity"]["WETH"] = "-1 WETH"  # negative
    scn["oracles"][0]["kind"] = "chainlnk"  # unknown kind
    scn["agents"][2]["protocols"] = ["nowhere"]  # missing reference, in a component that validates
    scn["prices"]["assets"]["WETH"]["points"][1] = ["10m", -1]  # price below zero
    problems = problems_of(scn)
    assert_problem(problems, "colour", "unknown key")
    assert_problem(problems, "protocols.0.reserves.WETH", "ltv")
    assert_problem(problems, "markets.0.liquidity.WETH", "negative")
    assert_problem(problems, "oracles.0.kind", "did you mean")
    assert_problem(problems, "prices.assets.WETH.points", "zero or negative")
    assert len(problems) == 5, problems  # the reference check needs valid prices and tokens


def test_reference_problems_reported_with_schema_problems(scn: dict[str, Any]) -> None:
    scn["colour"] = "blue"
    scn["markets"][0]["fee_bps"] = -1  # component with a schema problem
    scn["agents"][2]["protocols"] = ["nowhere"]  # reference problem in a valid component
    scn["protocols"][1]["oracles"]["WETH"] = "usdc-usd"  # wrong asset
    scn["agents"][0]["pool"] = "weth-usdc"  # references the broken market: no false alarm
    problems = problems_of(scn)
    assert_problem(problems, "colour", "unknown key")
    assert_problem(problems, "markets.0.fee_bps", "greater than or equal to 0")
    assert_problem(problems, "agents.2.protocols.0", "no protocol", "nowhere")
    assert_problem(problems, "protocols.1.oracles.WETH", "prices USDC")
    assert not [p for p, _ in problems if p.startswith("agents.0")], problems
    assert len(problems) == 4, problems


def test_reference_paths_keep_file_indices_when_an_earlier_component_is_broken(scn: dict[str, Any]) -> None:
    scn["agents"][0]["gas"] = 5  # agents.0 broken (below 21000)
    scn["agents"][3]["protocols"] = ["nowhere"]
    problems = problems_of(scn)
    assert_problem(problems, "agents.0.gas", "greater than or equal to 21000")
    assert_problem(problems, "agents.3.protocols.0", "no protocol", "nowhere")


def test_nameless_broken_component_suppresses_reference_guesses(scn: dict[str, Any]) -> None:
    scn["markets"][2] = "cex"  # the venue the arbitrageur and the oracle read
    problems = problems_of(scn)
    assert [p for p, _ in problems] == ["markets.2"], problems


def test_error_string_lists_every_problem(scn: dict[str, Any], tmp_path: Path) -> None:
    scn["protocols"][0]["reserves"]["WETH"]["liquidation_threshold"] = 2
    scn["chain"]["gas_asset"] = "AAVE"
    path = dump(scn, tmp_path)
    with pytest.raises(ScenarioError) as info:
        defisim.load_scenario(path)
    text = str(info.value)
    assert str(path) in text
    assert "protocols.0.reserves.WETH.liquidation_threshold" in text


def test_error_is_raised_without_a_chained_pydantic_traceback(scn: dict[str, Any]) -> None:
    scn["markets"][0]["fee_bps"] = "lots"
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(scn)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_base_fee_below_one_wei_is_rejected(scn: dict) -> None:
    scn["chain"]["base_fee_gwei"] = 1e-12
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(scn)
    assert any(path == "chain.base_fee_gwei" for path, _ in info.value.problems)
