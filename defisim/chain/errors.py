"""Errors of the chain layer: toolchain, contract builds, artifacts, linking."""

from __future__ import annotations

import difflib

from defisim.errors import DefisimError


class ChainError(DefisimError, RuntimeError):
    """Something in the chain toolchain or on the chain went wrong."""


class ToolchainMissingError(ChainError):
    """``node`` or the pinned ``node_modules`` (solc-js, protocol sources) is not available.

    ``what`` names the missing piece; ``hint`` says how to get it (usually ``npm ci``).
    """

    def __init__(self, what: str, hint: str) -> None:
        self.what, self.hint = what, hint
        super().__init__(f"{what}; {hint}")


class ContractBuildError(ChainError):
    """``node contracts/build.mjs FAMILY`` failed; ``output`` holds its messages (solc's errors)."""

    def __init__(self, family: str, returncode: int, output: str) -> None:
        self.family, self.returncode, self.output = family, returncode, output
        super().__init__(
            f"building contract family {family!r} failed (exit {returncode}):\n{output.strip()}"
        )


class ArtifactNotFoundError(ChainError, LookupError):
    """No artifact ``name`` in ``family`` (or, with ``family=None``, no family ``name``);
    ``available`` lists what exists."""

    def __init__(self, family: str | None, name: str, available: list[str]) -> None:
        self.family, self.name, self.available = family, name, list(available)
        if family is None:
            super().__init__(
                f"unknown contract family {name!r}; known: {', '.join(self.available)}"
            )
            return
        close = [a for a in self.available if name.lower() in a.lower()]
        close += [a for a in difflib.get_close_matches(name, self.available, n=4) if a not in close]
        hint = f"; did you mean {', '.join(close[:8])}?" if close else ""
        super().__init__(
            f"no artifact {name!r} in family {family!r} ({len(self.available)} available){hint}"
        )


class UnlinkedLibraryError(ChainError, ValueError):
    """Bytecode still needs libraries that were not given; ``missing`` names them."""

    def __init__(self, contract: str, missing: list[str]) -> None:
        self.contract, self.missing = contract, sorted(set(missing))
        super().__init__(
            f"{contract}: no address given for linked librar"
            f"{'y' if len(self.missing) == 1 else 'ies'} {', '.join(self.missing)}"
        )


class RpcError(ChainError):
    """A JSON-RPC call returned an error. ``code`` and ``data`` as the node sent them."""

    def __init__(self, method: str, code: int, message: str, data: object = None) -> None:
        self.method, self.code, self.data = method, code, data
        super().__init__(f"{method}: {message} (code {code})")


class TransactionFailed(ChainError):
    """A transaction reverted; ``reason`` is the decoded revert (error name or string)."""

    def __init__(self, what: str, reason: str) -> None:
        self.what, self.reason = what, reason
        super().__init__(f"{what} reverted: {reason}")
