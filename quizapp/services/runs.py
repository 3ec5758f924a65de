"""How a finished simulation is recorded: one rule for the app and ``quizapp sim run``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sims.results import ExperimentResult


def run_outcome(result: ExperimentResult) -> tuple[str, dict[str, Any]]:
    """The status and summary the progress database keeps for a finished experiment.

    The status is ``cancelled`` for a cancelled experiment, the runs' common status when they
    all failed the same way (``diverged``, ``oom``), else ``ok``. The summary holds the
    observations and each run's final figures as strict JSON: a diverged loss is null, with
    the run's status saying why."""
    statuses = {r.status for r in result.runs}
    if result.status == "cancelled":
        status = "cancelled"
    elif len(statuses) == 1 and statuses != {"ok"}:
        status = statuses.pop()
    else:
        status = "ok"
    data = result.to_json()  # finite numbers only
    summary = {
        "observations": data["observations"],
        "runs": [
            {
                "label": r["label"],
                "status": r["status"],
                "final_val_loss": r["summary"]["final_val_loss"],
                "final_val_acc": r["summary"]["final_val_acc"],
            }
            for r in data["runs"]
        ],
    }
    return status, summary


def cli_value(value: Any) -> str:
    """A parameter value as ``--set`` takes it: lists comma-separated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(cli_value(v) for v in value)
    if isinstance(value, float):
        return repr(value)  # every digit: the rerun must get exactly this number
    return str(value)


def reproduce_command(
    experiment: str, params: dict[str, Any], seed: int | None, device: str
) -> str:
    """The exact ``quizapp sim run`` command that reproduces a stored run."""
    import shlex

    words = ["quizapp", "sim", "run", experiment]
    for key in sorted(params):
        if params[key] is not None:  # None: the experiment's own default ("auto")
            words += ["--set", f"{key}={cli_value(params[key])}"]
    words += ["--seed", str(seed or 0), "--device", device]
    return shlex.join(words)


def first_difference(stored: ExperimentResult, again: ExperimentResult) -> str | None:
    """Where two results of the same experiment first differ (run, evaluation, metric), or
    None when every run's every evaluation is equal, bit for bit."""
    if [r.label for r in stored.runs] != [r.label for r in again.runs]:
        return "the runs differ: " + ", ".join(r.label for r in again.runs)
    for old, new in zip(stored.runs, again.runs, strict=True):
        if old.status != new.status:
            return f"{old.label}: status {old.status} then {new.status}"
        if len(old.history) != len(new.history):
            return f"{old.label}: {len(old.history)} evaluations then {len(new.history)}"
        for a, b in zip(old.history, new.history, strict=True):
            for metric in ("train_loss", "val_loss", "val_acc", "train_acc"):
                x, y = getattr(a, metric), getattr(b, metric)
                if x != y and not (x is None and y is None):
                    return f"{old.label}, update {a.update}: {metric} {x!r} then {y!r}"
    return None
