"""The question bank as an Anki package (``.apkg``), written with genanki.

One note per question: the prompt on the front; the model answer and the rubric on the back;
follow-ups, the misconception and references as extra fields; tags for the topic, the
difficulty and the deck. Ids are derived from the question ids, so exporting again after the
decks changed updates the notes already in Anki instead of adding copies.

Deck text comes from other people and Anki renders fields as HTML: every field is escaped.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import TYPE_CHECKING

from questions.model import Question, QuestionKind

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

DECK_NAME = "quizapp"
FIELDS = (
    "Prompt",
    "ModelAnswer",
    "Rubric",
    "FollowUps",
    "Misconception",
    "References",
    "QuestionId",
)
_CSS = """
.card { font-family: sans-serif; font-size: 18px; text-align: left; }
.rubric li.must { font-weight: bold; }
.extra { color: #555; font-size: 15px; margin-top: 1em; }
"""
_FRONT = '<div class="prompt">{{Prompt}}</div>'
_BACK = (
    "{{FrontSide}}<hr id=answer>"
    '<div class="answer">{{ModelAnswer}}</div>'
    '<div class="rubric"><b>Rubric</b>{{Rubric}}</div>'
    '{{#FollowUps}}<div class="extra"><b>Follow-ups</b>{{FollowUps}}</div>{{/FollowUps}}'
    '{{#Misconception}}<div class="extra"><b>Common misconception</b> '
    "{{Misconception}}</div>{{/Misconception}}"
    '{{#References}}<div class="extra"><b>References</b>{{References}}</div>{{/References}}'
)


def stable_id(name: str) -> int:
    """A 31-bit id that is the same on every machine and every run (Anki ids are ints)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") >> 1 | 1 << 30


def _text(value: str) -> str:
    return html.escape(value.strip()).replace("\n\n", "<br><br>").replace("\n", "<br>")


def _items(values: Iterable[str], must: Sequence[bool] = ()) -> str:
    rows = [
        f'<li class="must">{_text(v)} (must-have)</li>'
        if i < len(must) and must[i]
        else f"<li>{_text(v)}</li>"
        for i, v in enumerate(values)
    ]
    return f"<ul>{''.join(rows)}</ul>" if rows else ""


def _tag(value: str) -> str:
    """Anki tags cannot hold spaces; keep them readable and safe."""
    return re.sub(r"[^\w.-]+", "-", value.strip().lower()).strip("-") or "untitled"


def note_fields(question: Question) -> list[str]:
    """The note's fields in FIELDS order, HTML-escaped."""
    answer = question.model_answer
    if question.kind == QuestionKind.NUMERIC and question.numeric is not None:
        unit = f" {question.numeric.unit}" if question.numeric.unit else ""
        answer = f"Answer: {question.numeric.value:g}{unit}\n\n{answer}"
    prompt = question.prompt
    if question.diagnosis is not None:
        # Anki cannot draw the stored run: the choices go on the front, the right one on the back.
        choices = question.diagnosis.choices
        prompt += "\n\n" + "\n".join(f"{i}. {text}" for i, text in enumerate(choices, 1))
        right = question.diagnosis.answer
        answer = f"Answer: {right + 1}. {choices[right]}\n\n{answer}"
    misconception = ""
    if question.misconception is not None:
        misconception = _text(
            f"{question.misconception.belief} {question.misconception.correction}"
        )
    return [
        _text(prompt),
        _text(answer),
        _items([p.text for p in question.rubric], [p.must_have for p in question.rubric]),
        _items(question.follow_ups),
        misconception,
        _items(question.references),
        html.escape(question.id),
    ]


def write_anki_package(
    questions: Iterable[Question], path: Path, *, deck_name: str = DECK_NAME
) -> int:
    """Write ``questions`` to ``path`` as an Anki package; returns how many notes it holds."""
    import genanki  # only this export needs it

    model = genanki.Model(
        stable_id("quizapp note model v1"),
        "quizapp question",
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": "Question", "qfmt": _FRONT, "afmt": _BACK}],
        css=_CSS,
    )
    deck = genanki.Deck(stable_id(f"quizapp deck {deck_name}"), deck_name)
    count = 0
    for question in questions:
        tags = [
            f"topic::{_tag(question.topic)}",
            f"difficulty::{question.difficulty}",
            f"deck::{_tag(question.deck or 'quizapp')}",
        ]
        deck.add_note(
            genanki.Note(
                model=model,
                fields=note_fields(question),
                tags=tags,
                guid=genanki.guid_for("quizapp", question.id),
            )
        )
        count += 1
    genanki.Package(deck).write_to_file(str(path))
    return count
