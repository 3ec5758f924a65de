"""``quizapp sim run`` while it trains: its progress output with and without a terminal, and
Ctrl-C."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from quizapp.cli import main
from quizapp.cli.sim_progress import LINE_STEPS

LONG_RUN = ["sim", "run", "epochs", "--set", "epochs=500", "--no-save"]
LABEL = "30% label noise"  # the epochs experiment's one run
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_without_a_terminal_progress_is_plain_whole_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")  # narrower than a progress line
    sweep = ["--set", "batch_sizes=16", "--set", "epochs=10", "--set", "n_examples=2000"]
    argv = ["--home", str(tmp_path), "sim", "run", "batch-size-sweep", *sweep, "--no-save"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "…" not in err, err
    threads = re.search(r"on cpu \((\d+) (threads?)\)", err)
    assert threads, err
    assert threads[2] == ("thread" if threads[1] == "1" else "threads")
    lines = [line for line in err.splitlines() if line.startswith("batch 16: ")]
    assert lines[0] == "batch 16: 1,000 updates planned (100 per epoch, 1,600 training examples)"
    assert lines[-1].startswith("batch 16: ok after 1,000 updates  val loss ")
    steps = lines[1:-1]
    assert steps and all(re.match(r"batch 16: update [\d,]+/1,000  epoch ", s) for s in steps)
    # Bounded: about one line per tenth of the run (more only if a line is 10 s old).
    assert len(steps) <= LINE_STEPS + 3, err


def elapsed_values(screen: str) -> list[float]:
    """The elapsed column of every frame of the run's live progress bar drawn so far."""
    values = []
    for frame in re.split(r"[\r\n]", ANSI.sub("", screen)):
        found = re.search(r"updates (\d+\.\d) s", frame)
        if frame.startswith(LABEL) and found:
            values.append(float(found[1]))
    return values


def test_on_a_terminal_the_elapsed_time_advances(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    child = subprocess.Popen(
        [sys.executable, "-m", "quizapp", "--home", str(tmp_path), *LONG_RUN],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(slave)
    screen = b""
    try:
        deadline = time.monotonic() + 90
        while len(set(elapsed_values(screen.decode(errors="replace")))) < 4:
            assert time.monotonic() < deadline, screen.decode(errors="replace")[-2000:]
            if select.select([master], [], [], 1.0)[0]:
                screen += os.read(master, 65536)
        child.send_signal(signal.SIGINT)  # stop after the current update
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        assert child.wait(timeout=60) == 130
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
    seen = elapsed_values(screen.decode(errors="replace"))
    assert seen == sorted(seen), "elapsed time never goes back"
    assert "Stopped with Ctrl-C" in screen.decode(errors="replace")


def processes_in_group(group: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("second", ["0.3 s later", "as it finishes"])
def test_a_second_ctrl_c_quits_with_130_and_leaves_no_process(tmp_path: Path, second: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "quizapp", "--home", str(tmp_path), *LONG_RUN],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, to find anything it leaves behind
    )
    assert child.stderr is not None
    seen = []
    for line in child.stderr:  # printed once torch is loaded, just before training
        seen.append(line)
        if "Epochs: overfitting and early stopping on cpu" in line:
            break
    time.sleep(1.0)  # into training (an earlier Ctrl-C must work as well)
    child.send_signal(signal.SIGINT)
    if second == "0.3 s later":
        time.sleep(0.3)
    else:
        for line in child.stderr:
            seen.append(line)
            if "Stopped with Ctrl-C" in line:
                break
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    err = "".join(seen) + err
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert processes_in_group(child.pid) == []


def test_the_last_progress_line_agrees_with_the_results_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--home", str(tmp_path), "sim", "run", "epochs", "--set", "epochs=6", "--no-save"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    last = [line for line in captured.err.splitlines() if line.startswith(f"{LABEL}: ")][-1]
    ended = re.search(r"ok after [\d,]+ updates  val loss ([\d.]+)  acc ([\d.]+%)", last)
    assert ended, last
    table = " ".join(captured.out.split())
    assert f"val loss {ended[1]}" in table and f"val acc {ended[2]}" in table, (last, table)
    kept = re.search(r"stopped / kept \S+ / (\d+)", table)
    if kept:  # early stopping restored an earlier epoch: the line says whose numbers these are
        assert f"(weights of epoch {kept[1]})" in last
