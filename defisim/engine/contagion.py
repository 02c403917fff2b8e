"""Cross-protocol contagion: the records of the links, and the distress path of a run.

Three links carry distress from one protocol to another inside the engine:

* **Stablecoin peg.** A CDP's stablecoin trades on an AMM and through a peg-stability module
  (:mod:`defisim.engine.markets.psm`). When the CDP's bad debt exceeds its surplus, holders
  sell (:mod:`defisim.engine.agents.holder_pressure`); the PSM arbitrageur
  (:mod:`defisim.engine.agents.peg_arbitrageur`) holds the peg until the PSM's buffer is
  gone, then the AMM price falls, and every oracle reading that AMM publishes it.
* **Receipt tokens.** A wrapped aToken (:mod:`defisim.engine.markets.static_atoken`) is worth
  its issuer's exchange rate; when the issuer socialises a deficit, the rate falls and the
  ``receipt-rate`` oracle (:mod:`defisim.engine.oracles.receipt_rate`) publishes the lower
  price.
* **Collateral.** A protocol that accepts the stablecoin or the receipt token as collateral
  sees those prices through its oracles and liquidates (ordinary ``PositionLiquidated``).

The records below name the ``protocol`` (the issuer) and the ``underlying`` or ``cause``, so
:func:`distress_path` can rebuild "who was hit first, and through which link" from the log
alone. Amounts are base units, prices 8 decimals, shares WAD; no floats.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    PositionLiquidated,
    Record,
)

__all__ = [
    "DistressEvent",
    "HolderSold",
    "PegLost",
    "PegRestored",
    "PsmBufferDrained",
    "PsmSwapped",
    "ReceiptRateDropped",
    "ReceiptTokensBacked",
    "distress_path",
    "first_distress_by_protocol",
    "format_distress_path",
    "token_issuers",
]


# --- records ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PsmSwapped(Record):
    """A peg-stability-module swap (``DssPsm.sellGem`` / ``buyGem``).

    ``direction`` is ``"sell-gem"`` (gem in, stablecoin out, fee ``tin``) or ``"buy-gem"``
    (stablecoin in, gem out, fee ``tout``). ``stable_amount`` is what the account received
    (sell-gem) or paid (buy-gem), fee included; ``fee`` is in stablecoin base units and goes to
    the issuer's surplus. ``buffer_after`` is the gem left in the PSM (base units).
    """

    psm: str
    protocol: str
    account: str
    direction: str
    gem: str
    gem_amount: int
    stablecoin: str
    stable_amount: int
    fee: int
    buffer_after: int


@dataclass(frozen=True, slots=True)
class PsmBufferDrained(Record):
    """The PSM's gem buffer fell below its ``drained_below`` mark (base units)."""

    psm: str
    protocol: str
    gem: str
    stablecoin: str
    buffer_after: int


@dataclass(frozen=True, slots=True)
class HolderSold(Record):
    """Stablecoin holders sold ``amount`` into ``pool`` because the issuer is unbacked.

    ``unbacked_share`` is u (WAD): uncovered bad debt / supply; ``fraction`` the share of their
    balance sold this block (WAD); ``cause`` names the issuer state that triggered it.
    """

    holder: str
    protocol: str
    stablecoin: str
    pool: str
    amount: int
    received: int
    unbacked_debt: int
    """Uncovered bad debt, stablecoin base units (wad)."""
    unbacked_share: int
    fraction: int
    cause: str


@dataclass(frozen=True, slots=True)
class PegLost(Record):
    """The stablecoin's AMM price fell below ``1 - band`` (price 1e8 USD).

    ``cause`` is ``"psm-drained"`` when the PSM buffer was already drained, else
    ``"amm-pressure"``; ``psm_buffer`` the buffer then (gem base units).
    """

    protocol: str
    stablecoin: str
    pool: str
    price: int
    psm_buffer: int
    unbacked_share: int
    cause: str


@dataclass(frozen=True, slots=True)
class PegRestored(Record):
    """The stablecoin's AMM price is back within the band (price 1e8 USD)."""

    protocol: str
    stablecoin: str
    pool: str
    price: int


@dataclass(frozen=True, slots=True)
class ReceiptRateDropped(Record):
    """A receipt token's exchange rate fell: its issuer wrote a loss off against suppliers.

    ``rate_before``/``rate_after`` are the issuer's own rate (RAY for an aToken's liquidity
    index); ``protocol`` is the issuer, ``underlying`` the asset the receipt redeems for.
    """

    oracle: str
    token: str
    protocol: str
    underlying: str
    rate_before: int
    rate_after: int
    cause: str


@dataclass(frozen=True, slots=True)
class ReceiptTokensBacked(Record):
    """Receipt tokens created outside the wrapper at genesis were backed by a supply of
    ``underlying_supplied`` to the issuer (base units)."""

    wrapper: str
    token: str
    protocol: str
    underlying: str
    shares: int
    underlying_supplied: int


# --- distress path ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DistressEvent:
    """The first sign of distress of one node (a protocol or a token) and how it arrived.

    ``node`` is a protocol name or ``"<TOKEN>"`` for a token; ``kind`` is what happened
    (``bad-debt``, ``buffer-drained``, ``depeg``, ``liquidation``, ``socialized-loss``,
    ``receipt-devalued``);
    ``link`` names the channel (``"collateral WETH"``, ``"collateral DAI (issued by maker)"``,
    ``"unbacked share of maker"``, ``"socialized loss of aave"``).
    """

    block: int
    node: str
    kind: str
    link: str
    detail: str


def token_issuers(records: Iterable[Record]) -> dict[str, str]:
    """Token -> issuing protocol, as the contagion records name them."""
    out: dict[str, str] = {}
    for r in records:
        if isinstance(r, (PsmSwapped, PegLost, HolderSold, PsmBufferDrained)):
            token = r.stablecoin
        elif isinstance(r, (ReceiptRateDropped, ReceiptTokensBacked)):
            token = r.token
        else:
            continue
        out.setdefault(token, r.protocol)
    return out


def distress_path(records: Iterable[Record], issuers: dict[str, str] | None = None) -> list[DistressEvent]:
    """The first event of each (node, kind), ordered by block (ties in log order).

    ``issuers`` maps tokens to their issuing protocol (default: :func:`token_issuers` of the
    log), so a liquidation of a position backed by another protocol's token names that link.
    """
    items = list(records)
    issuers = token_issuers(items) if issuers is None else issuers
    seen: set[tuple[str, str]] = set()
    out: list[DistressEvent] = []

    def add(block: int, node: str, kind: str, link: str, detail: str) -> None:
        if (node, kind) not in seen:
            seen.add((node, kind))
            out.append(DistressEvent(block, node, kind, link, detail))

    for r in items:
        if isinstance(r, PositionLiquidated):
            link = f"collateral {r.collateral_asset}"
            if r.collateral_asset in issuers:
                link += f" (issued by {issuers[r.collateral_asset]})"
            elif r.underlying:
                link = f"underlying {r.underlying}"
            add(r.block, r.protocol, "liquidation", link,
                f"{r.account} repaid {r.debt_repaid} {r.debt_asset}")
        elif isinstance(r, BadDebtRealized):
            add(r.block, r.protocol, "bad-debt", f"debt {r.asset}", f"{r.account}: {r.amount} {r.asset}")
        elif isinstance(r, BadDebtSocialized):
            add(r.block, r.protocol, "socialized-loss", f"deficit {r.asset}",
                f"{r.amount} {r.asset} written off against suppliers")
        elif isinstance(r, PsmBufferDrained):
            add(r.block, r.psm, "buffer-drained", f"redemptions of {r.stablecoin} (issued by {r.protocol})",
                f"{r.gem} buffer {r.buffer_after}")
        elif isinstance(r, PegLost):
            add(r.block, r.stablecoin, "depeg", f"unbacked share of {r.protocol} ({r.cause})",
                f"{r.pool} price {r.price} (1e8), u={r.unbacked_share} (WAD)")
        elif isinstance(r, ReceiptRateDropped):
            add(r.block, r.token, "receipt-devalued", f"socialized loss of {r.protocol}",
                f"rate {r.rate_before} -> {r.rate_after}")
    out.sort(key=lambda e: e.block)  # stable: ties keep log order
    return out


def first_distress_by_protocol(
    records: Iterable[Record], issuers: dict[str, str] | None = None
) -> dict[str, DistressEvent]:
    """Per node (protocol or token), its first distress event and the link it came through."""
    out: dict[str, DistressEvent] = {}
    for event in distress_path(records, issuers):
        out.setdefault(event.node, event)
    return out


def format_distress_path(events: Iterable[DistressEvent]) -> str:
    """One line per event: ``block  node  kind  via link  (detail)``."""
    lines = [f"{'block':>7}  {'node':<14} {'kind':<17} link"]
    for e in events:
        lines.append(f"{e.block:>7}  {e.node:<14} {e.kind:<17} via {e.link}  ({e.detail})")
    return "\n".join(lines)
