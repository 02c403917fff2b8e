"""One backend interface, two implementations: the simulator and a chain.

A validation run is a list of :data:`Action` values applied in order to a backend. Both
backends take the same :class:`MarketSpec`, the same actions, and answer with the same
result types, so a parity diff can compare them integer for integer:

* :class:`~defisim.chain.sim_backend.SimulatorBackend` runs the exact Python models;
* :class:`~defisim.chain.chain_backend.ChainBackend` deploys the real contracts on an Anvil
  this process started and sends transactions.

Time: :class:`AdvanceTo` moves both to a block timestamp (unix seconds); every other action
runs at the current timestamp, in order. Amounts are token base units; prices USD with 8
decimals per whole token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from defisim.engine.protocols.aave_v3.config import ReserveConfig

__all__ = [
    "FAMILIES",
    "Action",
    "AdvanceTo",
    "Backend",
    "Borrow",
    "CoverDeficit",
    "Liquidate",
    "LiquidationResult",
    "MarketSpec",
    "MorphoMarketSpec",
    "Repay",
    "SetPrice",
    "Supply",
    "SupplyCollateral",
    "Withdraw",
]

FAMILIES = ("aave-v3.0", "aave-v3.6", "morpho-blue")
"""Protocol variants with a real-contract counterpart."""


@dataclass(frozen=True, slots=True)
class MorphoMarketSpec:
    """One Morpho Blue market: loan and collateral symbols, LLTV (WAD), fee (WAD)."""

    name: str
    loan: str
    collateral: str
    lltv: int
    fee: int = 0


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """What to deploy: a protocol variant, its tokens, prices and parameters.

    ``tokens``: symbol → decimals, in reserve order. ``prices``: symbol → USD 8 dp.
    Aave: ``reserves`` symbol → :class:`ReserveConfig`. Morpho Blue: ``markets`` and
    ``irm`` (``"linear-utilization"``, mirroring Morpho's IrmMock). ``start_time``: unix
    time of the first block the scenario uses.
    """

    family: str
    tokens: dict[str, int]
    prices: dict[str, int]
    reserves: dict[str, ReserveConfig] = field(default_factory=dict)
    markets: tuple[MorphoMarketSpec, ...] = ()
    irm: str = "linear-utilization"
    start_time: int = 1_700_000_000
    treasury: str = "treasury"
    name: str = "pool"


# --- actions -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AdvanceTo:
    """Move to a later block at ``timestamp`` (unix s)."""

    timestamp: int


@dataclass(frozen=True, slots=True)
class SetPrice:
    """A new oracle round: ``asset`` costs ``price`` USD (8 dp)."""

    asset: str
    price: int


@dataclass(frozen=True, slots=True)
class Supply:
    """``account`` supplies ``amount`` of ``asset`` (Aave: also enabled as collateral; Morpho:
    lends in ``market``)."""

    account: str
    asset: str
    amount: int
    market: str = ""


@dataclass(frozen=True, slots=True)
class SupplyCollateral:
    """Morpho Blue: ``account`` posts ``amount`` of collateral in ``market``."""

    account: str
    market: str
    amount: int


@dataclass(frozen=True, slots=True)
class Borrow:
    account: str
    asset: str
    amount: int
    market: str = ""


@dataclass(frozen=True, slots=True)
class Repay:
    account: str
    asset: str
    amount: int
    market: str = ""


@dataclass(frozen=True, slots=True)
class Withdraw:
    account: str
    asset: str
    amount: int
    market: str = ""


@dataclass(frozen=True, slots=True)
class CoverDeficit:
    """Aave 3.6: the insurance fund ``payer`` writes off up to ``amount`` of ``asset``'s deficit.

    Simulator: ``AavePool.eliminate_deficit``; chain: ``contracts/src/InsuranceFund.sol``
    ``cover``, registered as the pool's Umbrella.
    """

    payer: str
    asset: str
    amount: int


@dataclass(frozen=True, slots=True)
class Liquidate:
    """``liquidator`` liquidates ``account``.

    Aave: ``liquidationCall(collateral, debt, account, debt_to_cover, false)``.
    Morpho Blue: ``liquidate(market, account, seized_assets, repaid_shares)`` (exactly one
    non-zero). The backend mints the liquidator the debt tokens it needs first.
    """

    liquidator: str
    account: str
    collateral_asset: str = ""
    debt_asset: str = ""
    debt_to_cover: int = 0
    market: str = ""
    seized_assets: int = 0
    repaid_shares: int = 0


Action = (AdvanceTo | SetPrice | Supply | SupplyCollateral | Borrow | Repay | Withdraw | Liquidate
          | CoverDeficit)


@dataclass(frozen=True, slots=True)
class LiquidationResult:
    """What a liquidation did (or the revert reason): base units, HF WAD.

    ``reason`` is empty on success; otherwise the revert, normalised across backends to a
    short name (see each backend's error map).
    """

    reason: str = ""
    debt_repaid: int = 0
    collateral_seized: int = 0
    protocol_fee: int = 0
    health_before: int = 0
    health_after: int = 0

    @property
    def ok(self) -> bool:
        return not self.reason


class Backend(Protocol):
    """Seed, act, advance, snapshot: the same calls drive the simulator or a chain."""

    name: str

    def apply(self, action: Action) -> LiquidationResult | None:
        """Run one action; a liquidation returns its result, other actions None.

        A failing non-liquidation action raises (seeding must not fail silently).
        """

    def snapshot(self) -> object:
        """A frozen, ``==``-comparable snapshot of the protocol's state (same model on both)."""

    def close(self) -> None:
        """Release resources (stop the node)."""
