"""On-chain validation: compiled contract artifacts, Anvil, deployers and parity checks.

The simulator's exact layer is checked against real contract bytecode on a local chain.
``defisim.chain.artifacts`` loads the compiled contracts (our own from ``contracts/build``,
Aave V3.6 and Morpho Blue compiled on demand from their npm sources, Aave V3.0 and
Uniswap V2 from their npm packages' prebuilt artifacts) and links libraries.
"""
