"""Deck files that are not decks: each costs only itself, and every other deck still loads."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from questions.loader import MAX_DECK_BYTES, load_library
from quizapp.services.library import check_preset

GOOD_DECK = """[deck]
name = "Mine"

[[question]]
id = "mine-1"
topic = "epochs"
difficulty = 1
kind = "numeric"
prompt = "50,000 examples, batch 128, 3 epochs: how many updates?"
model_answer = "ceil(50000 / 128) = 391 per epoch, so 1,173 in three epochs."
follow_ups = ["With drop_last?", "At batch 256?"]

[question.numeric]
answer = 1173
"""


@pytest.fixture
def decks(tmp_path: Path) -> Path:
    """A user decks folder holding one good deck."""
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "mine.toml").write_text(GOOD_DECK, encoding="utf-8")
    return folder


def shipped_count() -> int:
    return len(load_library().questions)


def problems(folder: Path, *extra: Path) -> tuple[list[str], set[str]]:
    """Every problem as the user reads it, and the ids that loaded, shipped decks included."""
    library = load_library(extra, user_dir=folder)
    assert len(library.questions) == shipped_count() + 1, "a bad file cost more than itself"
    assert "mine-1" in library.questions
    return [str(e) for e in library.errors], set(library.questions)


@pytest.mark.timeout(10)
def test_symlink_loop_is_that_files_problem(decks: Path) -> None:
    (decks / "loop.toml").symlink_to("loop.toml")
    errors, _ = problems(decks)
    assert errors == [f"{decks / 'loop.toml'}: file: cannot read: symbolic link loop"]


@pytest.mark.timeout(10)
def test_symlink_loop_given_with_deck_is_named_as_such(decks: Path) -> None:
    loop = decks.parent / "loop.toml"
    loop.symlink_to("loop.toml")
    errors, _ = problems(decks, loop)
    assert errors == [f"{loop}: deck: cannot read: symbolic link loop"]


@pytest.mark.timeout(30)
def test_array_nested_50000_deep_is_that_files_problem(decks: Path) -> None:
    depth = 50_000
    (decks / "deep.toml").write_text(f"a = {'[' * depth}{']' * depth}\n", encoding="utf-8")
    errors, _ = problems(decks)
    assert errors == [
        f"{decks / 'deep.toml'}: toml: invalid TOML: arrays or tables nested too deeply to read"
    ]


@pytest.mark.timeout(10)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifo_named_like_a_deck_is_skipped_without_blocking(decks: Path) -> None:
    os.mkfifo(decks / "x.toml")
    errors, _ = problems(decks, decks / "x.toml")
    assert errors == [
        f"{decks / 'x.toml'}: file: not a regular file (a FIFO); expected a .toml file"
    ], "a FIFO reached twice (folder and --deck) is reported once"


@pytest.mark.timeout(10)
@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_link_to_dev_zero_is_not_read(decks: Path) -> None:
    (decks / "zero.toml").symlink_to("/dev/zero")
    errors, _ = problems(decks)
    assert errors == [
        f"{decks / 'zero.toml'}: file: not a regular file (a character device); "
        "expected a .toml file"
    ]


@pytest.mark.timeout(30)
def test_file_over_the_size_cap_is_refused(decks: Path) -> None:
    big = decks / "big.toml"
    big.write_text("#" * (MAX_DECK_BYTES + 1), encoding="utf-8")
    errors, _ = problems(decks)
    assert errors == [f"{big}: file: too large (5.0 MB); a deck file may be at most 5 MB"]


def test_folder_and_broken_link_named_like_decks_are_reported(decks: Path) -> None:
    (decks / "folder.toml").mkdir()
    (decks / "gone.toml").symlink_to(decks / "missing.toml")
    errors, _ = problems(decks)
    assert errors == [
        f"{decks / 'folder.toml'}: file: not a regular file (a folder); expected a .toml file",
        f"{decks / 'gone.toml'}: file: cannot read: broken symbolic link "
        "(its target does not exist)",
    ]


def test_hidden_editor_lock_files_are_not_decks(decks: Path) -> None:
    # Emacs marks a file being edited with a dangling link named .#<file>.
    (decks / ".#mine.toml").symlink_to("root@host.1234")
    errors, _ = problems(decks)
    assert errors == []


def test_a_deck_reached_twice_loads_once(decks: Path) -> None:
    link = decks.parent / "alias.toml"
    link.symlink_to(decks / "mine.toml")
    errors, _ = problems(decks, link, decks / "mine.toml")
    assert errors == [], "the same file through a link is not a duplicate id"


def test_deck_with_a_utf8_bom_loads(decks: Path) -> None:
    (decks / "mine.toml").write_bytes(b"\xef\xbb\xbf" + GOOD_DECK.encode())
    errors, _ = problems(decks)
    assert errors == []


def test_decks_path_that_is_a_file_is_reported(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "decks"
    not_a_folder.write_text(GOOD_DECK, encoding="utf-8")
    library = load_library(user_dir=not_a_folder)
    assert [str(e) for e in library.errors] == [
        f"{not_a_folder}: folder: not a folder (a file); expected a folder of .toml decks"
    ]
    assert len(library.questions) == shipped_count()


def test_decks_folder_under_a_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "home").write_text("", encoding="utf-8")
    folder = tmp_path / "home" / "decks"
    library = load_library(user_dir=folder)
    assert [str(e) for e in library.errors] == [
        f"{folder}: folder: cannot read: {os.strerror(errno.ENOTDIR)}"
    ]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any folder")
def test_decks_folder_without_read_permission_is_reported(decks: Path) -> None:
    decks.chmod(0o000)
    try:
        library = load_library(user_dir=decks)
    finally:
        decks.chmod(0o755)
    assert [str(e) for e in library.errors] == [
        f"{decks}: folder: cannot list the folder: Permission denied"
    ]
    assert len(library.questions) == shipped_count()


def test_missing_decks_folder_is_not_a_problem(tmp_path: Path) -> None:
    library = load_library(user_dir=tmp_path / "decks")
    assert library.errors == ()


NESTED_PRESET = """[deck]
name = "Nested"
[[question]]
id = "nested"
kind = {kind}
[question.simulation]
experiment = "batch-size-sweep"
params = {{ batch_sizes = {value} }}
"""


def deepest_parsable() -> int:
    """The deepest array tomllib parses from here (it recurses, so this depends on the stack)."""
    low, high = 1, 5000
    while low < high:
        middle = (low + high + 1) // 2
        try:
            tomllib.loads(f"a = {'[' * middle}{']' * middle}")
            low = middle
        except RecursionError:
            high = middle - 1
    return low


def test_preset_nested_deep_is_a_located_error(decks: Path) -> None:
    body = NESTED_PRESET.format(kind='"open"', value="[" * 10 + "16" + "]" * 10)
    path = decks / "nested.toml"
    path.write_text(body, encoding="utf-8")
    library = load_library(user_dir=decks, check_preset=check_preset)
    message = (
        f"{path}:8: nested.simulation.params: values nested 11 levels deep; expected each "
        "parameter to be a value or a list of values"
    )
    assert message in [str(e) for e in library.errors]
    assert len(library.questions) == shipped_count() + 1


@pytest.mark.timeout(60)
def test_values_nested_just_below_the_parser_limit_cost_only_their_file(decks: Path) -> None:
    # Whatever the parser accepts, checking it (the preset checker, echoing a bad value)
    # must not overflow the stack either.
    deepest = deepest_parsable()
    path = decks / "nested.toml"
    for depth in range(deepest - 8, deepest + 2):
        nested = "[" * depth + "16" + "]" * depth
        for kind, value in ((nested, "[16]"), ('"open"', nested)):
            path.write_text(NESTED_PRESET.format(kind=kind, value=value), encoding="utf-8")
            library = load_library(user_dir=decks, check_preset=check_preset, include_builtin=False)
            assert [e.path for e in library.errors][:1] == [str(path)], (depth, library.errors)
            assert list(library.questions) == ["mine-1"]


@pytest.mark.timeout(30)
def test_key_with_a_huge_number_of_dotted_parts_is_refused_quickly(decks: Path) -> None:
    # tomllib's time grows with the square of a dotted key's length: 200,000 parts would take
    # it about a quarter of an hour; a 5 MB file, days.
    path = decks / "dotted.toml"
    path.write_text('[deck]\nname = "x"\n' + ".".join(["a"] * 200_000) + " = 1\n", "utf-8")
    errors, _ = problems(decks)
    assert errors == [
        f"{path}:3: toml: more than 32 dot-joined parts in a row; a key has at most 3 "
        "(one that long would take hours to parse)"
    ]


def test_text_full_of_dots_is_not_mistaken_for_a_long_key(decks: Path) -> None:
    prose = "e.g. 1.5 x 10.0 = 15.0, i.e. about 1.2.3.4 of 0.1. " * 20
    body = GOOD_DECK.replace("so 1,173 in three epochs.", f"so 1,173. {prose}")
    (decks / "mine.toml").write_text(body, encoding="utf-8")
    errors, _ = problems(decks)
    assert errors == []


@pytest.mark.timeout(120)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_cli_reports_bad_deck_files_and_still_lists_the_rest(tmp_path: Path) -> None:
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "mine.toml").write_text(GOOD_DECK, encoding="utf-8")
    (decks / "loop.toml").symlink_to("loop.toml")
    os.mkfifo(decks / "x.toml")

    def quizapp(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "quizapp", "--home", str(tmp_path), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    listed = quizapp("deck", "list")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert "Mine" in listed.stdout
    checked = quizapp("deck", "validate", str(decks / "loop.toml"), str(decks / "x.toml"))
    assert checked.returncode == 1 and "Traceback" not in checked.stderr, checked.stderr
    out = checked.stdout.replace("\n", "")
    assert f"{decks / 'loop.toml'}: deck: cannot read: symbolic link loop" in out
    assert f"{decks / 'x.toml'}: file: not a regular file (a FIFO)" in out
