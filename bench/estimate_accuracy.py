"""How close ``sims.estimate.estimate_duration`` comes to the real run time.

For each experiment (defaults, plus a few heavier variants) prints the estimate (made
just before the run, from a fresh calibration, so both see the same machine load), the
measured time of the same run in this process, and their ratio. Both use one torch
thread, as a simulation does on 2 cores.

    python bench/estimate_accuracy.py [--quick]    # --quick: skip the two slow searches
"""

from __future__ import annotations

import sys
import time
from typing import Any

import torch

from sims.estimate import calibrate, estimate_duration
from sims.lab import run_experiment

torch.set_num_threads(1)
CASES: list[tuple[str, dict[str, Any]]] = [
    ("batch-size-sweep", {}),
    ("batch-size-sweep", {"batch_sizes": [8, 512], "epochs": 5, "hidden": 512, "depth": 2}),
    ("epochs", {}),
    ("epochs", {"early_stop": True}),
    ("lr-scaling", {}),
    ("lr-finder", {}),
    ("grid-search", {}),
    ("throughput", {}),
    ("throughput", {"hidden": 1024, "depth": 3, "batch_sizes": [16, 256, 4096]}),
    ("noise-scale", {"compare": False}),
]
if "--quick" not in sys.argv:
    CASES += [("steps-to-target", {}), ("noise-scale", {})]

print(
    f"{'experiment':<18} {'params':<58} {'probe':>6} {'estimate':>9} {'measured':>9} {'ratio':>6}"
)
for name, params in CASES:
    began = time.perf_counter()
    cost = calibrate("cpu")
    probe = time.perf_counter() - began
    guess = estimate_duration(name, params, cost=cost)
    began = time.perf_counter()
    run_experiment(name, params, device="cpu")
    took = time.perf_counter() - began
    bound = " (at most)" if guess.upper_bound else ""
    shown = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
    print(
        f"{name:<18} {shown[:58]:<58} {probe:>5.2f}s {guess.seconds:>8.1f}s {took:>8.1f}s "
        f"{guess.seconds / took:>6.2f}{bound}"
    )
