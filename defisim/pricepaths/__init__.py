"""Exogenous reference-price models (fast layer, numpy float64).

A scenario names one price model for its assets (``model: scripted | gbm |
jump-diffusion``, optionally with a ``stress`` crash on the stochastic kinds);
:func:`generate` turns it into :class:`PricePaths`, prices in USD per whole token at every
block. Rates are annualised (365-day year); times are block numbers or duration strings.

>>> import numpy as np
>>> from defisim.pricepaths import generate, parse_price_model
>>> model = parse_price_model({"model": "scripted", "assets": {"ETH": [[0, 3000], ["1h", 1500]]}})
>>> paths = generate(model, n_blocks=600, block_time_s=12, rng=np.random.default_rng(0))
>>> paths.at("ETH", 300)
1500.0
"""

from defisim.pricepaths._timeparse import duration_seconds, to_block
from defisim.pricepaths.generate import SECONDS_PER_YEAR, PricePaths, generate
from defisim.pricepaths.models import (
    GBMAsset,
    GBMModel,
    JumpDiffusionAsset,
    JumpDiffusionModel,
    PriceModel,
    ScriptedAsset,
    ScriptedModel,
    StressOverlay,
    parse_price_model,
)

__all__ = [
    "SECONDS_PER_YEAR",
    "GBMAsset",
    "GBMModel",
    "JumpDiffusionAsset",
    "JumpDiffusionModel",
    "PriceModel",
    "PricePaths",
    "ScriptedAsset",
    "ScriptedModel",
    "StressOverlay",
    "duration_seconds",
    "generate",
    "parse_price_model",
    "to_block",
]
