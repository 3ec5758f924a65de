"""Diagnose-the-run questions in the review screen: the stored run's curves, the numbered
choices (keys 1-5 pick one), and the same chart again beside the explanation."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from quizapp.views.run_chart import RunChart, run_chart

if TYPE_CHECKING:
    from textual.app import ComposeResult, RenderResult
    from textual.geometry import Size

    from questions.model import Diagnosis


def draw(chart: RunChart, size: Size, theme: str) -> Text:
    """The chart as text, drawn by a plotext figure of its own (only finite, clipped values
    reach it: see :func:`quizapp.views.run_chart.run_chart`)."""
    plt = Plot()
    width, height = size
    plt.plotsize(width, height)
    plt._set_size(width, height)  # as textual-plotext does: plotsize alone is not enough
    plt.theme(theme)
    plt.title(chart.title)
    widest = 0.0
    for line in chart.lines:
        if line.xs:
            plt.plot(list(line.xs), list(line.ys), label=line.name, marker="braille")
            widest = max(widest, *line.xs)
    plt.xlim(0, widest or 1)
    plt.ylim(*chart.y_range)
    plt.xlabel(chart.x_label)
    return Text.from_ansi(plt.build())


class StoredRunChart(PlotextPlot):
    """The curves of a diagnose question's stored run (drawn on the UI thread: a stored run
    has a few dozen points)."""

    DEFAULT_CSS = """
    StoredRunChart {
        height: 1fr;
        min-height: 10;
    }
    VerticalScroll > StoredRunChart {
        height: 16;  /* beside the explanation, in a scrolling column */
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.chart: RunChart | None = None
        self._shown: tuple[Size, str, Text] | None = None

    def show(self, diagnosis: Diagnosis | None) -> None:
        self.chart = run_chart(diagnosis) if diagnosis is not None else None
        self._shown = None
        self.refresh()

    def render(self) -> RenderResult:
        if self.chart is None or not self.size.area:
            return Text("")
        theme = self._get_plotext_theme_name(self.app.theme)
        if self._shown is None or self._shown[:2] != (self.size, theme):
            self._shown = (self.size, theme, draw(self.chart, self.size, theme))
        return self._shown[2]

    def _register_theme(self, app_theme_name: str) -> None:
        super()._register_theme(app_theme_name)
        self._shown = None  # the plot's colours follow the app's theme
        self.refresh()


class DiagnosisChosen(Message):
    """The learner picked choice ``index`` (0-based) of the question on screen."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index


def choices_text(diagnosis: Diagnosis, chosen: int | None = None) -> Content:
    """The numbered choices; after a choice, the right one and a wrong pick are marked."""
    rows = []
    for number, text in enumerate(diagnosis.choices, start=1):
        index = number - 1
        style = ""
        mark = ""
        if chosen is not None and index == diagnosis.answer:
            style, mark = "$success", "  ✓ right"
        elif chosen is not None and index == chosen:
            style, mark = "$error", "  ✗ your choice"
        rows.append(
            Content.from_markup(
                f"[b {style}]$n.[/] $text[b {style}]$mark[/]" if style else "[b]$n.[/] $text",
                n=str(number),
                text=text,
                mark=mark,
            )
        )
    return Content("\n").join(rows)


class DiagnosisPanel(Vertical, can_focus=True):
    """The answer phase of a diagnose question: the curves and the choices."""

    DEFAULT_CSS = """
    DiagnosisPanel {
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $accent;
        padding: 0 1;
    }
    DiagnosisPanel:focus {
        border: round $accent;
    }
    DiagnosisPanel > #choices {
        height: auto;
        margin-top: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(str(n), f"choose({n - 1})", f"Choice {n}", show=False) for n in range(1, 6)
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.diagnosis: Diagnosis | None = None

    def compose(self) -> ComposeResult:
        yield StoredRunChart(id="run-chart")
        yield Static(id="choices")

    def on_mount(self) -> None:
        self.border_title = "What went wrong in this run?"

    def show(self, diagnosis: Diagnosis | None) -> None:
        self.diagnosis = diagnosis
        self.query_one(StoredRunChart).show(diagnosis)
        choices = self.query_one("#choices", Static)
        choices.update(choices_text(diagnosis) if diagnosis is not None else "")
        count = len(diagnosis.choices) if diagnosis is not None else 0
        self.border_subtitle = f"1-{count}: choose a diagnosis" if count else ""

    def action_choose(self, index: int) -> None:
        if self.diagnosis is not None and 0 <= index < len(self.diagnosis.choices):
            self.post_message(DiagnosisChosen(index))


def choice_answer(diagnosis: Diagnosis, chosen: int) -> str:
    """The answer as the store keeps it: the choice's number and text."""
    return f"{chosen + 1}. {diagnosis.choices[chosen]}"


def chosen_index(diagnosis: Diagnosis, answer: str) -> int | None:
    """The 0-based choice a stored answer names (see :func:`choice_answer`), if any."""
    number, dot, _ = answer.partition(".")
    if dot and number.isdigit() and 1 <= int(number) <= len(diagnosis.choices):
        return int(number) - 1
    return None


def choice_verdict(diagnosis: Diagnosis, chosen: int | None) -> Content:
    """Right or wrong, then the choices with the right one and a wrong pick marked."""
    if chosen is None:
        head = Content.from_markup("[b $warning]No diagnosis chosen.[/]")
    elif chosen == diagnosis.answer:
        head = Content.from_markup("[b $success]Correct.[/]")
    else:
        head = Content.from_markup(
            "[b $error]Not quite.[/] The right diagnosis is [b]$n[/b].",
            n=str(diagnosis.answer + 1),
        )
    marked = choices_text(diagnosis, diagnosis.answer if chosen is None else chosen)
    return Content("\n").join([head, marked])
