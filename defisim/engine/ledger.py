"""Token ledger: every balance of every token, in token base units (exact ints).

All token movements in the world go through one :class:`Ledger`, so conservation can be
checked at any time: for every token, ``minted - burned == sum of all balances`` (protocols,
pools, agents and funds are ordinary holders). Holders are plain strings ("aave", "pool:weth-usdc",
"liquidator:alpha").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from defisim.errors import InsufficientBalanceError, InvariantViolation


class Ledger:
    """Balances per (token, holder) in base units, with mint/burn totals per token."""

    __slots__ = ("decimals", "_balances", "minted", "burned")

    def __init__(self, decimals: Mapping[str, int]) -> None:
        self.decimals: dict[str, int] = dict(decimals)
        self._balances: dict[str, dict[str, int]] = {t: {} for t in self.decimals}
        self.minted: dict[str, int] = {t: 0 for t in self.decimals}
        self.burned: dict[str, int] = {t: 0 for t in self.decimals}

    def unit(self, token: str) -> int:
        """10**decimals of ``token``: base units in one whole token."""
        return 10 ** self.decimals[token]

    def balance_of(self, token: str, holder: str) -> int:
        """Balance of ``holder`` in ``token`` base units (0 if never seen)."""
        return self._balances[token].get(holder, 0)

    def holders(self, token: str) -> dict[str, int]:
        """A copy of every non-zero balance of ``token``."""
        return {h: b for h, b in self._balances[token].items() if b}

    def supply(self, token: str) -> int:
        """Circulating supply: minted minus burned, base units."""
        return self.minted[token] - self.burned[token]

    def mint(self, token: str, to: str, amount: int) -> None:
        """Create ``amount`` base units of ``token`` for ``to``."""
        _check_amount(amount)
        book = self._balances[token]
        book[to] = book.get(to, 0) + amount
        self.minted[token] += amount

    def burn(self, token: str, holder: str, amount: int) -> None:
        """Destroy ``amount`` base units held by ``holder``."""
        _check_amount(amount)
        book = self._balances[token]
        have = book.get(holder, 0)
        if have < amount:
            raise InsufficientBalanceError(token, holder, have, amount)
        book[holder] = have - amount
        self.burned[token] += amount

    def transfer(self, token: str, src: str, dst: str, amount: int) -> None:
        """Move ``amount`` base units of ``token`` from ``src`` to ``dst``."""
        _check_amount(amount)
        book = self._balances[token]
        have = book.get(src, 0)
        if have < amount:
            raise InsufficientBalanceError(token, src, have, amount)
        book[src] = have - amount
        book[dst] = book.get(dst, 0) + amount

    def conservation_errors(self, tokens: Iterable[str] | None = None) -> list[str]:
        """Every broken rule: ``minted - burned != Σ balances`` or a negative balance."""
        errors: list[str] = []
        for token in tokens if tokens is not None else self.decimals:
            book = self._balances[token]
            total = sum(book.values())
            if total != self.minted[token] - self.burned[token]:
                errors.append(
                    f"{token}: minted {self.minted[token]} - burned {self.burned[token]}"
                    f" != sum of balances {total}"
                )
            errors.extend(f"{token}: {h} has negative balance {b}" for h, b in book.items() if b < 0)
        return errors

    def check_conservation(self) -> None:
        """Raise :class:`InvariantViolation` listing every broken conservation rule."""
        errors = self.conservation_errors()
        if errors:
            raise InvariantViolation("; ".join(errors))


def _check_amount(amount: int) -> None:
    if type(amount) is not int or amount < 0:
        raise ValueError(f"token amount must be a non-negative int of base units, got {amount!r}")
