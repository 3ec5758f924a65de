"""Key-press to screen-update latency of ``quizapp`` while a simulation trains.

The installed ``quizapp`` runs in a pseudo-terminal (100x30) on a fresh data directory. The
script opens the simulation screen, sets a long batch-size sweep going, and then presses
``x`` (switch the charts' x-axis) again and again at irregular intervals, timing each press
until the redrawn chart title ("loss by update", "... by examples", ...) reaches the terminal.
The same presses are then timed with the training cancelled (same charts, idle machine) as
the baseline measured in the same run. Target: p95 <= 50 ms while training.

    python bench/ui_latency.py [--presses 60]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

TARGET_P95_MS = 50.0
AXES = ("update", "examples", "seconds", "epoch")  # the order `x` cycles through


class Terminal:
    """A program running in a pty, with helpers to type and to wait for text."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.process = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.buffer = b""

    def send(self, data: bytes) -> float:
        self.buffer = b""
        sent = time.perf_counter()
        os.write(self.master, data)
        return sent

    def wait_for(self, marker: bytes, timeout: float = 30.0) -> float:
        """Read output until ``marker`` appears; return the time it arrived."""
        deadline = time.perf_counter() + timeout
        while marker not in self.buffer:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"{marker!r} did not appear: {self.buffer[-300:]!r}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                chunk = os.read(self.master, 65536)
                if not chunk:
                    raise RuntimeError("quizapp exited")
                self.buffer = self.buffer[-4096:] + chunk
        arrived = time.perf_counter()
        self.buffer = self.buffer[self.buffer.index(marker) + len(marker) :]
        return arrived

    def drain(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while (remaining := deadline - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                os.read(self.master, 65536)
        self.buffer = b""

    def close(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        os.close(self.master)


def press_x(term: Terminal, presses: int, axis_index: int, rng: random.Random) -> list[float]:
    """Press x ``presses`` times; return each press's latency in ms."""
    latencies = []
    for _ in range(presses):
        axis_index = (axis_index + 1) % len(AXES)
        marker = f"loss by {AXES[axis_index]}".encode()
        sent = term.send(b"x")
        latencies.append((term.wait_for(marker) - sent) * 1000)
        term.drain(rng.uniform(0.05, 0.2))
    return latencies


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=60)
    args = parser.parse_args()
    quizapp = shutil.which("quizapp")
    if quizapp is None:
        print("the quizapp command is not installed (pip install -e .)", file=sys.stderr)
        return 2
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "h"
        home.mkdir()
        (home / "ui.json").write_text('{"welcome_seen": true}')  # a returning user
        env = {**os.environ, "TERM": "xterm-256color", "QUIZAPP_HOME": str(home)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        term = Terminal([quizapp], env)
        try:
            term.wait_for(b"due now")
            term.send(b"s")
            term.wait_for(b"Parameters")
            term.drain(0.5)
            # Enter on the experiment list goes to its first field (batch_sizes), tab to
            # epochs; focusing a field selects its value, so typing replaces it.
            term.send(b"\r")
            term.drain(0.2)
            term.send(b"\t")
            term.drain(0.2)
            term.send(b"200")
            term.drain(0.3)
            term.send(b"\x12")  # ctrl+r: run
            term.wait_for(b"training on", timeout=60)
            term.drain(2.0)  # the first run is under way
            training = press_x(term, args.presses, len(AXES) - 1, rng)
            term.send(b"\x1b")  # Esc cancels the run; the charts keep their data
            term.wait_for(b"ancelled", timeout=10)
            term.drain(1.0)
            idle = press_x(term, args.presses, len(AXES) - 1, rng)
        finally:
            term.close()
    for name, values in (("while training", training), ("idle (baseline)", idle)):
        print(
            f"{name:16s} median {statistics.median(values):5.1f} ms  p95 {p95(values):5.1f} ms  "
            f"max {max(values):5.1f} ms  (n={len(values)})"
        )
    ratio = p95(training) / p95(idle)
    ok = p95(training) <= TARGET_P95_MS
    print(f"p95 ratio training / idle: {ratio:.2f}")
    print(
        f"p95 while training: {p95(training):.1f} ms (target <= {TARGET_P95_MS:.0f} ms) "
        f"{'OK' if ok else 'TOO SLOW'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
