"""Wall time of the default ``batch-size-sweep`` and how soon its first event arrives, beside
a bare hand-written loop making the same updates.

Three measurements, each the best of REPEATS:

  cli-like      a fresh ``python`` process (as ``quizapp sim run``): times from process
                start, so they include importing torch
  runner        ``SimRunner`` (spawn child, as the app): from ``start()``
  in-process    ``run_experiment`` with torch already imported: the engine alone

and the bare loop (per-epoch validation, same model, data, batch sizes and updates) as the
baseline. Targets on 2 CPU cores: sweep <= 10 s, first progress event <= 1.5 s after the
experiment starts.

    python bench/sweep_time.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = """
import json, sys, time
start = float(sys.argv[1])
marks = {}
from sims.lab import run_experiment
from sims.device import configure_threads
configure_threads()
marks["imported"] = time.time() - start

def on_event(event):
    name = type(event).__name__
    marks.setdefault("first " + name, time.time() - start)

began = time.time()
result = run_experiment("batch-size-sweep", {}, on_event=on_event)
marks["experiment start"] = began - start
marks["finished"] = time.time() - start
marks["updates"] = sum(r.summary.updates for r in result.runs)
print(json.dumps(marks))
"""


def fresh_process() -> dict[str, float]:
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, repr(start)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def through_runner() -> dict[str, float]:
    from sims.events import ExperimentFinished, RunProgress
    from sims.runner import SimRunner

    marks: dict[str, float] = {}
    with SimRunner() as runner:
        start = time.perf_counter()
        runner.start("batch-size-sweep")
        for event in runner.events(timeout=120):
            marks.setdefault("first event", time.perf_counter() - start)
            if isinstance(event, RunProgress):
                marks.setdefault("first progress", time.perf_counter() - start)
            if isinstance(event, ExperimentFinished):
                marks["finished"] = time.perf_counter() - start
    return marks


def in_process() -> dict[str, float]:
    from sims.events import RunProgress
    from sims.lab import run_experiment

    marks: dict[str, float] = {}
    start = time.perf_counter()

    def on_event(event: object) -> None:
        marks.setdefault("first event", time.perf_counter() - start)
        if isinstance(event, RunProgress):
            marks.setdefault("first progress", time.perf_counter() - start)

    result = run_experiment("batch-size-sweep", {}, on_event=on_event)
    marks["finished"] = time.perf_counter() - start
    marks["training"] = sum(r.summary.seconds for r in result.runs)
    return marks


def bare_same_updates() -> tuple[float, int]:
    sys.path.insert(0, os.path.dirname(__file__))
    from sim_overhead import bare_loop

    from sims.datasets import build_dataset
    from sims.experiments._common import data_spec
    from sims.registry import get_experiment

    defaults = get_experiment("batch-size-sweep").defaults()
    start = time.perf_counter()
    data = build_dataset(data_spec(0, defaults))
    updates = sum(
        bare_loop(data, b, defaults["epochs"], evaluate=True, torch_optim=False)
        for b in defaults["batch_sizes"]
    )
    return time.perf_counter() - start, updates


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: min(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from sims.device import configure_threads

    threads = configure_threads()
    print(
        f"{os.cpu_count()} CPU(s), {threads} torch thread(s), load average "
        f"{os.getloadavg()[0]:.2f}; default batch-size-sweep, best of {args.repeats}"
    )
    fresh = best([fresh_process() for _ in range(args.repeats)])
    runner = best([through_runner() for _ in range(args.repeats)])
    inproc = best([in_process() for _ in range(args.repeats)])
    bare = min(bare_same_updates() for _ in range(args.repeats))

    print(f"\nfresh process (like `quizapp sim run`), {int(fresh['updates']):,} updates:")
    print(f"  torch and sims imported   {fresh['imported']:6.2f} s after process start")
    print(f"  first event               {fresh['first ExperimentStarted']:6.2f} s")
    print(f"  first progress event      {fresh['first RunProgress']:6.2f} s")
    print(f"  finished                  {fresh['finished']:6.2f} s")
    print("through SimRunner (spawn child, like the app):")
    print(f"  first event               {runner['first event']:6.2f} s after start()")
    print(f"  first progress event      {runner['first progress']:6.2f} s")
    print(f"  finished                  {runner['finished']:6.2f} s")
    print("in this process (torch already imported):")
    print(f"  first progress event      {inproc['first progress']:6.3f} s after the call")
    print(
        f"  finished                  {inproc['finished']:6.2f} s "
        f"({inproc['training']:.2f} s of it training)"
    )
    print(f"bare loop, same {bare[1]:,} updates with per-epoch validation: {bare[0]:.2f} s")
    print(f"\nratio bare / in-process sweep time: {bare[0] / inproc['finished']:.3f}")
    print(f"default sweep in a fresh process: {fresh['finished']:.2f} s (target <= 10 s)")
    print(
        f"first progress after the experiment started: "
        f"{fresh['first RunProgress'] - fresh['experiment start']:.3f} s (target <= 1.5 s); "
        f"after process start: {fresh['first RunProgress']:.2f} s"
    )


if __name__ == "__main__":
    main()
