"""Untrusted text as Rich renderables: what a deck, an import or the progress database holds
is shown literally, with its control characters made visible.

Deck files come from other people and exports from other machines, so such a string may hold
terminal escapes (ESC[2J clears the screen, OSC 52 writes the clipboard) or Rich markup
(``[link=...]``). Print it through :func:`safe_text`, never as a markup string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

from questions.untrusted import UNSAFE_CODEPOINTS, clean_text

__all__ = ["UNSAFE_CODEPOINTS", "safe_text", "visible"]

# One rule for what is unsafe, shared with the deck loader and the importer.
visible = clean_text


def safe_text(s: str, style: str = "") -> Text:
    """Untrusted ``s`` (deck, import or database text) as a Rich ``Text`` to print: control
    characters made visible (see :func:`visible`) and markup never interpreted, so
    ``[link=https://x]L[/link]`` prints as those characters."""
    from rich.text import Text  # on first use: the CLI's start-up does not load Rich

    return Text(visible(s), style=style)
