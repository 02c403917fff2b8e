"""``defisim.scenario_json_schema()``: the editor schema agrees with the loader.

The ``jsonschema`` package is used when installed; otherwise a small validator below covers
the keywords pydantic emits ($ref, type, const, enum, anyOf/oneOf/allOf, properties,
required, additionalProperties, items/prefixItems, bounds, pattern), which is enough to
check that valid files are accepted and a few bad ones rejected.
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

import pytest

import defisim
from defisim.errors import ScenarioError
from defisim.scenario import registry, scenario_from_dict


def _errors(schema: dict[str, Any], value: Any) -> list[str]:
    try:
        import jsonschema  # type: ignore[import-not-found]
    except ImportError:
        return _mini_errors(schema, value, schema, "")
    validator = jsonschema.Draft202012Validator(schema)
    return [".".join(map(str, e.absolute_path)) + ": " + e.message for e in validator.iter_errors(value)]


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _mini_errors(s: dict[str, Any], v: Any, root: dict[str, Any], at: str) -> list[str]:
    if "$ref" in s:
        node: Any = root
        for part in s["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        return _mini_errors(node, v, root, at)
    out: list[str] = []
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(_TYPES[t](v) for t in types):
            return [f"{at}: {v!r} is not {types}"]
    if "const" in s and v != s["const"]:
        out.append(f"{at}: {v!r} != {s['const']!r}")
    if "enum" in s and v not in s["enum"]:
        out.append(f"{at}: {v!r} not in {s['enum']}")
    if "anyOf" in s and not any(not _mini_errors(x, v, root, at) for x in s["anyOf"]):
        out.append(f"{at}: matches none of anyOf")
    if "oneOf" in s and sum(not _mini_errors(x, v, root, at) for x in s["oneOf"]) != 1:
        out.append(f"{at}: does not match exactly one of oneOf")
    for sub in s.get("allOf", []):
        out += _mini_errors(sub, v, root, at)
    if isinstance(v, dict):
        props = s.get("properties", {})
        out += [f"{at}.{k}: required" for k in s.get("required", []) if k not in v]
        for k, x in v.items():
            if k in props:
                out += _mini_errors(props[k], x, root, f"{at}.{k}")
            elif s.get("additionalProperties") is False:
                out.append(f"{at}.{k}: additional property")
            elif isinstance(s.get("additionalProperties"), dict):
                out += _mini_errors(s["additionalProperties"], x, root, f"{at}.{k}")
            if "propertyNames" in s:
                out += _mini_errors(s["propertyNames"], k, root, f"{at}.{k}<key>")
        if len(v) < s.get("minProperties", 0):
            out.append(f"{at}: too few properties")
    if isinstance(v, list):
        prefix = s.get("prefixItems", [])
        for i, x in enumerate(v):
            if i < len(prefix):
                out += _mini_errors(prefix[i], x, root, f"{at}.{i}")
            elif isinstance(s.get("items"), dict):
                out += _mini_errors(s["items"], x, root, f"{at}.{i}")
        if len(v) < s.get("minItems", 0) or len(v) > s.get("maxItems", math.inf):
            out.append(f"{at}: wrong number of items")
    if _TYPES["number"](v):
        if v < s.get("minimum", -math.inf) or v > s.get("maximum", math.inf):
            out.append(f"{at}: {v} out of bounds")
        if v <= s.get("exclusiveMinimum", -math.inf) or v >= s.get("exclusiveMaximum", math.inf):
            out.append(f"{at}: {v} out of exclusive bounds")
    if isinstance(v, str):
        if "pattern" in s and not re.search(s["pattern"], v):
            out.append(f"{at}: {v!r} does not match {s['pattern']}")
        if not s.get("minLength", 0) <= len(v) <= s.get("maxLength", math.inf):
            out.append(f"{at}: wrong length")
    return out


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return defisim.scenario_json_schema()


def test_schema_is_json_schema_shaped(schema: dict[str, Any]) -> None:
    json.dumps(schema)  # serialisable
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    for section in ("name", "chain", "run", "tokens", "prices", *registry.SECTIONS):
        assert section in schema["properties"], section
    assert {"name", "tokens", "prices"} <= set(schema["required"])


def test_schema_names_every_registered_kind(schema: dict[str, Any]) -> None:
    consts = {
        d["properties"]["kind"].get("const")
        for d in schema["$defs"].values()
        if "kind" in d.get("properties", {})
    }
    for section in registry.SECTIONS:
        for kind in registry.kinds(section):
            assert kind in consts, kind
    assert {"aave-v3", "chainlink", "uniswap-v2", "liquidator"} <= consts


def test_schema_forbids_unknown_keys_in_components(schema: dict[str, Any]) -> None:
    for name in ("AaveV3Spec", "ReserveParams", "UniswapV2Spec", "ChainlinkSpec", "LiquidatorSpec", "TokenSpec"):
        assert schema["$defs"][name].get("additionalProperties") is False, name


def test_schema_accepts_the_default_scenario(schema: dict[str, Any], scn: dict[str, Any]) -> None:
    # Amounts ("2.5 WETH") and durations ("1h") are strings in the file, not integers.
    assert _errors(schema, scn) == []


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("unknown top-level key", lambda d: d.update(colour="blue")),
        ("unknown reserve key", lambda d: d["protocols"][0]["reserves"]["WETH"].update(ltvv=0.5)),
        ("unknown kind", lambda d: d["oracles"][0].update(kind="chainlnk")),
        ("negative base units", lambda d: d["agents"][1]["capital"].update(USDC=-5)),
        ("float amount", lambda d: d["agents"][1]["capital"].update(USDC=1.5)),
        ("missing name", lambda d: d.pop("name")),
        ("bad duration", lambda d: d["oracles"][0].update(heartbeat="1 fortnight")),
    ],
)
def test_schema_and_loader_both_reject(schema: dict[str, Any], scn: dict[str, Any], where: str, change: Any) -> None:
    bad = copy.deepcopy(scn)
    change(bad)
    assert _errors(schema, bad), f"schema accepts: {where}"
    with pytest.raises(ScenarioError):
        scenario_from_dict(bad)


def test_schema_and_loader_both_accept_variants(schema: dict[str, Any], scn: dict[str, Any]) -> None:
    scn["agents"][1]["capital"]["USDC"] = 1_000_000  # base units
    scn["agents"][0]["capital"]["WETH"] = "1_000.5 WETH"
    scn["oracles"][1]["heartbeat"] = 86_400  # seconds
    scn["oracles"][0]["heartbeat"] = "1h30m"
    assert _errors(schema, scn) == []
    scenario_from_dict(scn)
