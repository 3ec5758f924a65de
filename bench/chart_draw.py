"""Draw time of a chart with a diverged run against the same chart with a normal run.

Draws the live loss chart (``MetricChart``'s ``draw``, what the simulation screen does after
every batch of events) at 120x20 twice: two runs whose losses fall normally, then the same
two runs with one of them blowing up at the end (1e8, then inf, then NaN, as a diverged
batch-size sweep reports). Both are measured in this run; the ratio is what matters.
Target: about 1x (plotext rasterised the raw 1e8 segment: seconds and gigabytes).

    python bench/chart_draw.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from textual.geometry import Size

from quizapp.tui.widgets.metric_chart import ChartSpec, draw

POINTS = 200


def losses(diverge: bool) -> tuple[tuple[float, float], ...]:
    points = [(i / 20, 2.3 * math.exp(-i / 80) + 0.1) for i in range(POINTS)]
    if diverge:
        end = points[-1][0]
        points += [(end + 0.05, 1e8), (end + 0.1, math.inf), (end + 0.15, math.nan)]
    return tuple(points)


def spec(diverge: bool) -> ChartSpec:
    return ChartSpec(
        version=1,
        size=Size(120, 20),
        theme="textual-dark",
        metric="val_loss",
        x_axis="epoch",
        series=(("batch 16", losses(False)), ("batch 1024", losses(diverge))),
    )


def median_seconds(chart: ChartSpec, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        draw(chart)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    draw(spec(False))  # warm-up: imports and plotext's first-use set-up
    normal = median_seconds(spec(False), args.repeats)
    diverged = median_seconds(spec(True), args.repeats)
    print(f"normal runs:    {normal * 1000:7.1f} ms per draw (median of {args.repeats})")
    print(f"one diverged:   {diverged * 1000:7.1f} ms per draw")
    print(f"ratio diverged/normal: {diverged / normal:.2f}x (target ~1x)")


if __name__ == "__main__":
    main()
