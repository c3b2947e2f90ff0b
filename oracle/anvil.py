"""A local Anvil node owned by this process: started on a free port, stopped by PID.

Anvil binds port 0 (the kernel picks a free port, so two nodes never race for one) and
prints ``Listening on 127.0.0.1:PORT``; its output goes to a log file rather than a pipe,
which nobody would drain while the node runs. The node serves the standard test mnemonic's
accounts, funded, so a local chain needs no key.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from oracle import devnet
from oracle.errors import ChainConnectionError

#: The well-known development mnemonic: its keys are public, never use them for value.
TEST_MNEMONIC = "test test test test test test test test test test test junk"
ANVIL_CHAIN_ID = 31337

_LISTENING = re.compile(rb"Listening on 127\.0\.0\.1:(\d+)")


def rpc_answers(url: str, timeout: float = 1.0) -> bool:
    """True if `url` answers ``eth_chainId`` with a result."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    req = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return "result" in json.loads(resp.read())
    except (OSError, ValueError, urllib.error.URLError):
        return False


class AnvilNode:
    """One Anvil process. Use as a context manager, or call `start` and `stop`."""

    def __init__(
        self,
        *,
        chain_id: int = ANVIL_CHAIN_ID,
        accounts: int = 10,
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 20.0,
    ) -> None:
        self.chain_id = chain_id
        self.accounts = accounts
        self.extra_args = extra_args
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None
        self.port: int | None = None

    def __repr__(self) -> str:
        return f"AnvilNode(pid={self.pid}, url={self.url if self.port else None})"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def url(self) -> str:
        if self.port is None:
            raise ChainConnectionError("the Anvil node is not running")
        return f"http://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        return [
            str(devnet.anvil_binary()),
            "--host", "127.0.0.1",
            "--port", "0",
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.accounts),
            "--mnemonic", TEST_MNEMONIC,
            *self.extra_args,
        ]  # fmt: skip

    def start(self) -> AnvilNode:
        """Start the node and return once its RPC answers."""
        if self._proc is not None:
            raise ChainConnectionError(f"{self!r} is already started")
        fd, name = tempfile.mkstemp(prefix="zkoracle-anvil-", suffix=".log")
        self._log = Path(name)
        try:
            self._proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=fd,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C meant for us does not reach it first
            )
        except OSError as exc:
            raise ChainConnectionError(f"cannot start Anvil: {exc}") from exc
        finally:
            os.close(fd)
        atexit.register(self.stop)
        try:
            self.port = self._wait_for_port()
            self._wait_for_rpc()
        except BaseException:
            self.stop()
            raise
        return self

    def _log_tail(self) -> str:
        assert self._log is not None
        try:
            return self._log.read_text(errors="replace")[-1500:]
        except OSError:
            return ""

    def _wait_for_port(self) -> int:
        assert self._proc is not None and self._log is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            m = _LISTENING.search(self._log.read_bytes())
            if m:
                return int(m.group(1))
            if self._proc.poll() is not None:
                raise ChainConnectionError(
                    f"Anvil exited with {self._proc.returncode} at start: {self._log_tail()}"
                )
            time.sleep(0.01)
        raise ChainConnectionError(f"Anvil did not listen within {self.startup_timeout} s")

    def _wait_for_rpc(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while not rpc_answers(self.url):
            if time.monotonic() > deadline:
                raise ChainConnectionError(f"Anvil at {self.url} does not answer RPC")
            time.sleep(0.02)

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the process by its PID (SIGKILL if SIGTERM is not enough); idempotent."""
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout)
        self.port = None
        if self._log is not None:
            self._log.unlink(missing_ok=True)
            self._log = None

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
