"""Monte Carlo risk analysis (fast layer, numpy float64).

Statistics of a loss sample, one value per simulated path, larger = worse (e.g. bad debt in
USD): empirical VaR / expected shortfall / exceedance probabilities with optional bootstrap
intervals (:mod:`~defisim.montecarlo.riskstats`), and the peaks-over-threshold tail model with
the generalised Pareto distribution for levels beyond what the paths resolve
(:mod:`~defisim.montecarlo.evt`). Pure functions; results are frozen dataclasses with
``as_dict()`` (JSON-safe); randomness only through a ``numpy.random.Generator`` argument.

>>> import numpy as np
>>> from defisim.montecarlo import describe, fit_gpd, tail_quantile
>>> losses = np.random.default_rng(0).pareto(3.0, 20_000)
>>> summary = describe(losses, levels=(0.99,))
>>> fit = fit_gpd(losses, threshold=float(np.quantile(losses, 0.9)))
>>> round(fit.shape, 1)
0.3
>>> q = tail_quantile(fit, 0.9999)
>>> q.lower < q.value < q.upper
True
"""

from defisim.montecarlo.evt import (
    DEFAULT_THRESHOLD_LEVELS,
    MIN_EXCEEDANCES,
    POOR_FIT_PVALUE,
    SMALL_SAMPLE_EXCEEDANCES,
    GPDFit,
    MeanExcess,
    TailDiagnostics,
    TailQuantile,
    ThresholdCandidate,
    ThresholdChoice,
    choose_threshold,
    fit_gpd,
    mean_excess,
    tail_diagnostics,
    tail_quantile,
    tail_quantiles,
)
from defisim.montecarlo.riskstats import (
    DegenerateSampleError,
    LevelRisk,
    RiskSummary,
    StatsError,
    describe,
    expected_shortfall,
    prob_exceed,
    var,
)

__all__ = [
    "DEFAULT_THRESHOLD_LEVELS",
    "MIN_EXCEEDANCES",
    "POOR_FIT_PVALUE",
    "SMALL_SAMPLE_EXCEEDANCES",
    "DegenerateSampleError",
    "GPDFit",
    "LevelRisk",
    "MeanExcess",
    "RiskSummary",
    "StatsError",
    "TailDiagnostics",
    "TailQuantile",
    "ThresholdCandidate",
    "ThresholdChoice",
    "choose_threshold",
    "describe",
    "expected_shortfall",
    "fit_gpd",
    "mean_excess",
    "prob_exceed",
    "tail_diagnostics",
    "tail_quantile",
    "tail_quantiles",
    "var",
]
