"""Parameter schemas for experiments: types, defaults, allowed values, and messages that say
which parameter is wrong and what is allowed. Pure Python (no torch), so deck validation and
the app can check presets cheaply."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

ParamType = Literal["int", "float", "str", "bool", "int_list", "float_list", "str_list"]

_ITEM_TYPE: dict[str, str] = {"int_list": "int", "float_list": "float", "str_list": "str"}


class ParamError(ValueError):
    """Invalid experiment name or parameters; ``messages`` holds one line per problem."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


@dataclass(frozen=True)
class Param:
    """One experiment parameter.

    ``min``/``max`` bound numbers (and every item of a numeric list); ``choices`` limits
    strings (and every item of a string list); ``min_items``/``max_items`` bound list length.
    """

    name: str
    type: ParamType
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    min_items: int = 1
    max_items: int = 12

    @property
    def is_list(self) -> bool:
        return self.type in _ITEM_TYPE

    def allowed(self) -> str:
        """What this parameter accepts, in words (used in every error message)."""
        item = _ITEM_TYPE.get(self.type, self.type)
        if item == "bool":
            return "true or false"
        if item == "str":
            one = "one of " + ", ".join(repr(c) for c in self.choices or ())
        else:
            noun = "an integer" if item == "int" else "a number"
            one = noun + self._range_words()
        if not self.is_list:
            return one
        what = f"a list of {self.min_items}-{self.max_items} values, each " + one
        if self.default:
            what += f" (e.g. {format_value(self.default)})"
        return what

    def brief(self) -> str:
        """What this parameter accepts, compactly (for tables): ``integer 1 to 200``,
        ``sgd | adam``, ``list of 1-8, each integer 1 to 65536``."""
        item = _ITEM_TYPE.get(self.type, self.type)
        if item == "bool":
            one = "true | false"
        elif item == "str":
            one = " | ".join(self.choices or ())
        else:
            low = "" if self.min is None else _num(self.min)
            high = "" if self.max is None else _num(self.max)
            kind = "integer" if item == "int" else "number"
            one = f"{kind} {low} to {high}" if low or high else kind
        if not self.is_list:
            return one
        return f"list of {self.min_items}-{self.max_items}, each {one}"

    def _range_words(self) -> str:
        if self.min is not None and self.max is not None:
            return f" from {_num(self.min)} to {_num(self.max)}"
        if self.min is not None:
            return f" of at least {_num(self.min)}"
        if self.max is not None:
            return f" of at most {_num(self.max)}"
        return ""

    def check(self, value: Any) -> tuple[Any, str | None]:
        """Return ``(normalized value, None)`` or ``(None, message)``."""
        if value is None and self.default is None:  # "auto", decided by the experiment
            return None, None
        if not self.is_list:
            return self._check_one(value, self.type)
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            return None, self._message(value)
        if not self.min_items <= len(value) <= self.max_items:
            return None, self._message(value, f"has {len(value)} values")
        items = []
        for item in value:
            normalized, problem = self._check_one(item, _ITEM_TYPE[self.type])
            if problem is not None:
                return None, problem
            items.append(normalized)
        if len(set(items)) != len(items):
            return None, self._message(value, "repeats a value")
        return items, None

    def _check_one(self, value: Any, item: str) -> tuple[Any, str | None]:
        if item == "bool":
            return (value, None) if isinstance(value, bool) else (None, self._message(value))
        if item == "str":
            if isinstance(value, str) and self.choices is not None and value in self.choices:
                return value, None
            return None, self._message(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, self._message(value)
        if item == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    return None, self._message(value)
                value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                return None, self._message(value)
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            return None, self._message(value, "is out of range")
        return value, None

    def _message(self, value: Any, problem: str = "") -> str:
        got = f"got {format_value(value)}" + (f", which {problem}" if problem else "")
        return f"{self.name}: expected {self.allowed()}; {got}"

    def parse_text(self, text: str) -> Any:
        """Turn a command-line string (``16,64,256``, ``0.1``, ``true``) into a raw value for
        :meth:`check`; text that is not even the right kind is returned unchanged so that
        the check reports it."""
        if self.is_list:
            parts = [p.strip() for p in text.split(",") if p.strip()]
            return [_scalar_from_text(p, _ITEM_TYPE[self.type]) for p in parts]
        return _scalar_from_text(text.strip(), self.type)


SEED_LIMIT = 2**63
"""Seeds are 0 <= seed < 2**63: what torch's generators take as a signed 64-bit number and
what SQLite stores in an INTEGER column."""


def check_seed(seed: object) -> int:
    """``seed`` as an int, or :class:`ParamError` naming the parameter and its range."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
        raise ParamError(
            [f"seed: expected an integer from 0 to {SEED_LIMIT - 1:,}; got {format_value(seed)}"]
        )
    return seed


def _scalar_from_text(text: str, item: str) -> Any:
    if item == "bool":
        lowered = text.lower()
        if lowered in {"true", "yes", "1", "on"}:
            return True
        if lowered in {"false", "no", "0", "off"}:
            return False
        return text
    if item in {"int", "float"}:
        try:
            return int(text) if item == "int" and text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            return text
    return text


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) >= 1 else f"{x:g}"


def format_value(value: Any) -> str:
    """A value as it would be written in a deck (TOML-like): lists in brackets."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return repr(value) if not isinstance(value, int) else str(value)


def validate(
    params: Sequence[Param], values: Mapping[str, Any], *, context: str = ""
) -> tuple[dict[str, Any], list[str]]:
    """Check ``values`` against ``params``; return (defaults filled in, messages).

    Unknown names are errors (with a did-you-mean suggestion), because a typo in a preset
    would otherwise silently run with the default.
    """
    by_name = {p.name: p for p in params}
    problems: list[str] = []
    result: dict[str, Any] = {p.name: p.default for p in params}
    for name, value in values.items():
        param = by_name.get(name)
        if param is None:
            hint = difflib.get_close_matches(str(name), list(by_name), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            known = ", ".join(by_name)
            problems.append(
                f"unknown parameter {name!r}{context}{suggestion}; expected one of: {known}"
            )
            continue
        normalized, problem = param.check(value)
        if problem is not None:
            problems.append(problem)
        else:
            result[name] = normalized
    return result, problems
