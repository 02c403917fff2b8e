"""Deploy an Aave V3.6 market (``@aave-dao/aave-v3-origin@3.6.0``, compiled by contracts/build.mjs).

Differences from the 3.0 deployment: one ``DefaultReserveInterestRateStrategyV2`` serves every
reserve and is fixed in the pool's constructor; each reserve's curve is passed to
``initReserves`` as ABI-encoded ``InterestRateData`` in bps; the treasury is an immutable of the
aToken implementation; there is no stable debt token.
"""

from __future__ import annotations

from defisim.chain.adapters.aave_v3 import ZERO, AaveChain, MarketDeployer, rate_data_36
from defisim.chain.artifacts import load_artifact
from defisim.chain.backend import MarketSpec
from defisim.chain.rpc import Contract, LocalNode, address_of

__all__ = ["deploy_36"]

FAMILY = "aave-v3.6"
_LIBS = ("SupplyLogic", "BorrowLogic", "LiquidationLogic", "PoolLogic", "FlashLoanLogic")


def deploy_36(node: LocalNode, spec: MarketSpec, ts: int) -> AaveChain:
    """Deploy provider, ACL, pool, configurator, oracle, tokens and reserves of ``spec``."""
    d = MarketDeployer(node, FAMILY, ts)
    provider, acl = d.provider_and_acl()
    strategy = d.deploy("DefaultReserveInterestRateStrategyV2", provider.address)
    libs: dict[str, str] = {}
    for lib in _LIBS:  # FlashLoanLogic links BorrowLogic, deployed before it
        libs[lib] = d.deploy(lib, libraries=libs).address
    pool_impl = d.deploy("PoolInstance", provider.address, strategy.address, libraries=libs)
    d.run(provider, "setPoolImpl", pool_impl.address)
    cfg_logic = d.deploy("ConfiguratorLogic")
    cfg_impl = d.deploy("PoolConfiguratorInstance", libraries={"ConfiguratorLogic": cfg_logic.address})
    d.run(provider, "setPoolConfiguratorImpl", cfg_impl.address)
    pool = Contract(node, provider.call("getPool"), load_artifact(FAMILY, "PoolInstance").abi)
    configurator = Contract(node, provider.call("getPoolConfigurator"), cfg_impl.abi)
    tokens, feeds = d.tokens_and_oracle(spec, provider)

    treasury = address_of(spec.treasury)
    a_impl = d.deploy("ATokenInstance", pool.address, ZERO, treasury)
    v_impl = d.deploy("VariableDebtTokenInstance", pool.address, ZERO)
    inputs = [(a_impl.address, v_impl.address, tokens[s].address, f"a{s}", f"a{s}", f"vd{s}", f"vd{s}",
               b"", rate_data_36(spec.reserves[s])) for s in spec.tokens]
    d.run(configurator, "initReserves", inputs)
    return d.finish(spec, {"pool": pool, "provider": provider, "configurator": configurator, "acl": acl},
                    tokens, feeds, load_artifact(FAMILY, "ATokenInstance").abi,
                    load_artifact(FAMILY, "VariableDebtTokenInstance").abi)
