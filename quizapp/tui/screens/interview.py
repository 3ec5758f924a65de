"""Mock interview: a timed session of mixed questions, a follow-up after each answer, model
answers and self-grading only at the end, then the report (the same as ``quizapp
interview`` prints, from ``quizapp.services.mock_interview`` and ``quizapp.views``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, SelectionList, Static, TextArea
from textual.widgets.selection_list import Selection

from questions.model import QuestionKind
from quizapp.domain.mock_interview import MAX_MINUTES, MIN_MINUTES
from quizapp.domain.wording import difficulty_dots
from quizapp.services.mock_interview import (
    AskedQuestion,
    MockInterview,
    SelfGrade,
    finish_interview,
    numeric_right,
    start_interview,
)
from quizapp.tui.host import QuizHost, quiz
from quizapp.tui.widgets.interview_clock import InterviewClock
from quizapp.tui.widgets.rubric_checklist import RubricChecklist

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from quizapp.domain.mock_interview import InterviewReport

Phase = Literal["setup", "answer", "follow-up", "grade", "report"]
DEFAULT_MINUTES = 30
SEED_RANGE = 1_000_000

HINTS: dict[Phase, str] = {
    "setup": "[b]ctrl+n[/b] start · [b]tab[/b] topics · [b]esc[/b] back",
    "answer": "[b]ctrl+n[/b] done: the follow-up · [b]esc[/b] abandon the interview",
    "follow-up": "[b]ctrl+n[/b] next question · [b]esc[/b] abandon the interview",
    "grade": (
        "[b]1-9[/b]/[b]space[/b] tick points met · [b]tab[/b] next panel · "
        "[b]ctrl+n[/b] next answer · [b]esc[/b] abandon"
    ),
    "report": "[b]esc[/b] back",
}


class InterviewScreen(Screen[None]):
    """Setup (length, topics), then each question and its follow-up against the clock, then
    the grading of every answer, then the report."""

    CSS_PATH = "../styles/interview.tcss"
    AUTO_FOCUS = None
    BINDINGS: ClassVar[list[BindingType]] = [
        # Not a priority binding: it then takes its turn behind keys typed just before it
        # (a pasted answer, a point ticked), which a priority binding would overtake.
        Binding("ctrl+n", "next", "Next", id="interview.next"),
        Binding("escape", "leave", "Leave", id="interview.leave"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.phase: Phase = "setup"
        self.interview: MockInterview | None = None
        self.position = 0
        self.grades: dict[str, SelfGrade] = {}
        self.report: InterviewReport | None = None
        self.saved = False

    @property
    def quiz(self) -> QuizHost:
        return quiz(self.app)

    @property
    def asked(self) -> AskedQuestion | None:
        if self.interview is not None and 0 <= self.position < len(self.interview.asked):
            return self.interview.asked[self.position]
        return None

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="interview-bar"):
            yield Static(id="interview-info")
            yield InterviewClock(self.quiz.now, id="interview-clock")
        with Vertical(id="setup-phase"):
            yield Static(id="setup-intro", classes="panel")
            yield Input(
                str(DEFAULT_MINUTES),
                id="minutes",
                type="integer",
                classes="panel",
                placeholder=f"{MIN_MINUTES} to {MAX_MINUTES}",
            )
            yield SelectionList[str](id="topics", classes="panel")
            yield Static(id="setup-error")
        with Vertical(id="ask-phase"):
            yield Static(id="question", classes="panel")
            yield Static(id="follow-up", classes="panel")
            yield TextArea(
                id="interview-answer",
                classes="panel",
                soft_wrap=True,
                tab_behavior="focus",
                placeholder="Answer as you would aloud in the interview…",
            )
        with Container(id="grade-phase"):
            with VerticalScroll(id="grade-left"):
                yield Static(id="grade-question", classes="panel")
                yield Static(id="grade-answers", classes="panel")
                yield Static(id="grade-model", classes="panel")
            with VerticalScroll(id="grade-right"):
                yield Static(id="numeric-verdict", classes="panel")
                yield RubricChecklist(id="grade-rubric", classes="panel")
                yield SelectionList[int](id="red-flags", classes="panel")
        with VerticalScroll(id="report-phase"):
            yield Static(id="interview-report", classes="panel")
        yield Static(id="interview-hint", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#setup-intro").border_title = "Mock interview"
        self.query_one("#minutes").border_title = "Minutes"
        topics = self.query_one("#topics", SelectionList)
        topics.border_title = "Topics (none ticked: all)"
        topics.add_options([Selection(Content(t), t) for t in self.quiz.library.topics])
        if topics.option_count:
            topics.highlighted = 0
        self.query_one("#interview-answer").border_title = "Your answer"
        self.query_one("#grade-answers").border_title = "Your answers"
        self.query_one("#grade-model").border_title = "Model answer"
        self.query_one("#numeric-verdict").border_title = "Numeric answer"
        self.query_one("#grade-rubric").border_title = "Rubric: tick the points your answers met"
        self.query_one("#red-flags").border_title = "Red flags: tick those your answer stated"
        self.query_one("#interview-report").border_title = "Report"
        self.query_one("#setup-intro", Static).update(
            Content.from_markup(
                "Questions picked to cover the topics, each with its own clock, and a "
                "follow-up after every answer, as an interviewer would ask. Model answers "
                "come only at the end, where you grade your answers; weak ones go back into "
                "your reviews. Choose the length ($lo to $hi minutes) and the topics.",
                lo=str(MIN_MINUTES),
                hi=str(MAX_MINUTES),
            )
        )
        self._apply_phase()
        self.query_one("#minutes", Input).focus()

    def _apply_phase(self) -> None:
        phase = self.phase
        self.query_one("#setup-phase").display = phase == "setup"
        self.query_one("#ask-phase").display = phase in ("answer", "follow-up")
        self.query_one("#grade-phase").display = phase == "grade"
        self.query_one("#report-phase").display = phase == "report"
        self.query_one("#interview-hint", Static).update(Content.from_markup(HINTS[phase]))
        self._show_info()
        self.refresh_bindings()

    def _show_info(self) -> None:
        info = self.query_one("#interview-info", Static)
        interview, asked = self.interview, self.asked
        if interview is None or asked is None or self.phase in ("setup", "report"):
            info.update(Content.from_markup("[b]Mock interview[/b]"))
            return
        step = "Grading" if self.phase == "grade" else "Q"
        info.update(
            Content.from_markup(
                "[b]$step $pos[/b]/$total [$text-muted]·[/] $topic [$text-muted]·[/] $dots",
                step=step,
                pos=str(self.position + 1),
                total=str(len(interview.asked)),
                topic=asked.question.topic,
                dots=difficulty_dots(asked.question.difficulty),
            )
        )

    # --- setup ----------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "minutes":
            self.action_next()

    def _start(self) -> None:
        error = self.query_one("#setup-error", Static)
        text = self.query_one("#minutes", Input).value.strip()
        if not text.lstrip("-").isdigit():
            error.update(
                Content(f"Type the interview's length in minutes ({MIN_MINUTES} to {MAX_MINUTES}).")
            )
            return
        topics = self.query_one("#topics", SelectionList).selected
        app = self.quiz
        now = app.now()
        try:
            self.interview = start_interview(
                list(app.library.questions.values()),
                int(text),
                now,
                topics=[str(t) for t in topics],
                seed=int(now.timestamp()) % SEED_RANGE,
            )
        except ValueError as exc:
            error.update(Content(f"{exc}."))
            return
        if not self.interview.asked:
            error.update(Content("No questions to ask: the decks are empty."))
            return
        error.update("")
        self.position = 0
        self._ask()

    # --- asking ---------------------------------------------------------------------------

    def _ask(self) -> None:
        interview, asked = self.interview, self.asked
        assert interview is not None and asked is not None
        question = asked.question
        panel = self.query_one("#question", Static)
        panel.update(Content(question.prompt))
        panel.border_title = f"Question {self.position + 1} of {len(interview.asked)}"
        if question.kind == QuestionKind.NUMERIC:
            unit = question.numeric.unit if question.numeric else ""
            panel.border_subtitle = f"one number{f', in {unit}' if unit else ''}"
        else:
            panel.border_subtitle = ""
        self.query_one("#follow-up").display = False
        area = self.query_one("#interview-answer", TextArea)
        area.text = ""
        area.border_title = "Your answer"
        self.query_one(InterviewClock).start(interview, asked)
        self.phase = "answer"
        self._apply_phase()
        area.focus()

    def _ask_follow_up(self) -> None:
        asked = self.asked
        assert asked is not None
        area = self.query_one("#interview-answer", TextArea)
        asked.answer = area.text.strip()
        follow = self.query_one("#follow-up", Static)
        follow.update(Content(asked.follow_up))
        follow.border_title = "Follow-up"
        follow.display = True
        area.text = ""
        area.border_title = "Your answer to the follow-up"
        self.query_one(InterviewClock).show()
        self.phase = "follow-up"
        self._apply_phase()
        area.focus()

    def _answered(self) -> None:
        """The question (and its follow-up) is answered: stop its clock, ask the next one."""
        interview, asked = self.interview, self.asked
        assert interview is not None and asked is not None
        text = self.query_one("#interview-answer", TextArea).text.strip()
        if self.phase == "answer":
            asked.answer = text
        else:
            asked.follow_up_answer = text
        asked.seconds = self.query_one(InterviewClock).stop()
        self.position += 1
        if self.asked is not None:
            self._ask()
        else:
            self.position = 0
            self._grade()

    # --- grading --------------------------------------------------------------------------

    def _grade(self) -> None:
        asked = self.asked
        assert asked is not None
        question = asked.question
        self.phase = "grade"
        prompt = self.query_one("#grade-question", Static)
        prompt.update(Content(question.prompt))
        prompt.border_title = f"Question {self.position + 1} · {question.id}"
        answers = [Content.from_markup("[b]Answer[/b]"), Content(asked.answer or "(none)")]
        if asked.follow_up:
            answers += [
                Content.from_markup("\n[b]Follow-up[/b] ") + Content(asked.follow_up),
                Content(asked.follow_up_answer or "(none)"),
            ]
        self.query_one("#grade-answers", Static).update(Content("\n").join(answers))
        self.query_one("#grade-model", Static).update(Content(question.model_answer.strip()))
        verdict = self.query_one("#numeric-verdict", Static)
        right = numeric_right(asked)
        verdict.display = right is not None
        if right is not None:
            verdict.update(
                Content.from_markup("[b $success]Right.[/]")
                if right
                else Content.from_markup("[b $error]Not right[/]: see the model answer.")
            )
        rubric = self.query_one(RubricChecklist)
        rubric.display = right is None
        rubric.reset(question.rubric if right is None else ())
        flags = self.query_one("#red-flags", SelectionList)
        flags.clear_options()
        flags.add_options([Selection(Content(f), i) for i, f in enumerate(question.red_flags)])
        flags.display = bool(question.red_flags)
        if question.red_flags:  # so that space ticks the first one as soon as it has focus
            flags.highlighted = 0
        self._apply_phase()
        self.query_one("#grade-left", VerticalScroll).scroll_home(animate=False)
        if right is None:
            rubric.focus()
        else:  # graded by the number: nothing to tick
            self.query_one("#grade-left").focus()
            self.query_one("#interview-hint", Static).update(
                Content.from_markup("[b]ctrl+n[/b] next answer · [b]esc[/b] abandon")
            )

    def _graded(self) -> None:
        asked = self.asked
        assert asked is not None
        question = asked.question
        chosen = set(self.query_one("#red-flags", SelectionList).selected)
        met = self.query_one(RubricChecklist).met
        self.grades[question.id] = SelfGrade(
            met=met if numeric_right(asked) is None else frozenset(),
            red_flags=tuple(f for i, f in enumerate(question.red_flags) if i in chosen),
        )
        self.position += 1
        if self.asked is not None:
            self._grade()
        else:
            self._finish()

    def _finish(self) -> None:
        interview = self.interview
        assert interview is not None
        app = self.quiz
        now = app.now()
        report = app.store_call(
            "save the interview", lambda s: finish_interview(s, interview, self.grades, now), None
        )
        self.saved = report is not None
        if report is None:  # no progress database: still show the report
            report = finish_interview(None, interview, self.grades, now)
        self.report = report
        from quizapp.views.interview_report import render_interview_report

        panel = self.query_one("#interview-report", Static)
        panel.update(render_interview_report(report))
        panel.border_subtitle = (
            "saved: compare on Progress (p)" if self.saved else "not saved (no progress database)"
        )
        clock = self.query_one(InterviewClock)
        clock.interview = None  # the interview is over: no clock
        clock.show()
        self.phase = "report"
        self._apply_phase()
        self.query_one("#report-phase").focus()

    # --- keys -----------------------------------------------------------------------------

    def action_next(self) -> None:
        phase = self.phase
        if phase == "setup":
            self._start()
        elif phase == "answer":
            asked = self.asked
            if asked is not None and asked.follow_up:
                self._ask_follow_up()
            else:
                self._answered()
        elif phase == "follow-up":
            self._answered()
        elif phase == "grade":
            self._graded()

    def action_leave(self) -> None:
        if self.phase in ("setup", "report"):
            self.dismiss()
            return
        from quizapp.tui.screens.confirm import dismiss_after_confirming

        dismiss_after_confirming(
            self,
            "Abandon the interview?",
            "Nothing from an unfinished interview is saved.",
            confirm="Abandon",
            cancel="Keep going",
        )

    def check_action(self, action: str, parameters: tuple[Any, ...]) -> bool | None:
        if action == "next":
            return self.phase != "report"
        return True
