"""Text from a deck never carries a terminal control sequence into the program."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import unicodedata
from typing import TYPE_CHECKING, Any

import pytest

from questions.loader import load_library
from questions.untrusted import clean_text

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# In TOML escapes: clear screen, set window title (OSC 0), write the clipboard (OSC 52),
# a C1 CSI, and a right-to-left override.
EVIL = r"\u001b[2J\u001b]0;pwned\u0007\u001b]52;c;ZXZpbA==\u0007\u009b31m\u202eevil"
SHOWN = "␛[2J␛]0;pwned␇␛]52;c;ZXZpbA==␇␛[31m⟨U+202E⟩evil"


def is_dangerous(char: str) -> bool:
    """A character a terminal may act on, or one that reorders how a line reads."""
    code = ord(char)
    if char in "\n\t":
        return False
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or unicodedata.bidirectional(char)
        in {
            "LRE",
            "RLE",
            "LRO",
            "RLO",
            "PDF",
            "LRI",
            "RLI",
            "FSI",
            "PDI",
        }
    )


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (
            "plain text, [b]markup[/b] is not my concern",
            "plain text, [b]markup[/b] is not my concern",
        ),
        ("line one\n\tindented", "line one\n\tindented"),
        ("windows\r\nline", "windows\nline"),
        ("over\rwrite", "over␍write"),
        ("\x1b[2J", "␛[2J"),
        ("\x1b]0;title\x07", "␛]0;title␇"),
        ("\x00\x08\x7f", "␀␈␡"),
        ("\x9b31m \x9d0;t\x9c", "␛[31m ␛]0;t␛\\"),
        ("\u202aa\u202bb\u202cc\u202dd\u202ee", "⟨U+202A⟩a⟨U+202B⟩b⟨U+202C⟩c⟨U+202D⟩d⟨U+202E⟩e"),
        ("\u2066a\u2067b\u2068c\u2069", "⟨U+2066⟩a⟨U+2067⟩b⟨U+2068⟩c⟨U+2069⟩"),
        ("emoji 🙂, accents é, Greek λ", "emoji 🙂, accents é, Greek λ"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),  # json.loads makes these
    ],
)
def test_clean_text_makes_controls_visible_and_keeps_the_rest(raw: str, shown: str) -> None:
    assert clean_text(raw) == shown
    assert clean_text(shown) == shown, "cleaning twice changes nothing"
    shown.encode("utf-8")  # printable on any UTF-8 terminal


def test_clean_text_leaves_no_dangerous_character() -> None:
    every = "".join(chr(c) for c in range(0x300)) + "".join(chr(c) for c in range(0x2000, 0x2100))
    cleaned = clean_text(every)
    assert not [hex(ord(c)) for c in cleaned if is_dangerous(c)]


EVIL_DECK = f'''
[deck]
name = "Deck {EVIL}"
description = "About {EVIL}"

[[question]]
id = "evil-open"
topic = "batch-size"
difficulty = 2
prompt = "Prompt {EVIL}"
model_answer = """Answer {EVIL}"""
follow_ups = ["Follow {EVIL}", {{ text = "Probe {EVIL}", probes = 1 }}]
references = ["Ref {EVIL}"]
red_flags = ["Flag {EVIL}"]

[question.misconception]
belief = "Belief {EVIL}"
correction = "Correction {EVIL}"

[[question.rubric]]
text = "Point {EVIL}"
must_have = true

[[question.rubric]]
text = "Second {EVIL}"

[[question.rubric]]
text = "Third {EVIL}"

[question.simulation]
experiment = "exp {EVIL}"
params = {{ "key {EVIL}" = "value {EVIL}", list = ["item {EVIL}"] }}
look_for = "Look {EVIL}"

[[question]]
id = "evil-numeric"
topic = "epochs"
difficulty = 1
kind = "numeric"
prompt = "How many {EVIL}?"
model_answer = "Three {EVIL}."
follow_ups = ["One {EVIL}", "Two {EVIL}"]

[question.numeric]
answer = 3
unit = "units {EVIL}"
'''


def strings_in(value: Any) -> Iterator[str]:
    """Every string held anywhere in a loaded object."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from strings_in(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)


def test_every_text_field_of_a_deck_loads_with_controls_visible(tmp_path: Path) -> None:
    path = tmp_path / "evil.toml"
    path.write_text(EVIL_DECK, encoding="utf-8")
    library = load_library([path], include_builtin=False)
    assert library.errors == ()
    (deck,) = library.decks
    texts = list(strings_in(deck))
    assert not [t for t in texts if any(is_dangerous(c) for c in t)]
    shown = [t for t in texts if SHOWN in t]
    # The deck's name and description; the open question's prompt, answer, 2 follow-ups,
    # reference, red flag, belief, correction, 3 rubric points, experiment, look_for, param key,
    # value and list item; the numeric one's prompt, answer, 2 follow-ups and unit; and the
    # deck name each question carries.
    assert len(shown) == 2 + 16 + 5 + 2, shown
    open_q = library.questions["evil-open"]
    assert open_q.prompt == f"Prompt {SHOWN}"
    assert open_q.simulation is not None
    assert open_q.simulation.params_dict == {
        f"key {SHOWN}": f"value {SHOWN}",
        "list": [f"item {SHOWN}"],
    }
    numeric = library.questions["evil-numeric"].numeric
    assert numeric is not None and numeric.unit == f"units {SHOWN}"


@pytest.mark.parametrize(
    "body",
    [
        f'[deck]\nname = "x"\n"bad {EVIL}" = 1\n',  # unknown key echoed
        f'[deck]\nname = "x"\n[[question]]\nid = "{EVIL}"\n',  # invalid id echoed
        f'[deck]\nname = "x"\n[[question]]\nid = "q"\ntopic = "{EVIL}"\n',  # invalid topic
        f'[deck]\nname = "x"\n[[question]]\nid = "q"\nkind = "{EVIL}"\n',  # invalid kind
        f'[deck]\nname = "x"\n[[question]]\nid = "q"\n"{EVIL}" = 1\n',  # key of a question
    ],
)
def test_validator_messages_echo_bad_keys_and_values_cleaned(tmp_path: Path, body: str) -> None:
    path = tmp_path / "bad\x1b]0;name\x07.toml"  # the file name is untrusted too
    path.write_text(body, encoding="utf-8")
    errors = [str(e) for e in load_library([path], include_builtin=False).errors]
    assert errors
    assert not [e for e in errors if any(is_dangerous(c) for c in e)], errors
    assert any("␛" in e.split(": ", 1)[1] for e in errors), "the echoed value stays visible"
    assert all(e.startswith(f"{tmp_path}/bad␛]0;name␇.toml:") for e in errors)


def test_cli_output_carries_no_escape_from_a_deck(tmp_path: Path) -> None:
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "evil.toml").write_text(EVIL_DECK, encoding="utf-8")
    (decks / "bad.toml").write_text(f'[deck]\nname = "x"\n"k{EVIL}" = 1\n', encoding="utf-8")
    for command in (["deck", "list"], ["deck", "validate"]):
        result = subprocess.run(
            [sys.executable, "-m", "quizapp", "--home", str(tmp_path), *command],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in result.stderr, result.stderr
        assert "␛" in result.stdout, "the deck's text is shown, made visible"
        out = result.stdout + result.stderr
        assert not [hex(ord(c)) for c in out if is_dangerous(c)], command
