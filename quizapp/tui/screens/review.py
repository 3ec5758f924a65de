"""Review and practice: one question at a time, answer, reveal, grade against the rubric.

Every grade is committed to the store the moment it is accepted, so leaving mid-session
keeps everything already graded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Input, Markdown, SelectionList, Static, TextArea
from textual.widgets.selection_list import Selection

from questions.model import Question, QuestionKind
from quizapp.domain.grading import (
    Grade,
    Rating,
    grade_choice,
    grade_numeric,
    grade_rubric,
    missed_must_have,
)
from quizapp.domain.limits import MAX_ANSWER_CHARS
from quizapp.domain.weak_points import follow_ups_after
from quizapp.domain.wording import difficulty_dots, humanize_delta
from quizapp.tui.host import QuizHost, quiz
from quizapp.tui.widgets.answer_box import AnswerBox
from quizapp.tui.widgets.answer_timer import AnswerTimer, format_duration
from quizapp.tui.widgets.rating_bar import RatingBar
from quizapp.tui.widgets.rubric_checklist import RubricChecklist
from quizapp.tui.widgets.run_diagnosis import (
    DiagnosisChosen,
    DiagnosisPanel,
    StoredRunChart,
    choice_answer,
    choice_verdict,
    chosen_index,
)

if TYPE_CHECKING:
    from datetime import datetime

    from textual.app import ComposeResult

    from quizapp.store import Attempt

Mode = Literal["review", "practice"]
Phase = Literal["answer", "revealed", "done"]


@dataclass
class Graded:
    """One answer graded in this session (kept to summarise the session)."""

    question_id: str
    score: float
    rating: Rating


@dataclass
class Draft:
    """What the user has done with the question on screen (restored on undo)."""

    answer: str = ""
    met: frozenset[int] = frozenset()
    flags: frozenset[int] = frozenset()  # red flags the answer stated (indexes)
    rating: Rating | None = None
    started: datetime | None = None
    grade: Grade | None = None
    verdict: Content | None = None


class ReviewScreen(Screen[None]):
    """Answer, reveal, tick the rubric, accept a rating; then the next question."""

    CSS_PATH = "../styles/review.tcss"
    AUTO_FOCUS = None
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "reveal", "Reveal", id="review.reveal", priority=True),
        Binding("enter", "accept", "Accept", id="review.accept", priority=True),
        Binding(
            "left",
            "shift_rating(-1)",
            "Rating",  # the footer's "←→ Rating" stands for both arrows
            key_display="←→",
            tooltip="Rating down",
            id="review.rating-down",
            priority=True,
        ),
        Binding(
            "right",
            "shift_rating(1)",
            "Rating up",
            tooltip="Rating up",
            show=False,
            id="review.rating-up",
            priority=True,
        ),
        Binding("a", "choose('AGAIN')", "Again", show=False, id="review.again"),
        Binding("h", "choose('HARD')", "Hard", show=False, id="review.hard"),
        Binding("g", "choose('GOOD')", "Good", show=False, id="review.good"),
        Binding("e", "choose('EASY')", "Easy", show=False, id="review.easy"),
        Binding("s", "simulate", "Demo", id="review.simulate"),
        Binding("ctrl+n", "skip", "Skip", id="review.skip", priority=True),
        Binding("ctrl+u", "undo", "Undo", id="review.undo", priority=True),
        Binding("escape", "leave", "End", id="review.leave"),
    ]

    phase: reactive[Phase] = reactive("answer", init=False)

    def __init__(self, queue: list[str], mode: Mode = "review", title: str | None = None) -> None:
        super().__init__()
        self.queue = list(queue)
        self.position = 0
        self.mode: Mode = mode
        self.session_title = title or ("Review" if mode == "review" else "Practice")
        self.draft = Draft()
        self.graded: list[Graded] = []
        self.session_started: datetime | None = None

    @property
    def quiz(self) -> QuizHost:
        return quiz(self.app)

    @property
    def question(self) -> Question | None:
        if 0 <= self.position < len(self.queue):
            return self.quiz.library.questions.get(self.queue[self.position])
        return None

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="session-bar"):
            yield Static(id="session-info")
            yield AnswerTimer(self.quiz.now, id="timer")
        with Vertical(id="answer-phase"):
            yield Static(id="prompt", classes="panel")
            yield AnswerBox(
                id="answer",
                classes="panel",
                soft_wrap=True,
                tab_behavior="focus",
                placeholder="Type your answer as you would say it in an interview…",
            )
            yield Input(
                id="numeric-answer",
                classes="panel",
                placeholder="A number, e.g. 0.001, 1e-3, 1,000, 25%",
                max_length=MAX_ANSWER_CHARS,
            )
            yield Static(id="numeric-error")
            yield DiagnosisPanel(id="diagnosis")
            yield Static(
                Content.from_markup(
                    "[b]ctrl+r[/b] reveal the model answer · [b]ctrl+n[/b] skip · "
                    "[b]esc[/b] end the session"
                ),
                id="answer-hint",
                classes="hint",
            )
        with Container(id="reveal-phase"):
            with VerticalScroll(id="reveal-left"):
                yield Static(id="prompt-again", classes="panel")
                yield Static(id="your-answer", classes="panel")
                yield StoredRunChart(id="reveal-chart")
                yield Markdown(id="model-answer", classes="panel")
                yield Static(id="misconception", classes="panel")
            with VerticalScroll(id="reveal-right"):
                yield RubricChecklist(id="rubric", classes="panel")
                yield SelectionList[int](id="red-flags", classes="panel")
                yield Static(id="follow-ups", classes="panel")
                yield Static(id="demo", classes="panel")
        with Horizontal(id="grade-bar"):
            yield Static(id="score-line")
            yield RatingBar(id="rating-bar")
        with VerticalScroll(id="done-phase"):
            yield Static(id="session-summary", classes="panel")
        yield Footer()

    def on_mount(self) -> None:
        self.session_started = self.quiz.now()
        self.query_one("#answer").border_title = "Your answer"
        self.query_one("#numeric-answer").border_title = "Your answer"
        self.query_one("#your-answer").border_title = "Your answer"
        self.query_one("#model-answer").border_title = "Model answer"
        self.query_one("#misconception").border_title = "Common misconception"
        self.query_one("#follow-ups").border_title = "Follow-up questions"
        self.query_one("#demo").border_title = "Simulation"
        self.query_one("#session-summary").border_title = "Session complete"
        self.show_question()

    # --- showing a question -----------------------------------------------------------------

    def show_question(self, draft: Draft | None = None) -> None:
        """Show the question at ``position``: fresh, or as ``draft`` (after an undo)."""
        question = self.question
        if question is None:
            self._finish()
            return
        self.draft = draft or Draft(started=self.quiz.now())
        timer = self.query_one(AnswerTimer)
        timer.restart()
        if self.draft.started is not None:
            timer.started = self.draft.started
        self._show_session_info(question)
        prompt = Content(question.prompt)
        self.query_one("#prompt", Static).update(prompt)
        self.query_one("#prompt-again", Static).update(prompt)
        for widget_id in ("#prompt", "#prompt-again"):
            panel = self.query_one(widget_id)
            panel.border_title = "Question"
            # Deck text: a Content, so that brackets in it are shown, not parsed as markup.
            panel.border_subtitle = Content(
                f"{question.topic} · {difficulty_dots(question.difficulty)}"
            )
        numeric = question.kind == QuestionKind.NUMERIC
        diagnose = question.kind == QuestionKind.DIAGNOSE
        panel = self.query_one(DiagnosisPanel)
        panel.display = diagnose
        panel.show(question.diagnosis)
        area = self.query_one("#answer", TextArea)
        box = self.query_one("#numeric-answer", Input)
        area.display = not numeric and not diagnose
        box.display = numeric
        area.read_only = False
        area.text = "" if numeric else self.draft.answer
        box.value = self.draft.answer if numeric else ""
        if numeric and question.numeric and question.numeric.unit:
            box.border_subtitle = Content(f"in {question.numeric.unit}")
        else:
            box.border_subtitle = ""
        self.query_one("#numeric-error", Static).display = False
        if self.draft.grade is not None:
            self._reveal(self.draft.grade, restoring=True)
        else:
            self.phase = "answer"
            self._apply_phase()
            (panel if diagnose else box if numeric else area).focus()

    def _show_session_info(self, question: Question) -> None:
        total = len(self.queue)
        self.query_one("#session-info", Static).update(
            Content.from_markup(
                "[b]$title[/b]  $pos of $total  [$text-muted]·[/] $topic  [$text-muted]·[/] "
                "$dots  [$text-muted]· $deck · $id[/]",
                title=self.session_title,
                pos=str(self.position + 1),
                total=str(total),
                topic=question.topic,
                dots=difficulty_dots(question.difficulty),
                deck=question.deck,
                id=question.id,
            )
        )

    def _apply_phase(self) -> None:
        phase = self.phase
        self.query_one("#answer-phase").display = phase == "answer"
        self.query_one("#reveal-phase").display = phase == "revealed"
        self.query_one("#grade-bar").display = phase == "revealed"
        self.query_one("#done-phase").display = phase == "done"
        self.query_one("#session-bar").display = phase != "done"
        self.refresh_bindings()

    # --- answering and revealing ------------------------------------------------------------

    def _typed_answer(self) -> str:
        question = self.question
        if question is not None and question.kind == QuestionKind.NUMERIC:
            return self.query_one("#numeric-answer", Input).value
        if question is not None and question.kind == QuestionKind.DIAGNOSE:
            return ""  # a choice is graded the moment it is made
        return self.query_one("#answer", TextArea).text

    def action_reveal(self) -> None:
        question = self.question
        if question is None or self.phase != "answer":
            return
        answer = self._typed_answer()
        self.draft.answer = answer
        if question.kind == QuestionKind.NUMERIC and question.numeric is not None:
            if answer.strip():
                try:
                    grade = grade_numeric(question.numeric, answer)
                except ValueError as err:
                    error = self.query_one("#numeric-error", Static)
                    error.update(Content(str(err)))
                    error.display = True
                    return
            else:
                grade = Grade(score=0.0, suggested=Rating.AGAIN)
            self.draft.verdict = _numeric_verdict(question, answer, grade.score)
        elif question.diagnosis is not None:  # revealed without choosing
            grade = Grade(score=0.0, suggested=Rating.AGAIN)
            self.draft.verdict = choice_verdict(question.diagnosis, None)
        else:
            grade = grade_rubric(
                question.rubric, self.draft.met, question.red_flags, self.draft.flags
            )
        self.draft.grade = grade
        self._reveal(grade)

    @on(DiagnosisChosen)
    def _diagnosis_chosen(self, event: DiagnosisChosen) -> None:
        question = self.question
        if question is None or question.diagnosis is None or self.phase != "answer":
            return
        self.draft.answer = choice_answer(question.diagnosis, event.index)
        self.draft.verdict = choice_verdict(question.diagnosis, event.index)
        self.draft.grade = grade_choice(event.index, question.diagnosis.answer)
        self._reveal(self.draft.grade)

    @on(Input.Submitted, "#numeric-answer")
    def _numeric_submitted(self) -> None:
        self.action_reveal()

    @on(Input.Changed, "#numeric-answer")
    def _numeric_changed(self) -> None:
        self.query_one("#numeric-error", Static).display = False

    def _reveal(self, grade: Grade, restoring: bool = False) -> None:
        question = self.question
        assert question is not None
        self.query_one(AnswerTimer).stop()
        answer = self.draft.answer.strip()
        your = self.query_one("#your-answer", Static)
        if question.kind in (QuestionKind.NUMERIC, QuestionKind.DIAGNOSE):
            your.update(self.draft.verdict or Content(answer or "(no answer)"))
        elif answer:
            your.update(Content(answer))
        else:
            your.update(Content.from_markup("[$text-muted](you revealed without typing)[/]"))
        chart = self.query_one("#reveal-chart", StoredRunChart)
        chart.display = question.diagnosis is not None
        chart.show(question.diagnosis)
        self.query_one("#model-answer", Markdown).update(question.model_answer)
        misconception = self.query_one("#misconception", Static)
        misconception.display = question.misconception is not None
        if question.misconception is not None:
            misconception.update(
                Content.from_markup(
                    "[b $warning]Belief:[/] $belief\n[b $success]Correction:[/] $correction",
                    belief=question.misconception.belief,
                    correction=question.misconception.correction,
                )
            )
        rubric = self.query_one(RubricChecklist)
        rubric.display = bool(question.rubric)
        self.query_one("#reveal-phase").set_class(not question.rubric, "-no-rubric")
        rubric.reset(question.rubric, self.draft.met)
        rubric.border_title = "Rubric: tick what your answer covered"
        flags = self.query_one("#red-flags", SelectionList)
        flags.clear_options()
        flags.add_options(
            [
                Selection(Content(text), i, i in self.draft.flags)
                for i, text in enumerate(question.red_flags)
            ]
        )
        flags.display = bool(question.red_flags)
        flags.border_title = "Red flags: tick any your answer stated (caps the rating)"
        count = len(question.rubric)
        rubric.border_subtitle = f"1-{count} or space: tick · must = essential" if count else ""
        self._show_follow_ups()
        demo = self.query_one("#demo", Static)
        demo.display = question.simulation is not None
        demo.border_title = "The fix" if question.diagnosis is not None else "Simulation"
        if question.simulation is not None:
            demo.update(
                Content.from_markup(
                    "Press [b]s[/b] to run [b]$experiment[/b] live.\n[$text-muted]$look[/]",
                    experiment=question.simulation.experiment,
                    look=question.simulation.look_for,
                )
            )
        bar = self.query_one(RatingBar)
        bar.suggested = grade.suggested
        bar.chosen = self.draft.rating or grade.suggested
        from quizapp.services.review import rating_intervals

        now = self.quiz.now()
        bar.intervals = self.quiz.store_call(
            "preview the next review dates", lambda s: rating_intervals(s, question.id, now), {}
        )
        self._show_score()
        self.phase = "revealed"
        self._apply_phase()
        for scroll in self.query(VerticalScroll):
            scroll.scroll_home(animate=False)
        if question.rubric:
            self.set_focus(rubric, scroll_visible=False)
        else:
            self.set_focus(None)

    def _show_score(self) -> None:
        question = self.question
        grade = self.draft.grade
        if question is None or grade is None:
            return
        line = self.query_one("#score-line", Static)
        if question.kind in (QuestionKind.NUMERIC, QuestionKind.DIAGNOSE):
            text = "Correct" if grade.score >= 1.0 else "Incorrect"
            line.update(Content.from_markup("[b]$text[/b]", text=text))
            return
        total = len(question.rubric)
        met = len(grade.met)
        missed_must = missed_must_have(question.rubric, grade.met)
        stated = len(grade.red_flags)
        flags = ""
        if stated:
            flags = " · a red flag stated: at most Hard" if stated == 1 else " · red flags: Again"
        line.update(
            Content.from_markup(
                "Score [b]$met/$total[/b]$must$flags",
                met=str(met),
                total=str(total),
                must=" · a must-have point is missing" if missed_must else "",
                flags=flags,
            )
        )

    @on(RubricChecklist.Changed)
    def _rubric_changed(self, event: RubricChecklist.Changed) -> None:
        question = self.question
        if question is None or self.phase != "revealed" or question.kind != QuestionKind.OPEN:
            return
        self.draft.met = event.met
        self._regrade()

    @on(SelectionList.SelectedChanged, "#red-flags")
    def _red_flags_changed(self, event: SelectionList.SelectedChanged[int]) -> None:
        question = self.question
        if question is None or self.phase != "revealed" or question.kind != QuestionKind.OPEN:
            return
        self.draft.flags = frozenset(event.selection_list.selected)
        self._regrade()

    def _show_follow_ups(self) -> None:
        """Follow-ups probing a point the answer missed come first, marked."""
        question = self.question
        assert question is not None
        follow = self.query_one("#follow-ups", Static)
        follow.display = bool(question.follow_ups)
        ordered = follow_ups_after(question.follow_ups, question.follow_up_probes, self.draft.met)
        follow.update(
            Content("\n").join(
                Content.from_markup("[b]$n.[/b] $text", n=str(i), text=text)
                + (
                    Content.styled(" (on a point you missed)", "$warning")
                    if missed
                    else Content("")
                )
                for i, (text, missed) in enumerate(ordered, 1)
            )
        )

    def _regrade(self) -> None:
        """Grade again from the ticked points and red flags; the rating follows the
        suggestion unless the user chose another one."""
        question = self.question
        assert question is not None
        previous = self.draft.grade
        grade = grade_rubric(question.rubric, self.draft.met, question.red_flags, self.draft.flags)
        self.draft.grade = grade
        bar = self.query_one(RatingBar)
        # Follow the suggestion unless the user picked a different rating themself.
        if previous is None or bar.chosen in (None, previous.suggested):
            bar.chosen = grade.suggested
            self.draft.rating = None
        bar.suggested = grade.suggested
        self._show_score()
        self._show_follow_ups()

    # --- grading ----------------------------------------------------------------------------

    def action_shift_rating(self, step: int) -> None:
        bar = self.query_one(RatingBar)
        current = int(bar.chosen or Rating.GOOD)
        chosen = Rating(max(int(Rating.AGAIN), min(int(Rating.EASY), current + step)))
        bar.chosen = chosen
        self.draft.rating = chosen

    def action_choose(self, name: str) -> None:
        chosen = Rating[name]
        self.query_one(RatingBar).chosen = chosen
        self.draft.rating = chosen

    @on(RatingBar.Chosen)
    def _rating_clicked(self, event: RatingBar.Chosen) -> None:
        self.action_choose(event.rating.name)
        if event.accept:
            self.action_accept()

    def action_accept(self) -> None:
        question = self.question
        grade = self.draft.grade
        if question is None or grade is None or self.phase != "revealed":
            return
        app = self.quiz
        rating = self.query_one(RatingBar).chosen or grade.suggested
        submitted = app.now()
        started = self.draft.started or submitted
        seconds = self.query_one(AnswerTimer).elapsed
        if app.store is not None:
            attempt = app.store_call(
                "save your answer",
                lambda s: s.record_attempt(
                    question,
                    grade,
                    rating,
                    answer=self.draft.answer,
                    started=started,
                    submitted=submitted,
                    mode=self.mode,
                    seconds=seconds,
                ),
                None,
            )
            if attempt is None:
                return  # the error is on screen; stay so nothing typed is lost
            card = app.store_call("read the schedule", lambda s: s.card(question.id), None)
            if card is not None:
                delta = (card.due - submitted).total_seconds()
                self.notify(
                    f"{rating.label} · next review {humanize_delta(delta)}",
                    timeout=3,
                    markup=False,
                )
        self.graded.append(Graded(question.id, grade.score, rating))
        self.position += 1
        self.show_question()

    def action_undo(self) -> None:
        app = self.quiz
        if app.store is None:
            self.notify("Nothing is saved without the progress database.", severity="warning")
            return
        attempt: Attempt | None = app.store_call(
            "undo the last grade", lambda s: s.undo_last_attempt(), None
        )
        if attempt is None:
            self.notify("There is no graded answer to undo.", severity="warning")
            return
        if attempt.question_id not in app.library.questions:
            self.notify(
                f"Took back your grade for {attempt.question_id}, which is no longer in a deck.",
                markup=False,
            )
            return
        for index in range(len(self.graded) - 1, -1, -1):
            if self.graded[index].question_id == attempt.question_id:
                del self.graded[index]
                break
        if self.phase == "done":
            self.position = len(self.queue)
        self._bring_back(attempt.question_id)
        question = app.library.questions[attempt.question_id]
        grade: Grade
        if question.kind == QuestionKind.NUMERIC:
            grade = Grade(score=attempt.score, suggested=attempt.suggested or attempt.rating)
            verdict = _numeric_verdict(question, attempt.answer, attempt.score)
        elif question.diagnosis is not None:
            grade = Grade(score=attempt.score, suggested=attempt.suggested or attempt.rating)
            chosen = chosen_index(question.diagnosis, attempt.answer)
            verdict = choice_verdict(question.diagnosis, chosen)
        else:
            met = frozenset(i for i in attempt.met if i < len(question.rubric))
            stated = [i for i, f in enumerate(question.red_flags) if f in attempt.red_flags]
            grade = grade_rubric(question.rubric, met, question.red_flags, stated)
            verdict = None
        draft = Draft(
            answer=attempt.answer[:MAX_ANSWER_CHARS],  # an imported answer may be huge
            met=grade.met,
            flags=frozenset(i for i, f in enumerate(question.red_flags) if f in grade.red_flags),
            rating=attempt.rating,
            started=attempt.started,
            grade=grade,
            verdict=verdict,
        )
        self.notify(
            f"Took back the {attempt.rating.label} for {question.id}: grade it again.",
            timeout=4,
            markup=False,
        )
        self.show_question(draft)

    def _bring_back(self, question_id: str) -> None:
        """Put ``question_id`` at the current position: moved back from the answered part
        of the queue when this session graded it (the count stays "1 of 10"), or added
        when it was graded elsewhere."""
        done = self.queue[: self.position]
        if question_id in done:
            index = len(done) - 1 - done[::-1].index(question_id)
            del self.queue[index]
            self.position -= 1
        self.queue.insert(self.position, question_id)

    def action_skip(self) -> None:
        if self.phase == "done" or self.question is None:
            return
        if self.position >= len(self.queue) - 1:
            self.app.notify("This is the last question of the session.", timeout=3)
            return
        skipped = self.queue.pop(self.position)
        self.queue.append(skipped)
        self.show_question()

    def action_simulate(self) -> None:
        question = self.question
        if question is None or question.simulation is None:
            return
        self.quiz.open_simulation(question=question)

    def action_leave(self) -> None:
        if self.phase == "done":
            self.dismiss()
            return
        unsaved = self.phase == "revealed" or bool(self._typed_answer().strip())
        if not unsaved:
            self.dismiss()
            return
        from quizapp.tui.screens.confirm import dismiss_after_confirming

        dismiss_after_confirming(
            self,
            "End the session?",
            "Your answers graded so far are saved; the one on screen is not.",
            confirm="End session",
            cancel="Keep going",
        )

    def check_action(self, action: str, parameters: tuple[Any, ...]) -> bool | None:
        phase = self.phase
        if action in ("reveal", "skip"):
            return phase == "answer"
        if action in ("accept", "shift_rating", "choose"):
            return phase == "revealed"
        if action == "simulate":
            question = self.question
            return phase == "revealed" and question is not None and question.simulation is not None
        if action == "undo":
            return self.quiz.store is not None
        return True

    # --- end of session ---------------------------------------------------------------------

    def _finish(self) -> None:
        self.phase = "done"
        self._apply_phase()
        summary = self.query_one("#session-summary", Static)
        if not self.graded:
            summary.update(
                Content.from_markup(
                    "No answers graded in this session.\n\n[b]esc[/b] back · "
                    "[b]ctrl+u[/b] undo the last grade"
                )
            )
            return
        count = len(self.graded)
        mean = sum(g.score for g in self.graded) / count
        by_rating = {r: sum(1 for g in self.graded if g.rating == r) for r in Rating}
        ratings = " · ".join(f"{r.label} {n}" for r, n in by_rating.items() if n)
        now = self.quiz.now()
        minutes = format_duration((now - (self.session_started or now)).total_seconds())
        summary.update(
            Content.from_markup(
                "[b]$count[/b] answered · mean score [b]$mean[/b] · $ratings\n"
                "[$text-muted]Time: $minutes. Everything is saved.[/]\n\n"
                "[b]esc[/b] back · [b]ctrl+u[/b] undo the last grade",
                count=str(count),
                mean=f"{mean:.0%}",
                ratings=ratings,
                minutes=minutes,
            )
        )


def _numeric_text(question: Question) -> str:
    numeric = question.numeric
    if numeric is None:
        return ""
    text = f"{numeric.value:,g}"
    if numeric.tolerance:
        text += f" ± {numeric.tolerance:,g}"
    if numeric.unit:
        text += f" {numeric.unit}"
    return text


def _numeric_verdict(question: Question, answer: str, score: float) -> Content:
    if not answer.strip():
        return Content.from_markup(
            "[b $warning]No answer given.[/] The answer is [b]$v[/b].", v=_numeric_text(question)
        )
    style = "$success" if score >= 1.0 else "$error"
    word = "Correct." if score >= 1.0 else "Not quite."
    return Content.from_markup(
        f"[b {style}]$word[/] You said $given; the answer is [b]$v[/b].",
        word=word,
        given=answer.strip(),
        v=_numeric_text(question),
    )
