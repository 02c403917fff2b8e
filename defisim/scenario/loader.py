"""Load scenario files (YAML or TOML) and report every problem with its field path."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from defisim.errors import ScenarioError
from defisim.scenario import registry
from defisim.scenario.models import ScenarioBase, TokenSpec, scenario_model


def load_scenario(path: str | Path) -> ScenarioBase:
    """Read, validate and cross-check a scenario file; ScenarioError lists every problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([("", f"file not found: {p}")], source=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([("", f"cannot read {p}: {exc}")], source=str(p)) from None
    data = _parse(text, p)
    return scenario_from_dict(data, source=str(p))


def _parse(text: str, path: Path) -> Any:
    if path.suffix.lower() == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError([("", f"malformed TOML: {exc}")], source=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([("", f"malformed YAML{where}: {problem}")], source=str(path)) from None


def scenario_from_dict(data: Any, source: str | None = None) -> ScenarioBase:
    """Validate a scenario given as plain data (e.g. parsed YAML) and check cross-references."""
    if not isinstance(data, dict):
        raise ScenarioError([("", "a scenario must be a mapping of sections")], source=source)
    decimals = _decimals(data)
    try:
        scenario = scenario_model().model_validate(
            data, context={"decimals": decimals, "block_time_s": _block_time(data)}
        )
    except ValidationError as exc:
        raise ScenarioError(_problems(exc, data), source=source) from None
    problems = cross_reference_problems(scenario)
    if problems:
        raise ScenarioError(problems, source=source)
    return scenario


def cross_reference_problems(scenario: ScenarioBase) -> list[tuple[str, str]]:
    """Every reference to a thing that does not exist (names, tokens, assets)."""
    problems: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for section, i, spec in scenario.components():
        here = f"{section}.{i}"
        if spec.name in seen:
            problems.append((f"{here}.name", f"name {spec.name!r} is already used by {seen[spec.name]}"))
        seen.setdefault(spec.name, here)
        for path, message in spec.check(scenario):
            problems.append((f"{here}.{path}" if path else here, message))
    for asset in scenario.prices.assets:
        if asset not in scenario.tokens:
            problems.append((f"prices.assets.{asset}", f"{asset!r} is not in tokens"))
    if scenario.chain.gas_asset not in scenario.prices.assets:
        problems.append(("chain.gas_asset", f"{scenario.chain.gas_asset!r} has no reference price in prices.assets"))
    return problems


def _decimals(data: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    tokens = data.get("tokens")
    if isinstance(tokens, dict):
        for symbol, spec in tokens.items():
            if isinstance(spec, dict):
                try:
                    out[str(symbol)] = TokenSpec.model_validate(
                        {"decimals": spec.get("decimals")}
                    ).decimals
                except ValidationError:
                    continue
    return out


def _block_time(data: dict[str, Any]) -> int:
    chain = data.get("chain")
    value = chain.get("block_time_s") if isinstance(chain, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 12


def _problems(exc: ValidationError, data: dict[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(tuple(err["loc"]))
        path = ".".join(str(x) for x in loc)
        kind = err["type"]
        if kind == "union_tag_invalid" and loc and loc[0] in registry.SECTIONS:
            tag = err.get("ctx", {}).get("tag")
            problems.append((f"{path}.kind" if path else "kind", registry.unknown_kind_message(str(loc[0]), tag)))
            continue
        if kind == "union_tag_not_found":
            problems.append((path, "missing 'kind' (what kind of component this is)"))
            continue
        if kind == "extra_forbidden":
            problems.append((path, "unknown key (not part of the schema; check spelling)"))
            continue
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        problems.append((path, message))
    return _dedupe(problems)


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-tag and validator-name steps so the path is the file's path."""
    out = [x for x in loc if not (isinstance(x, str) and x.startswith(("function-", "union[")))]
    if len(out) >= 3 and out[0] in registry.SECTIONS and isinstance(out[1], int):
        if out[2] in registry.kinds(out[0]):
            del out[2]
    if len(out) >= 2 and out[0] == "prices" and out[1] in ("scripted", "gbm", "jump-diffusion"):
        del out[1]
    return tuple(out)


def _dedupe(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out
