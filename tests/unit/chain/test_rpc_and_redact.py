"""Read-only RPC refuses writes locally; URLs never leak secrets; revert decoding."""

from __future__ import annotations

import http.server
import json
import threading

import pytest
from eth_abi import encode

from defisim.chain.errors import ChainError, RpcError
from defisim.chain.redact import redact_url
from defisim.chain.rpc import (
    READ_METHODS,
    ReadOnlyRpc,
    address_of,
    decode_revert,
    register_errors,
)


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


class _Refusing(http.server.BaseHTTPRequestHandler):
    """An RPC that refuses log ranges over 1,000 blocks the way some providers do: HTTP 413 with
    a JSON-RPC error body; any other method gets HTTP 500 with no JSON."""

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if request["method"] == "eth_getLogs":
            span = int(request["params"][0]["toBlock"], 16) - int(request["params"][0]["fromBlock"], 16) + 1
            if span > 1000:
                body = {"jsonrpc": "2.0", "id": request["id"],
                        "error": {"code": -32614, "message": "eth_getLogs is limited to a 1,000 range"}}
                status = 413
            else:
                body = {"jsonrpc": "2.0", "id": request["id"], "result": []}
                status = 200
            raw = json.dumps(body).encode()
        else:
            status, raw = 500, b"internal error"
        self.send_response(status)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


def test_json_rpc_error_in_an_http_error_is_an_rpc_error() -> None:
    """A JSON-RPC error sent with HTTP 413 is the provider's refusal (RpcError: the log scan
    halves its range); an HTTP error without one stays a transport error (ChainError)."""
    from defisim.chain.fork_morpho import accounts_from_logs

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        rpc = ReadOnlyRpc(f"http://127.0.0.1:{server.server_address[1]}/key123")
        with pytest.raises(RpcError, match="limited to a 1,000 range") as info:
            rpc.request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "0x2710"}])
        assert info.value.code == -32614
        with pytest.raises(ChainError, match="HTTP 500") as other:
            rpc.request("eth_blockNumber", [])
        assert not isinstance(other.value, RpcError) and "key123" not in str(other.value)
        accounts, note = accounts_from_logs(rpc, "0x" + "bb" * 20, b"\x01" * 32, 0, 20_000, limit=10, chunk=5_000)
        assert accounts == [] and "stopped" not in note and "0..20000" in note
    finally:
        server.shutdown()
        server.server_close()
