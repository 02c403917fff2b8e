"""Small hand-written scenarios shared by the integration tests."""

from __future__ import annotations

import copy
import textwrap
from typing import Any

import yaml

ONE_LIQUIDATION = yaml.safe_load(textwrap.dedent("""
    name: one-liquidation
    seed: 1
    chain: {blocks: 10, base_fee_gwei: 10, background_load: 0.5, stress_load: 0.0}
    tokens:
      WETH: {decimals: 18}
      USDC: {decimals: 6}
      AAVE: {decimals: 18, genesis_supply: "1000000 AAVE"}
    prices:
      model: scripted
      interpolation: linear
      assets:
        WETH: {points: [[0, 2000], [5, 2000], [6, 1800]]}
        USDC: {start: 1.0}
    markets:
      - {kind: uniswap-v2, name: weth-usdc, tokens: [WETH, USDC], liquidity: {WETH: "1000 WETH", USDC: "1800000 USDC"}}
      - {kind: uniswap-v2, name: aave-weth, tokens: [AAVE, WETH], liquidity: {AAVE: "100000 AAVE", WETH: "1000 WETH"}}
    oracles:
      - {kind: chainlink, name: eth-usd, asset: WETH, source: reference, deviation: 0.005, heartbeat: 1h, latency_blocks: 1}
      - {kind: chainlink, name: usdc-usd, asset: USDC, source: reference, deviation: 0.0025, heartbeat: 24h}
    protocols:
      - kind: aave-v3
        name: aave
        oracles: {WETH: eth-usd, USDC: usdc-usd}
        reserves:
          WETH: {ltv: 0.80, liquidation_threshold: 0.825, liquidation_bonus: 0.05, liquidation_protocol_fee: 0.10,
                 variable_rate_slope1: 0.0, variable_rate_slope2: 0.0}
          USDC: {ltv: 0.75, liquidation_threshold: 0.78, liquidation_bonus: 0.045,
                 variable_rate_slope1: 0.0, variable_rate_slope2: 0.0}
        suppliers: {USDC: "1000000 USDC"}
        accounts:
          - {name: bob, supply: {WETH: "10 WETH"}, borrow: {USDC: "16000 USDC"}}
        insurance_fund: {asset: USDC, liquidation_fee_share: 0.5}
        fee_burn: {token: AAVE, share: 0.3}
        treasury_every_blocks: 1
    agents:
      - {kind: liquidator, name: solo, capital: {USDC: "100000 USDC"}, flash_loans: false, bid_share: 0.0}
    run: {check_invariants_every_blocks: 1}
"""))


def one_liquidation() -> dict[str, Any]:
    """Bob: 10 WETH supplied, 16,000 USDC borrowed; WETH steps 2,000 -> 1,800 at block 6."""
    return copy.deepcopy(ONE_LIQUIDATION)
