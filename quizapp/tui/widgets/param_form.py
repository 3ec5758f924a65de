"""An experiment's parameters as a form that is checked on every keystroke."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textual.app import ComposeResult
    from textual.events import DescendantFocus

    from sims.params import Param
    from sims.registry import Experiment


def format_param(value: Any) -> str:
    """A value as typed in the form: lists as ``16, 64, 256``, floats short."""
    if value is None:
        return ""  # "let the experiment choose": an empty box keeps the default
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_param(v) for v in value)
    return str(value)


def _choice_options(param: Param) -> list[tuple[Text, Any]] | None:
    if param.type == "bool":
        return [(Text("true"), True), (Text("false"), False)]
    if param.type == "str" and param.choices:
        return [(Text(choice), choice) for choice in param.choices]
    return None


class ParamForm(Vertical):
    """One row per parameter; problems are listed under the form as the user types."""

    class Changed(Message):
        """The form changed; ``valid`` tells whether it can be run as it stands."""

        def __init__(self, form: ParamForm, valid: bool) -> None:
            super().__init__()
            self.form = form
            self.valid = valid

        @property
        def control(self) -> ParamForm:
            return self.form

    def __init__(
        self,
        experiment: Experiment,
        values: Mapping[str, Any] | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.experiment = experiment
        self.initial = {**experiment.defaults(), **dict(values or {})}
        self.problems: list[str] = []

    def compose(self) -> ComposeResult:
        for param in self.experiment.params:
            with Horizontal(classes="param-row"):
                yield Label(Content(param.name), classes="param-name")
                value = self.initial.get(param.name, param.default)
                options = _choice_options(param)
                if options is not None:
                    yield Select(
                        options,
                        value=value if any(v == value for _, v in options) else Select.NULL,
                        allow_blank=False,
                        compact=True,
                        id=f"param-{param.name}",
                        classes="param-input",
                    )
                else:
                    yield Input(
                        format_param(value),
                        compact=True,
                        id=f"param-{param.name}",
                        classes="param-input",
                        tooltip=param.help,
                        placeholder="default" if param.default is None else "",
                    )
        yield Static(id="param-help", classes="hint")
        yield Static(id="param-problems")

    def on_mount(self) -> None:
        self._check()
        if self.experiment.params:
            self._show_help(self.experiment.params[0])

    def raw_values(self) -> dict[str, Any]:
        """The typed values, parsed as far as possible (the check reports the rest)."""
        values: dict[str, Any] = {}
        for param in self.experiment.params:
            widget = self.query_one(f"#param-{param.name}")
            if isinstance(widget, Select):
                if widget.value is not Select.NULL:
                    values[param.name] = widget.value
            elif isinstance(widget, Input):
                text = widget.value.strip().strip("[]").strip()
                if text:
                    values[param.name] = param.parse_text(text)
                elif param.default is not None:
                    values[param.name] = param.parse_text(text)  # reported as missing
        return values

    def values(self) -> dict[str, Any] | None:
        """Valid parameter values, or None while the form has problems."""
        return None if self._check() else self.raw_values()

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Input.Changed | Select.Changed) -> None:
        event.stop()
        self._check()

    def _check(self) -> list[str]:
        from sims.registry import check_params

        raw = self.raw_values()
        problems = check_params(self.experiment.name, raw)
        self.problems = problems
        for param in self.experiment.params:
            widget = self.query_one(f"#param-{param.name}")
            bad = any(p.startswith(f"{param.name}:") for p in problems)
            widget.set_class(bad, "-invalid")
        panel = self.query_one("#param-problems", Static)
        panel.update(Content("\n").join(Content(p) for p in problems))
        panel.display = bool(problems)
        self.post_message(self.Changed(self, not problems))
        return problems

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        widget_id = event.widget.id or ""
        if widget_id.startswith("param-"):
            name = widget_id.removeprefix("param-")
            for param in self.experiment.params:
                if param.name == name:
                    self._show_help(param)

    def _show_help(self, param: Param) -> None:
        self.query_one("#param-help", Static).update(
            Content.from_markup(
                "[b]$name[/b]: $help [$text-muted]($allowed)[/]",
                name=param.name,
                help=param.help,
                allowed=param.allowed(),
            )
        )
