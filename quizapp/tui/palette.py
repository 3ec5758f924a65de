"""Command-palette provider (ctrl+p): every screen and action, each question, topic and
experiment, searchable by name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from quizapp.tui.host import QuizHost, quiz

Command = tuple[str, str, Callable[[], object]]  # title, help, callback
PROMPT_SHOWN = 70  # characters of a question's prompt shown in the palette
QUESTION_SCORE = 0.5  # questions found by words rank below close command matches


class QuizCommands(Provider):
    """quizapp's own commands; Textual's system commands (Theme, Keys, Quit) come alongside."""

    @property
    def quiz(self) -> QuizHost:
        return quiz(self.app)

    def _actions(self) -> list[Command]:

        def run(action: str) -> Callable[[], object]:
            return partial(self.app.run_action, action)

        return [
            ("Start review", "Review the questions due now, then new ones", run("review")),
            ("Browse questions", "All questions, with filters and history", run("browse")),
            ("Progress", "Heatmap, score trend, mastery, missed points", run("progress")),
            ("Simulation", "Run a live PyTorch experiment", run("simulation")),
            ("Mock interview", "A timed interview: follow-ups, grading, report", run("interview")),
            ("Home", "Back to the home screen", run("home")),
            ("Help: keys", "Every key binding and how to remap it", run("help")),
            ("Undo last grade", "Take back the last graded answer", run("undo_last_grade")),
        ]

    def _commands(self) -> Iterator[Command]:
        """Actions, topics and experiments: short titles, matched fuzzily."""
        app = self.quiz
        yield from self._actions()
        library = app.library
        for topic in library.topics:
            ids = [q.id for q in library.questions.values() if q.topic == topic]
            yield (
                f"Practise topic: {topic}",
                f"{len(ids)} questions, outside the schedule",
                partial(app.practise, ids, f"Practice · {topic}"),
            )
        for experiment_name, title in _experiments():
            yield (
                f"Simulate: {title}",
                f"Open the {experiment_name} experiment",
                partial(app.open_simulation, None, experiment_name),
            )

    def _questions(self, words: list[str]) -> Iterator[Command]:
        """Questions whose id or prompt contains every word of the query.

        Fuzzy matching is exhaustive over the candidate text, far too slow for whole
        prompts; plain word matching keeps the palette instant."""
        app = self.quiz
        for question in app.library.questions.values():
            prompt = " ".join(question.prompt.split())
            haystack = f"practise {question.id} {prompt}".lower()
            if words and all(word in haystack for word in words):
                short = prompt if len(prompt) <= PROMPT_SHOWN else prompt[: PROMPT_SHOWN - 1] + "…"
                about = f"{question.topic} · difficulty {question.difficulty} · {question.deck}"
                yield (
                    f"Practise {question.id}: {short}",
                    escape(about),  # the palette parses help as markup; deck text is literal
                    partial(app.practise, [question.id]),
                )

    async def discover(self) -> Hits:
        for title, help_text, callback in self._actions():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                # Titles hold deck text: show it literally (matcher.highlight parses markup).
                yield Hit(score, Content(title), callback, text=title, help=help_text)
        for title, help_text, callback in self._questions(query.lower().split()):
            yield Hit(QUESTION_SCORE, Content(title), callback, text=title, help=help_text)


def _experiments() -> list[tuple[str, str]]:
    try:
        from sims.registry import list_experiments

        return [(e.name, e.title) for e in list_experiments()]
    except Exception:  # noqa: BLE001 - the palette must open even if an experiment is broken
        return []
