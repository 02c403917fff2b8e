"""The store front: ``quoteCollateral`` and ``buyCollateral`` against hand calculation.

After ``bob``'s absorption at WETH 1,500 (see test_comet_absorb) the market holds 10 WETH of
collateral reserves and 80,000 USDC of reserves, below the 5M target: the collateral is for sale.
"""

from __future__ import annotations

import pytest
from comet_env import T0, USD, USDC, WETH, CometEnv  # type: ignore[import-not-found]

from defisim.engine.protocols.compound_v3 import BuyResult, CometError
from defisim.engine.protocols.compound_v3 import errors as E

# discountFactor = mulFactor(storeFrontPriceFactor 0.5e18, 1e18 - 0.95e18) = 0.025e18
# assetPriceDiscounted = mulFactor(1500e8, 1e18 - 0.025e18) = 1462.5e8 = 146_250_000_000
DISCOUNTED = 146_250_000_000


def absorbed_env(**changes: object) -> CometEnv:
    env = CometEnv(**changes)
    env.reserves(100_000 * USDC)
    env.lend("lp", 1_000_000 * USDC)
    env.post("bob", "WETH", 10 * WETH)
    env.borrow("bob", 20_000 * USDC)
    env.usd["eth-usd"] = 1_500 * USD
    env.comet.absorb(T0, "keeper", ["bob"])
    env.ledger.mint("USDC", "buyer", 100_000 * USDC)
    return env


def test_quote_is_the_discounted_feed_price() -> None:
    env = absorbed_env()
    # basePrice * baseAmount * assetScale / assetPriceDiscounted / baseScale
    # = 1e8 * 1000e6 * 1e18 / 146250000000 / 1e6 = 683760683760683760.68 -> 683760683760683760
    assert env.comet.quote_collateral("WETH", 1_000 * USDC) == 10**8 * 1_000 * USDC * WETH // DISCOUNTED // USDC
    assert env.comet.quote_collateral("WETH", 1_000 * USDC) == 683_760_683_760_683_760


def test_buy_collateral_moves_tokens_and_raises_reserves() -> None:
    env = absorbed_env()
    assert env.comet.get_reserves(T0) == 80_000 * USDC
    result = env.comet.buy_collateral(T0, "buyer", "WETH", 683_760_683_760_683_760, 1_000 * USDC)
    env.check()
    assert result == BuyResult("buyer", "WETH", 1_000 * USDC, 683_760_683_760_683_760, "buyer", 80_000 * USDC)
    assert env.ledger.balance_of("WETH", "buyer") == 683_760_683_760_683_760
    assert env.comet.get_reserves(T0) == 81_000 * USDC
    assert env.comet.get_collateral_reserves("WETH") == 10 * WETH - 683_760_683_760_683_760


def test_slippage_and_insufficient_reserves_revert() -> None:
    env = absorbed_env()
    before = env.state()
    with pytest.raises(CometError) as err:
        env.comet.buy_collateral(T0, "buyer", "WETH", 683_760_683_760_683_761, 1_000 * USDC)
    assert err.value.reason == E.TOO_MUCH_SLIPPAGE
    # 15,000 USDC quotes 1e8 * 15000e6 * 1e18 / 146250000000 / 1e6 = 10.256... WETH > 10 held
    with pytest.raises(CometError) as err:
        env.comet.buy_collateral(T0, "buyer", "WETH", 0, 15_000 * USDC)
    assert err.value.reason == E.INSUFFICIENT_RESERVES
    assert env.state() == before
    with pytest.raises(CometError) as err:
        env.comet.buy_collateral(T0, "buyer", "USDC", 0, 1)  # the base token is no collateral
    assert err.value.reason == E.BAD_ASSET


def test_base_for_collateral_inverts_the_quote() -> None:
    env = absorbed_env()
    # quote(b) = floor(1e8 * b * 1e18 / (146250000000 * 1e6)) <= 10e18  <=>  b <= 14,625 USDC
    b = env.comet.base_for_collateral("WETH", 10 * WETH)
    assert b == 14_625 * USDC
    assert env.comet.quote_collateral("WETH", b) == 10 * WETH
    assert env.comet.quote_collateral("WETH", b + 1) > 10 * WETH


def test_sale_stops_once_reserves_reach_the_target() -> None:
    env = absorbed_env(target_reserves=90_000 * USDC)
    # 80,000 < 90,000: for sale; one buy may overshoot (the check precedes the payment)
    env.comet.buy_collateral(T0, "buyer", "WETH", 0, 14_625 * USDC)
    assert env.comet.get_reserves(T0) == 94_625 * USDC
    env.post("cat", "WETH", WETH)  # no effect on collateral reserves
    with pytest.raises(CometError) as err:
        env.comet.buy_collateral(T0, "buyer", "WETH", 0, 1)
    assert err.value.reason == E.NOT_FOR_SALE


def test_negative_reserves_are_below_any_target() -> None:
    env = CometEnv(target_reserves=0)
    env.lend("lp", 1_000_000 * USDC)
    env.post("bob", "WETH", 10 * WETH)
    env.borrow("bob", 20_000 * USDC)
    env.usd["eth-usd"] = 1_500 * USD
    env.comet.absorb(T0, "keeper", ["bob"])
    assert env.comet.get_reserves(T0) == -20_000 * USDC
    env.ledger.mint("USDC", "buyer", 1_000 * USDC)
    env.comet.buy_collateral(T0, "buyer", "WETH", 0, 1_000 * USDC)
    assert env.comet.get_reserves(T0) == -19_000 * USDC
