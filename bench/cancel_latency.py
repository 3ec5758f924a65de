"""How long ``SimRunner.cancel()`` takes, per experiment, and how long a poll after it takes.

For every registered experiment (the small, long-running parameters of
``tests/test_sim_runner_cancel.py``) starts a child, cancels it at its first progress event
and again after about 50 updates, and prints the cancel latency and the time of the next
poll (a hang would show as a missing row: the test suite checks for that). The runner's own
bound is 0.5 s to stop by itself, then terminate (0.25 s), then kill (0.2 s).

    python bench/cancel_latency.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sims.events import RunProgress, RunTick
from sims.runner import SimRunner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_sim_runner_cancel import LONG_RUNS


def main() -> None:
    print(f"{'experiment':<18} {'cancel at':<16} {'cancel':>8} {'next poll':>10}")
    worst = 0.0
    for name, params in sorted(LONG_RUNS.items()):
        for after in (0, 50):
            with SimRunner(threads=1) as runner:
                runner.start(name, params, device="cpu")
                for event in runner.events(timeout=120):
                    if isinstance(event, RunProgress | RunTick) and event.update >= after:
                        break
                began = time.perf_counter()
                runner.cancel()
                took = time.perf_counter() - began
                began = time.perf_counter()
                list(runner.events(timeout=1))
                poll = time.perf_counter() - began
            worst = max(worst, took)
            where = "first progress" if after == 0 else f"~{after} updates"
            print(f"{name:<18} {where:<16} {1000 * took:>6.0f}ms {1000 * poll:>8.1f}ms")
    print(f"slowest cancel: {1000 * worst:.0f} ms")


if __name__ == "__main__":  # the spawned children import this file
    main()
