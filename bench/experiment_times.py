"""Default run time of every registered experiment, each in a fresh process as
``quizapp sim run NAME`` runs it (same torch thread setting), beside a baseline measured in
the same session: a bare hand-written loop making 10,000 updates at batch 32.

For each experiment it prints the wall time of the experiment itself and with process
start-up (importing torch), how many runs and updates it made, and the RATIO of its time to
the baseline's, which stays comparable across machines. Targets on 2 CPU cores:
steps-to-target <= 60 s; every other default <= 30 s. data-parallel's time includes starting
its worker processes (each imports torch), which overlaps the single-process runs. Other
processes on the machine inflate times: the load average is printed before and after each
measurement; re-measure when quiet.

    python bench/experiment_times.py [NAME ...] [--repeats 1] [--threads N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

TARGETS = {"steps-to-target": 60.0}
DEFAULT_TARGET = 30.0
BASELINE_UPDATES = 10_000

CHILD = """
import json, sys, time
start = float(sys.argv[1])
from sims.device import configure_threads
threads = configure_threads(None if sys.argv[3] == "auto" else int(sys.argv[3]))
from sims.lab import run_experiment
began = time.time()
result = run_experiment(sys.argv[2], {}, device="cpu")
done = time.time()
print(json.dumps({
    "threads": threads,
    "experiment_s": done - began,
    "with_startup_s": done - start,
    "runs": len(result.runs),
    "updates": sum(r.summary.updates for r in result.runs),
    "training_s": sum(r.summary.seconds for r in result.runs),
    "status": result.status,
}))
"""

BASELINE = """
import json, sys, time
from sims.device import configure_threads
configure_threads(None if sys.argv[1] == "auto" else int(sys.argv[1]))
import torch, torch.nn.functional as F
from sims.config import DataSpec, ModelSpec
from sims.datasets import build_dataset
from sims.models import build_model
from sims.optim import SGD
data = build_dataset(DataSpec(n_examples=10_000))
torch.manual_seed(0)
model = build_model(ModelSpec(hidden=128), data)
optimizer = SGD(model.parameters(), lr=0.01, momentum=0.9)
x, y, n, updates = data.x_train, data.y_train, data.x_train.shape[0], 0
began = time.time()
while updates < int(sys.argv[2]):
    order = torch.randperm(n)
    xs, ys = x[order], y[order]
    for s in range(0, n, 32):
        loss = F.cross_entropy(model(xs[s : s + 32]), ys[s : s + 32])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        updates += 1
        if updates == int(sys.argv[2]):
            break
print(json.dumps({"baseline_s": time.time() - began}))
"""


def child(code: str, *args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(name: str, threads: str, repeats: int) -> dict[str, float]:
    """Best of ``repeats`` fresh-process runs, with the load average around each."""
    best: dict[str, float] | None = None
    for _ in range(repeats):
        load_before = os.getloadavg()[0]
        result = child(CHILD, repr(time.time()), name, threads)
        result["load_before"] = load_before
        result["load_after"] = os.getloadavg()[0]
        if best is None or result["experiment_s"] < best["experiment_s"]:
            best = result
    assert best is not None
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="experiments to time (default: all)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", default="auto", help="torch threads (default: as the CLI)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()

    from sims.registry import list_experiments

    names = args.names or [e.name for e in list_experiments()]
    baseline = min(
        child(BASELINE, args.threads, str(BASELINE_UPDATES))["baseline_s"]
        for _ in range(max(1, args.repeats))
    )
    print(
        f"{os.cpu_count()} CPU(s); baseline: bare loop, {BASELINE_UPDATES:,} updates at batch "
        f"32 (MLP 20-128-10) in {baseline:.2f} s; load average {os.getloadavg()[0]:.2f}"
    )
    header = (
        f"{'experiment':<18} {'run s':>7} {'+start s':>9} {'runs':>5} {'updates':>9} "
        f"{'x baseline':>10} {'load':>9}  target"
    )
    print(header)
    print("-" * len(header))
    figures = {}
    for name in names:
        row = measure(name, args.threads, args.repeats)
        target = TARGETS.get(name, DEFAULT_TARGET)
        verdict = "ok" if row["experiment_s"] <= target else "OVER"
        busy = max(row["load_before"], row["load_after"])
        print(
            f"{name:<18} {row['experiment_s']:7.1f} {row['with_startup_s']:9.1f} "
            f"{int(row['runs']):5d} {int(row['updates']):9,d} "
            f"{row['experiment_s'] / baseline:10.1f} {busy:9.2f}  "
            f"<= {target:.0f} s: {verdict}"
        )
        figures[name] = {**row, "ratio_to_baseline": row["experiment_s"] / baseline}
    print(
        f"\n{figures[names[0]]['threads']:.0f} torch thread(s). 'load' is the highest 1-minute "
        "load average seen around the run; the benchmark itself adds about one per thread, so "
        "clearly more than that means other work shared the cores."
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"baseline_s": baseline, "experiments": figures}, handle, indent=2)


if __name__ == "__main__":
    main()
