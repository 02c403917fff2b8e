"""distress_path: first event per node and kind, in block order, with the link named."""

from __future__ import annotations

from defisim.engine.contagion import (
    PegLost,
    ReceiptRateDropped,
    distress_path,
    first_distress_by_protocol,
    format_distress_path,
    token_issuers,
)
from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    PositionLiquidated,
)


def liq(block: int, protocol: str, collateral: str) -> PositionLiquidated:
    return PositionLiquidated(block, protocol, "bot", f"acct-{block}", collateral, "USDC", 1, 1, 0, 0, 0, 1, 1, 0, 0)


def test_path_orders_first_events_and_names_links() -> None:
    records = [
        liq(10, "maker", "WETH"),
        BadDebtRealized(12, "maker", "ETH-A/x", "DAI", 5, 5),
        liq(13, "maker", "WETH"),  # not first: dropped
        PegLost(20, "maker", "DAI", "dai-usdc", 98_000_000, 0, 10**16, "psm-drained"),
        liq(22, "aave", "DAI"),
        BadDebtSocialized(25, "aave", "USDC", 7, 7),
        ReceiptRateDropped(26, "o", "waUSDC", "aave", "USDC", 10**27, 9 * 10**26, "loss"),
        liq(30, "morpho", "waUSDC"),
    ]
    assert token_issuers(records) == {"DAI": "maker", "waUSDC": "aave"}
    path = distress_path(records)
    assert [(e.block, e.node, e.kind) for e in path] == [
        (10, "maker", "liquidation"), (12, "maker", "bad-debt"), (20, "DAI", "depeg"),
        (22, "aave", "liquidation"), (25, "aave", "socialized-loss"), (26, "waUSDC", "receipt-devalued"),
        (30, "morpho", "liquidation"),
    ]
    first = first_distress_by_protocol(records)
    assert first["aave"].link == "collateral DAI (issued by maker)"
    assert first["morpho"].link == "collateral waUSDC (issued by aave)"
    assert first["waUSDC"].link == "socialized loss of aave"
    assert "via collateral DAI" in format_distress_path(path)
