"""The deck format: what loads, and the message a deck author gets for each kind of mistake."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from questions.loader import load_library, parse_deck
from questions.model import QuestionKind

if TYPE_CHECKING:
    from pathlib import Path

OPEN_QUESTION = '''
[[question]]
id = "{id}"
topic = "batch-size"
difficulty = 2
prompt = "Why does [bold]batch size[/bold] change gradient noise?"
model_answer = """A mini-batch gradient is an average over B examples."""
follow_ups = ["And with Adam?", "What if memory only fits batch 8?"]
references = ["McCandlish et al., 2018"]

[[question.rubric]]
text = "Says the variance of the mean gradient falls as 1/B"
must_have = true

[[question.rubric]]
text = "Names the unit of speed"

[[question.rubric]]
text = "Gives a number"

[question.simulation]
experiment = "batch-size-sweep"
params = {{ batch_sizes = [16, 256], epochs = 2 }}
look_for = "loss after one epoch"
'''

NUMERIC_QUESTION = """
[[question]]
id = "{id}"
topic = "epochs"
difficulty = 1
kind = "numeric"
prompt = "50,000 examples, batch 128, 3 epochs: how many updates?"
model_answer = "ceil(50000 / 128) = 391 per epoch, so 1,173 in three epochs."
follow_ups = ["With drop_last?", "At batch 256?"]

[question.numeric]
answer = 1173
unit = "updates"
"""


def write_deck(folder: Path, name: str, body: str, header: str = 'name = "Test deck"') -> Path:
    path = folder / name
    path.write_text(f"[deck]\n{header}\n{body}", encoding="utf-8")
    return path


def errors_of(path: Path, check_preset=None) -> list[str]:
    library = load_library([path], include_builtin=False, check_preset=check_preset)
    return [str(e) for e in library.errors]


def test_shipped_decks_load_from_the_package_without_errors() -> None:
    library = load_library()
    assert library.decks, "no shipped deck found inside the questions package"
    assert all(deck.builtin for deck in library.decks)
    assert library.errors == ()
    assert len(library.questions) == sum(len(d.questions) for d in library.decks)


def test_valid_deck_loads_typed_immutable_questions(tmp_path: Path) -> None:
    path = write_deck(
        tmp_path,
        "mine.toml",
        OPEN_QUESTION.format(id="q-open") + NUMERIC_QUESTION.format(id="q-num"),
    )
    library = load_library([path], include_builtin=False)
    assert library.errors == ()
    (deck,) = library.decks
    assert deck.name == "Test deck" and not deck.builtin
    open_q, numeric_q = deck.questions
    assert open_q.kind is QuestionKind.OPEN
    assert [p.must_have for p in open_q.rubric] == [True, False, False]
    assert open_q.prompt == "Why does [bold]batch size[/bold] change gradient noise?"
    assert open_q.simulation is not None
    assert open_q.simulation.params_dict == {"batch_sizes": [16, 256], "epochs": 2}
    assert open_q.source == f"{path}:4"
    assert numeric_q.kind is QuestionKind.NUMERIC and numeric_q.numeric is not None
    assert numeric_q.numeric.accepts(1173) and not numeric_q.numeric.accepts(1172)
    with pytest.raises(dataclasses.FrozenInstanceError):
        open_q.prompt = "changed"  # type: ignore[misc]


def test_content_hash_changes_when_the_text_changes(tmp_path: Path) -> None:
    (tmp_path / "v2").mkdir()
    first = write_deck(tmp_path, "a.toml", OPEN_QUESTION.format(id="q"))
    edited = OPEN_QUESTION.format(id="q").replace("1/B", "1/sqrt(B)")
    second = write_deck(tmp_path / "v2", "a.toml", edited)
    (a,) = load_library([first], include_builtin=False).questions.values()
    (b,) = load_library([second], include_builtin=False).questions.values()
    assert a.id == b.id and a.content_hash != b.content_hash


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (  # a typo in a key
            ("model_answer =", "model_anser ="),
            ":9: q.model_anser: unknown key; did you mean 'model_answer'?",
        ),
        (  # wrong type
            ("difficulty = 2", 'difficulty = "hard"'),
            ":7: q.difficulty: expected an integer 1-3, got a string",
        ),
        (  # out of range
            ("difficulty = 2", "difficulty = 7"),
            ":7: q.difficulty: 7 is out of range; expected an integer 1-3",
        ),
        (  # missing field
            ('prompt = "Why does [bold]batch size[/bold] change gradient noise?"\n', ""),
            ":4: q.prompt: missing; expected a non-empty string",
        ),
        (  # empty string
            ('topic = "batch-size"', 'topic = "  "'),
            ":6: q.topic: empty; expected a non-empty string",
        ),
        (  # no must-have point
            ("must_have = true", "must_have = false"),
            ":13: q.rubric: no must-have point; expected at least one point with must_have = true",
        ),
        (  # too few follow-ups
            ('["And with Adam?", "What if memory only fits batch 8?"]', '["And with Adam?"]'),
            ":10: q.follow_ups: has 1 items; expected 2-4 non-empty strings",
        ),
        (  # wrong type inside a rubric point
            ("must_have = true", 'must_have = "yes"'),
            ":15: q.rubric[1].must_have: expected true or false, got a string",
        ),
    ],
)
def test_each_mistake_gets_a_located_message(
    tmp_path: Path, mutation: tuple[str, str], expected: str
) -> None:
    old, new = mutation
    body = OPEN_QUESTION.format(id="q")
    assert old in body
    path = write_deck(tmp_path, "deck.toml", body.replace(old, new, 1))
    errors = errors_of(path)
    assert any(e == f"{path}{expected}" or e.startswith(f"{path}{expected}") for e in errors), (
        errors
    )
    # A misspelt key is also a missing one: both are reported.
    assert len(errors) == (2 if "unknown key" in expected else 1), errors


def test_numeric_question_without_answer_is_reported(tmp_path: Path) -> None:
    body = NUMERIC_QUESTION.format(id="n").split("[question.numeric]")[0]
    path = write_deck(tmp_path, "n.toml", body)
    assert errors_of(path) == [
        f"{path}:4: n.numeric.answer: missing; numeric questions need [question.numeric] "
        "with answer = <number>"
    ]


def test_numeric_question_rejects_bad_answer_and_tolerance(tmp_path: Path) -> None:
    body = NUMERIC_QUESTION.format(id="n").replace(
        "answer = 1173", 'answer = "1173"\ntolerance = -1'
    )
    path = write_deck(tmp_path, "n.toml", body)
    assert errors_of(path) == [
        f"{path}:14: n.numeric.answer: expected a number, got a string",
        f"{path}:15: n.numeric.tolerance: got -1; expected a number >= 0",
    ]


def test_duplicate_ids_across_decks_are_reported_and_the_first_is_kept(tmp_path: Path) -> None:
    first = write_deck(tmp_path, "a.toml", OPEN_QUESTION.format(id="same"))
    second = write_deck(tmp_path, "b.toml", NUMERIC_QUESTION.format(id="same"))
    library = load_library([tmp_path], include_builtin=False)
    assert [str(e) for e in library.errors] == [
        f"{second}:5: same.id: duplicate id; already used at {first}:5 "
        "(ids must be unique across all decks)"
    ]
    assert library.questions["same"].kind is QuestionKind.OPEN


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    body = (
        OPEN_QUESTION.format(id="a").replace("difficulty = 2", "difficulty = 0")
        + NUMERIC_QUESTION.format(id="b").replace('topic = "epochs"', "topic = 3")
        + OPEN_QUESTION.format(id="c")
    )
    path = write_deck(tmp_path, "many.toml", body, header='name = "x"\ncolour = "red"')
    library = load_library([path], include_builtin=False)
    keys = [e.key for e in library.errors]
    assert keys == ["deck.colour", "a.difficulty", "b.topic"]
    assert list(library.questions) == ["c"], "the valid question of a broken deck still loads"


def test_invalid_toml_points_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[deck]\nname = "x"\n\n[[question]\nid = "q"\n', encoding="utf-8")
    deck, errors, _ = parse_deck(path)
    assert deck is None
    assert [str(e) for e in errors] == [
        f"{path}:4: toml: invalid TOML: Expected ']]' at the end of an array declaration"
    ]


def test_preset_checker_errors_are_located(tmp_path: Path) -> None:
    path = write_deck(tmp_path, "p.toml", OPEN_QUESTION.format(id="q"))

    def checker(experiment: str, params: dict) -> list[str]:
        assert experiment == "batch-size-sweep"
        return ["epochs: 2 is too few"] if params["epochs"] == 2 else []

    assert errors_of(path, checker) == [f"{path}:25: q.simulation.params: epochs: 2 is too few"]


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quizapp", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_validate_exit_codes_and_messages(tmp_path: Path) -> None:
    good = write_deck(tmp_path, "good.toml", NUMERIC_QUESTION.format(id="user-good"))
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = write_deck(
        bad_dir, "bad.toml", NUMERIC_QUESTION.format(id="user-bad").replace("1173", '"x"')
    )

    ok = run_cli("deck", "validate", str(good), home=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "no problems" in ok.stdout

    failed = run_cli("deck", "validate", str(bad), home=tmp_path)
    assert failed.returncode == 1
    assert f"{bad}:14: user-bad.numeric.answer: expected a number, got a string" in failed.stdout
    assert "Traceback" not in failed.stderr

    missing = run_cli("deck", "validate", str(tmp_path / "nope.toml"), home=tmp_path)
    assert missing.returncode == 1 and "no such file or folder" in missing.stdout


def test_cli_deck_list_shows_user_decks_and_their_errors(tmp_path: Path) -> None:
    decks = tmp_path / "decks"
    decks.mkdir()
    write_deck(decks, "mine.toml", NUMERIC_QUESTION.format(id="mine-1"), header='name = "[Mine]"')
    (decks / "broken.toml").write_text("[deck\n", encoding="utf-8")
    result = run_cli("deck", "list", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[Mine]" in result.stdout, "deck names are shown literally, not as markup"
    assert "broken.toml:1: toml: invalid TOML" in result.stdout.replace("\n", "")


def test_cli_version_and_help_do_not_import_torch() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from quizapp.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['--help'])\n"
        "    except SystemExit: pass\n"
        "    main(['deck', 'list'])\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stdout + result.stderr
    version = subprocess.run(
        [sys.executable, "-m", "quizapp", "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.stdout.startswith("quizapp ")


# Red flags (issue 13) and follow-ups that name the rubric point they probe (issue 14).

RED_FLAGS = 'red_flags = ["A bigger batch needs a smaller learning rate"]\n'
PROBING = (
    'follow_ups = ["And with Adam?", { text = "How does the noise scale with B?", probes = 1 }]'
)
PLAIN_FOLLOW_UPS = 'follow_ups = ["And with Adam?", "What if memory only fits batch 8?"]'


def open_question(extra: str = "", follow_ups: str = PLAIN_FOLLOW_UPS) -> str:
    body = OPEN_QUESTION.format(id="q").replace(PLAIN_FOLLOW_UPS, follow_ups)
    return body.replace("references =", f"{extra}references =", 1)


def test_questions_without_new_fields_keep_their_content_hash(tmp_path: Path) -> None:
    # Stored progress is keyed by this hash: the format change must not orphan it.
    path = write_deck(
        tmp_path, "a.toml", OPEN_QUESTION.format(id="q") + NUMERIC_QUESTION.format(id="n")
    )
    questions = load_library([path], include_builtin=False).questions
    assert {k: q.content_hash for k, q in questions.items()} == {
        "q": "54372028e3257e90",  # as computed before red flags existed
        "n": "feccce7834f33485",
    }


def test_red_flags_load_and_count_in_the_content_hash(tmp_path: Path) -> None:
    flags = (
        'red_flags = ["A bigger batch needs a smaller learning rate", "More epochs always help"]\n'
    )
    path = write_deck(tmp_path, "a.toml", open_question(flags))
    library = load_library([path], include_builtin=False)
    assert library.errors == ()
    question = library.questions["q"]
    assert question.red_flags == (
        "A bigger batch needs a smaller learning rate",
        "More epochs always help",
    )
    assert question.content_hash != "54372028e3257e90", "red flags change how it is graded"
    assert len(question.rubric) == 3, "red flags are not rubric points"


@pytest.mark.parametrize(
    ("red_flags", "expected"),
    [
        ("red_flags = []", ":11: q.red_flags: has 0 items; expected 1-4 non-empty strings"),
        ('red_flags = ["  "]', ":11: q.red_flags[1]: expected text, got an empty string"),
        ("red_flags = [3]", ":11: q.red_flags[1]: expected text, got an integer"),
        ('red_flags = "wrong"', ":11: q.red_flags: expected a list of strings, got a string"),
        (
            'red_flags = ["a", "b", "c", "d", "e"]',
            ":11: q.red_flags: has 5 items; expected 1-4 non-empty strings",
        ),
        (
            'red_flags = ["Bigger batch, smaller LR", "bigger  batch, SMALLER lr"]',
            ":11: q.red_flags[2]: repeats red flag 1",
        ),
        (
            'red_flags = ["says the variance of the mean gradient falls as 1/B"]',
            ":11: q.red_flags[1]: is also rubric point 1; a red flag is a wrong statement that "
            "lowers the rating, never a point to earn",
        ),
        ('red_flag = ["x"]', ":11: q.red_flag: unknown key; did you mean 'red_flags'?"),
    ],
)
def test_red_flag_mistakes_get_located_messages(
    tmp_path: Path, red_flags: str, expected: str
) -> None:
    path = write_deck(tmp_path, "deck.toml", open_question(red_flags + "\n"))
    (error,) = errors_of(path)
    assert error.startswith(f"{path}{expected}"), error
    assert load_library([path], include_builtin=False).questions == {}


def test_numeric_question_takes_no_red_flags(tmp_path: Path) -> None:
    body = NUMERIC_QUESTION.format(id="n").replace(
        "[question.numeric]", f"{RED_FLAGS}\n[question.numeric]"
    )
    path = write_deck(tmp_path, "n.toml", body)
    assert errors_of(path) == [
        f"{path}:13: n.red_flags: numeric questions are graded automatically; expected none"
    ]


def test_follow_up_names_the_rubric_point_it_probes(tmp_path: Path) -> None:
    path = write_deck(tmp_path, "a.toml", open_question(follow_ups=PROBING))
    library = load_library([path], include_builtin=False)
    assert library.errors == ()
    question = library.questions["q"]
    assert question.follow_ups == ("And with Adam?", "How does the noise scale with B?")
    assert question.follow_up_probes == (None, 0), "0-based, like Grade.met"
    assert question.follow_ups_probing(0) == ("How does the noise scale with B?",)
    assert question.follow_ups_probing(1) == ()


def test_plain_follow_ups_probe_nothing(tmp_path: Path) -> None:
    path = write_deck(tmp_path, "a.toml", open_question())
    question = load_library([path], include_builtin=False).questions["q"]
    assert question.follow_up_probes == ()
    assert all(question.follow_ups_probing(i) == () for i in range(len(question.rubric)))


@pytest.mark.parametrize(
    ("probes", "expected"),
    [
        (
            "probes = 4",
            "q.follow_ups[2].probes: 4 names no rubric point; expected the number "
            "of a rubric point, 1-3",
        ),
        ("probes = 0", "q.follow_ups[2].probes: 0 names no rubric point"),
        (
            'probes = "1"',
            "q.follow_ups[2].probes: expected the number of a rubric point, 1-3, got a string",
        ),
        ("probe = 1", "q.follow_ups[2].probe: unknown key; did you mean 'probes'?"),
    ],
)
def test_probes_must_name_an_existing_rubric_point(
    tmp_path: Path, probes: str, expected: str
) -> None:
    follow_ups = PROBING.replace("probes = 1", probes)
    path = write_deck(tmp_path, "deck.toml", open_question(follow_ups=follow_ups))
    errors = errors_of(path)
    assert any(e.startswith(f"{path}:10: {expected}") for e in errors), errors
    assert load_library([path], include_builtin=False).questions == {}


def test_follow_up_table_needs_text(tmp_path: Path) -> None:
    path = write_deck(
        tmp_path,
        "deck.toml",
        open_question(
            follow_ups=PROBING.replace('text = "How does the noise scale with B?", ', "")
        ),
    )
    assert errors_of(path) == [
        f"{path}:10: q.follow_ups[2].text: missing; expected a non-empty string"
    ]


def test_numeric_follow_up_cannot_probe(tmp_path: Path) -> None:
    body = NUMERIC_QUESTION.format(id="n").replace(
        '"At batch 256?"', '{ text = "At batch 256?", probes = 1 }'
    )
    path = write_deck(tmp_path, "n.toml", body)
    assert errors_of(path) == [
        f"{path}:11: n.follow_ups[2].probes: numeric questions have no rubric points to probe"
    ]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("nan", "got nan; expected a finite number"),
        ("-inf", "got -inf; expected a finite number"),
        ("1" + "0" * 400, "expected a finite number"),  # too large for a float
    ],
)
def test_numeric_answer_must_be_finite(tmp_path: Path, answer: str, expected: str) -> None:
    body = NUMERIC_QUESTION.format(id="n").replace("answer = 1173", f"answer = {answer}")
    path = write_deck(tmp_path, "n.toml", body)
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:14: n.numeric.answer: ") and error.endswith(expected), error


def test_a_deck_lists_its_first_100_problems_and_counts_the_rest(tmp_path: Path) -> None:
    typos = "".join(f"nmae{i} = 1\n" for i in range(150))
    path = write_deck(tmp_path, "typos.toml", OPEN_QUESTION.format(id="q"), header=typos)
    library = load_library([path], include_builtin=False)
    errors = [str(e) for e in library.errors]
    assert len(errors) == 101
    assert errors[0].startswith(f"{path}:2: deck.nmae0: unknown key")
    assert errors[-1] == f"{path}: file: and 51 more problems not listed"  # 150 typos, no name
    assert list(library.questions) == ["q"], "the valid question still loads"


def test_a_deck_of_more_than_1000_questions_is_refused(tmp_path: Path) -> None:
    path = write_deck(tmp_path, "huge.toml", "[[question]]\n" * 1001)
    assert errors_of(path) == [
        f"{path}:3: question: 1001 questions; a deck file holds at most 1000 "
        "(split it into several files)"
    ]
