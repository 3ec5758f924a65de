"""The rubric of a question as a checklist the user ticks against their own answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from questions.model import RubricPoint

MAX_KEYED_POINTS = 9


class RubricChecklist(Widget, can_focus=True):
    """Rubric points with a tick box each; number keys toggle, must-have points are marked."""

    class Changed(Message):
        """The user ticked or unticked a point; ``met`` holds the indexes now ticked."""

        def __init__(self, checklist: RubricChecklist, met: frozenset[int]) -> None:
            super().__init__()
            self.checklist = checklist
            self.met = met

        @property
        def control(self) -> RubricChecklist:
            return self.checklist

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(str(n), f"tick({n - 1})", f"Tick point {n}", show=False, id=f"rubric.tick-{n}")
            for n in range(1, MAX_KEYED_POINTS + 1)
        ),
        Binding("up,k", "cursor(-1)", "Previous point", show=False, id="rubric.up"),
        Binding("down,j", "cursor(1)", "Next point", show=False, id="rubric.down"),
        Binding("space,x", "tick_cursor", "Tick", show=False, id="rubric.tick"),
    ]

    met: reactive[frozenset[int]] = reactive(frozenset)
    cursor: reactive[int] = reactive(0)

    def __init__(
        self,
        points: Sequence[RubricPoint] = (),
        met: Iterable[int] = (),
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.points: tuple[RubricPoint, ...] = tuple(points)
        self.set_reactive(RubricChecklist.met, frozenset(met))

    def reset(self, points: Sequence[RubricPoint], met: Iterable[int] = ()) -> None:
        self.points = tuple(points)
        self.cursor = 0
        self.met = frozenset(met)
        self.refresh(layout=True)

    def render(self) -> Content:
        lines: list[Content] = []
        for index, point in enumerate(self.points):
            ticked = index in self.met
            box = "[x]" if ticked else "[ ]"
            box_style = "bold $success" if ticked else "$text-muted"
            line = Content.from_markup(
                f"[{box_style}]$box[/] [b]$number[/b] ", box=box, number=str(index + 1)
            )
            if point.must_have:
                line += Content.from_markup("[bold $warning]must[/] ")
            line += Content(point.text)
            if self.has_focus and index == self.cursor:
                line = line.stylize("reverse")
            lines.append(line)
        if not lines:
            return Content.from_markup("[$text-muted]No rubric for this question.[/]")
        return Content("\n").join(lines)

    def watch_met(self) -> None:
        self.post_message(self.Changed(self, self.met))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_tick(self, index: int) -> None:
        if not 0 <= index < len(self.points):
            self.notify(
                f"This rubric has {len(self.points)} points: press 1 to {len(self.points)}.",
                severity="warning",
                timeout=3,
            )
            return
        self.cursor = index
        self.met = self.met ^ {index}

    def action_tick_cursor(self) -> None:
        self.action_tick(self.cursor)

    def action_cursor(self, step: int) -> None:
        if self.points:
            self.cursor = (self.cursor + step) % len(self.points)
            self.refresh()

    def watch_cursor(self) -> None:
        self.refresh()

    def on_click(self, event: object) -> None:
        offset = getattr(event, "y", None)
        if offset is None:
            return
        # Lines wrap, so map the clicked row back to a point by counting wrapped heights.
        width = max(1, self.content_region.width)
        row = 0
        for index, point in enumerate(self.points):
            height = 1 + (len(point.text) + 12) // width
            if offset < row + height:
                self.action_tick(index)
                return
            row += height
