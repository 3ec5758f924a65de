"""Cancelling a background simulation never hangs: not right after it starts reporting, not
mid-training, and not while its process is blocked writing a large message that nobody reads.
After a cancel the process is gone and polling returns at once."""

from __future__ import annotations

import glob
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from sims.events import RunFailed, RunFinished, RunProgress, RunTick, SimEvent
from sims.registry import list_experiments
from sims.runner import SimRunner

if TYPE_CHECKING:
    from collections.abc import Callable

# The runner's own bound is under 1 s (0.5 s to stop, then terminate, then kill); the slack
# keeps a loaded machine from failing a test whose point is to catch a hang.
CANCEL_BOUND = 2.0
POLL_BOUND = 2.0

# Small models, but far more updates than the test lets them train before cancelling.
LONG_RUNS: dict[str, dict[str, Any]] = {
    "batch-size-sweep": {"batch_sizes": [16, 64], "epochs": 50, "n_examples": 2000},
    "epochs": {"epochs": 300, "hidden": 32},
    "steps-to-target": {
        "batch_sizes": [16, 64],
        "lrs": [0.05, 0.2],
        "max_updates": 20000,
        "target_loss": 0.001,
        "n_examples": 2000,
    },
    "lr-scaling": {
        "batch_sizes": [16, 64],
        "epochs": 50,
        "n_examples": 2000,
        "optimizers": ["sgd"],
        "rules": ["none", "linear"],
    },
    "lr-finder": {"num_steps": 5000, "check_epochs": 20, "n_examples": 2000, "hidden": 16},
    "grid-search": {"batch_sizes": [16, 64], "lrs": [0.03, 0.3], "epochs": 50, "n_examples": 2000},
    "throughput": {"batch_sizes": [4, 64], "steps": 10000},
    "noise-scale": {
        "epochs": 50,
        "n_examples": 2000,
        "batch_small": 16,
        "batch_big": 64,
        "compare": False,
        "hidden": 16,
    },
    "lr-schedule": {"schedules": ["constant", "cosine"], "epochs": 50, "n_examples": 2000},
    "weight-decay": {"lrs": [0.001, 0.003], "weight_decays": [0.01, 0.1], "epochs": 200},
    "data-parallel": {"epochs": 100, "batchnorm": False, "n_examples": 2000},
}


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def within(seconds: float, call: Callable[[], Any]) -> tuple[bool, Any]:
    """Run ``call`` in a thread: (whether it returned within ``seconds``, its result). A
    call that hangs is left behind in its daemon thread instead of hanging the test."""
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), box[0] if box else None


def updates(event: SimEvent) -> int | None:
    return event.update if isinstance(event, RunProgress | RunTick) else None


def cancel_and_check(runner: SimRunner) -> list[SimEvent]:
    """Cancel a running simulation; check it stops in time, leaves no process and that
    polling afterwards returns at once. Returns the events still delivered."""
    pid = runner.pid
    assert pid is not None and runner.running, "the simulation ended before the cancel"
    began = time.monotonic()
    returned, _ = within(CANCEL_BOUND, runner.cancel)
    assert returned, f"cancel() did not return within {CANCEL_BOUND} s"
    assert time.monotonic() - began < CANCEL_BOUND
    assert gone(pid), "the simulation process is still alive after cancel()"
    returned, rest = within(POLL_BOUND, lambda: list(runner.events(timeout=POLL_BOUND)))
    assert returned, "polling after cancel() hangs"
    assert runner.finished and runner.poll(timeout=None) is None
    return list(rest)


def test_every_experiment_has_a_long_run_here() -> None:
    assert set(LONG_RUNS) == {e.name for e in list_experiments()}


@pytest.mark.slow
@pytest.mark.parametrize("after_updates", [0, 50], ids=["first-progress", "after-50-updates"])
@pytest.mark.parametrize("name", sorted(LONG_RUNS))
def test_cancel_never_hangs_and_leaves_no_process(name: str, after_updates: int) -> None:
    with SimRunner(threads=1) as runner:
        runner.start(name, LONG_RUNS[name], device="cpu")
        seen = []
        for event in runner.events(timeout=120):
            seen.append(event)
            done = updates(event)
            if done is not None and done >= after_updates:
                break
        else:
            pytest.fail(f"{name} sent no progress; its events: {seen[-3:]!r}")
        rest = cancel_and_check(runner)
    assert not any(isinstance(e, RunFailed) for e in rest)


def blocked_writing(pid: int) -> bool:
    """Whether a thread of ``pid`` is asleep in a pipe write (Linux)."""
    for path in glob.glob(f"/proc/{pid}/task/*/wchan"):
        try:
            with open(path) as handle:
                if "pipe_write" in handle.read():
                    return True
        except OSError:
            continue
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/wchan")
def test_cancel_while_the_child_is_blocked_writing_a_large_message() -> None:
    # The last message of an LR range test with thousands of points is far larger than a
    # pipe's buffer. Nobody reads it: the child blocks part-way through writing it.
    params = {"num_steps": 2000, "check_epochs": 0, "n_examples": 1000, "hidden": 16}
    with SimRunner(threads=1) as runner:
        runner.start("lr-finder", params, device="cpu")
        for event in runner.events(timeout=120):
            if isinstance(event, RunFinished):
                break
        pid = runner.pid
        assert pid is not None
        deadline = time.monotonic() + 60
        while not blocked_writing(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert blocked_writing(pid), "the child never blocked on its pipe"
        cancel_and_check(runner)
