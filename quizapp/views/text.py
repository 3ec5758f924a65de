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

# Directional overrides and isolates reorder what follows them on screen ("Trojan Source").
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))


def _visible_table() -> dict[int, str]:
    table: dict[int, str] = {c: chr(0x2400 + c) for c in range(0x20) if c not in (0x09, 0x0A)}
    table[0x7F] = "␡"
    # C1 controls (0x9B is a one-byte CSI) and bidi marks have no control picture.
    table.update({c: f"<U+{c:04X}>" for c in (*range(0x80, 0xA0), *_BIDI)})
    return table


_VISIBLE = _visible_table()
UNSAFE_CODEPOINTS = frozenset(_VISIBLE)  # every character that :func:`visible` replaces


def visible(s: str) -> str:
    """``s`` with every control character made visible: C0 controls except newline and tab
    become their Unicode control pictures (ESC -> ``␛``, BEL -> ``␇``, CR -> ``␍``), DEL
    becomes ``␡``, C1 controls and bidirectional overrides become ``<U+XXXX>``. A Windows
    line end (CR LF) is just a line end."""
    return s.replace("\r\n", "\n").translate(_VISIBLE)


def safe_text(s: str, style: str = "") -> Text:
    """Untrusted ``s`` (deck, import or database text) as a Rich ``Text`` to print: control
    characters made visible (see :func:`visible`) and markup never interpreted, so
    ``[link=https://x]L[/link]`` prints as those characters."""
    from rich.text import Text  # on first use: the CLI's start-up does not load Rich

    return Text(visible(s), style=style)
