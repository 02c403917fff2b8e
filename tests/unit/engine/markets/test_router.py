"""Router: path search over pools, quotes that match the hops, dust and refusal cases."""

from __future__ import annotations

import pytest

from defisim.engine.ledger import Ledger
from defisim.engine.markets.router import NoRouteError, Router
from defisim.engine.markets.uniswap_v2 import UniswapV2Pool, get_amount_in, get_amount_out

E18, E6 = 10**18, 10**6


@pytest.fixture
def setup() -> tuple[Ledger, Router, dict[str, UniswapV2Pool]]:
    ledger = Ledger({"WETH": 18, "USDC": 6, "AAVE": 18, "DAI": 18})
    pools = {
        "weth-usdc": UniswapV2Pool("weth-usdc", "WETH", "USDC", ledger),
        "aave-weth": UniswapV2Pool("aave-weth", "AAVE", "WETH", ledger),
    }
    for pool, (a, b) in zip(pools.values(), [(1000 * E18, 2_000_000 * E6), (100_000 * E18, 1000 * E18)], strict=True):
        ledger.mint(pool.token0, "lp", a)
        ledger.mint(pool.token1, "lp", b)
        pool.add_liquidity("lp", a, b, 0)
    return ledger, Router(pools), pools


def test_two_hop_quote_is_the_chain_of_exact_hops(setup) -> None:  # type: ignore[no-untyped-def]
    ledger, router, pools = setup
    assert [p.name for p in router.path("AAVE", "USDC")] == ["aave-weth", "weth-usdc"]
    weth = get_amount_out(50 * E18, 100_000 * E18, 1000 * E18)
    usdc = get_amount_out(weth, 1000 * E18, 2_000_000 * E6)
    assert router.quote("AAVE", "USDC", 50 * E18) == usdc
    ledger.mint("AAVE", "t", 50 * E18)
    got, records = router.swap(1, 12, "t", "AAVE", "USDC", 50 * E18)
    assert got == usdc and [r.pool for r in records] == ["aave-weth", "weth-usdc"]
    assert ledger.balance_of("USDC", "t") == usdc and ledger.conservation_errors() == []


def test_quote_in_inverts_along_the_path(setup) -> None:  # type: ignore[no-untyped-def]
    _, router, _ = setup
    need_weth = get_amount_in(1_000 * E6, 1000 * E18, 2_000_000 * E6)
    assert router.quote_in("WETH", "USDC", 1_000 * E6) == need_weth
    need_aave = get_amount_in(need_weth, 100_000 * E18, 1000 * E18)
    assert router.quote_in("AAVE", "USDC", 1_000 * E6) == need_aave


def test_dust_and_min_out_trade_nothing(setup) -> None:  # type: ignore[no-untyped-def]
    ledger, router, pools = setup
    ledger.mint("WETH", "t", 10**6)
    assert router.quote("WETH", "USDC", 10**6) == 0
    assert router.swap(1, 12, "t", "WETH", "USDC", 10**6) == (0, [])
    ledger.mint("WETH", "t", E18)
    assert router.swap(1, 12, "t", "WETH", "USDC", E18, min_out=10**12) == (0, [])
    assert ledger.balance_of("WETH", "t") == E18 + 10**6
    assert (pools["weth-usdc"].reserve0, pools["weth-usdc"].reserve1) == (1000 * E18, 2_000_000 * E6)


def test_no_route_is_reported(setup) -> None:  # type: ignore[no-untyped-def]
    _, router, _ = setup
    assert not router.has_path("DAI", "USDC")
    with pytest.raises(NoRouteError):
        router.quote("DAI", "USDC", 1)
