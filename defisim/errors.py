"""Exception hierarchy: one root, subclasses that also inherit the builtin they resemble."""

from __future__ import annotations


class DefisimError(Exception):
    """Root of every error defisim raises on purpose."""


class ScenarioError(DefisimError, ValueError):
    """A scenario file or object is invalid.

    ``problems`` holds one ``(field_path, message)`` pair per problem, so a caller can show
    every problem at once; ``str(err)`` lists them one per line.
    """

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        lines = [f"{path or '<root>'}: {msg}" for path, msg in self.problems]
        super().__init__(head + f"{len(lines)} problem(s)\n  " + "\n  ".join(lines))


class InsufficientBalanceError(DefisimError, ValueError):
    """A token transfer or burn asked for more than the holder has (base units)."""

    def __init__(self, token: str, holder: str, balance: int, amount: int) -> None:
        self.token, self.holder, self.balance, self.amount = token, holder, balance, amount
        super().__init__(
            f"{holder} holds {balance} base units of {token}, cannot move {amount}"
        )


class InvariantViolation(DefisimError, AssertionError):
    """A conservation or accounting invariant failed; the simulation state is inconsistent."""


class OutputError(DefisimError, OSError):
    """Results could not be written where asked."""
