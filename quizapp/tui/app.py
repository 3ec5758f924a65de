"""The quizapp terminal app: home, review, browse, simulation, progress, mock interview and
help screens.

Importing this module is cheap: no torch, and the heavier screens (review, browse,
simulation, progress) are imported only when first opened.
"""

from __future__ import annotations

import asyncio
import importlib.abc
import json
import sys
import tomllib
import traceback
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from quizapp.services.clock import utc_now
from quizapp.store.paths import data_home
from quizapp.tui.host import (
    KEYMAP_FILE,
    UI_SETTINGS_FILE,
    DataReady,
    freeze_startup_objects,
)

if TYPE_CHECKING:
    from pathlib import Path

    from textual.screen import Screen

    from questions.loader import Library
    from questions.model import Question
    from quizapp.store import Store

Clock = Callable[[], datetime]
T = TypeVar("T")


def _command_provider() -> type:
    from quizapp.tui.palette import QuizCommands

    return QuizCommands


class QuizApp(App[int]):
    """Keyboard-first practice for ML interview questions.

    ``home`` is the data directory, ``now`` the clock (tests inject a fixed one), and
    ``library`` may be passed to skip loading decks from disk.
    """

    TITLE = "quizapp"
    # Home is the default screen, whose own CSS_PATH Textual does not load: list it here.
    CSS_PATH = ["styles/app.tcss", "styles/home.tcss"]  # noqa: RUF012
    COMMANDS: ClassVar[set[Any]] = {*App.COMMANDS, _command_provider}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1,question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, show=False),
    ]

    def __init__(
        self,
        home: str | Path | None = None,
        extra_decks: Sequence[str] = (),
        *,
        now: Clock = utc_now,
        library: Library | None = None,
        tz: tzinfo | None = None,
        welcome: bool = True,
    ) -> None:
        super().__init__()
        self.welcome = welcome
        """Show the first-run welcome on a data folder that has not seen it yet."""
        self.home: Path = data_home(home)
        self.extra_decks = list(extra_decks)
        self.now: Clock = now
        self._tz = tz
        self._library = library
        self.store: Store | None = None
        self.store_error: str | None = None
        self.startup_notices: list[str] = []
        self.user_keymap: dict[str, str] = {}
        """The keys remapped by the user's keymap.toml (binding id -> keys)."""
        self._loading_started = False
        self._pending_actions: list[Callable[[], object]] = []
        self.raise_bugs: bool | None = None
        """Let programming errors propagate (see ``report_bug``); None: when headless."""
        self.data_ready = asyncio.Event()
        """Set once the decks are loaded and the store is open (see ``_load_data``)."""

    # --- start-up -------------------------------------------------------------------------

    @property
    def tz(self) -> tzinfo:
        """The user's time zone: days, streaks and the heatmap follow local midnight."""
        if self._tz is None:
            from quizapp.services.clock import local_timezone

            self._tz = local_timezone()
        return self._tz

    @property
    def library(self) -> Library:
        if self._library is None:
            self._library = self._load_library()
        return self._library

    def _load_library(self) -> Library:
        from questions.loader import DeckError, Library
        from quizapp.services.library import load

        try:
            return load(str(self.home), self.extra_decks)
        except Exception as err:  # noqa: BLE001 - a loader bug must not stop the app: shown as a deck problem
            return Library(errors=(DeckError("decks", 0, "load", f"could not load decks: {err}"),))

    def on_load(self) -> None:
        self._apply_user_settings()

    @work(thread=True, group="startup", exit_on_error=False)
    def _load_data(self) -> Library:
        """Parse the decks and import the store module off the UI thread.

        The first screen is drawn meanwhile; the store itself is opened on the UI thread
        (an sqlite connection belongs to the thread that made it) once this returns."""
        _import_store_without_numpy()
        return self._library if self._library is not None else self._load_library()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "startup" or self.data_ready.is_set():
            return
        if event.state == WorkerState.SUCCESS:
            self._library = event.worker.result
        elif event.state == WorkerState.ERROR:
            from questions.loader import DeckError, Library

            error = DeckError("decks", 0, "load", f"could not load decks: {event.worker.error}")
            self._library = Library(errors=(error,))
        else:
            return
        self._open_store()
        self.data_ready.set()
        self._tell_startup_notices()
        self.screen.post_message(DataReady())
        self._welcome_once()
        self.screen.call_after_refresh(freeze_startup_objects)
        pending, self._pending_actions = self._pending_actions, []
        for action in pending:
            self.call_later(action)

    async def ready(self) -> None:
        """Wait until the decks and the store are available (for callers outside the
        app's own message loop, such as tests: a handler awaiting it would block the
        message that sets it)."""
        await self.data_ready.wait()

    def _when_ready(self, action: Callable[[], object]) -> bool:
        """True if the data is loaded; otherwise run ``action`` once it is (a key pressed
        while the first screen is still loading is not lost)."""
        if self.data_ready.is_set():
            return True
        self._pending_actions.append(action)
        return False

    def _open_store(self) -> None:
        _import_store_without_numpy()
        from quizapp.store import Store, StoreError

        try:
            self.store = Store.open(self.home)
        except StoreError as err:
            self.store_error = str(err)
        except Exception as err:  # noqa: BLE001 - the app still runs without its database
            self.store_error = f"could not open the progress database in {self.home}: {err}"
        else:
            self.startup_notices.extend(self.store.notices)

    def _apply_user_settings(self) -> None:
        settings = self._read_ui_settings()
        theme = settings.get("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        keymap_path = self.home / KEYMAP_FILE
        if keymap_path.is_file():
            keymap, problems = read_keymap(keymap_path)
            self.user_keymap = keymap
            self.set_keymap(keymap)
            self.startup_notices.extend(problems)

    def _read_ui_settings(self) -> dict[str, Any]:
        try:
            data = json.loads((self.home / UI_SETTINGS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _welcome_once(self) -> None:
        settings = self._read_ui_settings()
        if not self.welcome or settings.get("welcome_seen"):
            return
        settings["welcome_seen"] = True
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            (self.home / UI_SETTINGS_FILE).write_text(json.dumps(settings), encoding="utf-8")
        except OSError:
            pass  # shown again next time: harmless
        self.action_welcome()

    def action_welcome(self) -> None:
        from quizapp.tui.screens.welcome import WelcomeScreen

        if not isinstance(self.screen, WelcomeScreen):
            self.push_screen(WelcomeScreen())

    def watch_theme(self, theme: str) -> None:
        if not self.is_running:
            return
        settings = self._read_ui_settings()
        if settings.get("theme") == theme:
            return
        settings["theme"] = theme
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            (self.home / UI_SETTINGS_FILE).write_text(json.dumps(settings), encoding="utf-8")
        except OSError as err:
            self.notify(f"Could not save the theme choice: {err}", severity="warning")

    def get_default_screen(self) -> Screen[Any]:
        from quizapp.tui.screens.home import HomeScreen

        return HomeScreen()

    def start_loading(self) -> None:
        """Load decks and open the store (once); Home calls this after its first frame,
        so that the loading thread does not compete with drawing it."""
        if not self._loading_started:
            self._loading_started = True
            self._load_data()

    def _tell_startup_notices(self) -> None:
        for notice in self.startup_notices:
            self.notify(notice, title="quizapp", severity="warning", timeout=10, markup=False)
        if self.store_error:
            self.notify(
                self.store_error + "\nYou can still read and practise questions; nothing is saved.",
                title="Progress database",
                severity="error",
                timeout=15,
                markup=False,
            )

    def on_unmount(self) -> None:
        if self.store is not None:
            self.store.close()

    # --- store access ---------------------------------------------------------------------

    def store_call(self, what: str, call: Callable[[Store], T], default: T) -> T:
        """Run ``call`` against the store; a database problem becomes a notification.

        ``what`` names the operation for the message ("save your answer"). Anything but a
        ``StoreError`` is a bug, not a database problem: see :meth:`report_bug`."""
        if self.store is None:
            return default
        from quizapp.store import StoreError

        try:
            return call(self.store)
        except StoreError as err:
            self.notify(
                f"Could not {what}: {err}",
                title="Progress database",
                severity="error",
                timeout=12,
                markup=False,
            )
        except Exception as err:  # noqa: BLE001 - report_bug re-raises under test
            self.report_bug(what, err)
        return default

    def report_bug(self, what: str, error: BaseException) -> None:
        """Tell the user that ``what`` failed because of a bug, with the path of a log
        holding the traceback; the app keeps running, so nothing shown or saved is lost.

        Under test (``raise_bugs``, on by default when headless) the error propagates, so
        that it fails the test instead of becoming a message."""
        if self.raise_bugs if self.raise_bugs is not None else self.is_headless:
            raise error
        log = write_error_log(self.home, what, error)
        where = f"The details are in {log}." if log else "No log could be written."
        self.notify(
            f"Could not {what}: quizapp hit a bug ({type(error).__name__}). {where} "
            "Everything saved before is kept.",
            title="Internal error",
            severity="error",
            timeout=30,
            markup=False,
        )

    # --- navigation -----------------------------------------------------------------------

    def _leave_to_home(self) -> bool:
        """Close screens down to Home; refuse while a simulation is training."""
        from quizapp.tui.screens.home import HomeScreen

        for screen in self.screen_stack:
            if getattr(screen, "is_training", False):
                self.notify(
                    "A simulation is training: press Esc on its screen to cancel it first.",
                    severity="warning",
                )
                return False
        while len(self.screen_stack) > 1 and not isinstance(self.screen, HomeScreen):
            self.pop_screen()
        return True

    def action_help(self) -> None:
        from quizapp.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_home(self) -> None:
        self._leave_to_home()

    def action_review(self) -> None:
        if not self._when_ready(self.action_review):
            return
        if not self._leave_to_home():
            return
        from quizapp.services.review import review_queue
        from quizapp.tui.screens.review import ReviewScreen

        ids, now = list(self.library.questions), self.now()
        topics = {qid: q.topic for qid, q in self.library.questions.items()}
        queue = self.store_call(
            "read the review queue",
            lambda s: review_queue(s, ids, now, self.tz, topics),
            review_queue(None, ids, now, self.tz),
        )
        if not queue:
            self.notify(
                "Nothing is due and no new questions are left for today. "
                "Browse (b) to practise any question.",
                title="All done",
            )
            return
        self.push_screen(ReviewScreen(queue, mode="review"))

    def action_undo_last_grade(self) -> None:
        if not self._when_ready(self.action_undo_last_grade):
            return
        from quizapp.tui.screens.home import HomeScreen
        from quizapp.tui.screens.review import ReviewScreen

        if isinstance(self.screen, ReviewScreen):
            self.screen.action_undo()
            return
        if self.store is None:
            self.notify("Nothing is saved without the progress database.", severity="warning")
            return
        attempt = self.store_call("undo the last grade", lambda s: s.undo_last_attempt(), None)
        if attempt is None:
            self.notify("There is no graded answer to undo.")
            return
        self.notify(
            f"Took back your {attempt.rating.label} for {attempt.question_id}; "
            "its schedule is as it was before.",
            markup=False,
        )
        if isinstance(self.screen, HomeScreen):
            self.screen.refresh_data()

    def action_drill(self) -> None:
        """Practise the questions with weak points (missed twice in a row) and leeches."""
        if not self._when_ready(self.action_drill):
            return
        if not self._leave_to_home():
            return
        from quizapp.services.weak_points import WeakSpots, weak_spots

        questions = self.library.questions
        spots = self.store_call(
            "read your weak points", lambda s: weak_spots(s, questions), WeakSpots((), ())
        )
        queue = spots.drill_queue()
        if not queue:
            self.notify(
                "No weak points yet: a rubric point becomes one when you miss it twice in a "
                "row, and a question failed four times is a leech.",
                title="Drill",
            )
            return
        self.practise(queue, title=f"Drill: {len(queue)} with weak points")

    def practise(self, question_ids: Iterable[str], title: str = "Practice") -> None:
        """Practise questions outside the schedule (their due dates do not change)."""
        from quizapp.tui.screens.review import ReviewScreen

        ids = [qid for qid in question_ids if qid in self.library.questions]
        if ids:
            self.push_screen(ReviewScreen(ids, mode="practice", title=title))

    def action_browse(self) -> None:
        if not self._when_ready(self.action_browse):
            return
        if self._leave_to_home():
            from quizapp.tui.screens.browse import BrowseScreen

            self.push_screen(BrowseScreen())

    def action_progress(self) -> None:
        if not self._when_ready(self.action_progress):
            return
        if self._leave_to_home():
            from quizapp.tui.screens.progress import ProgressScreen

            self.push_screen(ProgressScreen())

    def action_interview(self) -> None:
        if not self._when_ready(self.action_interview):
            return
        if self._leave_to_home():
            from quizapp.tui.screens.interview import InterviewScreen

            self.push_screen(InterviewScreen())

    def action_simulation(self) -> None:
        if not self._when_ready(self.action_simulation):
            return
        if self._leave_to_home():
            self.open_simulation()

    def open_simulation(
        self, question: Question | None = None, experiment: str | None = None
    ) -> None:
        """Open the simulation screen on top of the current one, with a question's preset."""
        from quizapp.tui.screens.simulation import SimulationScreen

        for screen in self.screen_stack:
            if isinstance(screen, SimulationScreen):
                self.notify("The simulation screen is already open below this one.")
                return
        self.push_screen(SimulationScreen(question=question, experiment=experiment))

    def open_saved_run(self, run_id: int) -> None:
        """Reopen a stored simulation run (its charts and observations)."""
        from quizapp.tui.screens.simulation import SimulationScreen

        for screen in self.screen_stack:
            if isinstance(screen, SimulationScreen):
                screen.open_saved_run(run_id)
                while self.screen is not screen:
                    self.pop_screen()
                return
        self.push_screen(SimulationScreen(saved_run=run_id))


class _SkipOptional(importlib.abc.MetaPathFinder):
    """Makes ``import numpy``/``import pandas`` fail while it is installed."""

    NAMES = frozenset({"numpy", "pandas"})

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] in self.NAMES:
            raise ImportError(f"{name} is not needed here")
        return None


def _import_store_without_numpy() -> None:
    """Import the store module without sqlite-utils' optional numpy/pandas support.

    sqlite-utils imports numpy when it is installed (torch brings it) only to accept numpy
    values, which the store never passes; that import alone costs ~100 ms of start-up. The
    block applies to this one import, so anything that needs numpy later still gets it."""
    if "quizapp.store.database" in sys.modules or "numpy" in sys.modules:
        return
    finder = _SkipOptional()
    sys.meta_path.insert(0, finder)
    try:
        import quizapp.store.database  # noqa: F401
    finally:
        sys.meta_path.remove(finder)


def write_error_log(home: Path, what: str, error: BaseException) -> Path | None:
    """Write ``error``'s traceback to ``<home>/logs/error-<UTC time>.log``; its path, or
    None if it cannot be written (a read-only home must not turn one error into two)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = home / "logs" / f"error-{stamp}.log"
    text = f"while trying to {what}:\n" + "".join(traceback.format_exception(error))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError:
        return None
    return path


def read_keymap(path: Path) -> tuple[dict[str, str], list[str]]:
    """Read ``keymap.toml`` (``binding-id = "keys"``); return the keymap and any problems."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        return {}, [f"{path}: could not read the keymap: {err}"]
    except tomllib.TOMLDecodeError as err:
        return {}, [f"{path}: not valid TOML ({err}); using the default keys"]
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in data.items():
        if isinstance(keys, str) and keys.strip():
            keymap[binding_id] = keys.strip()
        else:
            problems.append(
                f'{path}: {binding_id}: expected keys as a string such as "ctrl+r" or "f5,r"'
            )
    return keymap, problems


def run(home: str | None, extra_decks: list[str], start: str | None = None) -> int:
    """Start the app (``quizapp`` without a command; ``start``: an action to open with, such
    as "drill"); returns the exit code."""
    app = QuizApp(home, extra_decks)
    if start is not None:
        app.call_later(app.run_action, start)
    result = app.run()
    return int(result or 0) if app.return_code in (None, 0) else int(app.return_code or 1)
