"""Compiled contract artifacts: load them by family and name, build on demand, link libraries.

Families (where the JSON comes from):

``"defisim"``
    Our own contracts (``contracts/src``), compiled by ``node contracts/build.mjs defisim`` into
    ``contracts/build`` and committed; never built at load time.
``"aave-v3.6"``, ``"morpho-blue"``
    Compiled from the npm sources into ``contracts/out/FAMILY`` (not committed) by
    ``node contracts/build.mjs FAMILY``. :func:`ensure_built` runs that only when the build's
    ``.stamp.json`` (sha256 of every input file) no longer matches the inputs.
``"aave-v3.0"``
    The Hardhat artifacts shipped in ``@aave/core-v3/artifacts`` (Aave V3.0, mocks included).
``"uniswap-v2"``
    The Waffle artifacts shipped in ``@uniswap/v2-core/build`` (factory, pair).

``node_modules`` is ``<repo>/node_modules`` (the package is installed editable from the repo),
or the directory named by the environment variable ``DEFISIM_NODE_MODULES``.

Bytecode is a ``0x``-prefixed hex string. Libraries are referenced by placeholders that
:func:`link` replaces with addresses at the byte offsets listed in the artifact's link
references (``{source: {library: [{"start": byte offset, "length": 20}]}}``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

from defisim.chain.errors import (
    ArtifactNotFoundError,
    ChainError,
    ContractBuildError,
    ToolchainMissingError,
    UnlinkedLibraryError,
)

__all__ = [
    "FAMILIES",
    "Artifact",
    "artifact_names",
    "ensure_built",
    "family_dir",
    "link",
    "load_artifact",
    "node_modules_dir",
    "repo_root",
    "stamp_is_fresh",
]

LinkReferences = Mapping[str, Mapping[str, list[dict[str, int]]]]

#: Every family :func:`load_artifact` knows.
FAMILIES: tuple[str, ...] = ("defisim", "aave-v3.6", "morpho-blue", "aave-v3.0", "uniswap-v2")

_BUILT_FAMILIES = ("aave-v3.6", "morpho-blue")  # compiled on demand, stamped
_STAMP = ".stamp.json"
_NPM_ARTIFACTS = {
    "aave-v3.0": ("@aave/core-v3", "artifacts"),
    "uniswap-v2": ("@uniswap/v2-core", "build"),
}
# A library placeholder: 40 characters starting and ending with "__" (hex bytecode has no "_").
_PLACEHOLDER = re.compile(r"__.{36}__")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BUILD_TIMEOUT_S = 900


@dataclass(frozen=True, slots=True)
class Artifact:
    """One compiled contract.

    ``bytecode``/``deployed_bytecode`` are ``0x`` hex and may hold library placeholders;
    ``link_references``/``deployed_link_references`` give their byte offsets (see :func:`link`).
    """

    name: str
    abi: list[dict[str, Any]] = field(hash=False)
    bytecode: str
    link_references: LinkReferences = field(hash=False)
    deployed_bytecode: str = "0x"
    deployed_link_references: LinkReferences = field(default_factory=dict, hash=False)
    source_name: str = ""
    family: str = ""

    @property
    def libraries(self) -> tuple[str, ...]:
        """Fully qualified names (``source:Library``) of the libraries the creation code links."""
        return tuple(
            sorted(f"{src}:{lib}" for src, libs in self.link_references.items() for lib in libs)
        )

    @property
    def is_linked(self) -> bool:
        """Whether the creation bytecode is free of library placeholders."""
        return "_" not in self.bytecode


# ---------------------------------------------------------------------------------------------
# Locations


def repo_root() -> Path:
    """The repository root (the package is installed editable from it)."""
    return Path(__file__).resolve().parents[2]


def node_modules_dir() -> Path:
    """``$DEFISIM_NODE_MODULES`` if set, else ``<repo>/node_modules``."""
    override = os.environ.get("DEFISIM_NODE_MODULES")
    return Path(override).resolve() if override else repo_root() / "node_modules"


def family_dir(family: str) -> Path:
    """Directory holding the artifact JSON files of ``family`` (it may not exist yet)."""
    _check_family(family)
    if family == "defisim":
        return repo_root() / "contracts" / "build"
    if family in _BUILT_FAMILIES:
        return repo_root() / "contracts" / "out" / family
    package, sub = _NPM_ARTIFACTS[family]
    return node_modules_dir() / package / sub


def _check_family(family: str) -> None:
    if family not in FAMILIES:
        raise ArtifactNotFoundError(None, family, list(FAMILIES))


# ---------------------------------------------------------------------------------------------
# Building


_fresh: set[tuple[str, Path]] = set()  # (family, node_modules) checked fresh in this process


def ensure_built(family: str, *, force: bool = False) -> Path:
    """Make sure the artifacts of ``family`` exist and are current; return their directory.

    For ``aave-v3.6`` and ``morpho-blue`` this runs ``node contracts/build.mjs FAMILY`` when the
    stamp is missing or any input's hash changed (or ``force``); a cold build takes tens of
    seconds (solc-js is WebAssembly). Other families are only checked for presence.

    Raises:
        ToolchainMissingError: node, node_modules or a package is missing (run ``npm ci``).
        ContractBuildError: the build failed; the error carries solc's messages.
    """
    _check_family(family)
    out = family_dir(family)
    nm = node_modules_dir()
    if family == "defisim":
        if not out.is_dir():
            raise ToolchainMissingError(
                f"committed artifacts missing at {out}", "run `node contracts/build.mjs defisim`"
            )
        return out
    if not nm.is_dir():
        raise ToolchainMissingError(
            f"node_modules not found at {nm}", f"run `npm ci` in {repo_root()}"
        )
    if family in _NPM_ARTIFACTS:
        if not out.is_dir():
            raise ToolchainMissingError(
                f"npm package {_NPM_ARTIFACTS[family][0]} not installed in {nm}", "run `npm ci`"
            )
        return out
    key = (family, nm)
    if not force and key in _fresh:
        return out
    with _build_lock(out.parent / f".{family}.lock"):
        if force or not stamp_is_fresh(out, nm):
            _run_build(family, nm, force=force)
            if not stamp_is_fresh(out, nm):
                raise ContractBuildError(
                    family, 0, f"build finished but {out / _STAMP} is not fresh"
                )
    _fresh.add(key)
    return out


def stamp_is_fresh(out: Path, nm: Path | None = None) -> bool:
    """Whether ``out/.stamp.json`` matches its inputs (same rule as ``contracts/build.mjs``)."""
    nm = nm or node_modules_dir()
    try:
        stamp = json.loads((out / _STAMP).read_text())
    except (OSError, ValueError):
        return False
    root = repo_root()
    for key, digest in stamp.get("inputs", {}).items():
        kind, _, rel = key.partition(":")
        path = root / rel if kind == "repo" else nm / rel
        try:
            if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                return False
        except OSError:
            return False
    outputs = stamp.get("outputs", [])
    return bool(outputs) and all((out / name).is_file() for name in outputs)


def _run_build(family: str, nm: Path, *, force: bool) -> None:
    node = shutil.which("node")
    if node is None:
        raise ToolchainMissingError(
            "`node` not found on PATH", "install Node.js 20 and run `npm ci`"
        )
    script = repo_root() / "contracts" / "build.mjs"
    cmd = [node, str(script), family] + (["--force"] if force else [])
    env = {**os.environ, "DEFISIM_NODE_MODULES": str(nm)}
    try:
        proc = subprocess.run(
            cmd,
            cwd=repo_root(),
            env=env,
            capture_output=True,
            text=True,
            timeout=_BUILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ContractBuildError(family, -1, f"timed out after {_BUILD_TIMEOUT_S} s") from exc
    if proc.returncode != 0:
        raise ContractBuildError(family, proc.returncode, proc.stderr + proc.stdout)


@contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """Exclusive file lock so parallel test processes do not build the same family twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------------
# Loading


def artifact_names(family: str) -> list[str]:
    """Names of the contracts available in ``family`` (builds it first if needed)."""
    return sorted(_index(family, ensure_built(family)))


def load_artifact(family: str, name: str) -> Artifact:
    """Load contract ``name`` of ``family`` (see the module docstring for the families).

    ``name`` is the contract name (``"PoolInstance"``), or ``"source:Name"`` when a family
    holds two contracts of that name. Builds ``aave-v3.6``/``morpho-blue`` first if stale.

    Raises:
        ArtifactNotFoundError: no such family or contract.
        ToolchainMissingError, ContractBuildError: see :func:`ensure_built`.
    """
    _check_family(family)
    directory = ensure_built(family)
    index = _index(family, directory)
    wanted = name.rpartition(":")[2]
    candidates = index.get(wanted, [])
    if ":" in name:
        candidates = [
            p for p in candidates if _source_name(family, directory, p) == name.rpartition(":")[0]
        ]
    if not candidates:
        raise ArtifactNotFoundError(family, name, sorted(index))
    if len(candidates) > 1:
        sources = ", ".join(f"{_source_name(family, directory, p)}:{wanted}" for p in candidates)
        raise ChainError(f"{family}: {wanted!r} is ambiguous; ask for one of {sources}")
    return _read_artifact(family, directory, candidates[0])


def _index(family: str, directory: Path) -> dict[str, list[Path]]:
    """Contract name -> artifact files of ``family`` in ``directory``."""
    index: dict[str, list[Path]] = {}
    if family == "aave-v3.0":
        files = (
            p
            for p in sorted(directory.rglob("*.json"))
            if not p.name.endswith(".dbg.json")
            and "build-info" not in p.relative_to(directory).parts
        )
    elif family == "uniswap-v2":
        files = (p for p in sorted(directory.glob("*.json")) if p.name != "Combined-Json.json")
    else:
        files = (p for p in sorted(directory.glob("*.json")) if not p.name.startswith("."))
    for path in files:
        index.setdefault(path.stem, []).append(path)
    return index


def _source_name(family: str, directory: Path, path: Path) -> str:
    if family == "uniswap-v2":
        return f"contracts/{path.stem}.sol"
    return str(json.loads(path.read_text()).get("sourceName", ""))


def _read_artifact(family: str, directory: Path, path: Path) -> Artifact:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ChainError(f"cannot read artifact {path}: {exc}") from exc
    if family == "uniswap-v2":  # Waffle layout: {abi, evm: {bytecode: {...}, deployedBytecode}}
        evm = data["evm"]
        return Artifact(
            name=path.stem,
            abi=data["abi"],
            bytecode=_hex(evm["bytecode"]["object"]),
            link_references=evm["bytecode"].get("linkReferences", {}),
            deployed_bytecode=_hex(evm["deployedBytecode"]["object"]),
            deployed_link_references=evm["deployedBytecode"].get("linkReferences", {}),
            source_name=_source_name(family, directory, path),
            family=family,
        )
    return Artifact(
        name=data["contractName"],
        abi=data["abi"],
        bytecode=_hex(data["bytecode"]),
        link_references=data.get("linkReferences", {}),
        deployed_bytecode=_hex(data.get("deployedBytecode", "0x")),
        deployed_link_references=data.get("deployedLinkReferences", {}),
        source_name=data.get("sourceName", ""),
        family=family,
    )


def _hex(code: str) -> str:
    return code if code.startswith("0x") else "0x" + code


# ---------------------------------------------------------------------------------------------
# Linking


def link(artifact: Artifact, libraries: Mapping[str, str], *, deployed: bool = False) -> str:
    """Return ``artifact``'s creation bytecode (runtime bytecode if ``deployed``) with every
    library placeholder replaced by the library's address.

    ``libraries`` maps a library name (``"BorrowLogic"``) or fully qualified name
    (``"src/.../BorrowLogic.sol:BorrowLogic"``) to a ``0x`` address; names the bytecode does not
    use are ignored, so one mapping can serve several contracts. Placeholders are replaced at
    the offsets of the link references; any placeholder left over (hashed ``__$<34 hex>$__`` of
    solc >= 0.5 or the older ``__<path:Name>___`` form) is then matched to ``libraries`` by
    keccak hash or by name.

    Raises:
        UnlinkedLibraryError: a library the bytecode needs has no address in ``libraries``.
        ChainError: an address is malformed or a link reference points outside the bytecode.
    """
    code = artifact.deployed_bytecode if deployed else artifact.bytecode
    refs = artifact.deployed_link_references if deployed else artifact.link_references
    body = list(code[2:] if code.startswith("0x") else code)
    missing: list[str] = []
    sources_of: dict[str, list[str]] = {}
    for source, libs in refs.items():
        for lib in libs:
            sources_of.setdefault(lib, []).append(source)
    for source, libs in refs.items():
        for lib, spots in libs.items():
            if len(sources_of[lib]) > 1 and f"{source}:{lib}" not in libraries:
                raise ChainError(
                    f"{artifact.name} links two libraries named {lib} "
                    f"({', '.join(sources_of[lib])}); give each by its fully qualified name"
                )
            address = _lookup(libraries, source, lib, artifact.name)
            if address is None:
                missing.append(f"{source}:{lib}")
                continue
            for spot in spots:
                start, length = 2 * int(spot["start"]), 2 * int(spot["length"])
                if length != 40 or start + length > len(body):
                    raise ChainError(
                        f"{artifact.name}: link reference {source}:{lib} at byte {spot['start']} "
                        f"(length {spot['length']}) does not fit the bytecode"
                    )
                body[start : start + length] = address
    text = "".join(body)
    if missing:
        raise UnlinkedLibraryError(artifact.name, missing)
    if "_" in text:
        text = _link_leftovers(artifact.name, text, libraries)
    return "0x" + text


def _lookup(libraries: Mapping[str, str], source: str, lib: str, contract: str) -> list[str] | None:
    address = libraries.get(f"{source}:{lib}", libraries.get(lib))
    if address is None:
        return None
    if not _ADDRESS.fullmatch(address):
        raise ChainError(
            f"{contract}: address {address!r} given for library {lib} is not 0x + 40 hex"
        )
    return list(address[2:].lower())


def _link_leftovers(contract: str, text: str, libraries: Mapping[str, str]) -> str:
    """Resolve placeholders that no link reference covered (artifacts without offsets)."""
    by_hash: dict[str, str] = {}
    for key in libraries:
        if ":" in key:
            by_hash[keccak(text=key).hex()[:34]] = key
    missing: list[str] = []

    def replace(m: re.Match[str]) -> str:
        inner = m.group(0)[2:-2]
        if inner.startswith("$") and inner.endswith("$"):
            key = by_hash.get(inner[1:-1].lower())
            if key is None:
                missing.append(f"<unknown library, placeholder __{inner}__>")
                return m.group(0)
        else:  # pre-0.5 style: the (truncated) "path:Name" padded with "_"
            label = inner.strip("_")
            key = next(
                (k for k in libraries if k == label or k.endswith(":" + label.rpartition(":")[2])),
                None,
            )
            if key is None:
                missing.append(label)
                return m.group(0)
        address = libraries[key]
        if not _ADDRESS.fullmatch(address):
            raise ChainError(
                f"{contract}: address {address!r} given for library {key} is not 0x + 40 hex"
            )
        return address[2:].lower()

    linked = _PLACEHOLDER.sub(replace, text)
    if missing or "_" in linked:
        raise UnlinkedLibraryError(contract, missing or ["<unrecognised placeholder>"])
    return linked
