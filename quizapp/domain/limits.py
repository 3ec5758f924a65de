"""Size limits on what a user or an import may store."""

from __future__ import annotations

# A spoken interview answer is a few thousand characters; far larger text (a pasted file, a
# 50 MB import) made undo and quit take tens of seconds.
MAX_ANSWER_CHARS = 20_000
