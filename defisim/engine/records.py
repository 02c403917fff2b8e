"""Typed, immutable records: everything that happens in a run, named in the past tense.

The :class:`RecordLog` is append-only. Results, plots and (later) the chain parity check are
all derived from it. Amounts are exact ints in token base units; prices are ints with 8
decimals (USD per whole token, as Aave's base currency) unless a field says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any, TypeVar


@dataclass(frozen=True, slots=True)
class Record:
    """Base of all records. ``block`` is the block number the event happened in."""

    block: int

    @property
    def kind(self) -> str:
        """The record type's name, e.g. ``"PositionLiquidated"``."""
        return type(self).__name__

    def as_dict(self) -> dict[str, Any]:
        """Field values by name, plus ``record`` = the type name."""
        out: dict[str, Any] = {"record": self.kind}
        for f in fields(self):
            out[f.name] = getattr(self, f.name)
        return out


# --- prices and oracles -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PriceUpdated(Record):
    """An oracle published a new answer (price: 1e8 USD per whole token)."""

    oracle: str
    asset: str
    price: int
    round_id: int
    reason: str


# --- markets ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SwapExecuted(Record):
    """A trade against an AMM pool; reserves are after the trade (base units)."""

    pool: str
    trader: str
    token_in: str
    amount_in: int
    token_out: str
    amount_out: int
    reserve0: int
    reserve1: int


@dataclass(frozen=True, slots=True)
class ArbitrageExecuted(Record):
    """An arbitrageur traded a pool toward the external price; profit in USD 1e8 after gas."""

    pool: str
    agent: str
    token_in: str
    amount_in: int
    token_out: str
    amount_out: int
    profit_usd: int
    gas_cost_usd: int


# --- lending ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PositionLiquidated(Record):
    """A liquidation succeeded. Health factors are WAD; amounts base units.

    ``collateral_seized`` is what the liquidator received, ``protocol_fee`` what went to the
    protocol treasury (both in the collateral token).
    """

    protocol: str
    liquidator: str
    account: str
    collateral_asset: str
    debt_asset: str
    debt_repaid: int
    collateral_seized: int
    protocol_fee: int
    health_before: int
    health_after: int
    debt_repaid_usd: int
    collateral_seized_usd: int
    profit_usd: int
    """Liquidator's realised profit: sale proceeds - repaid - flash fee - gas (USD 1e8)."""
    gas_cost_usd: int
    underlying: str = ""
    """The asset whose price made the position liquidatable when it is neither the collateral
    nor the debt (a perp market's asset: margin and PnL are in the quote token); else empty."""


@dataclass(frozen=True, slots=True)
class LiquidationRefused(Record):
    """An attempted liquidation was not allowed or reverted; ``reason`` says why."""

    protocol: str
    liquidator: str
    account: str
    reason: str
    gas_cost_usd: int
    """Gas the attempt burned (USD 1e8); 0 if it was never sent."""


@dataclass(frozen=True, slots=True)
class BadDebtRealized(Record):
    """Debt was left with no collateral behind it (base units of ``asset``).

    Aave 3.6 writes it into the reserve deficit; Morpho Blue socialises it at once (a
    :class:`BadDebtSocialized` follows); Aave 3.0 leaves it on the account, unbacked.
    """

    protocol: str
    account: str
    asset: str
    amount: int
    amount_usd: int


@dataclass(frozen=True, slots=True)
class InsuranceFundFunded(Record):
    """The protocol's insurance fund received ``amount`` of ``asset`` from ``source``."""

    protocol: str
    asset: str
    amount: int
    source: str
    balance_after: int


@dataclass(frozen=True, slots=True)
class InsuranceFundDrawn(Record):
    """The insurance fund paid ``amount`` of ``asset`` to cover bad debt."""

    protocol: str
    asset: str
    amount: int
    amount_usd: int
    balance_after: int


@dataclass(frozen=True, slots=True)
class BadDebtSocialized(Record):
    """Deficit the insurance fund could not cover, written off against suppliers."""

    protocol: str
    asset: str
    amount: int
    amount_usd: int


@dataclass(frozen=True, slots=True)
class TokensBurned(Record):
    """``amount`` of ``token`` was bought with protocol fees and burned."""

    protocol: str
    token: str
    amount: int
    paid_asset: str
    paid_amount: int
    supply_after: int


# --- blocks and agents --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class BlockBuilt(Record):
    """Block summary: base fee (wei per gas) and gas used by background and simulated txs."""

    base_fee: int
    background_gas: int
    tx_gas: int
    included: int
    deferred: int


@dataclass(frozen=True, slots=True)
class TransactionReverted(Record):
    """A public transaction reverted and still paid its gas (USD 1e8)."""

    sender: str
    purpose: str
    reason: str
    gas_cost_usd: int


@dataclass(frozen=True, slots=True)
class HealthSampled(Record):
    """Distribution of open positions' health factors (float, for plots only)."""

    protocol: str
    open_positions: int
    liquidatable: int
    p01: float
    p10: float
    p50: float
    p90: float
    below_1_1: int


R = TypeVar("R", bound=Record)


class RecordLog:
    """Append-only sequence of records in the order they happened."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[Record] = []

    def append(self, record: Record) -> None:
        """Add one record at the end."""
        self._items.append(record)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Record]:
        return iter(self._items)

    def __getitem__(self, index: int) -> Record:
        return self._items[index]

    def of_type(self, cls: type[R]) -> list[R]:
        """Every record that is an instance of ``cls``, in order."""
        return [r for r in self._items if isinstance(r, cls)]
