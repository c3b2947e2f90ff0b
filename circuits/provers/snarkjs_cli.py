"""Running the pinned snarkjs CLI, and the cache of prepared powers-of-tau files.

snarkjs comes from ``hardhat-free-devnet/node_modules`` (pinned by its package-lock), run
with the ``node`` on PATH. The devnet directory is the repository's, or the one named by
``ZKORACLE_DEVNET_DIR``.

snarkjs exits with status 0 on several errors (e.g. a circuit too big for the ptau), so a
step counts as failed when its status is non-zero, when it logs an ``[ERROR]`` line, or
when a file it should have written is missing.

Powers of tau: a development setup needs a prepared ptau with at least 2^p points where
2^p > n_constraints + n_public. Making one (``powersoftau new``, one contribution with
fresh entropy, ``prepare phase2``) takes minutes at 2^14, so prepared files are kept
outside the repository in ``$ZKORACLE_CACHE_DIR/ptau`` (default ``~/.cache/zkoracle/ptau``)
as ``pot{p}_final.ptau`` and reused for every circuit that fits. A ptau that received no
contribution has every secret equal to 1 and yields forgeable keys: it is never cached.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from circuits.errors import BackendError
from circuits.groth16.backend import Progress

#: Smallest ptau made for the cache: small circuits then share one file.
MIN_PTAU_POWER = 8
#: BN254's scalar field has 2^28 roots of unity: the largest domain snarkjs supports.
MAX_PTAU_POWER = 28
#: Seconds between two forwarded snarkjs log lines during a slow step.
_PROGRESS_EVERY = 5.0
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOG_PREFIX = re.compile(r"^\[\w+\]\s+snarkJS:\s*")


def default_devnet_dir() -> Path:
    env = os.environ.get("ZKORACLE_DEVNET_DIR")
    return Path(env) if env else Path(__file__).parents[2] / "hardhat-free-devnet"


def default_cache_dir() -> Path:
    env = os.environ.get("ZKORACLE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "zkoracle"


class SnarkjsCli:
    """The snarkjs command line of a devnet directory."""

    def __init__(self, devnet_dir: Path | None = None, progress: Progress | None = None) -> None:
        self.devnet_dir = devnet_dir or default_devnet_dir()
        self.cli = self.devnet_dir / "node_modules" / "snarkjs" / "cli.js"
        self.progress = progress
        if not self.cli.is_file():
            raise BackendError(
                f"snarkjs is not installed: {self.cli} is missing; "
                f"run `npm ci` in {self.devnet_dir}"
            )
        node = shutil.which("node")
        if node is None:
            raise BackendError("node is not on PATH: the snarkjs backend needs Node.js 18 or newer")
        self.node = node

    def run(
        self,
        args: Sequence[str | Path],
        *,
        outputs: Sequence[Path] = (),
        entropy: bool = False,
        stream: bool = False,
        cwd: Path | None = None,
    ) -> list[str]:
        """Run one snarkjs command; return its log lines (colours stripped).

        `entropy` answers snarkjs's entropy prompt with 32 fresh random bytes (snarkjs mixes
        in its own randomness too); `stream` forwards log lines to the progress sink now
        and then, for steps that take minutes."""
        cmd = [self.node, "--max-old-space-size=16384", str(self.cli), *map(str, args)]
        shown = "snarkjs " + " ".join(map(str, args))
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd,
        )
        assert proc.stdin is not None and proc.stdout is not None
        if entropy:
            proc.stdin.write(secrets.token_hex(32) + "\n")
        proc.stdin.close()
        lines = self._collect(proc.stdout, stream)
        rc = proc.wait()
        errors = [ln for ln in lines if ln.startswith("[ERROR]")]
        missing = [str(p) for p in outputs if not p.is_file()]
        if rc != 0 or errors or missing:
            tail = "\n  ".join((errors or lines)[-8:])
            why = (
                f"exit status {rc}"
                if rc
                else ("missing output " + ", ".join(missing) if missing else "an error")
            )
            raise BackendError(f"`{shown}` failed ({why}):\n  {tail}")
        return lines

    def _collect(self, out: Iterator[str], stream: bool) -> list[str]:
        lines: list[str] = []
        last = time.monotonic()
        for raw in out:
            line = _ANSI.sub("", raw).rstrip()
            lines.append(line)
            now = time.monotonic()
            if (
                stream
                and self.progress
                and (now - last >= _PROGRESS_EVERY or "Starting section" in line)
            ):
                self.progress(f"  snarkjs: {_LOG_PREFIX.sub('', line)}")
                last = now
        return lines


class PtauCache:
    """Prepared powers-of-tau files, made on demand with one real contribution."""

    def __init__(self, cli: SnarkjsCli, cache_dir: Path | None = None) -> None:
        self.cli = cli
        self.dir = (cache_dir or default_cache_dir()) / "ptau"

    def path(self, power: int) -> Path:
        return self.dir / f"pot{power}_final.ptau"

    def find(self, power: int) -> Path | None:
        """The smallest cached prepared ptau with at least 2^power points."""
        for p in range(power, MAX_PTAU_POWER + 1):
            if self.path(p).is_file():
                return self.path(p)
        return None

    def ensure(self, power: int) -> Path:
        """A prepared ptau with at least 2^power points, making one if none is cached."""
        if power > MAX_PTAU_POWER:
            raise BackendError(
                f"the circuit needs 2^{power} points; BN254 supports at most 2^{MAX_PTAU_POWER}"
            )
        found = self.find(power)
        if found is not None:
            return found
        self.dir.mkdir(parents=True, exist_ok=True)
        with _locked(self.dir / ".lock"):
            found = self.find(power)
            return found if found is not None else self._make(max(power, MIN_PTAU_POWER))

    def _make(self, power: int) -> Path:
        final = self.path(power)
        with tempfile.TemporaryDirectory(prefix=f"pot{power}-", dir=self.dir) as tmp:
            p0, p1, p2 = (Path(tmp) / f"pot_{i}.ptau" for i in range(3))
            self._step(power, "new", ["powersoftau", "new", "bn128", str(power), p0], p0)
            contribute: list[str | Path] = [
                "powersoftau",
                "contribute",
                p0,
                p1,
                "--name=zkoracle development",
            ]
            self._step(power, "contribute", contribute, p1, entropy=True)
            self._step(
                power,
                "prepare phase2",
                ["powersoftau", "prepare", "phase2", p1, p2, "-v"],
                p2,
                slow=True,
            )
            os.replace(p2, final)
        self._say(f"cached prepared powers of tau at {final}")
        return final

    def _step(
        self,
        power: int,
        label: str,
        args: list[str | Path],
        out: Path,
        *,
        entropy: bool = False,
        slow: bool = False,
    ) -> None:
        self._say(f"powers of tau 2^{power}: {label}" + (" (minutes from 2^12 up)" if slow else ""))
        t0 = time.perf_counter()
        self.cli.run(args, outputs=[out], entropy=entropy, stream=slow)
        self._say(f"powers of tau 2^{power}: {label} done in {time.perf_counter() - t0:.1f} s")

    def _say(self, message: str) -> None:
        if self.cli.progress is not None:
            self.cli.progress(message)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (two test runs must not make the same ptau)."""
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
