"""The background runner as the app uses it: a spawn child that streams events, can be
cancelled quickly without leaving a process behind, and reports failures as events."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict

import pytest

from sims.events import (
    ExperimentFinished,
    ExperimentStarted,
    RunFailed,
    RunFinished,
    RunProgress,
    RunStarted,
)
from sims.lab import run_experiment
from sims.params import ParamError
from sims.runner import SimRunner


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_runs_an_experiment_in_a_child_and_streams_its_events() -> None:
    with SimRunner() as runner:
        runner.start("batch-size-sweep", {"batch_sizes": [32, 128], "epochs": 2, "n_examples": 600})
        assert runner.running and runner.pid != os.getpid()
        events = list(runner.events(timeout=60))
        pid = runner.pid
    kinds = [type(e) for e in events]
    assert kinds[0] is ExperimentStarted and kinds[-1] is ExperimentFinished
    assert kinds.count(RunStarted) == 2 and kinds.count(RunFinished) == 2
    assert sum(k is RunProgress for k in kinds) == 6  # epochs 0, 1, 2 of each run
    result = events[-1].result
    assert [r.label for r in result.runs] == ["batch 32", "batch 128"]
    assert result.observations and result.status == "ok"
    assert pid is not None and gone(pid)


def test_histories_arrive_once_and_results_are_whole() -> None:
    params = {"batch_sizes": [32, 128], "epochs": 2, "n_examples": 600, "eval_every": 5}
    with SimRunner() as runner:
        runner.start("batch-size-sweep", params, seed=4, device="cpu")
        events = list(runner.events(timeout=60))
    here = run_experiment("batch-size-sweep", params, seed=4, device="cpu")
    result = events[-1].result
    finished = {e.label: e.record for e in events if isinstance(e, RunFinished)}
    for run, local in zip(result.runs, here.runs, strict=True):
        sent = [
            {k: v for k, v in asdict(e).items() if k not in ("label", "seconds")}
            for e in events
            if isinstance(e, RunProgress) and e.label == run.label
        ]
        for history in (run.history, finished[run.label].history):
            assert [{k: v for k, v in asdict(p).items() if k != "seconds"} for p in history] == sent
        # In this process torch may use more threads, which changes the last float bits.
        assert [(p.epoch, p.update, p.examples) for p in local.history] == [
            (p["epoch"], p["update"], p["examples"]) for p in sent
        ]
        assert len(sent) > 3


def test_bad_parameters_are_refused_before_a_process_starts() -> None:
    runner = SimRunner()
    with pytest.raises(ParamError, match="epochs: expected an integer"):
        runner.start("epochs", {"epochs": 0})
    assert runner.pid is None and not runner.running


def test_cancel_ends_the_child_within_a_second() -> None:
    with SimRunner() as runner:
        runner.start("epochs", {"epochs": 500})
        for event in runner.events(timeout=60):
            if isinstance(event, RunProgress) and event.epoch >= 1:
                break
        pid = runner.pid
        assert pid is not None and not gone(pid)
        began = time.monotonic()
        runner.cancel()
        assert time.monotonic() - began < 1.0
        assert gone(pid)
        assert not runner.running
        rest = list(runner.events(timeout=1))
        assert runner.finished
    # Whatever the child sent before it went is still delivered; nothing claims a failure.
    assert not any(isinstance(e, RunFailed) for e in rest)


def test_cancel_during_start_up_also_ends_the_child() -> None:
    runner = SimRunner()
    runner.start("batch-size-sweep", {"epochs": 1})
    pid = runner.pid
    began = time.monotonic()
    runner.cancel()  # the child is still importing torch: it is terminated
    assert time.monotonic() - began < 1.0
    assert pid is not None and gone(pid)
    runner.close()


def test_a_failure_in_the_child_arrives_as_an_event_with_the_error() -> None:
    if sys.platform == "darwin":
        pytest.skip("MPS may exist on macOS")
    with SimRunner() as runner:
        runner.start("epochs", {"epochs": 1}, device="mps")
        events = list(runner.events(timeout=60))
    failure = events[-1]
    assert isinstance(failure, RunFailed)
    assert "device 'mps' is not available" in failure.reason
    assert "Traceback" in failure.details and "DeviceError" in failure.details


def test_a_child_that_dies_is_reported_not_waited_for() -> None:
    with SimRunner() as runner:
        runner.start("epochs", {"epochs": 500})
        assert isinstance(runner.poll(timeout=60), ExperimentStarted)
        assert runner.pid is not None
        os.kill(runner.pid, signal.SIGKILL)
        events = list(runner.events(timeout=10))
    assert isinstance(events[-1], RunFailed)
    assert "ended unexpectedly" in events[-1].reason and "SIGKILL" in events[-1].reason


FAKE_STREAMS_SCRIPT = """
import io, sys
from sims.events import ExperimentFinished
from sims.runner import SimRunner

class Captured(io.StringIO):  # what Textual puts in sys.stdout/sys.stderr while running
    def fileno(self):
        return -1

if __name__ == "__main__":
    sys.stdout, sys.stderr = Captured(), Captured()
    runner = SimRunner()
    runner.start("epochs", {"epochs": 1, "n_examples": 300})
    last = list(runner.events(timeout=60))[-1]
    sys.__stdout__.write(type(last).__name__ + "\\n")
"""


def test_starts_when_stdout_and_stderr_have_no_file_descriptor(tmp_path) -> None:
    # Textual issue #3593: spawn children failed with "bad value(s) in fds_to_keep".
    script = tmp_path / "app.py"
    script.write_text(FAKE_STREAMS_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "ExperimentFinished", done.stderr
