"""Mastery per topic as labelled horizontal bars."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widget import Widget

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True, slots=True)
class TopicBar:
    topic: str
    share: float  # 0..1
    seen: int
    questions: int


class MasteryBars(Widget):
    """One line per topic: name, a bar filled to the mastery share, percent, seen/total."""

    DEFAULT_CSS = """
    MasteryBars { height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.bars: tuple[TopicBar, ...] = ()

    def show(self, bars: Sequence[TopicBar]) -> None:
        self.bars = tuple(bars)
        self.refresh(layout=True)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return max(1, len(self.bars))

    def render(self) -> Content:
        if not self.bars:
            return Content.from_markup("[$text-muted]No questions loaded.[/]")
        name_width = min(16, max(len(b.topic) for b in self.bars))
        tail = "  100%  99/99"
        bar_width = max(4, self.content_region.width - name_width - len(tail) - 1)
        lines = []
        for bar in self.bars:
            filled = round(max(0.0, min(1.0, bar.share)) * bar_width)
            name = bar.topic[:name_width].ljust(name_width)
            percent = f"{round(bar.share * 100):>4d}%" if bar.seen else "   — "
            lines.append(
                Content.from_markup(
                    "$name [$success]$full[/][$text-disabled]$empty[/] [b]$percent[/]"
                    " [$text-muted]$seen[/]",
                    name=name,
                    full="█" * filled,
                    empty="░" * (bar_width - filled),
                    percent=percent,
                    seen=f"{bar.seen:>2d}/{bar.questions}",
                )
            )
        return Content("\n").join(lines)
