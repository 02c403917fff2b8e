"""``defisim fork --protocol morpho-blue`` on a real Ethereum mainnet market (AdaptiveCurveIrm).

A genuine AdaptiveCurveIrm is not available offline (its bytecode is on no package registry
this project can reach), so the check against the deployed contract needs a mainnet RPC:
set ``DEFISIM_MAINNET_RPC_URL`` (an archive node is not needed: the latest block is forked).
Without it the fork test is skipped with that reason; the market id check runs always.

The market: USDC lent against wstETH at LLTV 86 % on Morpho Blue
``0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb``, params as published in ``@morpho-org/morpho-test``
4.0.3 (``fixtures/markets.js``, ``usdc_wstEth``) with the mainnet addresses of
``@morpho-org/blue-sdk`` 6.4.0 (``addresses.js``: ``usdc``, ``wstEth``, ``adaptiveCurveIrm``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak

from defisim.chain.fork import ForkRequest, parse_shock, run_fork
from defisim.chain.rpc import ReadOnlyRpc
from defisim.engine.protocols.morpho_blue import (
    AdaptiveCurveIrm,
    FixedPriceOracle,
    Market,
    MarketParams,
)
from defisim.engine.protocols.morpho_blue.adaptive_curve_irm import (
    MAX_RATE_AT_TARGET,
    MIN_RATE_AT_TARGET,
)

MORPHO = "0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb"
ADAPTIVE_CURVE_IRM = "0x870aC11D48B15DB9a138Cf899d20F13F79Ba00BC"
USDC_WSTETH = ("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",  # loan: USDC
               "0x7f39C581F595B53c5cb19bD0b3f8dA6c935E2Ca0",  # collateral: wstETH
               "0x48F7E36EB6B826B2dF4B2E630B62Cd25e89E40e2",  # oracle
               ADAPTIVE_CURVE_IRM, 86 * 10**16)
PUBLISHED_ID = "0xb323495f7e4148be5643a4ea4a8221eef163e4bccfdedc2a6f4696baacbc86cc"
"""``new MarketParams(usdc_wstEth).id`` in blue-sdk 6.4.0."""
URL = os.environ.get("DEFISIM_MAINNET_RPC_URL", "")
PARAMS_T = "(address,address,address,address,uint256)"
MARKET_T = "(uint128,uint128,uint128,uint128,uint128,uint128)"

needs_rpc = pytest.mark.skipif(
    not URL, reason="set DEFISIM_MAINNET_RPC_URL to an Ethereum mainnet RPC to check the AdaptiveCurveIrm model "
                    "against the deployed contract (not possible offline: no genuine bytecode on any registry)")


def _market_id(params: tuple[str, str, str, str, int]) -> str:
    return "0x" + keccak(abi_encode(["address", "address", "address", "address", "uint256"], list(params))).hex()


def test_market_id_is_keccak_of_the_abi_encoded_params() -> None:
    assert _market_id(USDC_WSTETH) == PUBLISHED_ID


@needs_rpc
def test_fork_a_mainnet_adaptive_curve_market() -> None:
    report = run_fork(ForkRequest(URL, protocol="morpho-blue", morpho=MORPHO, market=PUBLISHED_ID, chain_id=1,
                                  log_blocks=2000, max_accounts=40, shocks=(parse_shock("collateral=-40%"),)))
    assert report.family == "morpho-blue" and report.chain_id == 1
    notes = " ".join(report.notes)
    found = re.search(r"AdaptiveCurveIrm with rateAtTarget (\d+) per second", notes)
    assert found, notes
    stored = int(found.group(1))
    assert MIN_RATE_AT_TARGET <= stored <= MAX_RATE_AT_TARGET
    # the model reads what the fork read, and liquidates exactly as the fork does
    assert report.read_mismatches == [], report.read_mismatches
    assert all(r.mismatches == () for r in report.liquidations), report.liquidations
    assert report.final_mismatches == [] and report.mismatch_count == 0

    # independently of the fork: the user's RPC at the same block, read-only
    rpc = ReadOnlyRpc(URL)
    try:
        mid = bytes.fromhex(PUBLISHED_ID[2:])
        on_chain = int(abi_decode(["int256"], rpc.call(ADAPTIVE_CURVE_IRM, keccak(text="rateAtTarget(bytes32)")[:4]
                                                       + mid, report.block))[0])
        market = abi_decode(["uint128"] * 6, rpc.call(MORPHO, keccak(text="market(bytes32)")[:4] + mid,
                                                      report.block))
        view = keccak(text=f"borrowRateView({PARAMS_T},{MARKET_T})")[:4] + abi_encode(
            [PARAMS_T, MARKET_T], [USDC_WSTETH, tuple(market)])
        chain_rate = int(abi_decode(["uint256"], rpc.call(ADAPTIVE_CURVE_IRM, view, report.block))[0])
    finally:
        rpc.close()
    assert on_chain == stored
    model = AdaptiveCurveIrm(rate_at_target={PUBLISHED_ID: on_chain})
    params = MarketParams(PUBLISHED_ID, "USDC", "wstETH", FixedPriceOracle(), model, USDC_WSTETH[4])
    assert model.borrow_rate_view(params, Market(*(int(x) for x in market)), report.timestamp) == chain_rate


@needs_rpc
def test_cli_fork_of_the_mainnet_market_exits_0() -> None:
    args = ["fork", "--rpc-url", URL, "--protocol", "morpho-blue", "--morpho", MORPHO, "--market", PUBLISHED_ID,
            "--chain-id", "1", "--log-blocks", "1000", "--max-accounts", "20", "--shock", "collateral=-40%"]
    proc = subprocess.run([sys.executable, "-c", "from defisim.cli.main import main; main()", *args],
                          check=False, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "AdaptiveCurveIrm" in proc.stdout
