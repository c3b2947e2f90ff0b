"""Progress of long work (setup, proving, compiling large models, the demo).

On a terminal, a tqdm bar says what is being done, how far it is and how long is left; without
one (a pipe, a log file, CI) the same messages are plain lines ``zkoracle: ...`` on standard
error, as before. A step that is one opaque call (a Groth16 setup in the Rust prover) gets a
bar that runs on an estimate of its time, and ends when the call does.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm


def is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """`total` steps (None: unknown) of work described by `what`; a context manager.

    `step` moves one step on and says what comes next; `say` says it without moving;
    `write` prints a line of output above the bar (or plainly without a terminal).
    """

    def __init__(
        self, what: str, total: float | None = None, *, unit: str = "step",
        stream: IO[str] | None = None,
    ) -> None:  # fmt: skip
        self.what = what
        self.stream = stream or sys.stderr
        self.tty = is_terminal(self.stream)
        self._bar: tqdm[Any] | None = None
        self._following = False
        if self.tty:
            from tqdm import tqdm  # only on a terminal: its import costs a cold command ~0.08 s

            counts = "" if unit == "%" else " {n_fmt}/{total_fmt}"
            fmt = "{desc}: {percentage:3.0f}%|{bar:24}|" + counts + " [{elapsed}<{remaining}]"
            self._bar = tqdm(
                total=total, desc=what, unit=unit, file=self.stream, leave=True,
                bar_format=fmt if total else None, dynamic_ncols=True,
            )  # fmt: skip

    def say(self, message: str) -> None:
        if self._bar is not None:
            self._bar.set_description_str(f"{self.what}: {message}")
        else:
            print(f"zkoracle: {message}", file=self.stream, flush=True)

    def step(self, message: str | None = None, n: float = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)
        if message:
            self.say(message)

    def follow(self, message: str) -> None:
        """A progress sink for messages that each start the next step (the pipeline's):
        every message after the first marks the step before it done."""
        if self._following:
            self.step()
        self._following = True
        self.say(message)

    def write(self, line: str, file: IO[str] | None = None) -> None:
        """Print `line` to `file` (default: the bar's stream), above the bar."""
        if self._bar is not None:
            self._bar.write(line, file=file or self.stream)
        else:
            print(line, file=file or self.stream, flush=True)

    def estimate(self, seconds: float) -> _Estimate:
        """A context in which the bar fills over about `seconds` (never past 99 % before the
        context ends): for one long call whose inside cannot be followed."""
        return _Estimate(self, seconds)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Estimate:
    """Moves a `Progress` (total = 100) by elapsed time against an estimate."""

    def __init__(self, progress: Progress, seconds: float) -> None:
        self.progress = progress
        self.seconds = max(seconds, 0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._shown = 0.0

    def _run(self) -> None:
        t0 = time.monotonic()
        while not self._stop.wait(0.2):
            self._advance(min(99.0, 100.0 * (time.monotonic() - t0) / self.seconds))

    def _advance(self, to: float) -> None:
        if to > self._shown:
            self.progress.step(n=to - self._shown)
            self._shown = to

    def __enter__(self) -> _Estimate:
        if self.progress.tty:
            self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if t is None:
            self._advance(100.0)
