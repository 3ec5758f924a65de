"""Time to the first screen: ``quizapp`` against a hello-world Textual app, in the same run.

Each program is started in a pseudo-terminal (100x30, as a user would start it), and the
clock stops when its first screen's text reaches the terminal: "Hello, world" for the
baseline; for quizapp, the home screen's frame ("Mastery by topic"), and separately the
moment the numbers from the decks and the database are in it ("due now"), which the app
loads while the first frame is drawn. Runs alternate between the programs so that machine
load affects them alike; medians are compared. Target: first-screen ratio <= 1.5.

    python bench/startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import fcntl
import os
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

TARGET_RATIO = 1.5
TIMEOUT = 30.0

HELLO = """
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("Hello, world")

Hello().run()
"""


def time_to_text(command: list[str], markers: list[bytes], env: dict[str, str]) -> list[float]:
    """Seconds from starting ``command`` in a pty until each of ``markers`` has appeared in
    its output (in order)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    seen = b""
    times: list[float] = []
    try:
        while True:
            marker = markers[len(times)]
            remaining = TIMEOUT - (time.perf_counter() - started)
            if remaining <= 0:
                raise TimeoutError(f"{command[0]}: {marker!r} did not appear in {TIMEOUT} s")
            ready, _, _ = select.select([master], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                raise RuntimeError(
                    f"{command[0]} exited before showing {marker!r}: {seen[-400:]!r}"
                )
            seen = seen[-200:] + chunk
            while marker in seen:
                times.append(time.perf_counter() - started)
                seen = seen[seen.index(marker) + len(marker) :]
                if len(times) == len(markers):
                    return times
                marker = markers[len(times)]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(master)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs of each program (median)")
    args = parser.parse_args()
    quizapp = shutil.which("quizapp")
    if quizapp is None:
        print("the quizapp command is not installed (pip install -e .)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        # A returning user: the first-run welcome has been seen.
        (home / "ui.json").write_text('{"welcome_seen": true}')
        hello = Path(tmp) / "hello.py"
        hello.write_text(HELLO)
        env = {**os.environ, "TERM": "xterm-256color", "QUIZAPP_HOME": str(home)}
        env.pop("TEXTUAL", None)
        # Let Python cache compiled modules as it does for users (the untimed first start
        # writes them), even where the environment turns that off.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        programs = {
            "hello": ([sys.executable, str(hello)], [b"Hello, world"]),
            "quizapp": ([quizapp], [b"Mastery by topic", b"due now"]),
        }
        # One untimed start each: creates the database, warms the OS file cache.
        for command, markers in programs.values():
            time_to_text(command, markers, env)
        times: dict[str, list[list[float]]] = {name: [] for name in programs}
        for _ in range(args.runs):
            for name, (command, markers) in programs.items():
                times[name].append(time_to_text(command, markers, env))
    rows = {
        "hello-world Textual app": [t[0] for t in times["hello"]],
        "quizapp first screen": [t[0] for t in times["quizapp"]],
        "quizapp with its data": [t[1] for t in times["quizapp"]],
    }
    medians = {name: statistics.median(values) for name, values in rows.items()}
    for name, values in rows.items():
        print(
            f"{name:24s} median {medians[name] * 1000:6.0f} ms  "
            f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}, n={len(values)})"
        )
    baseline = medians["hello-world Textual app"]
    ratio = medians["quizapp first screen"] / baseline
    data_ratio = medians["quizapp with its data"] / baseline
    verdict = "OK" if ratio <= TARGET_RATIO else "TOO SLOW"
    print(f"ratio first screen / hello world: {ratio:.2f} (target <= {TARGET_RATIO}) {verdict}")
    print(f"ratio home with data / hello world: {data_ratio:.2f}")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
