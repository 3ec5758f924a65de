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
