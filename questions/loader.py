"""Load question decks from TOML and validate them, reporting every problem at once.

Each problem is a :class:`DeckError` whose text reads ``file:line: key: what is wrong``
(``file: key: what is wrong`` for a problem with the whole file). Bad input never raises: a
broken deck yields errors, and its valid questions still load. A bad file costs only itself:
only regular files are read (never a FIFO, a device or a folder) within the ``MAX_*`` limits
below, a link loop or nesting too deep to parse is that file's error, and a decks folder that
cannot be read is reported.

Deck files are untrusted: every text field and every echoed key or value in an error goes
through :func:`questions.untrusted.clean_text`, so no control character reaches a terminal.
The format itself is documented in the README ("Writing your own deck").
"""

from __future__ import annotations

import difflib
import errno
import json
import math
import os
import re
import stat
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

from questions.model import (
    RUN_FORMAT,
    RUN_METRICS,
    RUN_SERIES,
    RUN_X_AXES,
    Deck,
    Diagnosis,
    Misconception,
    NumericAnswer,
    Question,
    QuestionKind,
    RubricPoint,
    SimulationPreset,
    StoredRun,
    StoredSeries,
    freeze,
)
from questions.untrusted import clean_text

PresetChecker = Callable[[str, dict[str, Any]], list[str]]
"""Checks a simulation preset (experiment name, parameters); returns error messages."""

RUBRIC_POINTS = (3, 6)
FOLLOW_UPS = (2, 4)
RED_FLAGS = (1, 4)
DIFFICULTY = (1, 3)
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
TOPIC_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")

# Limits that keep one crafted file from costing more than itself (the shipped decks are
# under 100 KB, about 10 questions each, with keys of 2 or 3 parts).
MAX_DECK_BYTES = 5 * 1024 * 1024
MAX_QUESTIONS = 1000  # per deck file
MAX_ERRORS = 100  # listed per deck file; the rest are counted
MAX_PARAM_NESTING = 3  # params table > list > (spare level) > value
MAX_KEY_PARTS = 32  # tomllib's time grows with the square of a dotted key's length
# A stored run (diagnose questions) is a few KB: epochs x a handful of series.
MAX_RUN_BYTES = 256 * 1024
MAX_RUN_POINTS = 2000  # evaluation points per stored training run
MAX_RUN_LINES = 4  # training runs per stored run file
CHOICES = (2, 5)
MAX_METRICS = 3
RUNS_FOLDER = "runs"  # beside the deck file: <deck folder>/runs/<run id>.json
_KEY_PART = r"""(?:[A-Za-z0-9_-]++|"(?:[^"\\\n]|\\.)*+"|'[^'\n]*+')"""
# Runs of 5 or more dotted parts. The look-behind lets a run start only where a key can (not
# inside a word, right after a quote, a dot or a backslash), and finditer resumes after each
# run, so the scan is linear; a plain search for 33 parts would retry inside every near-miss.
_DOTTED_RUN = re.compile(
    rf"""(?<![A-Za-z0-9_.\\"'-]){_KEY_PART}(?:[ \t]*+\.[ \t]*+{_KEY_PART}){{4,}}+"""
)
_KEY_PARTS = re.compile(_KEY_PART)

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
    "red_flags",
    "diagnose",
)
RUBRIC_KEYS = ("text", "must_have")
FOLLOW_UP_KEYS = ("text", "probes")
MISCONCEPTION_KEYS = ("belief", "correction")
SIMULATION_KEYS = ("experiment", "params", "look_for")
NUMERIC_KEYS = ("answer", "tolerance", "unit")
DIAGNOSE_KEYS = ("run", "metrics", "x_axis", "choices", "answer", "fix")
AUTO_GRADED = (QuestionKind.NUMERIC, QuestionKind.DIAGNOSE)


@dataclass(frozen=True, slots=True)
class DeckError:
    """One problem; ``line`` 0 means the whole file (or folder).

    Every field is cleaned on construction: paths, keys and values echoed from a deck are
    untrusted text.
    """

    path: str
    line: int
    key: str
    message: str

    def __post_init__(self) -> None:
        for name in ("path", "key", "message"):
            object.__setattr__(self, name, clean_text(getattr(self, name)))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.key}: {self.message}"


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


def deck_files(folder: Path) -> list[Path]:
    """The ``*.toml`` entries of a folder, sorted by name; hidden ones (editor lock files such as
    ``.#deck.toml``) are skipped. Raises ``OSError`` when the folder cannot be listed."""
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if e.name.endswith(".toml") and e.name[0] != "."]
    return [folder / name for name in sorted(names)]


class DeckReadError(Exception):
    """A deck file that cannot be read; the text says why, for the user."""


def read_deck_bytes(
    path: Path, limit: int = MAX_DECK_BYTES, *, what: str = "a deck file", suffix: str = ".toml"
) -> tuple[bytes, tuple[int, int]]:
    """The bytes of a deck file and its identity ``(st_dev, st_ino)``.

    Only a regular file of at most ``limit`` bytes is read, so a FIFO cannot block, a device
    such as ``/dev/zero`` cannot fill memory, and a link loop is an error, not a traceback.
    ``what`` and ``suffix`` name the kind of file in messages (a stored run is read the same
    way). Raises :class:`DeckReadError`.
    """
    try:
        info = os.stat(path)  # follows links, so a link to a FIFO is seen as a FIFO
        _check_regular(info, limit, what, suffix)
        # O_NONBLOCK: were the file swapped for a FIFO after the stat, open must not wait.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
        try:
            info = os.fstat(fd)  # what was opened, not what was stat-ed
            _check_regular(info, limit, what, suffix)
            chunks: list[bytes] = []
            left = limit + 1  # one byte more than allowed tells a file that grew meanwhile
            while left > 0:
                chunk = os.read(fd, min(left, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise DeckReadError(f"cannot read: {_os_reason(exc, path)}") from None
    if left <= 0:
        raise DeckReadError(_too_large(limit, None, what))
    return b"".join(chunks), (info.st_dev, info.st_ino)


def _check_regular(
    info: os.stat_result, limit: int, what: str = "a deck file", suffix: str = ".toml"
) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise DeckReadError(
            f"not a regular file ({_file_kind(info.st_mode)}); expected a {suffix} file"
        )
    if info.st_size > limit:
        raise DeckReadError(_too_large(limit, info.st_size, what))


def _too_large(limit: int, size: int | None = None, what: str = "a deck file") -> str:
    """``size`` is None when the file grew past the limit while being read."""
    mb = 1024 * 1024
    shown = f"{size / mb:.1f} MB" if size is not None else f"over {limit / mb:g} MB"
    return f"too large ({shown}); {what} may be at most {limit / mb:g} MB"


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a plain file")


def _os_reason(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return "broken symbolic link (its target does not exist)"
    return exc.strerror or str(exc)


def _expand(path: Path, *, folder_only: bool) -> tuple[list[Path], DeckError | None]:
    """The deck files a path stands for (itself, or a folder's decks), or the problem with it.

    ``folder_only`` is for the user's decks folder: missing is fine (no user decks), anything
    else that is not a readable folder is reported.
    """
    where = str(path)
    key = "folder" if folder_only else "deck"
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT and not os.path.islink(path):
            return [], None if folder_only else DeckError(where, 0, key, "no such file or folder")
        return [], DeckError(where, 0, key, f"cannot read: {_os_reason(exc, path)}")
    if stat.S_ISDIR(info.st_mode):
        try:
            return deck_files(path), None
        except OSError as exc:
            return [], DeckError(where, 0, key, f"cannot list the folder: {_os_reason(exc, path)}")
    if folder_only:
        kind = _file_kind(info.st_mode) if not stat.S_ISREG(info.st_mode) else "a file"
        return [], DeckError(
            where, 0, key, f"not a folder ({kind}); expected a folder of .toml decks"
        )
    return [path], None


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
    errors: list[DeckError] = []
    if include_builtin:
        sources += [(p, True) for p in builtin_deck_files()]
    found: list[tuple[Path, bool]] = []
    if user_dir is not None:
        found.append((user_dir, True))
    found += [(Path(raw).expanduser(), False) for raw in extra_paths]
    for path, folder_only in found:
        files, problem = _expand(path, folder_only=folder_only)
        sources += [(p, False) for p in files]
        if problem is not None:
            errors.append(problem)

    decks: list[Deck] = []
    seen: dict[str, str] = {}  # id -> source of its first definition
    seen_files: set[tuple[int, int]] = set()
    unreadable: set[str] = set()
    for path, builtin in sources:
        try:
            data, identity = read_deck_bytes(path)
        except DeckReadError as exc:
            if os.path.abspath(path) not in unreadable:  # reached twice: say it once
                unreadable.add(os.path.abspath(path))
                errors.append(DeckError(str(path), 0, "file", str(exc)))
            continue
        if identity in seen_files:  # the same file reached twice (a link, or --deck twice)
            continue
        seen_files.add(identity)
        deck, deck_errors, ids = parse_deck_bytes(
            path, data, builtin=builtin, check_preset=check_preset
        )
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
        errors += sorted(deck_errors, key=lambda e: e.line or math.inf)  # whole-file notes last
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
    try:
        data, _ = read_deck_bytes(path)
    except DeckReadError as exc:
        return None, [DeckError(str(path), 0, "file", str(exc))], []
    return parse_deck_bytes(path, data, builtin=builtin, check_preset=check_preset)


def parse_deck_bytes(
    path: Path, data: bytes, *, builtin: bool = False, check_preset: PresetChecker | None = None
) -> tuple[Deck | None, list[DeckError], list[tuple[str, int]]]:
    """:func:`parse_deck` for bytes already read from ``path``."""
    where = str(path)
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")  # a BOM from Windows editors
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [DeckError(where, line, "file", f"not UTF-8 text ({exc.reason})")], []
    long_key = _overlong_key_line(text)
    if long_key is not None:
        message = (
            f"more than {MAX_KEY_PARTS} dot-joined parts in a row; a key has at most 3 (one that "
            "long would take hours to parse)"
        )
        return None, [DeckError(where, long_key, "toml", message)], []
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(match.group(1)) if match else 1
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        return None, [DeckError(where, line, "toml", f"invalid TOML: {message}")], []
    except RecursionError:
        message = "invalid TOML: arrays or tables nested too deeply to read"
        return None, [DeckError(where, 0, "toml", message)], []
    except ValueError as exc:  # tomllib lets int() errors through, e.g. a 5000-digit integer
        return None, [DeckError(where, 0, "toml", f"invalid TOML: {exc}")], []
    return _check_deck(path, text, parsed, builtin, check_preset)


def _overlong_key_line(text: str) -> int | None:
    """The first line holding a run of more than :data:`MAX_KEY_PARTS` dotted parts."""
    for number, line in enumerate(text.split("\n"), start=1):
        if line.count(".") < MAX_KEY_PARTS:  # a key lies on one line; most lines end here
            continue
        runs = _DOTTED_RUN.finditer(line)
        if any(len(_KEY_PARTS.findall(run.group())) > MAX_KEY_PARTS for run in runs):
            return number
    return None


def _check_deck(
    path: Path,
    text: str,
    data: dict[str, Any],
    builtin: bool,
    check_preset: PresetChecker | None,
) -> tuple[Deck | None, list[DeckError], list[tuple[str, int]]]:
    checker = _Checker(clean_text(str(path)), _LineIndex(text), check_preset, path.parent)
    deck_meta = checker.deck_table(data)
    questions: list[Question] = []
    raw_questions = data.get("question")
    if raw_questions is None:
        checker.error(("question",), "question", "no questions; expected [[question]] tables")
    elif not isinstance(raw_questions, list):
        checker.error(("question",), "question", "expected an array of [[question]] tables")
    elif len(raw_questions) > MAX_QUESTIONS:
        message = f"{len(raw_questions)} questions; a deck file holds at most {MAX_QUESTIONS}"
        checker.error(("question",), "question", f"{message} (split it into several files)")
    else:
        for index, raw in enumerate(raw_questions):
            question = checker.question(index, raw, deck_meta[0] or clean_text(path.stem))
            if question is not None:
                questions.append(question)
    name, description = deck_meta
    deck = Deck(name or clean_text(path.stem), path, description, builtin, tuple(questions))
    errors = checker.errors
    if checker.problems > len(errors):
        more = checker.problems - len(errors)
        errors.append(DeckError(str(path), 0, "file", f"and {more} more problems not listed"))
    return deck, errors, checker.ids


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

    def __init__(
        self,
        where: str,
        index: _LineIndex,
        check_preset: PresetChecker | None,
        folder: Path | None = None,
    ) -> None:
        self.where = where
        self.index = index
        self.check_preset = check_preset
        self.folder = folder  # the deck file's folder, where its stored runs are looked up
        self.errors: list[DeckError] = []  # the first MAX_ERRORS problems
        self.problems = 0  # all of them
        self.ids: list[tuple[str, int]] = []

    @property
    def full(self) -> bool:
        return len(self.errors) >= MAX_ERRORS

    def error(self, path: tuple[Any, ...], key: str, message: str) -> None:
        self.problems += 1
        if not self.full:
            self.errors.append(DeckError(self.where, self.index.line(path), key, message))

    def unknown_keys(
        self, table: Mapping[str, Any], allowed: Sequence[str], path: tuple[Any, ...], label: str
    ) -> None:
        for key in table:
            if key in allowed:
                continue
            if self.full:  # counted only: a table of a million typos must not cost minutes
                self.problems += 1
            else:
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
        return clean_text(value.strip())

    def text_list(
        self,
        table: Mapping[str, Any],
        key: str,
        path: tuple[Any, ...],
        label: str,
        bounds: tuple[int, int] | None,
    ) -> tuple[str, ...] | None:
        """An optional list of strings; ``bounds`` limits its length when it is given."""
        value = table.get(key)
        name = f"{label}{key}"
        expected = f"{bounds[0]}-{bounds[1]} non-empty strings" if bounds else "a list of strings"
        if value is None:
            return ()
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
                items.append(clean_text(item.strip()))
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
        before = self.problems
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
        if kind_raw in tuple(QuestionKind):
            kind = QuestionKind(kind_raw)
        else:
            self.error(
                (*path, "kind"),
                f"{label}kind",
                f"{_quoted(kind_raw)} is not allowed; expected 'open', 'numeric' or 'diagnose'",
            )
        prompt = self.text(raw, "prompt", path, label)
        model_answer = self.text(raw, "model_answer", path, label)
        references = self.text_list(raw, "references", path, label, None)
        rubric = self.rubric(raw, path, label, kind)
        follow_ups = self.follow_ups(raw, path, label, kind, rubric)
        red_flags = self.red_flags(raw, path, label, kind, rubric)
        misconception = self.misconception(raw, path, label)
        simulation = self.simulation(raw, path, label, kind)
        numeric = self.numeric(raw, path, label, kind)
        diagnosed = self.diagnose(raw, path, label, kind)
        diagnosis = None
        if diagnosed is not None:
            diagnosis, simulation = diagnosed  # a diagnose question's demo is its fix

        if self.problems > before:
            return None
        assert qid and topic and kind and prompt and model_answer
        assert follow_ups is not None and references is not None and rubric is not None
        assert red_flags is not None
        return Question(
            id=qid,
            topic=topic,
            difficulty=int(difficulty),  # type: ignore[arg-type]
            kind=kind,
            prompt=prompt,
            model_answer=model_answer,
            rubric=rubric,
            follow_ups=tuple(text for text, _ in follow_ups),
            follow_up_probes=_probes_or_empty(follow_ups),
            red_flags=red_flags,
            misconception=misconception,
            references=references,
            simulation=simulation,
            numeric=numeric,
            diagnosis=diagnosis,
            deck=deck_name,
            source=f"{self.where}:{self.index.line(path)}",
        )

    def rubric(
        self, raw: Mapping[str, Any], path: tuple[Any, ...], label: str, kind: QuestionKind | None
    ) -> tuple[RubricPoint, ...] | None:
        value = raw.get("rubric")
        name = f"{label}rubric"
        if kind in AUTO_GRADED:
            if value is not None:
                self.error(
                    (*path, "rubric"),
                    name,
                    f"{kind} questions are graded automatically; expected no rubric",
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

    def follow_ups(
        self,
        raw: Mapping[str, Any],
        path: tuple[Any, ...],
        label: str,
        kind: QuestionKind | None,
        rubric: tuple[RubricPoint, ...] | None,
    ) -> list[tuple[str, int | None]] | None:
        """Each follow-up's text and the 0-based rubric point it probes (or None).

        A follow-up is a string, or ``{ text = "...", probes = N }`` naming rubric point N
        (1-based, as the review screen numbers them).
        """
        value = raw.get("follow_ups")
        name = f"{label}follow_ups"
        low, high = FOLLOW_UPS
        expected_items = f"{low}-{high} non-empty strings or {{ text, probes }} tables"
        expected = f"a list of {expected_items}"
        if value is None:
            self.error(path, name, f"missing; expected {expected}")
            return None
        if not isinstance(value, list):
            self.error((*path, "follow_ups"), name, f"expected {expected}, got {_type_name(value)}")
            return None
        where = (*path, "follow_ups")
        before = self.problems
        items: list[tuple[str, int | None]] = []
        for position, item in enumerate(value, start=1):
            item_name = f"{name}[{position}]"
            if isinstance(item, dict):
                self.unknown_keys(item, FOLLOW_UP_KEYS, where, f"{item_name}.")
                text = self.text(item, "text", where, f"{item_name}.")
                probes = self.probes(item, where, f"{item_name}.", kind, rubric)
                items.append((text or "", probes))
            elif isinstance(item, str) and item.strip():
                items.append((clean_text(item.strip()), None))
            else:
                got = "an empty string" if isinstance(item, str) else _type_name(item)
                self.error(
                    where, item_name, f"expected text or a {{ text, probes }} table, got {got}"
                )
        if not low <= len(value) <= high:
            self.error(where, name, f"has {len(value)} items; expected {expected_items}")
        return items if self.problems == before else None

    def probes(
        self,
        item: Mapping[str, Any],
        path: tuple[Any, ...],
        label: str,
        kind: QuestionKind | None,
        rubric: tuple[RubricPoint, ...] | None,
    ) -> int | None:
        """The 0-based rubric point a follow-up probes, or None (when it names none, and when
        ``probes`` is wrong or the rubric is broken: both are reported)."""
        value = item.get("probes")
        if value is None:
            return None
        name = f"{label}probes"
        if kind in AUTO_GRADED:
            self.error(path, name, f"{kind} questions have no rubric points to probe")
            return None
        count = len(rubric) if rubric else 0
        expected = f"the number of a rubric point, 1-{count}" if count else "a rubric point"
        if not isinstance(value, int) or isinstance(value, bool):
            self.error(path, name, f"expected {expected}, got {_type_name(value)}")
        elif rubric is not None and not 1 <= value <= count:
            self.error(path, name, f"{value} names no rubric point; expected {expected}")
        elif rubric is not None:
            return value - 1
        return None

    def red_flags(
        self,
        raw: Mapping[str, Any],
        path: tuple[Any, ...],
        label: str,
        kind: QuestionKind | None,
        rubric: tuple[RubricPoint, ...] | None,
    ) -> tuple[str, ...] | None:
        name = f"{label}red_flags"
        where = (*path, "red_flags")
        if "red_flags" in raw and kind in AUTO_GRADED:
            self.error(where, name, f"{kind} questions are graded automatically; expected none")
            return None
        flags = self.text_list(raw, "red_flags", path, label, RED_FLAGS)
        if not flags:
            return flags
        before = self.problems
        points = [_same_text(p.text) for p in rubric or ()]
        seen: list[str] = []
        for position, flag in enumerate(flags, start=1):
            key = _same_text(flag)
            if key in seen:
                message = f"repeats red flag {seen.index(key) + 1}"
                self.error(where, f"{name}[{position}]", message)
            elif key in points:
                self.error(
                    where,
                    f"{name}[{position}]",
                    f"is also rubric point {points.index(key) + 1}; a red flag is a wrong "
                    "statement that lowers the rating, never a point to earn",
                )
            seen.append(key)
        return flags if self.problems == before else None

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
        self, raw: Mapping[str, Any], path: tuple[Any, ...], label: str, kind: QuestionKind | None
    ) -> SimulationPreset | None:
        table = self.table(raw, "simulation", path, label)
        if table is None:
            return None
        if kind is QuestionKind.DIAGNOSE:
            self.error(
                (*path, "simulation"),
                f"{label}simulation",
                "a diagnose question's demo is the fix; expected [question.diagnose.fix]",
            )
            return None
        return self.preset(table, (*path, "simulation"), f"{label}simulation.")

    def preset(
        self, table: Mapping[str, Any], sub: tuple[Any, ...], name: str
    ) -> SimulationPreset | None:
        """A simulation preset table (``[question.simulation]``, a diagnose question's fix)."""
        self.unknown_keys(table, SIMULATION_KEYS, sub, name)
        experiment = self.text(table, "experiment", sub, name)
        look_for = self.text(table, "look_for", sub, name, required=False) or ""
        raw_params = table.get("params", {})
        depth = _nesting(raw_params)
        if depth > MAX_PARAM_NESTING:
            # Checked without recursion: cleaning, freezing and the preset checker all recurse,
            # and a value nested just below the parser's limit would overflow them.
            self.error(
                (*sub, "params"),
                f"{name}params",
                f"values nested {depth} levels deep; expected each parameter to be a value "
                "or a list of values",
            )
            return None
        params = _clean_value(raw_params)
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

    def diagnose(
        self, raw: Mapping[str, Any], path: tuple[Any, ...], label: str, kind: QuestionKind | None
    ) -> tuple[Diagnosis, SimulationPreset] | None:
        """A diagnose question's ``[question.diagnose]`` table, its stored run and its fix."""
        table = self.table(raw, "diagnose", path, label)
        name = f"{label}diagnose"
        sub = (*path, "diagnose")
        if kind is not QuestionKind.DIAGNOSE:
            if table is not None and kind is not None:
                message = 'only diagnose questions show a stored run; expected kind = "diagnose"'
                self.error(sub, name, message)
            return None
        if table is None:
            if "diagnose" not in raw:
                self.error(
                    path,
                    name,
                    "missing; diagnose questions need [question.diagnose] with run, metrics, "
                    "choices, answer and [question.diagnose.fix]",
                )
            return None
        before = self.problems
        self.unknown_keys(table, DIAGNOSE_KEYS, sub, f"{name}.")
        run = self.stored_run(table, sub, f"{name}.")
        metrics = self.text_list(table, "metrics", sub, f"{name}.", (1, MAX_METRICS))
        if "metrics" not in table:
            self.error(
                sub,
                f"{name}.metrics",
                f"missing; expected 1-{MAX_METRICS} of: " + ", ".join(RUN_METRICS),
            )
        for metric in metrics or ():
            if metric not in RUN_METRICS:
                self.error(
                    (*sub, "metrics"),
                    f"{name}.metrics",
                    f"unknown metric '{metric}'; expected one of: {', '.join(RUN_METRICS)}",
                )
            elif run is not None and any(not line.values(metric) for line in run.runs):
                self.error(
                    (*sub, "metrics"),
                    f"{name}.metrics",
                    f"the stored run '{run.id}' has no '{metric}' series",
                )
        if metrics and len({"loss" in m for m in metrics}) > 1:
            self.error(
                (*sub, "metrics"),
                f"{name}.metrics",
                "mixes losses and accuracies; expected only losses or only accuracies (the "
                "chart has one y axis)",
            )
        x_axis = table.get("x_axis", "epoch")
        if x_axis not in RUN_X_AXES:
            got = _quoted(x_axis) if isinstance(x_axis, str) else _type_name(x_axis)
            self.error(
                (*sub, "x_axis"),
                f"{name}.x_axis",
                f"{got} is not an x axis; expected one of: {', '.join(RUN_X_AXES)}",
            )
        choices = self.text_list(table, "choices", sub, f"{name}.", CHOICES)
        if "choices" not in table:
            self.error(
                sub,
                f"{name}.choices",
                f"missing; expected {CHOICES[0]}-{CHOICES[1]} diagnoses to choose from",
            )
        elif choices:
            seen = [_same_text(c) for c in choices]
            for position, key in enumerate(seen):
                if key in seen[:position]:
                    self.error(
                        (*sub, "choices"),
                        f"{name}.choices[{position + 1}]",
                        f"repeats choice {seen.index(key) + 1}",
                    )
        answer = table.get("answer")
        count = len(choices) if choices else 0
        expected = f"the number of the right choice, 1-{count}" if count else "a choice number"
        if answer is None:
            self.error(sub, f"{name}.answer", f"missing; expected {expected}")
        elif not isinstance(answer, int) or isinstance(answer, bool):
            self.error(
                (*sub, "answer"), f"{name}.answer", f"expected {expected}, got {_type_name(answer)}"
            )
        elif choices and not 1 <= answer <= count:
            self.error(
                (*sub, "answer"), f"{name}.answer", f"{answer} names no choice; expected {expected}"
            )
        fix_table = self.table(table, "fix", sub, f"{name}.")
        fix = None
        if fix_table is None:
            if "fix" not in table:
                self.error(
                    sub,
                    f"{name}.fix",
                    "missing; expected [question.diagnose.fix], the simulation that "
                    "shows the fix working",
                )
        else:
            fix = self.preset(fix_table, (*sub, "fix"), f"{name}.fix.")
        if self.problems > before or run is None or fix is None:
            return None
        assert metrics and choices and isinstance(answer, int)
        diagnosis = Diagnosis(run, metrics, str(x_axis), choices, answer - 1)
        return diagnosis, fix

    def stored_run(
        self, table: Mapping[str, Any], sub: tuple[Any, ...], name: str
    ) -> StoredRun | None:
        """The stored run that ``run = "<id>"`` names, read and checked."""
        run_id = self.text(table, "run", sub, name)
        key = f"{name}run"
        if run_id is None:
            return None
        if not ID_PATTERN.match(run_id):
            self.error(
                (*sub, "run"),
                key,
                f"'{run_id}' is not a run id; expected letters, "
                f"digits, '.', '_' or '-' naming {RUNS_FOLDER}/<id>.json beside the deck",
            )
            return None
        if self.folder is None:
            self.error((*sub, "run"), key, "no deck folder to find the stored run in")
            return None
        relative = f"{RUNS_FOLDER}/{run_id}.json"
        file = self.folder / RUNS_FOLDER / f"{run_id}.json"
        try:
            data, _ = read_deck_bytes(file, MAX_RUN_BYTES, what="a stored run", suffix=".json")
        except DeckReadError as exc:
            reason = str(exc)
            if not file.exists() and not file.is_symlink():
                reason = "no such file; run files live in a runs/ folder beside the deck"
            self.error((*sub, "run"), key, f"{relative}: {reason}")
            return None
        run, problems = parse_stored_run(run_id, data)
        for problem in problems:
            self.error((*sub, "run"), key, f"{relative}: {problem}")
        return run

    def numeric(
        self, raw: Mapping[str, Any], path: tuple[Any, ...], label: str, kind: QuestionKind | None
    ) -> NumericAnswer | None:
        table = self.table(raw, "numeric", path, label)
        name = f"{label}numeric"
        if kind is not QuestionKind.NUMERIC:
            if table is not None and kind is not None:
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
        elif not _is_finite(answer):
            self.error(
                (*sub, "answer"), f"{name}.answer", f"got {answer}; expected a finite number"
            )
            ok = False
        if not _is_number(tolerance) or not _is_finite(tolerance) or tolerance < 0:
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
        return NumericAnswer(float(answer), float(tolerance), clean_text(unit.strip()))  # type: ignore[arg-type]


def _probes_or_empty(follow_ups: Sequence[tuple[str, int | None]]) -> tuple[int | None, ...]:
    probes = tuple(probed for _, probed in follow_ups)
    return probes if any(p is not None for p in probes) else ()


def _same_text(text: str) -> str:
    """Text compared the way a reader would: case and spacing ignored."""
    return " ".join(text.casefold().split())


def _clean_value(value: Any) -> Any:
    """A TOML value with every string in it (keys included) cleaned."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean_value(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k): _clean_value(v) for k, v in value.items()}
    return value


def _quoted(value: Any) -> str:
    """A value as an error message shows it; strings are cleaned there, not escaped by repr,
    and a list or table is named, not printed (it may be nested hundreds deep)."""
    if isinstance(value, str):
        return f"'{value}'"
    return _type_name(value) if isinstance(value, list | dict) else repr(value)


def _nesting(value: Any) -> int:
    """How many lists and tables deep ``value`` goes, found without recursion."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, list | dict):
            depth += 1
            deepest = max(deepest, depth)
            stack += [(v, depth) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


def _is_finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


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


class _RunProblem(Exception):
    """A stored run's JSON broke a rule; the text says which."""


def _strict_number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as inf
        raise _RunProblem(f"{text} is not a finite number; a non-finite value is stored as null")
    return value


def _reject_constant(text: str) -> Any:
    raise _RunProblem(f"{text} is not strict JSON; a non-finite value is stored as null")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):  # json.loads would silently keep the last value
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RunProblem(f"the key '{key}' appears twice in one object")
            seen.add(key)
    return result


def parse_stored_run(run_id: str, data: bytes) -> tuple[StoredRun | None, list[str]]:
    """Read a stored run's JSON (see ``questions/make_runs.py`` for how it is made).

    Returns the run, or None and every problem found as ``key: message`` text. The JSON must
    be strict (no NaN or Infinity: a non-finite value of a diverged run is ``null``, and only a
    run whose ``status`` is ``diverged`` may hold one).
    """
    try:
        parsed = json.loads(
            data.decode("utf-8"),
            parse_float=_strict_number,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except UnicodeDecodeError as exc:
        return None, [f"not UTF-8 text ({exc.reason})"]
    except _RunProblem as exc:
        return None, [str(exc)]
    except json.JSONDecodeError as exc:
        return None, [f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
    except RecursionError:
        return None, ["invalid JSON: arrays or objects nested too deeply to read"]
    except ValueError:  # int() refuses an integer of more than 4300 digits
        return None, ["invalid JSON: a number too long to read"]
    problems: list[str] = []
    if not isinstance(parsed, dict):
        return None, [f"expected a JSON object, got {_type_name(parsed)}"]
    if parsed.get("format") != RUN_FORMAT:
        problems.append(f"format: expected {RUN_FORMAT}, got {_quoted(parsed.get('format'))}")
    experiment = parsed.get("experiment")
    if not isinstance(experiment, str) or not experiment.strip():
        problems.append("experiment: expected the name of the experiment that made the run")
    params = parsed.get("params")
    if not isinstance(params, dict):
        problems.append(f"params: expected an object, got {_type_name(params)}")
    seed = parsed.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        problems.append(f"seed: expected an integer, got {_type_name(seed)}")
    raw_runs = parsed.get("runs")
    runs: list[StoredSeries] = []
    if not isinstance(raw_runs, list) or not 1 <= len(raw_runs) <= MAX_RUN_LINES:
        got = f"{len(raw_runs)} runs" if isinstance(raw_runs, list) else _type_name(raw_runs)
        problems.append(f"runs: expected a list of 1-{MAX_RUN_LINES} runs, got {got}")
    else:
        for position, item in enumerate(raw_runs, start=1):
            line, found = _stored_series(item, f"runs[{position}]")
            problems += found
            if line is not None:
                runs.append(line)
    if problems:
        return None, [clean_text(p) for p in problems[:MAX_ERRORS]]
    assert isinstance(experiment, str) and isinstance(params, dict) and isinstance(seed, int)
    frozen = freeze(_clean_value(params))
    return StoredRun(run_id, clean_text(experiment), frozen, seed, tuple(runs)), []


def _stored_series(item: Any, where: str) -> tuple[StoredSeries | None, list[str]]:
    if not isinstance(item, dict):
        return None, [f"{where}: expected an object, got {_type_name(item)}"]
    problems: list[str] = []
    label, status = item.get("label"), item.get("status")
    batch, lr, reason = item.get("batch_size"), item.get("lr"), item.get("reason")
    if not isinstance(label, str) or not label.strip():
        problems.append(f"{where}.label: expected a non-empty string")
    if status not in ("ok", "diverged"):
        problems.append(f"{where}.status: expected 'ok' or 'diverged', got {_quoted(status)}")
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        problems.append(f"{where}.batch_size: expected an integer >= 1")
    if not isinstance(lr, int | float) or isinstance(lr, bool) or lr <= 0:
        problems.append(f"{where}.lr: expected a number > 0")
    if reason is not None and not isinstance(reason, str):
        problems.append(f"{where}.reason: expected a string or null")
    raw = item.get("series")
    if not isinstance(raw, dict):
        return None, [*problems, f"{where}.series: expected an object of lists"]
    series: list[tuple[str, tuple[float | None, ...]]] = []
    lengths = set()
    for name, values in raw.items():
        key = f"{where}.series.{name}"
        if name not in RUN_SERIES:
            problems.append(f"{key}: unknown series; expected one of: {', '.join(RUN_SERIES)}")
            continue
        if not isinstance(values, list) or not 2 <= len(values) <= MAX_RUN_POINTS:
            problems.append(f"{key}: expected a list of 2-{MAX_RUN_POINTS} values")
            continue
        lengths.add(len(values))
        for index, value in enumerate(values):
            if value is None:
                if name in RUN_X_AXES:
                    problems.append(f"{key}[{index}]: null; an x axis is always a number")
                    break
                if status != "diverged":
                    problems.append(
                        f"{key}[{index}]: null, but the run's status is {_quoted(status)}; null "
                        "stands for a non-finite value, which only a diverged run holds"
                    )
                    break
            elif not _is_number(value):
                problems.append(
                    f"{key}[{index}]: expected a number or null, got {_type_name(value)}"
                )
                break
        else:
            if name in RUN_X_AXES and any(b < a for a, b in pairwise(values)):
                problems.append(f"{key}: expected values that never decrease")
            series.append((name, tuple(None if v is None else float(v) for v in values)))
    if "epoch" not in raw:
        problems.append(f"{where}.series.epoch: missing; every run needs its epochs")
    if len(lengths) > 1:
        problems.append(f"{where}.series: lists of different lengths ({sorted(lengths)})")
    if problems:
        return None, problems
    assert isinstance(label, str) and isinstance(status, str) and isinstance(batch, int)
    assert isinstance(lr, int | float)
    return StoredSeries(
        clean_text(label), status, batch, float(lr), tuple(series), clean_text(reason or "")
    ), []
