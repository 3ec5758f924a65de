"""How much the simulation engine costs over a bare, hand-written PyTorch loop.

The same model (MLP 20-128-10), data (teacher task, 8,000 training examples), batch sizes
and number of updates go through:

  bare            the loop anyone would write: shuffle, slice batches, forward, backward, step
  bare + eval     the same plus a validation pass at each epoch end (the engine does that too)
  engine          sims.training.train with events on (collected into a list)

All three use the engine's optimizer (same arithmetic as torch.optim.SGD); a fourth line shows
the bare loop with torch.optim.SGD for reference. Each variant runs REPEATS times,
interleaved, and the best time counts (other processes share the cores).
Target: engine / (bare + eval) >= 0.9.

With ``--throughput`` it checks the ``throughput`` experiment's clock instead: the time per
update it reports at each batch size beside a bare loop timed the same way (windows of
``steps`` updates, the median of 5 after a warm-up window), interleaved, best of
``--repeats`` rounds. A ratio near 1 means the experiment times training and nothing else.

    python bench/sim_overhead.py [--epochs 3] [--repeats 3] [--batch-sizes 16,256]
    python bench/sim_overhead.py --throughput [--repeats 3] [--batch-sizes 1,64,4096]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from functools import partial
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from sims.config import DataSpec, ModelSpec, TrainConfig
from sims.datasets import Dataset, _mix, build_dataset
from sims.device import configure_threads
from sims.models import build_model
from sims.optim import SGD
from sims.training import train

if TYPE_CHECKING:
    from collections.abc import Callable

LR, MOMENTUM, SEED = 0.03, 0.9, 0


def bare_loop(data: Dataset, batch: int, epochs: int, *, evaluate: bool, torch_optim: bool) -> int:
    """A hand-written training loop; returns the number of updates made."""
    torch.manual_seed(_mix(SEED, 0x1417))
    model = build_model(ModelSpec(hidden=128), data)
    if torch_optim:
        optimizer: torch.optim.Optimizer | SGD = torch.optim.SGD(
            model.parameters(), lr=LR, momentum=MOMENTUM
        )
    else:
        optimizer = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    shuffle = torch.Generator().manual_seed(_mix(SEED, 0x5EED))
    x, y, n = data.x_train, data.y_train, data.x_train.shape[0]
    updates = 0
    for _ in range(epochs):
        order = torch.randperm(n, generator=shuffle)
        xs, ys = x[order], y[order]
        for start in range(0, n, batch):
            loss = F.cross_entropy(model(xs[start : start + batch]), ys[start : start + batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            updates += 1
        if evaluate:
            with torch.no_grad():
                logits = model(data.x_val)
                val_loss = F.cross_entropy(logits, data.y_val).item()
                val_acc = (logits.argmax(1) == data.y_val).float().mean().item()
            assert math.isfinite(val_loss) and 0 <= val_acc <= 1
    return updates


def engine_loop(data: Dataset, batch: int, epochs: int) -> int:
    events: list[object] = []
    record = train(
        data,
        ModelSpec(hidden=128),
        TrainConfig(batch_size=batch, epochs=epochs, lr=LR, momentum=MOMENTUM),
        device="cpu",
        label=f"batch {batch}",
        emit=events.append,
        seed=SEED,
    )
    assert record.status == "ok" and events
    return record.summary.updates


def bare_window_ms(data: Dataset, batch: int, steps: int, windows: int) -> float:
    """Median ms per update over ``windows`` timed windows of ``steps`` updates (after one
    warm-up window), with nothing but training inside a window."""
    torch.manual_seed(_mix(SEED, 0x1417))
    model = build_model(ModelSpec(hidden=128), data)
    optimizer = SGD(model.parameters(), lr=1e-3, momentum=MOMENTUM)
    x, y, n = data.x_train, data.y_train, data.x_train.shape[0]
    times, start = [], 0
    for _ in range(windows + 1):
        began = time.perf_counter()
        for _ in range(steps):
            if start + batch > n:
                start = 0
            loss = F.cross_entropy(model(x[start : start + batch]), y[start : start + batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            start += batch
        times.append(1000 * (time.perf_counter() - began) / steps)
    return statistics.median(times[1:])


def throughput_check(batches: list[int], repeats: int) -> None:
    from sims.lab import run_experiment

    n_train = max(batches) * math.ceil(2048 / max(batches))
    total = n_train + 512
    data = build_dataset(DataSpec("teacher", total, val_fraction=512 / total, seed=SEED))
    print(
        f"throughput experiment vs a bare timed loop, {torch.get_num_threads()} thread(s), load "
        f"average {os.getloadavg()[0]:.2f}; best of {repeats} rounds (ms per update)"
    )
    engine: dict[int, float] = {}
    bare: dict[int, float] = {}
    for _ in range(repeats):
        result = run_experiment("throughput", {"batch_sizes": batches, "steps": 20}, device="cpu")
        for row in result.extras["rows"]:
            b = row["batch_size"]
            engine[b] = min(engine.get(b, math.inf), row["ms_per_update"])
        for b in batches:
            bare[b] = min(bare.get(b, math.inf), bare_window_ms(data, b, 20, 5))
    for b in batches:
        print(
            f"  batch {b:>6}: experiment {engine[b]:8.3f} ms   bare {bare[b]:8.3f} ms   "
            f"ratio {engine[b] / bare[b]:.2f}"
        )


def best_rate(run: Callable[[], int], timings: list[float]) -> tuple[float, int]:
    started = time.perf_counter()
    updates = run()
    timings.append(time.perf_counter() - started)
    return updates / min(timings), updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", default=None)
    parser.add_argument("--throughput", action="store_true", help="check the throughput clock")
    args = parser.parse_args()
    threads = configure_threads()
    if args.throughput:
        throughput_check(
            [int(b) for b in (args.batch_sizes or "1,64,4096").split(",")], args.repeats
        )
        return
    args.batch_sizes = args.batch_sizes or "16,256"
    data = build_dataset(DataSpec("teacher", 10_000, seed=SEED))
    print(
        f"torch {torch.__version__}, {threads} thread(s), load average "
        f"{os.getloadavg()[0]:.2f}; teacher data, {data.x_train.shape[0]:,} training "
        f"examples, MLP 20-128-10, SGD momentum {MOMENTUM}, at least {args.epochs} epochs, "
        f"best of {args.repeats}"
    )
    engine_loop(data, 64, 1)  # warm up allocator and kernels
    verdicts = []
    n_train = data.x_train.shape[0]
    for batch in [int(b) for b in args.batch_sizes.split(",")]:
        # Big batches get more epochs so that every timing covers about 1,000 updates.
        epochs = max(args.epochs, math.ceil(1000 / math.ceil(n_train / batch)))
        variants: dict[str, Callable[[], int]] = {
            "bare": partial(bare_loop, data, batch, epochs, evaluate=False, torch_optim=False),
            "bare + eval": partial(
                bare_loop, data, batch, epochs, evaluate=True, torch_optim=False
            ),
            "engine": partial(engine_loop, data, batch, epochs),
            "bare, torch.optim": partial(
                bare_loop, data, batch, epochs, evaluate=True, torch_optim=True
            ),
        }
        timings: dict[str, list[float]] = {name: [] for name in variants}
        rates: dict[str, float] = {}
        counts: set[int] = set()
        for _ in range(args.repeats):
            for name, run in variants.items():
                rates[name], updates = best_rate(run, timings[name])
                counts.add(updates)
        assert len(counts) == 1, f"variants made different numbers of updates: {counts}"
        print(f"\nbatch {batch}: {counts.pop():,} updates in {epochs} epochs")
        for name, rate in rates.items():
            print(f"  {name:<18} {rate:>9,.0f} updates/s   best {min(timings[name]):.3f} s")
        ratio = rates["engine"] / rates["bare + eval"]
        print(f"  engine / (bare + eval) = {ratio:.3f}   (target >= 0.9)")
        print(f"  engine / bare          = {rates['engine'] / rates['bare']:.3f}")
        reference = rates["engine"] / rates["bare, torch.optim"]
        print(f"  engine / (bare + eval, torch.optim) = {reference:.3f}")
        verdicts.append(ratio)
    print(f"\nworst engine / (bare + eval) ratio: {min(verdicts):.3f}")


if __name__ == "__main__":
    main()
