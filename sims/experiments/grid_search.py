"""``grid-search``: every batch size x learning rate pair trained for the same epochs; the
final validation loss and accuracy per cell, the best cell, and optionally k-fold
cross-validation of the best few cells.

Cross-validation cuts the training part into ``folds`` parts; each fold trains on the others
and is scored on its own part (the usual validation set stays unseen), so a cell gets a mean
and a spread instead of one number from one split.

``extras``:

- ``cells``: ``[{"batch_size", "lr", "status", "val_loss", "val_acc"}]`` (row-major, batch
  sizes as rows); ``best``: ``{"batch_size", "lr", "val_loss", "val_acc"}`` or null;
  ``best_lr_per_batch``: ``{batch: lr}``;
- ``cv``: ``[{"batch_size", "lr", "folds", "mean_loss", "std_loss", "mean_acc", "std_acc",
  "losses": [...]}]`` in CV rank order (empty without cross-validation);
- ``charts``: ``val-loss`` (heatmap, lower is better, best cell and the best LR per row
  marked), ``val-acc`` (heatmap, higher is better) and, with CV, ``cv`` (bars: mean
  validation loss per cell with the fold standard deviation as ``errors``).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from sims import charts
from sims.config import OPTIMIZERS, PlannedRun, TrainConfig
from sims.experiments import _common as common
from sims.params import Param
from sims.registry import Experiment, register
from sims.results import Outcome, RunRecord

if TYPE_CHECKING:
    from sims.workbench import Lab

PARAMS: tuple[Param, ...] = (
    Param(
        "batch_sizes",
        "int_list",
        [16, 64, 256, 1024],
        "batch sizes (rows of the grid)",
        min=1,
        max=65536,
        max_items=8,
    ),
    Param(
        "lrs",
        "float_list",
        [0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
        "learning rates (columns of the grid)",
        min=1e-6,
        max=100.0,
        max_items=10,
    ),
    Param("epochs", "int", 5, "passes over the training data for every cell", 1, 200),
    Param(
        "folds",
        "int",
        0,
        "k-fold cross-validation of the best cells (0: none; 2-10: that many folds)",
        min=0,
        max=10,
    ),
    Param("top_k", "int", 3, "how many of the best cells to cross-validate", min=1, max=10),
    Param("optimizer", "str", "sgd", "sgd (momentum 0.9) or adam", choices=OPTIMIZERS),
    *common.data_params(n_examples=10_000),
    *common.model_params(),
)


@dataclass(frozen=True)
class Cell:
    batch_size: int
    lr: float
    status: str
    val_loss: float | None
    val_acc: float | None

    @property
    def name(self) -> str:
        return f"batch {self.batch_size}, LR {self.lr:g}"


@dataclass(frozen=True)
class Validated:
    """A cell's cross-validation scores (one per fold that finished)."""

    cell: Cell
    folds: int
    losses: list[float]
    accs: list[float]

    @property
    def mean_loss(self) -> float:
        return statistics.fmean(self.losses) if self.losses else math.inf

    @property
    def std_loss(self) -> float:
        return statistics.stdev(self.losses) if len(self.losses) > 1 else 0.0


def run(lab: Lab, values: dict[str, Any]) -> Outcome:
    data = common.data_spec(lab.seed, values)
    model = common.model_spec(values)
    cells: list[Cell] = []
    for batch in values["batch_sizes"]:
        out_of_memory = False
        for lr in values["lrs"]:
            if out_of_memory:  # the LR does not change the memory an update needs
                cells.append(Cell(batch, lr, "oom", None, None))
                continue
            config = TrainConfig(
                batch_size=batch, epochs=values["epochs"], lr=lr, optimizer=values["optimizer"]
            )
            record = lab.train(f"batch {batch}, LR {lr:g}", config, data, model)
            cells.append(_cell(record, batch, lr))
            out_of_memory = record.status == "oom"
    validated: list[Validated] = []
    k = values["folds"]
    if k >= 2:
        for cell in ranked(cells)[: values["top_k"]]:
            losses, accs = [], []
            for fold in range(k):
                config = TrainConfig(
                    batch_size=cell.batch_size,
                    epochs=values["epochs"],
                    lr=cell.lr,
                    optimizer=values["optimizer"],
                )
                split = replace(data, folds=k, fold=fold)
                record = lab.train(f"{cell.name}, fold {fold + 1}/{k}", config, split, model)
                scored = _cell(record, cell.batch_size, cell.lr)
                if scored.val_loss is not None and scored.val_acc is not None:
                    losses.append(scored.val_loss)
                    accs.append(scored.val_acc)
            validated.append(Validated(cell, k, losses, accs))
    return analyse(cells, validated, values, notes=common.data_note(data))


def plan(values: dict[str, Any]) -> list[PlannedRun]:
    data, model = common.data_spec(0, values), common.model_spec(values)

    def run(batch: int) -> PlannedRun:
        updates = values["epochs"] * math.ceil(data.n_train / batch)
        return PlannedRun(batch, updates, data, model, values["optimizer"])

    runs = [run(batch) for batch in values["batch_sizes"] for _ in values["lrs"]]
    if values["folds"] >= 2:
        # Which cells are best is known only afterwards: count the costliest (smallest batch).
        cells = min(values["top_k"], len(runs))
        runs += [run(min(values["batch_sizes"]))] * (cells * values["folds"])
    return runs


def _cell(record: RunRecord, batch: int, lr: float) -> Cell:
    s = record.summary
    finite = s.final_val_loss is not None and math.isfinite(s.final_val_loss)
    if record.status != "ok" or not finite:
        return Cell(batch, lr, record.status, None, None)
    return Cell(batch, lr, record.status, s.final_val_loss, s.final_val_acc)


def ranked(cells: list[Cell]) -> list[Cell]:
    """Finished cells, best (lowest validation loss) first."""
    done = [c for c in cells if c.val_loss is not None]
    return sorted(done, key=lambda c: (c.val_loss, -(c.val_acc or 0.0)))


def analyse(
    cells: list[Cell],
    validated: list[Validated],
    values: dict[str, Any],
    notes: list[str] | None = None,
) -> Outcome:
    """Observations, extras and charts from the trained grid (pure: no training)."""
    lines = list(notes or [])
    batches, lrs = list(values["batch_sizes"]), list(values["lrs"])
    order = ranked(cells)
    best = order[0] if order else None
    if best is None:
        lines.append("No cell of the grid finished training; lower the learning rates.")
    else:
        lines.append(
            f"{len(batches)} batch sizes x {len(lrs)} learning rates, "
            f"{common.epochs_word(values['epochs'])} each: the best cell is {best.name} "
            f"(validation loss {common.loss(best.val_loss)}, accuracy "
            f"{common.pct(best.val_acc)})."
        )
        worst = order[-1]
        if worst is not best and worst.val_loss is not None and best.val_loss is not None:
            spread = worst.val_loss / best.val_loss if best.val_loss > 0 else math.inf
            verdict = (
                "the choice of the pair matters"
                if spread > 1.2
                else "on this grid the choice made little difference"
            )
            lines.append(
                f"The worst finished cell, {worst.name}, ended at {common.loss(worst.val_loss)} "
                f"({common.pct(worst.val_acc)}): {verdict}."
            )
    per_batch: dict[int, float] = {}
    for batch in batches:
        row = [c for c in order if c.batch_size == batch]
        if row:
            per_batch[batch] = row[0].lr
    lines += _best_lr_lines(per_batch, lrs)
    failed = [c for c in cells if c.status != "ok" or c.val_loss is None]
    if failed:
        lines.append(
            "Did not finish: "
            + "; ".join(f"{c.name} ({c.status})" for c in failed)
            + " (scored as missing, shown empty in the heat map)."
        )
    validated = sorted(validated, key=lambda v: v.mean_loss)
    lines += _cv_lines(validated, best)
    extras: dict[str, Any] = {
        "cells": [
            {
                "batch_size": c.batch_size,
                "lr": c.lr,
                "status": c.status,
                "val_loss": c.val_loss,
                "val_acc": c.val_acc,
            }
            for c in cells
        ],
        "best": None
        if best is None
        else {
            "batch_size": best.batch_size,
            "lr": best.lr,
            "val_loss": best.val_loss,
            "val_acc": best.val_acc,
        },
        "best_lr_per_batch": {str(b): lr for b, lr in per_batch.items()},
        "cv": [
            {
                "batch_size": v.cell.batch_size,
                "lr": v.cell.lr,
                "folds": v.folds,
                "mean_loss": v.mean_loss if v.losses else None,
                "std_loss": v.std_loss if v.losses else None,
                "mean_acc": statistics.fmean(v.accs) if v.accs else None,
                "std_acc": statistics.stdev(v.accs) if len(v.accs) > 1 else None,
                "losses": v.losses,
            }
            for v in validated
        ],
        "charts": _charts(cells, validated, best, per_batch, batches, lrs),
    }
    return Outcome(lines, extras)


def _best_lr_lines(per_batch: dict[int, float], lrs: list[float]) -> list[str]:
    if len(per_batch) < 2:
        return []
    text = ", ".join(f"batch {b}: {lr:g}" for b, lr in per_batch.items())
    chosen = list(per_batch.values())
    ordered = sorted(per_batch)
    ascending = all(per_batch[a] <= per_batch[b] for a, b in pairwise(ordered))
    if len(set(chosen)) == 1:
        trend = "the same learning rate won at every batch size"
    elif ascending:
        trend = (
            "the best learning rate rose with the batch size, so an LR tuned at one batch size "
            "and reused at another would have been off"
        )
    else:
        trend = "the best learning rate did not move steadily with the batch size"
    lines = [f"Best learning rate per batch size: {text}; {trend}."]
    edge = [b for b, lr in per_batch.items() if len(lrs) > 1 and lr in (min(lrs), max(lrs))]
    if edge:
        lines.append(
            f"At batch {', '.join(map(str, edge))} the winner sits on the edge of the LR grid; "
            "the true optimum may lie beyond it."
        )
    return lines


def _cv_lines(validated: list[Validated], best: Cell | None) -> list[str]:
    if not validated:
        return []
    folds = validated[0].folds
    scores = "; ".join(
        f"{v.cell.name}: {v.mean_loss:.3f} ± {v.std_loss:.3f}"
        if v.losses
        else f"{v.cell.name}: no fold finished"
        for v in validated
    )
    lines = [
        f"{folds}-fold cross-validation of the top {len(validated)} cells (mean validation "
        f"loss ± standard deviation over folds): {scores}."
    ]
    top = validated[0]
    if best is not None and top.losses:
        if top.cell == best:
            lines.append("Cross-validation kept the single-split winner on top.")
        else:
            lines.append(
                f"Cross-validation ranks {top.cell.name} first, not the single-split winner "
                f"{best.name}: one validation split was not enough to pick."
            )
    if len(validated) >= 2 and validated[1].losses and top.losses:
        second = validated[1]
        gap = second.mean_loss - top.mean_loss
        spread = max(top.std_loss, second.std_loss)
        if gap < spread:
            lines.append(
                f"The top two differ by {gap:.3f}, less than their fold-to-fold spread "
                f"({spread:.3f}): the data cannot tell them apart."
            )
        else:
            lines.append(
                f"The top two differ by {gap:.3f}, more than their fold-to-fold spread "
                f"({spread:.3f}): the winner is clear on this data."
            )
    return lines


def _charts(
    cells: list[Cell],
    validated: list[Validated],
    best: Cell | None,
    per_batch: dict[int, float],
    batches: list[int],
    lrs: list[float],
) -> list[dict[str, Any]]:
    index = {(c.batch_size, c.lr): c for c in cells}

    def grid(attr: str) -> tuple[list[list[float | None]], list[list[str]]]:
        values, notes = [], []
        for b in batches:
            row: list[float | None] = []
            row_notes = []
            for lr in lrs:
                cell = index.get((b, lr))
                row.append(getattr(cell, attr) if cell else None)
                row_notes.append(cell.status if cell and getattr(cell, attr) is None else "")
            values.append(row)
            notes.append(row_notes)
        return values, notes

    best_at = (batches.index(best.batch_size), lrs.index(best.lr)) if best else None
    row_best = [lrs.index(per_batch[b]) if b in per_batch else None for b in batches]
    loss_cells, loss_notes = grid("val_loss")
    acc_cells, acc_notes = grid("val_acc")
    result = [
        charts.heatmap(
            "val-loss",
            "Final validation loss per batch size and learning rate",
            rows=("batch size", batches),
            cols=("learning rate", lrs),
            cells=loss_cells,
            notes=loss_notes,
            value_label="validation loss",
            better="lower",
            best=best_at,
            row_best=row_best,
        ),
        charts.heatmap(
            "val-acc",
            "Final validation accuracy per batch size and learning rate",
            rows=("batch size", batches),
            cols=("learning rate", lrs),
            cells=acc_cells,
            notes=acc_notes,
            value_label="validation accuracy",
            value_format=".1%",
            better="higher",
            best=best_at,
        ),
    ]
    if validated:
        result.append(
            charts.bars(
                "cv",
                f"{validated[0].folds}-fold cross-validation of the best cells",
                categories=("cell", [v.cell.name for v in validated]),
                groups=[
                    ("mean validation loss", [v.mean_loss if v.losses else None for v in validated])
                ],
                errors=[[v.std_loss if v.losses else None for v in validated]],
                value_label="validation loss (mean ± std over folds)",
                value_format=".3f",
            )
        )
    return result


def check(values: dict[str, Any]) -> list[str]:
    problems = common.check_model(values)
    if values["folds"] == 1:
        problems.append(
            "folds: expected 0 (no cross-validation) or 2-10 folds; got 1, which leaves "
            "nothing to train on"
        )
    return problems


register(
    Experiment(
        name="grid-search",
        title="Grid search over batch size and learning rate",
        explanation=(
            "Trains every combination of the batch sizes and learning rates for the same "
            "number of epochs and maps the final validation loss and accuracy as a heat map. "
            "The two settings interact: the best learning rate moves with the batch size, "
            "which tuning one at a time would miss. Optional k-fold cross-validation re-scores "
            "the best few cells on several splits, to see whether their difference is larger "
            "than the noise of a single validation split."
        ),
        params=PARAMS,
        run=run,
        check=check,
        order=60,
        plan_runs=plan,
    )
)
