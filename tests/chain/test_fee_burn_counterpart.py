"""The fee burn against its on-chain counterpart: real Uniswap V2 pair + contracts/src/FeeBurner.sol.

The simulator's treasury burns fees by selling them on a Uniswap V2 pool model and burning what
it bought (``UniswapV2Pool.swap_exact_in`` + ``Ledger.burn``). On chain the same flow is a real
``UniswapV2Pair`` (``@uniswap/v2-core`` bytecode) and ``FeeBurner.burn``. Hypothesis draws the
pool depth, the token decimals, the amounts and the time between trades; the amount burned,
the pair's reserves, its price accumulators and the burned token's total supply must be equal.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defisim.chain.adapters.aave_v3 import DEPLOYER, deploy_contract
from defisim.chain.anvil import Anvil
from defisim.chain.rpc import LocalNode, address_of
from defisim.engine.ledger import Ledger
from defisim.engine.markets.uniswap_v2 import UniswapV2Pool

T0 = 1_700_000_000
TREASURY = address_of("treasury")


@pytest.fixture(scope="module")
def node():
    with Anvil(timestamp=T0) as anvil:
        yield LocalNode(anvil.url)


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    fee_decimals=st.sampled_from([6, 18]),
    depth_fee=st.integers(10**4, 10**14),
    depth_gov=st.integers(10**4, 10**26),
    sells=st.lists(st.tuples(st.integers(1, 10**13), st.integers(0, 7200)), min_size=1, max_size=4),
)
def test_fee_burn_matches_real_pair(node: LocalNode, fee_decimals: int, depth_fee: int, depth_gov: int,
                                    sells: list[tuple[int, int]]) -> None:
    mark = node.snapshot()
    try:
        _check(node, fee_decimals, depth_fee, depth_gov, sells)
    finally:
        node.revert(mark)


def _check(node: LocalNode, fee_decimals: int, depth_fee: int, depth_gov: int,
           sells: list[tuple[int, int]]) -> None:
    now = node.timestamp() + 12
    fee = deploy_contract(node, "defisim", "TestToken", ("Fee", "FEE", fee_decimals), timestamp=now)
    gov = deploy_contract(node, "defisim", "TestToken", ("Gov", "GOV", 18), timestamp=now)
    factory = deploy_contract(node, "uniswap-v2", "UniswapV2Factory", (DEPLOYER,), timestamp=now)
    burner = deploy_contract(node, "defisim", "FeeBurner", timestamp=now)
    factory.send(DEPLOYER, "createPair", fee.address, gov.address)
    node.mine(now)
    from defisim.chain.artifacts import load_artifact
    from defisim.chain.rpc import Contract

    pair = Contract(node, factory.call("getPair", fee.address, gov.address),
                    load_artifact("uniswap-v2", "UniswapV2Pair").abi)
    token0 = "FEE" if pair.call("token0").lower() == fee.address.lower() else "GOV"
    token1 = "GOV" if token0 == "FEE" else "FEE"

    ledger = Ledger({"FEE": fee_decimals, "GOV": 18})
    sim = UniswapV2Pool("fee-gov", token0, token1, ledger)
    amounts = {"FEE": depth_fee, "GOV": depth_gov}
    for sym, tok in (("FEE", fee), ("GOV", gov)):
        tok.send(DEPLOYER, "mint", pair.address, amounts[sym])
        ledger.mint(sym, "lp", amounts[sym])
    pair.send(DEPLOYER, "mint", address_of("lp"))
    node.mine(now)
    sim.add_liquidity("lp", amounts[token0], amounts[token1], now)
    gov_supply = gov.call("totalSupply")
    assert gov_supply == ledger.supply("GOV")

    for amount_in, dt in sells:
        now += dt
        quoted = sim.get_amount_out(amount_in, "FEE")
        fee.send(DEPLOYER, "mint", TREASURY, amount_in)
        fee.send(TREASURY, "approve", burner.address, amount_in)
        burner.send(TREASURY, "burn", pair.address, fee.address, amount_in)
        receipts = node.mine(now, check=False)
        ledger.mint("FEE", "treasury", amount_in)
        record = sim.swap_exact_in(0, now, "treasury", "FEE", amount_in)
        if quoted == 0:  # both refuse to buy nothing: the contract reverts, the model declines
            assert not receipts[-1].ok
            assert record is None
            continue
        assert receipts[-1].ok, node.revert_reason(receipts[-1].tx_hash)
        assert record is not None
        ledger.burn("GOV", "treasury", quoted)
        reserves = pair.call("getReserves")
        assert (reserves[0], reserves[1]) == (sim.reserve0, sim.reserve1)
        assert reserves[2] == sim.block_timestamp_last
        assert pair.call("price0CumulativeLast") == sim.price0_cumulative_last
        assert pair.call("price1CumulativeLast") == sim.price1_cumulative_last
        assert gov.call("totalSupply") == ledger.supply("GOV") == gov_supply - quoted
        gov_supply -= quoted
