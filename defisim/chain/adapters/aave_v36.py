"""Deploy an Aave V3.6 market (``@aave-dao/aave-v3-origin@3.6.0``, compiled by contracts/build.mjs).

Differences from the 3.0 deployment: one ``DefaultReserveInterestRateStrategyV2`` serves every
reserve and is fixed in the pool's constructor; each reserve's curve is passed to
``initReserves`` as ABI-encoded ``InterestRateData`` in bps; the treasury is an immutable of the
aToken implementation; there is no stable debt token.
"""

from __future__ import annotations

from typing import Any

from defisim.chain.adapters.aave_v3 import (
    DEPLOYER,
    AaveChain,
    deploy_contract,
    rate_data_36,
)
from defisim.chain.artifacts import load_artifact
from defisim.chain.backend import MarketSpec
from defisim.chain.rpc import Contract, LocalNode, address_of

__all__ = ["deploy_36"]

FAMILY = "aave-v3.6"
ZERO = "0x" + "00" * 20
_LIBS = ("SupplyLogic", "BorrowLogic", "LiquidationLogic", "PoolLogic", "FlashLoanLogic")


def deploy_36(node: LocalNode, spec: MarketSpec, ts: int) -> AaveChain:
    """Deploy provider, ACL, pool, configurator, oracle, tokens and reserves of ``spec``."""

    def dep(name: str, *args: Any, libraries: dict[str, str] | None = None, family: str = FAMILY) -> Contract:
        return deploy_contract(node, family, name, args, libraries, ts)

    def run(c: Contract, fn: str, *args: Any) -> None:
        c.send(DEPLOYER, fn, *args)
        node.mine(ts)

    provider = dep("PoolAddressesProvider", "defisim", DEPLOYER)
    run(provider, "setACLAdmin", DEPLOYER)
    acl = dep("ACLManager", provider.address)
    run(provider, "setACLManager", acl.address)
    run(acl, "addPoolAdmin", DEPLOYER)
    strategy = dep("DefaultReserveInterestRateStrategyV2", provider.address)
    pool_art = load_artifact(FAMILY, "PoolInstance")
    libs: dict[str, str] = {}
    for lib in _LIBS:  # FlashLoanLogic links BorrowLogic, deployed before it
        libs[lib] = dep(lib, libraries=libs).address
    pool_impl = dep("PoolInstance", provider.address, strategy.address, libraries=libs)
    run(provider, "setPoolImpl", pool_impl.address)
    cfg_logic = dep("ConfiguratorLogic")
    cfg_impl = dep("PoolConfiguratorInstance", libraries={"ConfiguratorLogic": cfg_logic.address})
    run(provider, "setPoolConfiguratorImpl", cfg_impl.address)
    pool = Contract(node, provider.call("getPool"), pool_art.abi)
    configurator = Contract(node, provider.call("getPoolConfigurator"), cfg_impl.abi)

    tokens = {s: dep("TestToken", s, s, d, family="defisim") for s, d in spec.tokens.items()}
    feeds = {s: dep("SettableAggregator", 8, f"{s} / USD", spec.prices[s], family="defisim")
             for s in spec.tokens}
    oracle = dep("AaveOracle", provider.address, [tokens[s].address for s in spec.tokens],
                 [feeds[s].address for s in spec.tokens], ZERO, ZERO, 10**8)
    run(provider, "setPriceOracle", oracle.address)

    treasury = address_of(spec.treasury)
    a_impl = dep("ATokenInstance", pool.address, ZERO, treasury)
    v_impl = dep("VariableDebtTokenInstance", pool.address, ZERO)
    inputs = []
    for s in spec.tokens:
        c = spec.reserves[s]
        rate_data = rate_data_36(c)
        inputs.append((a_impl.address, v_impl.address, tokens[s].address, f"a{s}", f"a{s}",
                       f"vd{s}", f"vd{s}", b"", rate_data))
    run(configurator, "initReserves", inputs)
    for s in spec.tokens:
        c, addr = spec.reserves[s], tokens[s].address
        for fn, args in (
            ("configureReserveAsCollateral", (addr, c.ltv, c.liquidation_threshold, c.liquidation_bonus)),
            ("setReserveBorrowing", (addr, True)),
            ("setReserveFactor", (addr, c.reserve_factor)),
            ("setLiquidationProtocolFee", (addr, c.liquidation_protocol_fee)),
        ):
            configurator.send(DEPLOYER, fn, *args)
    node.mine(ts)
    a_abi = load_artifact(FAMILY, "ATokenInstance").abi
    v_abi = load_artifact(FAMILY, "VariableDebtTokenInstance").abi
    a_tokens, d_tokens = {}, {}
    for s in spec.tokens:
        data = pool.call("getReserveData", tokens[s].address)
        a_tokens[s] = Contract(node, data[8], a_abi)
        d_tokens[s] = Contract(node, data[10], v_abi)
    chain = AaveChain(node, spec, pool, feeds, tokens, a_tokens, d_tokens)
    chain.accounts[spec.treasury] = treasury
    chain.extra = {"provider": provider, "configurator": configurator, "acl": acl}
    return chain
