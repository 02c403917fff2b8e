"""Assembling a graph from chain reads, without a chain: what a token with no readable symbol
becomes (the reads themselves are tested against a real Anvil in tests/chain)."""

from __future__ import annotations

from defisim.chain.ecosystem_read import (
    AavePoolRead,
    AaveReserveRead,
    EcosystemRead,
    TokenRead,
)
from defisim.graph.from_chain import graph_from_chain
from defisim.graph.registry import registry_from_dict

ASSET, POOL, ORACLE, A_TOKEN, DEBT = ("0x" + d * 20 for d in ("11", "22", "33", "44", "55"))


def _read(symbol: str | None) -> EcosystemRead:
    registry = registry_from_dict({"name": "x", "chain_id": 1, "protocols": [
        {"id": "aave", "family": "aave-v3", "pool": POOL, "source": "test"}]})
    reserve = AaveReserveRead(ASSET, 18, 8000, 8500, A_TOKEN, DEBT, "0x" + "00" * 20, 10**21, 5 * 10**20, 0,
                              ORACLE, 0, 0, 10**27, 2000 * 10**8, ORACLE)
    pool = AavePoolRead("aave", "Aave", POOL, POOL, ORACLE, 10**8, "0x" + "00" * 20, 3, (reserve,), "test")
    return EcosystemRead(registry, 1, 100, 1_700_000_000, "http://127.0.0.1:1", aave=[pool],
                         tokens={ASSET.lower(): TokenRead(ASSET, symbol, 18, 10**22)})


def test_a_token_without_a_symbol_is_named_by_its_address() -> None:
    named = graph_from_chain(_read("WETH"))
    unnamed = graph_from_chain(_read(None))
    tokens = lambda g: sorted(e.token for e in g.file.edges if e.kind == "collateral_held_in")
    assert tokens(named) == ["WETH"]
    assert tokens(unnamed) == [ASSET[:10]]
    # the same figures either way: 1,000 tokens at $2,000
    values = lambda g: [e.value_usd for e in g.file.edges if e.kind == "collateral_held_in"]
    assert values(named) == values(unnamed) == [2_000_000.0]
