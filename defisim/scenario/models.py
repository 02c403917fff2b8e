"""The scenario model: chain, tokens, reference prices and the component sections.

The component sections (``markets``, ``oracles``, ``protocols``, ``agents``) are discriminated
unions over the kinds in the registry, so the model class is built from the registry on first
use (:func:`scenario_model`) and rebuilt when a plug-in registers a new kind.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Annotated, Any, Union

from pydantic import Field, create_model

from defisim.pricepaths import PriceModel
from defisim.scenario import registry
from defisim.scenario.amounts import Amount
from defisim.scenario.base import Name, StrictModel


class TokenSpec(StrictModel):
    """A token: its decimals and any supply minted at genesis outside pools and accounts."""

    decimals: Annotated[int, Field(ge=0, le=36)]
    genesis_supply: Amount = 0
    """Base units (or ``"1000000 AAVE"``) minted to the holder ``holders:<TOKEN>`` at start."""


class ChainSpec(StrictModel):
    """Block clock and block space (EIP-1559)."""

    block_time_s: Annotated[int, Field(ge=1, le=3600)] = 12
    blocks: Annotated[int, Field(ge=1, le=10_000_000)] = 7200
    start_timestamp: Annotated[int, Field(ge=0)] = 1_700_000_000
    gas_limit: Annotated[int, Field(ge=100_000)] = 30_000_000
    base_fee_gwei: Annotated[float, Field(ge=1e-9)] = 20.0
    """Base fee of the first block, gwei (at least 1 wei)."""
    background_load: Annotated[float, Field(ge=0, le=2)] = 0.5
    """Gas demand of other traffic as a share of the gas limit in calm markets (0.5 = target)."""
    stress_load: Annotated[float, Field(ge=0)] = 4.0
    """Extra demand per unit of the gas asset's drawdown from its max over ``stress_window_blocks``."""
    stress_window_blocks: Annotated[int, Field(ge=1)] = 300
    demand_elasticity: Annotated[float, Field(ge=0, le=10)] = 1.0
    """How fast background demand falls as the base fee rises above ``base_fee_gwei``."""
    background_tip_gwei: Annotated[float, Field(ge=0)] = 1.0
    gas_asset: str = "WETH"
    """Token whose reference price converts gas (wei) to USD."""
    flash_loan_fee_bps: Annotated[int, Field(ge=0, le=10_000)] = 5


class RunSpec(StrictModel):
    """What the engine samples and checks while it runs."""

    sample_every_blocks: Annotated[int, Field(ge=1)] = 25
    check_invariants_every_blocks: Annotated[int, Field(ge=0)] = 0
    """0: only at the end of the run; N: every N blocks (tests use 1)."""


class ScenarioBase(StrictModel):
    """Fields every scenario has; the component sections are added by :func:`scenario_model`."""

    name: Name
    description: str = ""
    seed: Annotated[int, Field(ge=0)] = 0
    chain: ChainSpec = ChainSpec()
    run: RunSpec = RunSpec()
    tokens: dict[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9.\-]*$")], TokenSpec]
    prices: PriceModel

    def components(self) -> list[tuple[str, int, Any]]:
        """Every component as ``(section, index, spec)`` in file order."""
        out: list[tuple[str, int, Any]] = []
        for section in registry.SECTIONS:
            for i, spec in enumerate(getattr(self, section, [])):
                out.append((section, i, spec))
        return out

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the validated scenario (first 16 hex digits)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _section_type(section: str) -> Any:
    specs = [k.spec for k in registry.kinds(section).values()]
    if not specs:
        return list[dict[str, Any]]
    if len(specs) == 1:
        return list[specs[0]]  # type: ignore[valid-type]
    return list[Annotated[Union[tuple(specs)], Field(discriminator="kind")]]  # type: ignore[valid-type]


@lru_cache(maxsize=1)
def scenario_model() -> type[ScenarioBase]:
    """The Scenario model class for the kinds registered now."""
    fields: dict[str, Any] = {s: (_section_type(s), []) for s in registry.SECTIONS}
    model: type[ScenarioBase] = create_model("Scenario", __base__=ScenarioBase, **fields)
    return model


registry.on_change(scenario_model.cache_clear)


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of scenario files (for editors)."""
    schema = scenario_model().model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "defisim scenario"
    return schema


__all__ = ["ChainSpec", "RunSpec", "ScenarioBase", "TokenSpec", "scenario_model"]
