"""Size limits every layer shares, so the app's input boxes, the CLI and the importer agree."""

from __future__ import annotations

# Longest answer kept: a pasted book made undo take 51 s and quit 20 s (issue 10). The
# answer box stops here and an import with a longer answer is refused, naming the record.
MAX_ANSWER_CHARS = 20_000

# SQLite stores whole numbers in 64 signed bits; larger ones cannot be saved at all.
MAX_STORED_INT = 2**63 - 1

# Seeds for simulations: stored as above, so the same bound (checked before a run starts).
SEED_RANGE = (0, MAX_STORED_INT)
