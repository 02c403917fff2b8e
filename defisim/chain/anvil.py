"""Start and stop a local Anvil node, always on 127.0.0.1, never left running.

The real binary is used (``node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil``): the npm
``.bin/anvil`` wrapper starts it as a child, so stopping the wrapper could orphan the node.
The child is tied to this process three ways: the context manager stops it, an ``atexit``
hook stops it, and on Linux the kernel sends it SIGTERM when this process dies
(``PR_SET_PDEATHSIG``), so even ``kill -9`` of the Python process leaves no orphan.

Anvil runs with ``--no-mining`` (blocks are mined explicitly, one simulated block at a
time), FIFO transaction order, zero base fee and gas price (accounts need no ether),
``--auto-impersonate`` (any address can send), and no code-size limit.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from defisim.chain.errors import ChainError
from defisim.chain.redact import redact_url

__all__ = ["Anvil", "anvil_binary", "free_port"]

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 3.0
BLOCK_GAS_LIMIT = 1_000_000_000
"""Gas limit per mined block: a whole scenario block (seeding hundreds of accounts) fits."""

_live: set[Anvil] = set()


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def anvil_binary() -> Path:
    """Path of the real anvil binary (env ``DEFISIM_ANVIL`` overrides)."""
    override = os.environ.get("DEFISIM_ANVIL")
    if override:
        path = Path(override)
    else:
        modules = Path(os.environ.get("DEFISIM_NODE_MODULES", _repo_root() / "node_modules"))
        path = modules / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    if not path.is_file() or not os.access(path, os.X_OK):
        raise ChainError(
            f"Anvil not found at {path}. Install the chain toolchain with `npm ci` in the "
            "project folder (it pins @foundry-rs/anvil), or set DEFISIM_ANVIL to the binary."
        )
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Anvil:
    """One local Anvil node (see module docstring); use as a context manager.

    ``fork_url``/``fork_block``: fork that chain (read-only use of the remote: Anvil only
    fetches state from it; every transaction goes to this local node). ``timestamp``: unix
    time of the genesis block. ``chain_id``: the local chain id (a fork keeps the remote's
    unless given).
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        fork_url: str | None = None,
        fork_block: int | None = None,
        timestamp: int | None = None,
        chain_id: int | None = None,
    ) -> None:
        self.port = port
        self.fork_url = fork_url
        self.fork_block = fork_block
        self.timestamp = timestamp
        self.chain_id = chain_id
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = None
        self.started_in_s = 0.0

    @property
    def url(self) -> str:
        if self.port is None:
            raise ChainError("Anvil is not started")
        return f"http://{HOST}:{self.port}"

    def _args(self, binary: Path) -> list[str]:
        args = [
            str(binary), "--host", HOST, "--port", str(self.port),
            "--no-mining", "--order", "fifo", "--auto-impersonate",
            "--base-fee", "0", "--gas-price", "0", "--disable-min-priority-fee",
            "--gas-limit", str(BLOCK_GAS_LIMIT), "--disable-code-size-limit",
            "--accounts", "1",
        ]
        if self.timestamp is not None:
            args += ["--timestamp", str(self.timestamp)]
        if self.chain_id is not None:
            args += ["--chain-id", str(self.chain_id)]
        if self.fork_url is not None:
            args += ["--fork-url", self.fork_url, "--no-storage-caching"]
            if self.fork_block is not None:
                args += ["--fork-block-number", str(self.fork_block)]
        return args

    def start(self) -> Anvil:
        """Start the node and wait until it answers (raises :class:`ChainError` otherwise)."""
        binary = anvil_binary()
        if self.port is None:
            self.port = free_port()
        elif _port_in_use(self.port):
            raise ChainError(f"port {self.port} on {HOST} is already in use; choose another")
        self._log = tempfile.TemporaryFile()
        t0 = time.perf_counter()
        self._proc = subprocess.Popen(
            self._args(binary), stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        )
        _live.add(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.started_in_s = time.perf_counter() - t0
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
        while True:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise ChainError(f"Anvil exited at start (code {self._proc.returncode}): {self.output()}")
            try:
                req = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                raise ChainError(
                    f"Anvil did not answer on {self.url} within {STARTUP_TIMEOUT_S:.0f} s: {self.output()}"
                )
            time.sleep(0.02)

    def output(self, limit: int = 2000) -> str:
        """The node's last log lines, with any URL secrets redacted."""
        if self._log is None:
            return ""
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace")[-limit:]
        if self.fork_url:
            text = text.replace(self.fork_url, redact_url(self.fork_url))
        return text.strip()

    def stop(self) -> None:
        """Terminate, wait, then kill; idempotent."""
        proc, self._proc = self._proc, None
        _live.discard(self)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for node in list(_live):
        node.stop()
