"""The runs of a simulation: status, device, progress, speed and the latest metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from quizapp.domain.chart_values import DIVERGED

STATUS_STYLES = {
    "waiting": "dim",
    "running": "bold cyan",
    "ok": "bold green",
    "diverged": "bold red",
    "oom": "bold red",
    "cancelled": "yellow",
    "failed": "bold red",
}
# Fixed widths: resizing columns as numbers grow would re-lay out the table on every update.
# The run column (None) fits its labels, which are known when a row is added and never
# change: a label is shown whole ("batch 1024", "batch 16, LR 0.1").
COLUMNS: dict[str, int | None] = {
    "run": None,
    "status": 9,
    "device": 6,
    "progress": 27,
    "speed": 12,
    "val loss": 8,
    "val acc": 7,
}


@dataclass
class RunRow:
    label: str
    status: str = "waiting"
    device: str = ""
    epoch: float = 0.0
    epochs: float = 0.0
    update: int = 0
    total_updates: int = 0
    examples: int = 0
    seconds: float = 0.0
    val_loss: float | None = None
    val_acc: float | None = None
    kept_epoch: int | None = None  # the epoch whose weights the run ended with, if restored

    def finish(self, summary: Any) -> None:
        """Show how the run ended from its ``RunSummary``, the one account the CLI's table
        and the stored result also give: the metrics of the weights it ended with (after
        restoring the best epoch, those of that epoch, not of the last evaluation)."""
        self.status = summary.status
        if summary.final_val_loss is not None:
            self.val_loss = summary.final_val_loss
        if summary.final_val_acc is not None:
            self.val_acc = summary.final_val_acc
        if summary.restored_epoch is not None and summary.restored_epoch != round(self.epoch):
            self.kept_epoch = summary.restored_epoch

    @property
    def speed(self) -> str:
        if self.seconds <= 0 or self.examples <= 0:
            return ""
        rate = self.examples / self.seconds
        return f"{rate / 1000:.1f}k ex/s" if rate >= 1000 else f"{rate:.0f} ex/s"

    @property
    def progress(self) -> str:
        if not self.total_updates:
            return ""
        if self.kept_epoch is not None:
            return f"{self.update}/{self.total_updates} upd, kept ep {self.kept_epoch}"
        return f"{self.update}/{self.total_updates} upd, ep {self.epoch:.1f}"


def _number(value: float | None, fmt: str) -> str:
    if value is None:
        return ""
    if not math.isfinite(value):
        return DIVERGED
    return format(value, fmt)


class RunsTable(DataTable[Text]):
    """One row per run, updated in place as events arrive."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.rows_by_label: dict[str, RunRow] = {}

    def on_mount(self) -> None:
        for name, width in COLUMNS.items():
            self.add_column(name, key=name, width=width)

    def reset(self) -> None:
        self.clear()
        self.rows_by_label = {}

    def row(self, label: str) -> RunRow:
        if label not in self.rows_by_label:
            self.rows_by_label[label] = RunRow(label)
            self.add_row(*self._cells(self.rows_by_label[label]), key=label)
        return self.rows_by_label[label]

    def show(self, label: str) -> None:
        """Write the row's current values into the table."""
        row = self.rows_by_label[label]
        for name, cell in zip(COLUMNS, self._cells(row), strict=True):
            self.update_cell(label, name, cell)

    def _cells(self, row: RunRow) -> list[Text]:
        return [
            Text(row.label),
            Text(row.status, style=STATUS_STYLES.get(row.status, "")),
            Text(row.device),
            Text(row.progress),
            Text(row.speed),
            # The last loss of a blown-up run (83460856, nan) says nothing but that.
            Text(DIVERGED if row.status == DIVERGED else _number(row.val_loss, ".4f")),
            Text(_number(row.val_acc, ".1%")),
        ]
