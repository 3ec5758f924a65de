"""``quizapp sim list`` and ``quizapp sim run`` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from quizapp.cli import main
from quizapp.store import Store

if TYPE_CHECKING:
    from pathlib import Path

QUICK = ["--set", "batch_sizes=16,128", "--set", "epochs=2", "--set", "n_examples=600"]


def test_list_shows_experiments_parameters_and_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "list"]) == 0
    out = capsys.readouterr().out
    for text in ["batch-size-sweep", "epochs", "batch_sizes", "[16, 64, 256, 1024]", "patience"]:
        assert text in out
    assert main(["sim", "list", "epochs"]) == 0
    only = capsys.readouterr().out
    assert "label_noise" in only and "batch_sizes" not in only


def test_run_prints_a_table_and_observations_and_saves_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "sweep.json"
    code = main(
        [
            "--home",
            str(tmp_path),
            "sim",
            "run",
            "batch-size-sweep",
            *QUICK,
            "--seed",
            "3",
            "--json",
            str(target),
        ]
    )
    assert code == 0
    out = " ".join(capsys.readouterr().out.split())  # undo the terminal's line wrapping
    assert "batch 16" in out and "batch 128" in out
    assert "Observations" in out and "updates per epoch = ceil(480 / batch)" in out
    data = json.loads(target.read_text())
    assert data["experiment"] == "batch-size-sweep" and data["seed"] == 3
    assert data["params"]["batch_sizes"] == [16, 128] and data["device"] == "cpu"
    assert [r["updates_per_epoch"] for r in data["runs"]] == [30, 4]
    assert set(data["runs"][0]["history"][0]) >= {
        "epoch",
        "update",
        "examples",
        "seconds",
        "train_loss",
        "val_loss",
        "val_acc",
    }
    assert data["observations"] == [line for line in data["observations"] if line]
    # Recorded in the progress store like a run from the app.
    with Store.open(tmp_path) as store:
        runs = store.sim_runs()
        assert [(r.experiment, r.status, r.seed) for r in runs] == [("batch-size-sweep", "ok", 3)]
        saved = store.get_sim_run(runs[0].id)
        assert saved is not None and saved.result["runs"][1]["label"] == "batch 128"


def test_json_to_stdout_keeps_stdout_pure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "--home",
            str(tmp_path),
            "sim",
            "run",
            "epochs",
            "--set",
            "epochs=2",
            "--set",
            "n_examples=400",
            "--json",
            "-",
            "--no-save",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["experiment"] == "epochs" and len(data["runs"]) == 1
    assert "Observations" in captured.err
    with Store.open(tmp_path) as store:
        assert store.sim_runs() == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sim", "run", "batch-sweep"], "unknown experiment 'batch-sweep' (did you mean"),
        (["sim", "run", "epochs", "--set", "epochs=0"], "epochs: expected an integer from 1"),
        (["sim", "run", "epochs", "--set", "batchsize=8"], "did you mean 'batch_size'?"),
        (["sim", "run", "epochs", "--set", "epochs"], "expected key=value"),
        (["sim", "run", "epochs", "--device", "mps"], "device 'mps' is not available"),
        (["sim", "run", "epochs", "--json", "/no/such/folder/x.json"], "does not exist"),
        (["sim", "run", "epochs", "--json", "/"], "is a folder; expected a file name"),
        (
            ["sim", "run", "epochs", "--set", "epochs=1", "--seed", "100000000000000000000000"],
            "--seed: expected an integer from 0 to 9,223,372,036,854,775,807; "
            "got 100000000000000000000000",
        ),
        (["sim", "run", "epochs", "--set", "epochs=1", "--seed", "-1"], "--seed: expected an"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_traceback(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if "mps" in argv and sys.platform == "darwin":
        pytest.skip("MPS may exist on macOS")
    assert main(["--home", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split())
    assert "Traceback" not in err


def test_ctrl_c_stops_cleanly_and_shows_what_ran(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "120"}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "quizapp",
            "--home",
            str(tmp_path),
            "sim",
            "run",
            "epochs",
            "--set",
            "epochs=500",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stderr is not None
    header = child.stderr.readline()  # printed once torch is loaded, just before training
    assert "Epochs: overfitting and early stopping on cpu" in header
    time.sleep(1.0)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    err = header + err
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert "Stopped with Ctrl-C" in err
    assert "cancelled" in out and "Observations" in out
    with Store.open(tmp_path) as store:
        assert [r.status for r in store.sim_runs()] == ["cancelled"]
