"""The installed ``quizapp`` command in a real terminal (tmux): answer a question, quit,
start again and find the progress."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None or shutil.which("quizapp") is None,
    reason="needs tmux and the installed quizapp command",
)


class Tmux:
    """One tmux server of our own (its own socket), so other sessions are never touched."""

    def __init__(self) -> None:
        self.socket = f"quizapp-test-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return result.stdout

    def start(self, command: str) -> None:
        self.run("new-session", "-d", "-s", "app", "-x", "100", "-y", "30", command)
        self.run("set-option", "-g", "escape-time", "0")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", "-t", "app", key)
            time.sleep(0.15)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "app", "-l", text)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "app")

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear; the screen shows:\n{screen}")
            time.sleep(0.1)

    def wait_gone(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sessions = subprocess.run(
                ["tmux", "-L", self.socket, "has-session", "-t", "app"], capture_output=True
            )
            if sessions.returncode != 0:
                return
            time.sleep(0.1)
        raise AssertionError("quizapp did not exit")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux()
    yield server
    server.kill()


def test_answer_quit_restart_and_see_progress(tmux: Tmux, tmp_path: Path) -> None:
    home = tmp_path / "home"
    command = f"quizapp --home {home}"
    tmux.start(command)
    tmux.wait_for("Welcome to quizapp")  # first start on a fresh data folder
    tmux.keys("Enter")
    tmux.wait_for("0 reviewed today")
    tmux.keys("r")
    screen = tmux.wait_for("1 of ")
    if "A number, e.g." in screen:  # the first due question may be a numeric one
        tmux.type("0")
        tmux.keys("Enter")
    else:
        tmux.type("Activations grow with the batch; accumulate gradients.")
        tmux.keys("C-r")
    tmux.wait_for("Model answer")
    tmux.keys("1", "Enter")
    tmux.wait_for("2 of ")
    tmux.keys("Escape")
    tmux.wait_for("1 reviewed today")
    tmux.keys("q")
    tmux.wait_gone()

    tmux.start(command)
    screen = tmux.wait_for("1 reviewed today")
    assert "Welcome to quizapp" not in screen  # only once
    assert "1 day streak" in " ".join(screen.split())
    tmux.keys("p")
    tmux.wait_for("1 answer to 1 question")
