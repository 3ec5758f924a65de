"""Load question decks from TOML and validate them, reporting every problem at once.

Each problem is a :class:`DeckError` whose text reads ``file:line: key: what is wrong``.
Bad input never raises: a broken deck yields errors, and its valid questions still load.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from questions.model import (
    Deck,
    Misconception,
    NumericAnswer,
    Question,
    QuestionKind,
    RubricPoint,
    SimulationPreset,
    freeze,
)

PresetChecker = Callable[[str, dict[str, Any]], list[str]]
"""Checks a simulation preset (experiment name, parameters); returns error messages."""

RUBRIC_POINTS = (3, 6)
FOLLOW_UPS = (2, 4)
DIFFICULTY = (1, 3)
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
TOPIC_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")

DECK_KEYS = ("name", "description")
QUESTION_KEYS = (
    "id",
    "topic",
    "difficulty",
    "kind",
    "prompt",
    "model_answer",
    "rubric",
    "follow_ups",
    "misconception",
    "references",
    "simulation",
    "numeric",
)
RUBRIC_KEYS = ("text", "must_have")
MISCONCEPTION_KEYS = ("belief", "correction")
SIMULATION_KEYS = ("experiment", "params", "look_for")
NUMERIC_KEYS = ("answer", "tolerance", "unit")


@dataclass(frozen=True, slots=True)
class DeckError:
    path: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.key}: {self.message}"


@dataclass(frozen=True)
class Library:
    """Every deck that loaded, and every problem found on the way."""

    decks: tuple[Deck, ...] = ()
    errors: tuple[DeckError, ...] = ()
    questions: Mapping[str, Question] = field(default_factory=dict)

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(sorted({q.topic for q in self.questions.values()}))


def builtin_deck_files() -> list[Path]:
    """The decks shipped inside the ``questions`` package (works from an installed wheel)."""
    folder = resources.files("questions") / "decks"
    return sorted(
        (Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml")),
        key=lambda p: p.name,
    )


def deck_files(path: Path) -> list[Path]:
    """A deck file, or the ``*.toml`` files of a folder, sorted by name."""
    if path.is_dir():
        return sorted(path.glob("*.toml"))
    return [path]


def load_library(
    extra_paths: Iterable[str | Path] = (),
    user_dir: Path | None = None,
    check_preset: PresetChecker | None = None,
    include_builtin: bool = True,
) -> Library:
    """Load the shipped decks, the user's deck folder and any extra files or folders.

    Ids must be unique across all of them; a later duplicate is reported and skipped.
    """
    sources: list[tuple[Path, bool]] = []
    if include_builtin:
        sources += [(p, True) for p in builtin_deck_files()]
    if user_dir is not None and user_dir.is_dir():
        sources += [(p, False) for p in deck_files(user_dir)]
    errors: list[DeckError] = []
    for raw in extra_paths:
        path = Path(raw).expanduser()
        if not path.exists():
            errors.append(DeckError(str(path), 0, "deck", "no such file or folder"))
            continue
        sources += [(p, False) for p in deck_files(path)]

    decks: list[Deck] = []
    seen: dict[str, str] = {}  # id -> source of its first definition
    seen_files: set[Path] = set()
    for path, builtin in sources:
        resolved = path.resolve()
        if resolved in seen_files:
            continue
        seen_files.add(resolved)
        deck, deck_errors, ids = parse_deck(path, builtin=builtin, check_preset=check_preset)
        duplicates = set()
        for qid, line in ids:
            if qid in seen:
                duplicates.add(qid)
                deck_errors.append(
                    DeckError(
                        str(path),
                        line,
                        f"{qid}.id",
                        f"duplicate id; already used at {seen[qid]} "
                        "(ids must be unique across all decks)",
                    )
                )
            else:
                seen[qid] = f"{path}:{line}"
        errors += sorted(deck_errors, key=lambda e: e.line)
        if deck is None:
            continue
        kept = tuple(q for q in deck.questions if q.id not in duplicates)
        decks.append(Deck(deck.name, deck.path, deck.description, deck.builtin, kept))
    questions = {q.id: q for deck in decks for q in deck.questions}
    return Library(tuple(decks), tuple(errors), questions)


def parse_deck(
    path: Path, *, builtin: bool = False, check_preset: PresetChecker | None = None
) -> tuple[Deck | None, list[DeckError], list[tuple[str, int]]]:
    """Parse one deck file.

    Returns the deck (``None`` if unreadable) with its valid questions, its errors, and the
    id and line of every question, valid or not (for duplicate checks).
    """
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [DeckError(where, 1, "file", f"not UTF-8 text ({exc.reason})")], []
    except OSError as exc:
        return None, [DeckError(where, 0, "file", f"cannot read: {exc.strerror or exc}")], []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(match.group(1)) if match else 1
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        return None, [DeckError(where, line, "toml", f"invalid TOML: {message}")], []

    checker = _Checker(where, _LineIndex(text), check_preset)
    deck_meta = checker.deck_table(data)
    questions: list[Question] = []
    raw_questions = data.get("question")
    if raw_questions is None:
        checker.error(("question",), "question", "no questions; expected [[question]] tables")
    elif not isinstance(raw_questions, list):
        checker.error(("question",), "question", "expected an array of [[question]] tables")
    else:
        for index, raw in enumerate(raw_questions):
            question = checker.question(index, raw, deck_meta[0] or path.stem)
            if question is not None:
                questions.append(question)
    name, description = deck_meta
    deck = Deck(name or path.stem, path, description, builtin, tuple(questions))
    return deck, checker.errors, checker.ids


class _LineIndex:
    """Finds the line of a table or key in TOML text, so errors can point at it.

    Keys are paths like ``("question", 2, "rubric", 0, "text")``; an unknown path falls back to
    its nearest known parent.
    """

    HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(#.*)?$")
    KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=\s*(.*)$")

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        counters: dict[tuple[Any, ...], int] = {}
        current: tuple[Any, ...] = ()
        closing: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if closing is not None:
                if line.count(closing) % 2 == 1:
                    closing = None
                continue
            header = self.HEADER.match(line)
            if header:
                current = self._table_path(header.group(2), header.group(1) == "[[", counters)
                self.lines.setdefault(current, number)
                continue
            key = self.KEY.match(line)
            if key:
                self.lines.setdefault((*current, key.group(1)), number)
                value = key.group(2)
                for quotes in ('"""', "'''"):
                    if value.startswith(quotes) and value.count(quotes) == 1:
                        closing = quotes

    @staticmethod
    def _table_path(
        name: str, is_array: bool, counters: dict[tuple[Any, ...], int]
    ) -> tuple[Any, ...]:
        path: list[Any] = []
        parts = [part.strip().strip('"') for part in name.split(".")]
        for depth, part in enumerate(parts):
            path.append(part)
            prefix = tuple(path)
            last = depth == len(parts) - 1
            if last and is_array:
                # The prefix holds the parent's index, so nested arrays count per parent.
                counters[prefix] = counters.get(prefix, -1) + 1
                path.append(counters[prefix])
            elif prefix in counters:
                path.append(counters[prefix])
        return tuple(path)

    def line(self, path: tuple[Any, ...]) -> int:
        while path:
            for candidate in (path, (*path, 0)):  # an array of tables: its first element
                if candidate in self.lines:
                    return self.lines[candidate]
            path = path[:-1]
        return 1


class _Checker:
    """Validates the parsed TOML of one deck, collecting every error."""

    def __init__(self, where: str, index: _LineIndex, check_preset: PresetChecker | None) -> None:
        self.where = where
        self.index = index
        self.check_preset = check_preset
        self.errors: list[DeckError] = []
        self.ids: list[tuple[str, int]] = []

    def error(self, path: tuple[Any, ...], key: str, message: str) -> None:
        self.errors.append(DeckError(self.where, self.index.line(path), key, message))

    def unknown_keys(
        self, table: Mapping[str, Any], allowed: Sequence[str], path: tuple[Any, ...], label: str
    ) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                self.error(
                    (*path, key),
                    f"{label}{key}",
                    f"unknown key; {hint}expected one of: {', '.join(allowed)}",
                )

    def text(
        self,
        table: Mapping[str, Any],
        key: str,
        path: tuple[Any, ...],
        label: str,
        required: bool = True,
    ) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                self.error(path, f"{label}{key}", "missing; expected a non-empty string")
            return None
        if not isinstance(value, str):
            self.error((*path, key), f"{label}{key}", f"expected a string, got {_type_name(value)}")
            return None
        if not value.strip():
            self.error((*path, key), f"{label}{key}", "empty; expected a non-empty string")
            return None
        return value.strip()

    def text_list(
        self,
        table: Mapping[str, Any],
        key: str,
        path: tuple[Any, ...],
        label: str,
        bounds: tuple[int, int] | None,
    ) -> tuple[str, ...] | None:
        value = table.get(key)
        name = f"{label}{key}"
        expected = f"{bounds[0]}-{bounds[1]} non-empty strings" if bounds else "a list of strings"
        if value is None:
            if bounds:
                self.error(path, name, f"missing; expected a list of {expected}")
            return () if not bounds else None
        if not isinstance(value, list):
            self.error((*path, key), name, f"expected a list of strings, got {_type_name(value)}")
            return None
        items: list[str] = []
        ok = True
        for position, item in enumerate(value, start=1):
            if not isinstance(item, str) or not item.strip():
                got = "an empty string" if isinstance(item, str) else _type_name(item)
                self.error((*path, key), f"{name}[{position}]", f"expected text, got {got}")
                ok = False
            else:
                items.append(item.strip())
        if bounds and not bounds[0] <= len(value) <= bounds[1]:
            self.error((*path, key), name, f"has {len(value)} items; expected {expected}")
            ok = False
        return tuple(items) if ok else None

    def table(
        self, raw: Mapping[str, Any], key: str, path: tuple[Any, ...], label: str
    ) -> dict[str, Any] | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error((*path, key), f"{label}{key}", f"expected a table, got {_type_name(value)}")
            return None
        return value

    def deck_table(self, data: Mapping[str, Any]) -> tuple[str | None, str]:
        self.unknown_keys(data, ("deck", "question"), (), "")
        deck = self.table(data, "deck", (), "")
        if deck is None:
            return None, ""
        self.unknown_keys(deck, DECK_KEYS, ("deck",), "deck.")
        name = self.text(deck, "name", ("deck",), "deck.")
        description = self.text(deck, "description", ("deck",), "deck.", required=False)
        return name, description or ""

    def question(self, index: int, raw: Any, deck_name: str) -> Question | None:
        path: tuple[Any, ...] = ("question", index)
        if not isinstance(raw, dict):
            self.error(path, f"question #{index + 1}", "expected a [[question]] table")
            return None
        before = len(self.errors)
        raw_id = raw.get("id")
        label = (
            f"{raw_id}."
            if isinstance(raw_id, str) and raw_id.strip()
            else f"question #{index + 1}."
        )
        self.unknown_keys(raw, QUESTION_KEYS, path, label)

        qid = self.text(raw, "id", path, label)
        if qid is not None:
            self.ids.append((qid, self.index.line((*path, "id"))))
        if qid is not None and not ID_PATTERN.match(qid):
            self.error(
                (*path, "id"),
                f"{label}id",
                f"'{qid}' is not a valid id; expected letters, digits, '.', '_' or '-'",
            )
        topic = self.text(raw, "topic", path, label)
        if topic is not None and not TOPIC_PATTERN.match(topic):
            self.error(
                (*path, "topic"),
                f"{label}topic",
                f"'{topic}' is not a valid topic; expected lowercase words joined by '-' "
                "(e.g. batch-size, epochs, learning-rate, tuning, diagnostics)",
            )
        difficulty = raw.get("difficulty")
        if difficulty is None:
            self.error(path, f"{label}difficulty", "missing; expected an integer 1-3")
        elif not isinstance(difficulty, int) or isinstance(difficulty, bool):
            self.error(
                (*path, "difficulty"),
                f"{label}difficulty",
                f"expected an integer 1-3, got {_type_name(difficulty)}",
            )
        elif not DIFFICULTY[0] <= difficulty <= DIFFICULTY[1]:
            self.error(
                (*path, "difficulty"),
                f"{label}difficulty",
                f"{difficulty} is out of range; expected an integer 1-3",
            )
        kind_raw = raw.get("kind", "open")
        kind: QuestionKind | None = None
        if kind_raw in ("open", "numeric"):
            kind = QuestionKind(kind_raw)
        else:
            self.error(
                (*path, "kind"),
                f"{label}kind",
                f"{kind_raw!r} is not allowed; expected 'open' or 'numeric'",
            )
        prompt = self.text(raw, "prompt", path, label)
        model_answer = self.text(raw, "model_answer", path, label)
        follow_ups = self.text_list(raw, "follow_ups", path, label, FOLLOW_UPS)
        references = self.text_list(raw, "references", path, label, None)
        rubric = self.rubric(raw, path, label, kind)
        misconception = self.misconception(raw, path, label)
        simulation = self.simulation(raw, path, label)
        numeric = self.numeric(raw, path, label, kind)

        if len(self.errors) > before:
            return None
        assert qid and topic and kind and prompt and model_answer
        assert follow_ups is not None and references is not None and rubric is not None
        return Question(
            id=qid,
            topic=topic,
            difficulty=int(difficulty),  # type: ignore[arg-type]
            kind=kind,
            prompt=prompt,
            model_answer=model_answer,
            rubric=rubric,
            follow_ups=follow_ups,
            misconception=misconception,
            references=references,
            simulation=simulation,
            numeric=numeric,
            deck=deck_name,
            source=f"{self.where}:{self.index.line(path)}",
        )

    def rubric(
        self, raw: Mapping[str, Any], path: tuple[Any, ...], label: str, kind: QuestionKind | None
    ) -> tuple[RubricPoint, ...] | None:
        value = raw.get("rubric")
        name = f"{label}rubric"
        if kind is QuestionKind.NUMERIC:
            if value is not None:
                self.error(
                    (*path, "rubric"),
                    name,
                    "numeric questions are graded automatically; expected no rubric",
                )
                return None
            return ()
        if value is None:
            if kind is QuestionKind.OPEN:
                self.error(path, name, "missing; expected 3-6 [[question.rubric]] points")
            return None
        if not isinstance(value, list):
            self.error((*path, "rubric"), name, "expected [[question.rubric]] tables")
            return None
        points: list[RubricPoint] = []
        ok = True
        for position, item in enumerate(value):
            item_path = (*path, "rubric", position)
            item_label = f"{name}[{position + 1}]."
            if not isinstance(item, dict):
                self.error(item_path, item_label[:-1], "expected a table with text and must_have")
                ok = False
                continue
            self.unknown_keys(item, RUBRIC_KEYS, item_path, item_label)
            text = self.text(item, "text", item_path, item_label)
            must = item.get("must_have", False)
            if not isinstance(must, bool):
                self.error(
                    (*item_path, "must_have"),
                    f"{item_label}must_have",
                    f"expected true or false, got {_type_name(must)}",
                )
                ok = False
            if text is None:
                ok = False
            else:
                points.append(RubricPoint(text, bool(must)))
        low, high = RUBRIC_POINTS
        if not low <= len(value) <= high:
            self.error((*path, "rubric"), name, f"has {len(value)} points; expected {low}-{high}")
            ok = False
        elif ok and not any(p.must_have for p in points):
            self.error(
                (*path, "rubric"),
                name,
                "no must-have point; expected at least one point with must_have = true",
            )
            ok = False
        return tuple(points) if ok else None

    def misconception(
        self, raw: Mapping[str, Any], path: tuple[Any, ...], label: str
    ) -> Misconception | None:
        table = self.table(raw, "misconception", path, label)
        if table is None:
            return None
        sub = (*path, "misconception")
        self.unknown_keys(table, MISCONCEPTION_KEYS, sub, f"{label}misconception.")
        belief = self.text(table, "belief", sub, f"{label}misconception.")
        correction = self.text(table, "correction", sub, f"{label}misconception.")
        return Misconception(belief, correction) if belief and correction else None

    def simulation(
        self, raw: Mapping[str, Any], path: tuple[Any, ...], label: str
    ) -> SimulationPreset | None:
        table = self.table(raw, "simulation", path, label)
        if table is None:
            return None
        sub = (*path, "simulation")
        name = f"{label}simulation."
        self.unknown_keys(table, SIMULATION_KEYS, sub, name)
        experiment = self.text(table, "experiment", sub, name)
        look_for = self.text(table, "look_for", sub, name, required=False) or ""
        params = table.get("params", {})
        if not isinstance(params, dict):
            self.error(
                (*sub, "params"),
                f"{name}params",
                f"expected a table of parameters, got {_type_name(params)}",
            )
            return None
        if experiment is None:
            return None
        if self.check_preset is not None:
            problems = self.check_preset(experiment, dict(params))
            for problem in problems:
                self.error((*sub, "params"), f"{name}params", problem)
            if problems:
                return None
        return SimulationPreset(experiment, freeze(params), look_for)

    def numeric(
        self, raw: Mapping[str, Any], path: tuple[Any, ...], label: str, kind: QuestionKind | None
    ) -> NumericAnswer | None:
        table = self.table(raw, "numeric", path, label)
        name = f"{label}numeric"
        if kind is not QuestionKind.NUMERIC:
            if table is not None and kind is QuestionKind.OPEN:
                self.error(
                    (*path, "numeric"),
                    name,
                    'only numeric questions take an answer; expected kind = "numeric"',
                )
            return None
        if table is None:
            if "numeric" not in raw:
                self.error(
                    path,
                    f"{name}.answer",
                    "missing; numeric questions need [question.numeric] with answer = <number>",
                )
            return None
        sub = (*path, "numeric")
        self.unknown_keys(table, NUMERIC_KEYS, sub, f"{name}.")
        answer = table.get("answer")
        tolerance = table.get("tolerance", 0)
        unit = table.get("unit", "")
        ok = True
        if answer is None:
            self.error(sub, f"{name}.answer", "missing; expected a number")
            ok = False
        elif not _is_number(answer):
            self.error(
                (*sub, "answer"), f"{name}.answer", f"expected a number, got {_type_name(answer)}"
            )
            ok = False
        if not _is_number(tolerance) or tolerance < 0:
            got = tolerance if _is_number(tolerance) else _type_name(tolerance)
            self.error(
                (*sub, "tolerance"), f"{name}.tolerance", f"got {got}; expected a number >= 0"
            )
            ok = False
        if not isinstance(unit, str):
            self.error((*sub, "unit"), f"{name}.unit", f"expected a string, got {_type_name(unit)}")
            ok = False
        if not ok:
            return None
        return NumericAnswer(float(answer), float(tolerance), unit.strip())  # type: ignore[arg-type]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _type_name(value: Any) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)
