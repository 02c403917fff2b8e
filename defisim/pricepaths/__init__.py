"""Exogenous reference-price models (fast layer, numpy float64).

A scenario names one price model for its assets (``model: scripted | gbm |
jump-diffusion | garch | bootstrap``, optionally with a ``stress`` crash on the stochastic
kinds); ``garch`` and ``bootstrap`` use historical prices, e.g. the hourly Binance ETH/BTC
files shipped as ``builtin:binance-eth-btc-1h-2020-2022`` and ``builtin:binance-eth-btc-1h-2024``
(source, dates and terms in each file's header; :func:`builtin_names` lists them);
:func:`generate` turns it into :class:`PricePaths`, prices in USD per whole token at every
block. Rates are annualised (365-day year); times are block numbers or duration strings.

>>> import numpy as np
>>> from defisim.pricepaths import generate, parse_price_model
>>> model = parse_price_model({"model": "scripted", "assets": {"ETH": [[0, 3000], ["1h", 1500]]}})
>>> paths = generate(model, n_blocks=600, block_time_s=12, rng=np.random.default_rng(0))
>>> paths.at("ETH", 300)
1500.0
"""

from defisim.pricepaths._returns_data import (
    ReturnsData,
    ReturnsDataError,
    builtin_names,
    load_returns_data,
)
from defisim.pricepaths._timeparse import duration_seconds, to_block
from defisim.pricepaths.garch import (
    CCCFit,
    Garch11Fit,
    GarchParameters,
    fit_garch11,
    garch_parameters,
)
from defisim.pricepaths.generate import SECONDS_PER_YEAR, PricePaths, generate
from defisim.pricepaths.models import (
    BootstrapAsset,
    BootstrapModel,
    GarchAsset,
    GarchModel,
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
    "BootstrapAsset",
    "BootstrapModel",
    "CCCFit",
    "GBMAsset",
    "GBMModel",
    "Garch11Fit",
    "GarchAsset",
    "GarchModel",
    "GarchParameters",
    "JumpDiffusionAsset",
    "JumpDiffusionModel",
    "PriceModel",
    "PricePaths",
    "ReturnsData",
    "ReturnsDataError",
    "ScriptedAsset",
    "ScriptedModel",
    "StressOverlay",
    "builtin_names",
    "duration_seconds",
    "fit_garch11",
    "garch_parameters",
    "generate",
    "load_returns_data",
    "parse_price_model",
    "to_block",
]
