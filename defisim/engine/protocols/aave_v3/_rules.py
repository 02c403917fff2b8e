"""Which Aave V3 rule set a pool follows: 3.6 (default) or 3.0.

A pool's rules are chosen once, at construction (``AavePool(..., version="3.0")``), and never
branch at run time: ``version="3.6"`` builds :class:`~defisim.engine.protocols.aave_v3.pool.AavePool`
itself (aave-v3-origin 3.6.0), ``version="3.0"`` builds its subclass
:class:`~defisim.engine.protocols.aave_v3._v30.AavePoolV30` (``@aave/core-v3@1.19.3``), which
overrides exactly the functions whose arithmetic or checks differ. :class:`AaveRules` is the
frozen summary of a rule set (``pool.rules``), for readers, reports and tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from defisim.engine.fixedpoint import WAD
from defisim.engine.protocols.aave_v3.outcomes import AaveError

__all__ = ["AAVE_VERSIONS", "RULES", "AaveRules", "rules_for"]


@dataclass(frozen=True, slots=True)
class AaveRules:
    """The rule set of one Aave V3 version (constants as the contracts define them).

    ``close_factor_hf_threshold``: WAD; at or below it the close factor is 100 %.
    ``default_close_factor``: bps, applied above the threshold (to the whole debt in base for
    3.6, to the user's debt *in the debt reserve* for 3.0).
    ``min_base_max_close_factor`` / ``min_leftover_base``: USD 8 dp, or ``None`` when the
    version has no such rule (3.0). ``books_deficit``: whether collateral running out books
    the remaining debt as reserve deficit (3.3+). ``directed_rounding``: 3.5+ ``TokenMath``
    (floor/ceil by direction) instead of half-up ``rayMul``/``rayDiv`` everywhere.
    ``virtual_accounting``: rates read a virtual balance (3.1+) instead of the aToken's
    underlying balance. ``source``: the npm package mirrored.
    """

    version: str
    source: str
    close_factor_hf_threshold: int
    default_close_factor: int
    min_base_max_close_factor: int | None
    min_leftover_base: int | None
    books_deficit: bool
    directed_rounding: bool
    virtual_accounting: bool
    self_liquidation_check: bool


RULES: dict[str, AaveRules] = {
    "3.6": AaveRules(
        version="3.6",
        source="@aave-dao/aave-v3-origin@3.6.0",
        close_factor_hf_threshold=95 * WAD // 100,
        default_close_factor=5000,
        min_base_max_close_factor=2000 * 10**8,
        min_leftover_base=1000 * 10**8,
        books_deficit=True,
        directed_rounding=True,
        virtual_accounting=True,
        self_liquidation_check=True,
    ),
    "3.0": AaveRules(
        version="3.0",
        source="@aave/core-v3@1.19.3",
        close_factor_hf_threshold=95 * WAD // 100,
        default_close_factor=5000,
        min_base_max_close_factor=None,
        min_leftover_base=None,
        books_deficit=False,
        directed_rounding=False,
        virtual_accounting=False,
        self_liquidation_check=False,
    ),
}
"""Supported versions, by the string ``AavePool(version=...)`` and the scenario accept."""

AAVE_VERSIONS: tuple[str, ...] = tuple(sorted(RULES))


def rules_for(version: str) -> AaveRules:
    """The rule set named ``version``; raise :class:`AaveError` for an unknown one."""
    rules = RULES.get(version)
    if rules is None:
        raise AaveError(
            "UNSUPPORTED_VERSION",
            f"version {version!r}: expected one of {', '.join(AAVE_VERSIONS)}",
        )
    return rules
