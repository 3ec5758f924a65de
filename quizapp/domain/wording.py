"""Small helpers for the sentences quizapp shows."""


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``plural(1, "attempt")`` -> "1 attempt"; ``plural(3, "attempt")`` -> "3 attempts"."""
    word = noun if count == 1 else (plural_form or f"{noun}s")
    return f"{count:,} {word}"
