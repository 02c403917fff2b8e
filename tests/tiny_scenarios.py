"""Small versions of the bundled default scenario for Monte Carlo, sweep and CLI tests.

One builder instead of a copy per test module: the default scenario (two Aave-type pools on
WETH/USDC) with a volatile GBM WETH path and a stress crash, so a few dozen borrowers over a few
dozen blocks already produce liquidations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import defisim
from defisim.scenario.models import ScenarioBase

ROOT = Path(__file__).resolve().parents[1]


def tiny_default(name: str, *, blocks: int, aave: int, spark: int, stress_at: str = "4m",
                 depth: float = 0.45, over: str = "2m", insurance_fund: str | None = "2000 USDC",
                 **extra: Any) -> ScenarioBase:
    """The default scenario cut to ``blocks`` blocks and ``aave``/``spark`` borrowers, WETH on a
    GBM path (sigma 2.0 a year) crashing by ``depth`` from ``stress_at`` over ``over``.

    ``insurance_fund`` sets Aave's fund (None keeps the scenario's); ``extra`` are further
    overrides by dotted path.
    """
    base = defisim.load_scenario(ROOT / "scenarios" / "default.yaml")
    changes: dict[str, Any] = {
        "name": name,
        "prices": {"model": "gbm",
                   "assets": {"WETH": {"start": 3000, "mu": 0.0, "sigma": 2.0},
                              "USDC": {"start": 1.0, "sigma": 0.0}},
                   "stress": {"at": stress_at, "depth": depth, "over": over, "vol_multiplier": 2.0,
                              "assets": ["WETH"]}},
        "chain.blocks": blocks,
        "protocols.aave.borrowers.0.count": aave,
        "protocols.spark.borrowers.0.count": spark,
    }
    if insurance_fund is not None:
        changes["protocols.aave.insurance_fund.initial"] = insurance_fund
    changes.update(extra)
    return defisim.with_overrides(base, changes)


def write_yaml(spec: ScenarioBase, folder: Path, name: str = "tiny.yaml") -> Path:
    """Write ``spec`` as a scenario file in ``folder``; return its path."""
    path = folder / name
    path.write_text(yaml.safe_dump(spec.model_dump(mode="json")))
    return path
