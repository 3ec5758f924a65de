"""Help: every key binding of every screen, with the id to remap it in ``keymap.toml``."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from quizapp.tui.host import KEYMAP_FILE, QuizHost, quiz

if TYPE_CHECKING:
    from textual.app import ComposeResult

# (section title, "module:Class") in the order a new user meets them.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("Everywhere", "quizapp.tui.app:QuizApp"),
    ("Home", "quizapp.tui.screens.home:HomeScreen"),
    ("Review and practice", "quizapp.tui.screens.review:ReviewScreen"),
    ("Rubric checklist (after reveal)", "quizapp.tui.widgets.rubric_checklist:RubricChecklist"),
    ("Browse", "quizapp.tui.screens.browse:BrowseScreen"),
    ("Simulation", "quizapp.tui.screens.simulation:SimulationScreen"),
    ("Progress", "quizapp.tui.screens.progress:ProgressScreen"),
)

INTRO = (
    "quizapp is keyboard-first. The footer shows the keys of the screen you are on; "
    "ctrl+p opens the command palette, where every action can be searched by name "
    "(and 'Theme' switches the colours). "
)


def _bindings(target: str) -> list[Binding]:
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    out = []
    for item in cls.BINDINGS:
        if isinstance(item, Binding) and item.id:
            out.append(item)
    return out


def known_binding_ids() -> set[str]:
    """Every binding id a user may remap (used to spot typos in keymap.toml)."""
    return {b.id for _, target in SECTIONS for b in _bindings(target) if b.id}


class HelpScreen(Screen[None]):
    """A full-screen reference of keys; Esc or q goes back."""

    CSS_PATH = "../styles/help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1,question_mark", "app.pop_screen", "Back", id="help.back"),
        Binding("w", "app.welcome", "Welcome", id="help.welcome"),
    ]

    def __init__(self, origin: Screen[Any] | None = None) -> None:
        super().__init__()
        self.origin_name = type(origin).__name__ if origin is not None else ""

    @property
    def quiz(self) -> QuizHost:
        return quiz(self.app)

    def compose(self) -> ComposeResult:
        yield Static(
            Content.from_markup("[b]Help[/b]  keys and how to change them"), id="title-bar"
        )
        with VerticalScroll(id="help-scroll"):
            yield Static(id="help-body")
        yield Footer()

    def on_mount(self) -> None:
        keymap = self.quiz.user_keymap
        keymap_path = self.quiz.home / KEYMAP_FILE
        body = Text()
        body.append(INTRO)
        body.append(f"Your data (progress.db, decks/) lives in {self.quiz.home}. ")
        body.append("To change a key, add a line ")
        body.append('binding-id = "keys"', style="bold")
        body.append(f" to {keymap_path} (for example ")
        body.append('"review.reveal" = "f5"', style="bold")
        body.append(") and restart.\n")
        unknown = sorted(set(keymap) - known_binding_ids())
        if unknown:
            body.append(
                f"\n{keymap_path} names ids that do not exist: {', '.join(unknown)}\n",
                style="bold red",
            )
        ordered = sorted(SECTIONS, key=lambda s: not s[1].endswith(":" + self.origin_name))
        tables: list[Any] = [body]
        for title, target in ordered:
            table = Table(
                title=title,
                title_justify="left",
                title_style="bold",
                expand=True,
                show_edge=False,
                box=None,
                padding=(0, 1),
            )
            table.add_column("keys", style="bold", width=18, no_wrap=True)
            table.add_column("does")
            table.add_column("id (for keymap.toml)", style="dim", no_wrap=True)
            for binding in _bindings(target):
                keys = keymap.get(binding.id or "", binding.key)
                shown = ", ".join(self.app.get_key_display(Binding(k, "")) for k in keys.split(","))
                # A tooltip says what one key does where the footer's description is shared
                # by a pair ("←→ Rating"): Help lists each key on its own.
                does = binding.tooltip or binding.description or binding.action
                table.add_row(shown, does, binding.id)
            tables.append(Text())
            tables.append(table)
        from rich.console import Group

        self.query_one("#help-body", Static).update(Group(*tables))
