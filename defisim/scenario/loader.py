"""Load scenario files (YAML or TOML) and report every problem with its field path."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from defisim.errors import ScenarioError
from defisim.pricepaths import PriceModel
from defisim.scenario import registry
from defisim.scenario.models import ScenarioBase, TokenSpec, scenario_model


def read_input_file(path: str | Path, error: type[ScenarioError] = ScenarioError) -> str:
    """The UTF-8 text of an input file (scenario, graph file); a missing or unreadable file
    raises ``error`` (a :class:`ScenarioError` subclass) naming the file."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error([("", f"file not found: {p}")], source=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error([("", f"cannot read {p}: {exc}")], source=str(p)) from None


def load_scenario(path: str | Path) -> ScenarioBase:
    """Read, validate and cross-check a scenario file; ScenarioError lists every problem."""
    p = Path(path)
    text = read_input_file(p)
    data = _parse(text, p)
    return scenario_from_dict(data, source=str(p))


def _parse(text: str, path: Path) -> Any:
    if path.suffix.lower() == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError([("", f"malformed TOML: {exc}")], source=str(path)) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([("", f"malformed YAML{where}: {problem}")], source=str(path)) from None


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that rejects a key given twice in one mapping.

    (Plain PyYAML keeps the last value silently, so a second ``WETH:`` reserve would replace
    the first without a word.)
    """


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # keys merged in with ``<<`` may be overridden; that is YAML's intent
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.get(key)
        except TypeError:  # unhashable key; SafeLoader reports it below
            continue
        if first is not None:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"duplicate key {key!r} (first given at line {first.line + 1})", key_node.start_mark,
            )
        seen[key] = key_node.start_mark
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def scenario_from_dict(data: Any, source: str | None = None) -> ScenarioBase:
    """Validate a scenario given as plain data (e.g. parsed YAML) and check cross-references."""
    if data is None:
        raise ScenarioError([("", "the scenario is empty; expected a mapping of sections "
                                  "(name, tokens, prices, markets, ...)")], source=source)
    if not isinstance(data, dict):
        raise ScenarioError([("", f"a scenario must be a mapping of sections, got a "
                                  f"{_type_name(data)}")], source=source)
    context = _context(data)
    context["base_dir"] = str(Path(source).parent) if source and Path(source).is_file() else None
    early = _token_problems(data)
    try:
        scenario = scenario_model().model_validate(data, context=context)
    except ValidationError as exc:
        problems = _problems(exc, data)
        # Reference checks need a valid model; check the parts that did validate so one
        # run reports reference problems too, not only after the schema problems are fixed.
        problems += _partial_cross_reference_problems(exc, data, context)
        raise ScenarioError(_dedupe(early + problems), source=source) from None
    problems = early + cross_reference_problems(scenario)
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


def _type_name(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _context(data: dict[str, Any]) -> dict[str, Any]:
    """Validation context: token decimals, tokens whose entry is broken, block time."""
    decimals = _decimals(data)
    tokens = data.get("tokens")
    if isinstance(tokens, dict):
        unchecked = {str(t) for t in tokens if str(t) not in decimals}
    else:
        unchecked = {"*"}  # no usable token table: its own problem is reported
    return {"decimals": decimals, "unchecked_tokens": unchecked, "block_time_s": _block_time(data)}


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


def _token_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """``genesis_supply: "5 WETH"`` under ``AAVE``: the amount must be in its own token.

    (``TokenSpec`` does not know its own symbol, so this is checked on the raw data.)
    """
    problems: list[tuple[str, str]] = []
    tokens = data.get("tokens")
    if not isinstance(tokens, dict):
        return problems
    known = {str(t) for t in tokens}
    for symbol, spec in tokens.items():
        raw = spec.get("genesis_supply") if isinstance(spec, dict) else None
        if isinstance(raw, str):
            parts = raw.split()
            if len(parts) == 2 and parts[1] in known and parts[1] != symbol:
                problems.append((
                    f"tokens.{symbol}.genesis_supply",
                    f"amount {raw!r} is in the wrong token: {parts[1]}, but this amount is in {symbol}",
                ))
    return problems


def _partial_cross_reference_problems(
    exc: ValidationError, data: dict[str, Any], context: dict[str, Any]
) -> list[tuple[str, str]]:
    """Reference problems among the components that validated, when some did not.

    Components with schema errors are left out and the rest validated again; a reference
    problem is kept only if it does not name a left-out component (that name exists, it is
    just broken). Errors outside the component sections (tokens, prices, chain, ...) leave
    nothing to check against, so then this returns nothing.
    """
    broken: dict[str, set[int]] = {s: set() for s in registry.SECTIONS}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if len(loc) >= 2 and loc[0] in registry.SECTIONS and isinstance(loc[1], int):
            broken[loc[0]].add(loc[1])
        elif len(loc) == 1 and err["type"] == "extra_forbidden":
            continue  # an unknown top-level key; dropping it is harmless
        else:
            return []
    pruned = {k: v for k, v in data.items() if k in scenario_model().model_fields}
    index: dict[str, list[int]] = {}
    dropped_names: set[str] = set()
    for section in registry.SECTIONS:
        items = data.get(section)
        if not isinstance(items, list):
            continue
        keep = [i for i in range(len(items)) if i not in broken[section]]
        index[section] = keep
        pruned[section] = [items[i] for i in keep]
        for i in broken[section]:
            item = items[i] if i < len(items) else None
            if not (isinstance(item, dict) and isinstance(item.get("name"), str)):
                return []  # a broken component without a name: any reference may be to it
            dropped_names.add(item["name"])
    try:
        scenario = scenario_model().model_validate(pruned, context=context)
    except ValidationError:
        return []
    out: list[tuple[str, str]] = []
    for path, message in cross_reference_problems(scenario):
        if any(repr(name) in message for name in dropped_names):
            continue
        parts = path.split(".")
        if parts[0] in index and len(parts) > 1 and parts[1].isdigit():
            parts[1] = str(index[parts[0]][int(parts[1])])
        out.append((".".join(parts), message))
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
        if kind == "union_tag_not_found" and loc and loc[0] in registry.SECTIONS:
            problems.append((f"{path}.kind", _missing_kind_message(str(loc[0]))))
            continue
        if _is_kind_field(loc) and kind == "missing":
            # A section with a single registered kind is not a tagged union.
            problems.append((path, _missing_kind_message(str(loc[0]))))
            continue
        if _is_kind_field(loc) and kind == "literal_error":
            problems.append((path, registry.unknown_kind_message(str(loc[0]), err.get("input"))))
            continue
        if loc == ("prices",) and kind in ("union_tag_invalid", "union_tag_not_found"):
            problems.append(("prices.model", _price_model_message(err)))
            continue
        if loc and loc[-1] == "[key]":
            key_path = ".".join(str(x) for x in loc[:-1])
            problems.append((key_path, f"invalid key {loc[-2]!r}: {err['msg']}"))
            continue
        if kind == "extra_forbidden":
            problems.append((path, "unknown key (not part of the schema; check spelling)"))
            continue
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        problems.append((path, message))
    return _dedupe(problems)


def _is_kind_field(loc: tuple[Any, ...]) -> bool:
    return len(loc) == 3 and loc[0] in registry.SECTIONS and isinstance(loc[1], int) and loc[2] == "kind"


def _missing_kind_message(section: str) -> str:
    known = ", ".join(sorted(registry.kinds(section)))
    return f"missing 'kind' (what kind of {section[:-1]} this is; known: {known})"


def _price_model_message(err: Any) -> str:
    ctx = err.get("ctx") or {}
    known = _price_model_names()
    listed = ", ".join(known)
    if err["type"] == "union_tag_not_found":
        return f"missing 'model' (which price model; known: {listed})"
    tag = ctx.get("tag")
    close = difflib.get_close_matches(str(tag), known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown price model {tag!r}{hint} (known: {listed})"


def _price_model_names() -> list[str]:
    """The ``model:`` tags of :data:`defisim.pricepaths.PriceModel`, in declaration order."""
    union = get_args(PriceModel)[0]
    return [tag for member in get_args(union) for tag in get_args(member.model_fields["model"].annotation)]


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-tag and validator-name steps so the path is the file's path."""
    out = [x for x in loc if not (isinstance(x, str) and x.startswith(("function-", "union[")))]
    if len(out) >= 3 and out[0] in registry.SECTIONS and isinstance(out[1], int):
        if out[2] in registry.kinds(out[0]):
            del out[2]
    if len(out) >= 2 and out[0] == "prices" and out[1] in _price_model_names():
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
