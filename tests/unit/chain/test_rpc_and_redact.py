"""Read-only RPC refuses writes locally; URLs never leak secrets; revert decoding."""

from __future__ import annotations

import pytest
from eth_abi import encode

from defisim.chain.errors import ChainError
from defisim.chain.redact import redact_url
from defisim.chain.rpc import READ_METHODS, ReadOnlyRpc, address_of, decode_revert, register_errors


@pytest.mark.parametrize(("url", "shown"), [
    ("https://eth-mainnet.g.alchemy.com/v2/SECRET123", "https://eth-mainnet.g.alchemy.com/…"),
    ("https://mainnet.infura.io/v3/SECRET123?x=1", "https://mainnet.infura.io/…"),
    ("http://user:SECRET123@10.0.0.5:8545", "http://10.0.0.5:8545/…"),
    ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
    ("http://127.0.0.1:8545/", "http://127.0.0.1:8545"),
    ("not a url SECRET123", "<rpc-url>"),
])
def test_redact_keeps_host_drops_secrets(url: str, shown: str) -> None:
    out = redact_url(url)
    assert out == shown
    assert "SECRET123" not in out


@pytest.mark.parametrize("method", ["eth_sendTransaction", "eth_sendRawTransaction", "anvil_setBalance",
                                    "evm_mine", "hardhat_impersonateAccount", "debug_traceCall"])
def test_read_only_client_refuses_writes_before_sending(method: str) -> None:
    rpc = ReadOnlyRpc("http://127.0.0.1:9/v2/SECRET123")  # nothing listens; nothing is sent
    with pytest.raises(ChainError, match="only reads"):
        rpc.request(method, [])
    with pytest.raises(ChainError, match="only reads"):
        rpc.batch([("eth_chainId", []), (method, [])])


def test_read_methods_are_reads() -> None:
    assert all(m.startswith(("eth_get", "eth_call", "eth_chainId", "eth_blockNumber", "net_", "web3_"))
               for m in READ_METHODS)


def test_unreachable_url_error_hides_secret() -> None:
    rpc = ReadOnlyRpc("http://127.0.0.1:9/v2/SECRET123?apikey=SECRET123")
    with pytest.raises(ChainError) as err:
        rpc.request("eth_chainId")
    assert "SECRET123" not in str(err.value)
    assert "unreachable" in str(err.value)


def test_decode_revert_kinds() -> None:
    assert decode_revert("0x08c379a0" + encode(["string"], ["position is healthy"]).hex()) == "position is healthy"
    assert decode_revert("0x4e487b71" + encode(["uint256"], [0x11]).hex()) == "Panic(0x11)"
    register_errors([{"type": "error", "name": "HealthFactorNotBelowThreshold", "inputs": []}])
    from eth_utils import keccak

    assert decode_revert("0x" + keccak(text="HealthFactorNotBelowThreshold()")[:4].hex()) == "HealthFactorNotBelowThreshold"
    assert decode_revert(None) == ""


def test_account_addresses_are_stable_and_distinct() -> None:
    assert address_of("alice") == address_of("alice")
    assert address_of("alice") != address_of("bob")
    assert address_of("alice").startswith("0x") and len(address_of("alice")) == 42
