"""Anvil lifecycle: start on 127.0.0.1, answer, stop; clear errors; no orphan processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from defisim.chain.anvil import Anvil, anvil_binary
from defisim.chain.errors import ChainError
from defisim.chain.rpc import LocalNode


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); read its state
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _wait_dead(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_starts_answers_and_stops() -> None:
    with Anvil(timestamp=1_700_000_000, chain_id=4242) as node:
        assert node.url.startswith("http://127.0.0.1:")
        rpc = LocalNode(node.url)
        assert int(rpc.request("eth_chainId"), 16) == 4242
        assert rpc.timestamp() == 1_700_000_000
        pid = node.pid
        assert pid is not None and _alive(pid)
    assert not node.running
    assert _wait_dead(pid)


def test_port_in_use_is_refused_clearly() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ChainError, match=f"port {port}.*in use"):
            Anvil(port=port).start()


def test_missing_binary_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFISIM_ANVIL", "/nonexistent/anvil")
    with pytest.raises(ChainError, match="npm ci"):
        anvil_binary()


def test_failing_start_leaves_no_process(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\necho 'boom: cannot bind' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("DEFISIM_ANVIL", str(fake))
    node = Anvil()
    with pytest.raises(ChainError, match="exited at start.*boom"):
        node.start()
    assert not node.running


def test_killed_parent_leaves_no_orphan() -> None:
    """Even kill -9 of the Python process that started Anvil takes Anvil down with it."""
    script = textwrap.dedent("""
        import sys, time
        from defisim.chain.anvil import Anvil
        node = Anvil().start()
        print(node.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline()
        anvil_pid = int(line)
        assert _alive(anvil_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert _wait_dead(anvil_pid), f"anvil {anvil_pid} survived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_local_node_refuses_other_hosts() -> None:
    with pytest.raises(ChainError, match="127.0.0.1"):
        LocalNode("http://10.1.2.3:8545")
