"""A third-party component kind registers itself and is used like a built-in one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pytest

import defisim
from defisim.engine.oracles.base import Oracle
from defisim.engine.records import PositionLiquidated, PriceUpdated
from defisim.scenario import registry
from defisim.scenario.base import StrictModel
from tests.integration.scenarios import one_liquidation


class FixedOracle(Oracle):
    """Publishes one price at the first block and never again (a frozen feed)."""

    def __init__(self, name: str, asset: str, price: int) -> None:
        super().__init__(name, asset)
        self._price = price

    def on_block(self, block: int, now: int) -> list[PriceUpdated]:
        if self.has_answer:
            return []
        return [self._publish(block, now, self._price, "fixed")]


class FixedSpec(StrictModel):
    kind: Literal["fixed-price"]
    name: str
    asset: str
    price_e8: int

    def check(self, scenario: object) -> list[tuple[str, str]]:
        return []


def build_fixed(spec: FixedSpec, wb: object) -> None:
    wb.world.add_oracle(spec.name, FixedOracle(spec.name, spec.asset, spec.price_e8))  # type: ignore[attr-defined]


@pytest.fixture
def plugin() -> Iterator[None]:
    registry.register("fixed-price", "oracles", FixedSpec, build_fixed)
    yield
    registry.unregister("fixed-price", "oracles")


def test_registered_kind_validates_runs_and_appears_in_the_schema(plugin: None) -> None:
    data = one_liquidation()
    # a frozen ETH feed: the reference crash never reaches the protocol, so nobody is liquidated
    data["oracles"][0] = {"kind": "fixed-price", "name": "eth-usd", "asset": "WETH", "price_e8": 2000 * 10**8}
    result = defisim.simulate(defisim.scenario_from_dict(data))
    assert result.records.of_type(PositionLiquidated) == []
    rounds = [r for r in result.records.of_type(PriceUpdated) if r.oracle == "eth-usd"]
    assert [(r.block, r.reason) for r in rounds] == [(0, "fixed")]
    assert "fixed-price" in str(defisim.scenario_json_schema())


def test_unregistered_kind_is_gone_again() -> None:
    assert "fixed-price" not in registry.kinds("oracles")
    assert "fixed-price" not in str(defisim.scenario_json_schema())


def test_unknown_kind_suggests_the_registered_one(plugin: None) -> None:
    data = one_liquidation()
    data["oracles"][0] = {"kind": "fixed-prise", "name": "eth-usd", "asset": "WETH", "price_e8": 1}
    with pytest.raises(defisim.ScenarioError) as info:
        defisim.scenario_from_dict(data)
    (path, message), = [p for p in info.value.problems if p[0] == "oracles.0.kind"]
    assert "did you mean 'fixed-price'" in message
