"""Routing over Uniswap V2 pools: find a path between two tokens, quote it, trade it.

Paths are found by breadth-first search over the pools in registration order (deterministic),
at most ``max_hops`` pools long. Amounts are base units.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from defisim.engine.records import SwapExecuted


class NoRouteError(LookupError):
    """No chain of pools connects the two tokens."""


class Router:
    """Swaps along paths of :class:`UniswapV2Pool` (exact integer math at every hop)."""

    def __init__(self, pools: Mapping[str, Any], max_hops: int = 3) -> None:
        self._pools = [p for p in pools.values() if hasattr(p, "get_amount_out")]
        self.max_hops = max_hops
        self._paths: dict[tuple[str, str], tuple[Any, ...]] = {}

    def path(self, token_in: str, token_out: str) -> tuple[Any, ...]:
        """Pools from ``token_in`` to ``token_out`` (shortest; cached); NoRouteError if none."""
        key = (token_in, token_out)
        if key not in self._paths:
            self._paths[key] = self._search(token_in, token_out)
        return self._paths[key]

    def has_path(self, token_in: str, token_out: str) -> bool:
        """True if some path of pools connects the tokens."""
        try:
            self.path(token_in, token_out)
        except NoRouteError:
            return False
        return True

    def quote(self, token_in: str, token_out: str, amount_in: int) -> int:
        """Output of selling ``amount_in`` along the path, without trading."""
        token = token_in
        amount = amount_in
        for pool in self.path(token_in, token_out):
            if amount == 0:
                return 0
            amount = pool.get_amount_out(amount, token)
            token = _other(pool, token)
        return amount

    def quote_in(self, token_in: str, token_out: str, amount_out: int) -> int:
        """Input needed to receive ``amount_out`` along the path, without trading."""
        pools = self.path(token_in, token_out)
        tokens = [token_in]
        for pool in pools:
            tokens.append(_other(pool, tokens[-1]))
        amount = amount_out
        for pool, tok_out in zip(reversed(pools), reversed(tokens[1:]), strict=True):
            amount = pool.get_amount_in(amount, tok_out)
        return amount

    def swap(
        self, block: int, now: int, trader: str, token_in: str, token_out: str, amount_in: int,
        min_out: int = 0,
    ) -> tuple[int, list[SwapExecuted]]:
        """Trade ``amount_in`` along the path; returns (amount out, swap records).

        If the final output would be zero (dust) or below ``min_out`` nothing is traded and
        (0, []) is returned.
        """
        quoted = self.quote(token_in, token_out, amount_in) if amount_in else 0
        if quoted == 0 or quoted < min_out:  # nothing to get (dust), or not enough
            return 0, []
        token = token_in
        amount = amount_in
        records: list[SwapExecuted] = []
        for pool in self.path(token_in, token_out):
            record = pool.swap_exact_in(block, now, trader, token, amount, 0)
            if record is None:  # pragma: no cover - quote guaranteed the output
                raise RuntimeError("swap failed after a successful quote")
            records.append(record)
            token, amount = record.token_out, record.amount_out
        return amount, records

    def _search(self, token_in: str, token_out: str) -> tuple[Any, ...]:
        if token_in == token_out:
            return ()
        frontier: deque[tuple[str, tuple[Any, ...]]] = deque([(token_in, ())])
        seen = {token_in}
        while frontier:
            token, path = frontier.popleft()
            if len(path) >= self.max_hops:
                continue
            for pool in self._pools:
                if token not in (pool.token0, pool.token1):
                    continue
                nxt = _other(pool, token)
                if nxt == token_out:
                    return (*path, pool)
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append((nxt, (*path, pool)))
        raise NoRouteError(f"no pool path from {token_in} to {token_out}")


def _other(pool: Any, token: str) -> str:
    return pool.token1 if token == pool.token0 else pool.token0


__all__: Sequence[str] = ["NoRouteError", "Router"]
