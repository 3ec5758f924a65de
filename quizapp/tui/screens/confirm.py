"""A small yes/no dialog."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static

if TYPE_CHECKING:
    from textual.app import ComposeResult


class ConfirmScreen(ModalScreen[bool]):
    """Ask before doing something that loses work; returns True to go ahead."""

    CSS_PATH = "../styles/confirm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "choose(False)", "Cancel", id="confirm.cancel"),
        Binding("y", "choose(True)", "Confirm", id="confirm.yes"),
    ]

    def __init__(self, title: str, body: str, *, confirm: str = "Yes", cancel: str = "No") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm_label = confirm
        self.cancel_label = cancel

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Content(self.title_text), id="dialog-title")
            yield Static(Content(self.body), id="dialog-body")
            with Horizontal(id="dialog-buttons"):
                yield Button(Content(f"{self.confirm_label} (y)"), id="yes", variant="warning")
                yield Button(Content(f"{self.cancel_label} (n)"), id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_choose(self, value: bool) -> None:
        self.dismiss(value)


def dismiss_after_confirming(
    screen: Screen[None], title: str, body: str, *, confirm: str, cancel: str
) -> None:
    """Ask first; close ``screen`` only if the user confirms."""

    def answered(confirmed: bool | None) -> None:
        if confirmed:
            screen.dismiss()

    screen.app.push_screen(ConfirmScreen(title, body, confirm=confirm, cancel=cancel), answered)
