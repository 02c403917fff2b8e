"""An undo journal: every Maker entry point is all-or-nothing, like a transaction.

dss modules call each other (``bark`` runs ``Vat.grab``, ``Vow.fess``, ``Clipper.kick`` and
``Vat.suck``); a ``require`` anywhere reverts the whole call. Here each module writes its
storage through one shared :class:`Journal`. Inside :meth:`Journal.atomic` every write
records how to undo it; if the block raises, the writes are undone newest first and the
exception propagates, so a failed action changes nothing (the same guarantee Morpho's
copy-on-write overlay gives). Outside ``atomic`` writes apply directly.

Token movements on the :class:`~defisim.engine.ledger.Ledger` go through the journal too
(:meth:`transfer`, :meth:`mint`, :meth:`burn`); their undo restores the balances and the
``minted``/``burned`` totals exactly. AMM swaps cannot be undone: callers quote first and
swap last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from defisim.engine.ledger import Ledger

__all__ = ["Journal"]

_MISSING = object()


class Journal:
    """Records undo steps while an :meth:`atomic` block is open (nestable)."""

    __slots__ = ("_undo", "ledger")

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._undo: list[Callable[[], None]] | None = None

    @property
    def active(self) -> bool:
        """Whether an atomic block is open."""
        return self._undo is not None

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Run the block as one transaction: on any exception undo its writes and re-raise.

        Nested blocks undo only their own writes when they fail (the outer block may catch
        the error and go on, like a ``try`` around an external call).
        """
        outer = self._undo is None
        if outer:
            self._undo = []
        undo: list[Callable[[], None]] = self._undo
        mark = len(undo)
        try:
            yield
        except BaseException:
            while len(undo) > mark:
                undo.pop()()
            raise
        finally:
            if outer:
                self._undo = None

    # --- storage writes ---------------------------------------------------------------------

    def put(self, mapping: MutableMapping[Any, Any], key: Any, value: Any) -> None:
        """``mapping[key] = value``."""
        if self._undo is not None:
            old = mapping.get(key, _MISSING)
            if old is _MISSING:
                self._undo.append(lambda: mapping.pop(key, None))
            else:
                self._undo.append(lambda: mapping.__setitem__(key, old))
        mapping[key] = value

    def delete(self, mapping: MutableMapping[Any, Any], key: Any) -> None:
        """``delete mapping[key]`` (no-op if absent)."""
        old = mapping.pop(key, _MISSING)
        if old is not _MISSING and self._undo is not None:
            self._undo.append(lambda: mapping.__setitem__(key, old))

    def set(self, obj: object, name: str, value: Any) -> None:
        """``obj.name = value``."""
        if self._undo is not None:
            old = getattr(obj, name)
            self._undo.append(lambda: setattr(obj, name, old))
        setattr(obj, name, value)

    def append(self, items: list[Any], value: Any) -> None:
        """``items.push(value)``."""
        items.append(value)
        if self._undo is not None:
            self._undo.append(items.pop)

    def pop(self, items: list[Any]) -> Any:
        """``items.pop()``; returns the removed value."""
        value = items.pop()
        if self._undo is not None:
            self._undo.append(lambda: items.append(value))
        return value

    def set_item(self, items: list[Any], index: int, value: Any) -> None:
        """``items[index] = value``."""
        if self._undo is not None:
            old = items[index]
            self._undo.append(lambda: items.__setitem__(index, old))
        items[index] = value

    def on_undo(self, step: Callable[[], None]) -> None:
        """Register an extra undo step (e.g. a cache that must be invalidated again)."""
        if self._undo is not None:
            self._undo.append(step)

    # --- token movements ----------------------------------------------------------------------

    def transfer(self, token: str, src: str, dst: str, amount: int) -> None:
        """Ledger transfer (raises :class:`~defisim.errors.InsufficientBalanceError`)."""
        ledger = self.ledger
        ledger.transfer(token, src, dst, amount)
        if self._undo is not None and amount:
            self._undo.append(lambda: ledger.transfer(token, dst, src, amount))

    def mint(self, token: str, to: str, amount: int) -> None:
        """Ledger mint; undone by burning and restoring both totals."""
        ledger = self.ledger
        ledger.mint(token, to, amount)
        if self._undo is not None and amount:
            def undo() -> None:
                ledger.burn(token, to, amount)
                ledger.burned[token] -= amount
                ledger.minted[token] -= amount
            self._undo.append(undo)

    def burn(self, token: str, holder: str, amount: int) -> None:
        """Ledger burn (raises if ``holder`` lacks the balance); undone exactly."""
        ledger = self.ledger
        ledger.burn(token, holder, amount)
        if self._undo is not None and amount:
            def undo() -> None:
                ledger.mint(token, holder, amount)
                ledger.minted[token] -= amount
                ledger.burned[token] -= amount
            self._undo.append(undo)
