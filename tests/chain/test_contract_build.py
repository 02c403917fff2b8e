"""Contract builds: committed outputs match the sources, protocol builds are complete and link.

Needs Node and ``npm ci``'d node_modules; a cold build of aave-v3.6 and morpho-blue takes about
15 s each (solc-js), later runs reuse the stamped outputs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from eth_utils import keccak

from defisim.chain import artifacts as A
from defisim.chain.artifacts import Artifact, ensure_built, link, load_artifact
from defisim.chain.errors import (
    ArtifactNotFoundError,
    ChainError,
    ContractBuildError,
    ToolchainMissingError,
    UnlinkedLibraryError,
)

ROOT = A.repo_root()
BUILD_SCRIPT = ROOT / "contracts" / "build.mjs"
DEFISIM_CONTRACTS = {"FeeBurner", "InsuranceFund", "PairOracle", "SettableAggregator", "TestToken"}
AAVE_DEPLOYABLES = {
    "PoolAddressesProvider",
    "ACLManager",
    "PoolInstance",
    "PoolConfiguratorInstance",
    "AaveOracle",
    "ATokenInstance",
    "VariableDebtTokenInstance",
    "DefaultReserveInterestRateStrategyV2",
    "AaveProtocolDataProvider",
    "InitializableImmutableAdminUpgradeabilityProxy",
}
AAVE_LIBRARIES = {
    "BorrowLogic",
    "ConfiguratorLogic",
    "FlashLoanLogic",
    "LiquidationLogic",
    "PoolLogic",
    "SupplyLogic",
}
EIP170_LIMIT = 24_576  # bytes of runtime code a chain without a raised limit accepts


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the chain tests need Node 20 and `npm ci`")
    return node


def _run_build(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_node(), str(BUILD_SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )


def _names(artifact: Artifact, *, deployed: bool = False) -> set[str]:
    refs = artifact.deployed_link_references if deployed else artifact.link_references
    return {lib for libs in refs.values() for lib in libs}


def _fake_addresses(names: set[str] | list[str]) -> dict[str, str]:
    return {name: "0x" + f"{i + 1:02x}" * 20 for i, name in enumerate(sorted(names))}


def _abi_names(artifact: Artifact, kind: str) -> set[str]:
    return {e["name"] for e in artifact.abi if e["type"] == kind}


# ---------------------------------------------------------------------------------------------
# defisim family: committed outputs


def test_fresh_defisim_build_is_byte_identical_to_committed(tmp_path: Path) -> None:
    proc = _run_build("defisim", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    fresh = {p.name: p.read_bytes() for p in sorted(tmp_path.glob("*.json"))}
    committed = {
        p.name: p.read_bytes() for p in sorted((ROOT / "contracts" / "build").glob("*.json"))
    }
    assert {Path(n).stem for n in fresh} == DEFISIM_CONTRACTS
    assert sorted(fresh) == sorted(committed), (
        "rebuild and commit: node contracts/build.mjs defisim"
    )
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, (
        f"contracts/build is stale for {stale}; run `node contracts/build.mjs defisim`"
    )
    # Deterministic format: fixed key order, trailing newline, no stamp for the committed family.
    first = next(iter(fresh.values()))
    assert first.endswith(b"}\n")
    assert list(json.loads(first)) == [
        "contractName",
        "sourceName",
        "abi",
        "bytecode",
        "deployedBytecode",
        "linkReferences",
        "deployedLinkReferences",
        "compiler",
    ]
    assert not (tmp_path / ".stamp.json").exists()


def test_defisim_artifacts_expose_the_interfaces_the_chain_layer_calls() -> None:
    agg = load_artifact("defisim", "SettableAggregator")
    assert {
        "decimals",
        "description",
        "version",
        "getRoundData",
        "latestRoundData",
        "latestAnswer",
        "latestTimestamp",
        "latestRound",
        "setAnswer",
    } <= _abi_names(agg, "function")
    answer_updated = next(e for e in agg.abi if e.get("name") == "AnswerUpdated")
    # Chainlink's exact event:
    # AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt)
    assert [(i["type"], i["indexed"]) for i in answer_updated["inputs"]] == [
        ("int256", True),
        ("uint256", True),
        ("uint256", False),
    ]
    assert "NewRound" in _abi_names(agg, "event")

    price = next(e for e in load_artifact("defisim", "PairOracle").abi if e.get("name") == "price")
    assert price["inputs"] == [] and [o["type"] for o in price["outputs"]] == ["uint256"]

    token = load_artifact("defisim", "TestToken")
    assert {"mint", "burn", "transfer", "transferFrom", "approve", "totalSupply"} <= _abi_names(
        token, "function"
    )

    burn = next(e for e in load_artifact("defisim", "FeeBurner").abi if e.get("name") == "burn")
    assert [i["type"] for i in burn["inputs"]] == ["address", "address", "uint256"]

    fund = load_artifact("defisim", "InsuranceFund")
    cover = next(e for e in fund.abi if e.get("name") == "cover")
    assert [i["type"] for i in cover["inputs"]] == ["address", "address", "uint256"]
    assert "UMBRELLA_ID" in _abi_names(fund, "function")

    for name in DEFISIM_CONTRACTS:
        art = load_artifact("defisim", name)
        assert len(art.bytecode) > 2 and art.is_linked, name
        assert art.source_name == f"contracts/src/{name}.sol"
    compiler = json.loads((ROOT / "contracts" / "build" / "TestToken.json").read_text())["compiler"]
    assert compiler["version"].startswith("0.8.27+")


# ---------------------------------------------------------------------------------------------
# aave-v3.6


@pytest.fixture(scope="module")
def aave36() -> Path:
    return ensure_built("aave-v3.6")


@pytest.mark.slow
def test_aave36_build_has_every_contract_a_market_needs(aave36: Path) -> None:
    available = set(A.artifact_names("aave-v3.6"))
    assert AAVE_DEPLOYABLES | AAVE_LIBRARIES <= available
    for name in AAVE_DEPLOYABLES | AAVE_LIBRARIES:
        art = load_artifact("aave-v3.6", name)
        assert len(art.bytecode) > 2 and len(art.deployed_bytecode) > 2, name
        # Every artifact fits the EIP-170 runtime size limit, so it deploys on a default Anvil.
        assert (len(art.deployed_bytecode) - 2) // 2 <= EIP170_LIMIT, name
    settings = json.loads((aave36 / "PoolInstance.json").read_text())["compiler"]
    assert settings["version"].startswith("0.8.27+")
    assert settings["settings"]["evmVersion"] == "shanghai"
    assert settings["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    assert "viaIR" not in settings["settings"]


@pytest.mark.slow
def test_aave36_pool_and_configurator_link_only_libraries_in_the_build(aave36: Path) -> None:
    pool = load_artifact("aave-v3.6", "PoolInstance")
    configurator = load_artifact("aave-v3.6", "PoolConfiguratorInstance")
    flash = load_artifact("aave-v3.6", "FlashLoanLogic")
    assert _names(pool) == {
        "BorrowLogic",
        "FlashLoanLogic",
        "LiquidationLogic",
        "PoolLogic",
        "SupplyLogic",
    }
    assert _names(configurator) == {"ConfiguratorLogic"}
    assert _names(flash) == {"BorrowLogic"}
    for art in (pool, configurator, flash):
        assert not art.is_linked
        for qualified in art.libraries:
            lib = load_artifact("aave-v3.6", qualified)  # "source:Name" resolves in the build
            assert lib.name == qualified.rpartition(":")[2]
            assert lib.is_linked == (
                lib.name != "FlashLoanLogic"
            )  # FlashLoanLogic links BorrowLogic

    addresses = _fake_addresses(AAVE_LIBRARIES)
    for art in (pool, configurator, flash):
        for deployed in (False, True):
            code = link(art, addresses, deployed=deployed)
            assert "_" not in code and "$" not in code
            refs = art.deployed_link_references if deployed else art.link_references
            for libs in refs.values():
                for lib, spots in libs.items():
                    for spot in spots:
                        start = 2 + 2 * spot["start"]
                        assert code[start : start + 40] == addresses[lib][2:]
            original = art.deployed_bytecode if deployed else art.bytecode
            assert len(code) == len(original)


@pytest.mark.slow
def test_aave36_stamp_skips_rebuild_and_detects_changed_inputs(
    aave36: Path, tmp_path: Path
) -> None:
    assert A.stamp_is_fresh(aave36)
    proc = _run_build("aave-v3.6", "--check")
    assert proc.returncode == 0 and "up to date" in proc.stderr

    copy = tmp_path / "aave-v3.6"
    shutil.copytree(aave36, copy)
    assert A.stamp_is_fresh(copy)
    stamp = json.loads((copy / ".stamp.json").read_text())
    assert any(k.endswith("protocol/pool/Pool.sol") for k in stamp["inputs"])
    assert any(k.startswith("nm:@openzeppelin/") for k in stamp["inputs"])
    key = next(k for k in stamp["inputs"] if k.endswith("LiquidationLogic.sol"))
    stamp["inputs"][key] = "0" * 64  # as if LiquidationLogic.sol had changed
    (copy / ".stamp.json").write_text(json.dumps(stamp))
    assert not A.stamp_is_fresh(copy)
    proc = _run_build("aave-v3.6", "--out", str(copy), "--check")
    assert proc.returncode == 3, proc.stderr  # the JS side agrees it is stale

    shutil.copytree(aave36, tmp_path / "missing-output")
    (tmp_path / "missing-output" / "PoolInstance.json").unlink()
    assert not A.stamp_is_fresh(tmp_path / "missing-output")


# ---------------------------------------------------------------------------------------------
# morpho-blue


@pytest.mark.slow
def test_morpho_build_has_morpho_and_mocks_with_library_events() -> None:
    ensure_built("morpho-blue")
    for name in ("Morpho", "IrmMock", "OracleMock", "ERC20Mock"):
        art = load_artifact("morpho-blue", name)
        assert len(art.bytecode) > 2 and art.is_linked, name
    morpho = load_artifact("morpho-blue", "Morpho")
    events_lib = load_artifact("morpho-blue", "EventsLib")

    def sigs(art: Artifact) -> set[str]:
        return {
            f"{e['name']}({','.join(i['type'] for i in e['inputs'])})"
            for e in art.abi
            if e["type"] == "event"
        }

    assert len(sigs(events_lib)) >= 15
    assert sigs(events_lib) <= sigs(morpho)
    assert {
        "Liquidate(bytes32,address,address,uint256,uint256,uint256,uint256,uint256)",
        "AccrueInterest(bytes32,uint256,uint256,uint256)",
    } <= sigs(morpho)
    raw = json.loads((A.family_dir("morpho-blue") / "Morpho.json").read_text())
    assert raw["abiMergedFrom"] == ["@morpho-org/morpho-blue/src/libraries/EventsLib.sol:EventsLib"]
    assert raw["compiler"]["version"].startswith("0.8.19+")
    assert raw["compiler"]["settings"]["viaIR"] is True
    assert (len(morpho.deployed_bytecode) - 2) // 2 <= EIP170_LIMIT


# ---------------------------------------------------------------------------------------------
# aave-v3.0 and uniswap-v2 (prebuilt npm artifacts)


def test_aave30_artifacts_load_and_link() -> None:
    pool = load_artifact("aave-v3.0", "Pool")
    expected = {
        "BorrowLogic",
        "BridgeLogic",
        "EModeLogic",
        "FlashLoanLogic",
        "LiquidationLogic",
        "PoolLogic",
        "SupplyLogic",
    }
    assert _names(pool) == expected
    assert _names(load_artifact("aave-v3.0", "PoolConfigurator")) == {"ConfiguratorLogic"}
    assert _names(load_artifact("aave-v3.0", "FlashLoanLogic")) == {"BorrowLogic"}
    assert "$" in pool.bytecode  # hashed placeholders before linking
    code = link(pool, _fake_addresses(expected))
    assert "_" not in code and "$" not in code and len(code) == len(pool.bytecode)
    for name in (
        "PoolAddressesProvider",
        "ACLManager",
        "AaveOracle",
        "MintableERC20",
        "MockAggregator",
    ):
        assert len(load_artifact("aave-v3.0", name).bytecode) > 2, name


def test_uniswap_v2_artifacts_load() -> None:
    pair = load_artifact("uniswap-v2", "UniswapV2Pair")
    assert pair.bytecode.startswith("0x60") and pair.is_linked
    assert {"swap", "getReserves", "token0", "token1"} <= _abi_names(pair, "function")
    assert "createPair" in _abi_names(load_artifact("uniswap-v2", "UniswapV2Factory"), "function")


# ---------------------------------------------------------------------------------------------
# link() and errors


def test_link_names_every_unresolved_library() -> None:
    pool = load_artifact("aave-v3.0", "Pool")
    with pytest.raises(UnlinkedLibraryError) as info:
        link(pool, {"BorrowLogic": "0x" + "11" * 20})
    missing = {m.rpartition(":")[2] for m in info.value.missing}
    assert missing == {
        "BridgeLogic",
        "EModeLogic",
        "FlashLoanLogic",
        "LiquidationLogic",
        "PoolLogic",
        "SupplyLogic",
    }
    assert "SupplyLogic" in str(info.value)
    with pytest.raises(ChainError, match="not 0x"):
        link(pool, dict.fromkeys(_names(pool), "0x1234"))


def test_link_resolves_placeholders_without_link_references() -> None:
    qualified = "src/Lib.sol:Lib"
    hashed = "__$" + keccak(text=qualified).hex()[:34] + "$__"
    old_style = "__" + "src/Old.sol:Old".ljust(36, "_") + "__"
    art = Artifact(
        name="Hand", abi=[], bytecode="0x6000" + hashed + "00" + old_style, link_references={}
    )
    address_a, address_b = "0x" + "ab" * 20, "0x" + "cd" * 20
    assert link(art, {qualified: address_a, "src/Old.sol:Old": address_b}) == (
        "0x6000" + "ab" * 20 + "00" + "cd" * 20
    )
    with pytest.raises(UnlinkedLibraryError) as info:
        link(art, {qualified: address_a})
    assert info.value.missing == ["src/Old.sol:Old"]


def test_unknown_family_and_contract_are_clear_errors() -> None:
    with pytest.raises(ArtifactNotFoundError, match="PoolInstance"):
        load_artifact("defisim", "PoolInstance")
    with pytest.raises(ArtifactNotFoundError, match="unknown contract family 'aave-v9'.*aave-v3.6"):
        load_artifact("aave-v9", "Pool")
    with pytest.raises(ArtifactNotFoundError, match="did you mean .*TestToken"):
        load_artifact("defisim", "Token")


def test_missing_node_modules_says_run_npm_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEFISIM_NODE_MODULES", str(tmp_path / "absent"))
    with pytest.raises(ToolchainMissingError, match="npm ci"):
        load_artifact("aave-v3.0", "Pool")
    with pytest.raises(ToolchainMissingError, match="npm ci"):
        ensure_built("morpho-blue")
    proc = _run_build(
        "morpho-blue",
        env={"PATH": "/usr/bin:/bin", "DEFISIM_NODE_MODULES": str(tmp_path / "absent")},
    )
    assert proc.returncode == 1 and "npm ci" in proc.stderr


def test_failed_build_reports_solc_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken source makes ensure_built raise ContractBuildError carrying solc's message."""
    real = A.node_modules_dir()
    fake = tmp_path / "node_modules"
    (fake / "@morpho-org").mkdir(parents=True)
    (fake / "solc-0.8.19").symlink_to(real / "solc-0.8.19")
    shutil.copytree(real / "@morpho-org" / "morpho-blue", fake / "@morpho-org" / "morpho-blue")
    (fake / "@morpho-org" / "morpho-blue" / "src" / "Morpho.sol").write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.19;\ncontract Broken { uint x = ; }\n"
    )
    before = A.stamp_is_fresh(A.family_dir("morpho-blue"), real)
    monkeypatch.setenv("DEFISIM_NODE_MODULES", str(fake))
    with pytest.raises(ContractBuildError) as info:
        ensure_built("morpho-blue")
    assert "ParserError" in str(info.value) and "Morpho.sol" in info.value.output
    monkeypatch.delenv("DEFISIM_NODE_MODULES")
    # The failed build left the real outputs (and their freshness) untouched.
    assert A.stamp_is_fresh(A.family_dir("morpho-blue"), real) == before
