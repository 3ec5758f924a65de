"""Where quizapp keeps its files: one data directory holding the database and user decks."""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "QUIZAPP_HOME"


def data_home(override: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``--home`` if given, else ``$QUIZAPP_HOME``, else the platform's
    user data directory (``~/.local/share/quizapp`` on Linux)."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("quizapp", appauthor=False)


def user_decks_dir(home: Path) -> Path:
    """Folder of the user's own ``*.toml`` decks inside the data directory."""
    return home / "decks"


def database_path(home: Path) -> Path:
    return home / "progress.db"
