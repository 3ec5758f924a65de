"""Make untrusted text (decks, imported answers, file names) safe to show in a terminal.

Deck files come from other people and exports from other machines. A control character in
them is an instruction to the terminal, not text: ``ESC [2J`` clears the screen, ``OSC 0``
sets the window title, ``OSC 52`` writes the clipboard, and a bidi override makes a line read
differently from what it contains. :func:`clean_text` is applied where such text enters the
program (the deck loader, the store's importer), so the rest of the code only ever holds text
that is safe to print.

What changes (everything else, newline and tab included, is kept as it is):

========================================  ===================================================
Input                                     Shown as
========================================  ===================================================
C0 controls U+0000-U+001F but ``\\n``,   their Unicode control picture U+2400-U+241F
``\\t``; ``\\r\\n`` first becomes ``\\n``  (ESC is ``␛``, BEL ``␇``, a lone CR ``␍``)
DEL U+007F                                ``␡``
C1 controls U+0080-U+009F                 ``␛`` and the 7-bit equivalent (CSI U+009B is
                                          ``␛[``, OSC U+009D is ``␛]``)
bidi marks, embeddings, overrides and     ``⟨U+202E⟩`` and so on: visible, so a line cannot
isolates (U+061C, U+200E-F, U+202A-E,     be made to read differently from what it holds
U+2066-9)
lone surrogates U+D800-U+DFFF (JSON's     ``�`` U+FFFD: they cannot be encoded, so printing
``"\\ud800"`` makes one)                  one would raise UnicodeEncodeError
========================================  ===================================================

The result contains none of those characters, so cleaning is idempotent. This module has no
dependencies and does no I/O; markup (Rich's ``[b]``) is not its concern: widgets must still
show untrusted text literally.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["UNSAFE_CODEPOINTS", "clean_text"]

_KEPT = {"\n", "\t"}
# Directional marks, embeddings, overrides and isolates: they reorder what follows on screen.
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))


def _table() -> Mapping[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        if chr(code) not in _KEPT:
            table[code] = chr(0x2400 + code)
    table[0x7F] = "\u2421"  # ␡
    for code in range(0x80, 0xA0):
        # A C1 control is the one-byte form of ESC followed by code - 0x40.
        table[code] = "\u241b" + chr(code - 0x40)
    for code in _BIDI:
        table[code] = f"⟨U+{code:04X}⟩"
    for code in range(0xD800, 0xE000):
        table[code] = "\ufffd"
    return table


_TRANSLATION = _table()
UNSAFE_CODEPOINTS = frozenset(_TRANSLATION)  # every character clean_text replaces


def clean_text(text: str) -> str:
    """``text`` with every control character but newline and tab made visible.

    See the module docstring for what each becomes. ``\\r\\n`` is read as a newline.
    """
    if text.isprintable():  # the common case: nothing to translate, no copy
        return text
    return text.replace("\r\n", "\n").translate(_TRANSLATION)
