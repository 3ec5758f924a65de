"""The experiment registry: every experiment by name, with its parameter schema.

Importing this module (and listing or checking experiments) never imports torch: experiment
modules under ``sims.experiments`` import the training engine only inside their ``run``.
Adding an experiment means adding one module to ``sims/experiments/`` that calls
:func:`register`; nothing else changes.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sims.params import Param, ParamError, validate

if TYPE_CHECKING:
    from sims.config import PlannedRun
    from sims.results import Outcome
    from sims.workbench import Lab

__all__ = [
    "Experiment",
    "ParamError",
    "check_params",
    "get_experiment",
    "list_experiments",
    "parse_assignments",
    "register",
    "resolve_params",
]


@dataclass(frozen=True)
class Experiment:
    """A named experiment.

    ``run(lab, params)`` trains through ``lab.train(...)`` (the one training loop) and returns
    an :class:`~sims.results.Outcome` (observations computed from the runs, optional extras).
    ``check(params)`` adds cross-parameter rules (e.g. a CNN needs image data) to the
    per-parameter schema; it gets the parameters with defaults filled in. ``plan_runs(params)``
    lists the runs it will train (:class:`~sims.estimate.PlannedRun`), for memory and time
    estimates.
    ``deterministic``: on a GPU, run with deterministic kernels (equal seeds, equal numbers);
    false for experiments that measure speed, which should see the fastest kernels.
    """

    name: str
    title: str
    explanation: str
    params: tuple[Param, ...]
    run: Callable[[Lab, dict[str, Any]], Outcome]
    check: Callable[[dict[str, Any]], list[str]] | None = None
    order: int = 100
    deterministic: bool = True
    plan_runs: Callable[[dict[str, Any]], list[PlannedRun]] | None = None

    def plan(self, values: dict[str, Any]) -> list[PlannedRun]:
        """The runs ``run`` will train with ``values`` (defaults filled in), for estimates."""
        if self.plan_runs is None:
            raise LookupError(f"experiment {self.name!r} does not describe its runs")
        return self.plan_runs(values)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


_REGISTRY: dict[str, Experiment] = {}
_loaded = False


def register(experiment: Experiment) -> Experiment:
    """Add an experiment (called at import time by modules in ``sims.experiments``)."""
    if experiment.name in _REGISTRY and _REGISTRY[experiment.name] is not experiment:
        raise ValueError(f"experiment {experiment.name!r} is registered twice")
    names = [p.name for p in experiment.params]
    if len(set(names)) != len(names):
        raise ValueError(f"experiment {experiment.name!r} repeats a parameter name")
    _REGISTRY[experiment.name] = experiment
    return experiment


def _load() -> None:
    global _loaded
    if _loaded:
        return
    package = importlib.import_module("sims.experiments")
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"sims.experiments.{info.name}")
    _loaded = True


def list_experiments() -> list[Experiment]:
    """All registered experiments, in the order they are best introduced."""
    _load()
    return sorted(_REGISTRY.values(), key=lambda e: (e.order, e.name))


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``; :class:`ParamError` with a suggestion if unknown."""
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ParamError([_unknown_experiment(name)]) from None


def _unknown_experiment(name: object) -> str:
    names = [e.name for e in list_experiments()]
    hint = difflib.get_close_matches(str(name), names, n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"unknown experiment {name!r}{suggestion}; expected one of: {', '.join(names)}"


def resolve_params(name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Parameters with defaults filled in and values normalized (ints as int, lists as
    lists); raises :class:`ParamError` listing every problem."""
    experiment = get_experiment(name)
    values, problems = validate(experiment.params, params or {})
    if not problems and experiment.check is not None:
        problems = experiment.check(values)
    if problems:
        raise ParamError(problems)
    return values


def check_params(name: str, params: Mapping[str, Any]) -> list[str]:
    """Problems with an experiment name and its parameters, as human messages naming the
    parameter and what is allowed; an empty list means valid. Never imports torch."""
    if not isinstance(name, str) or name not in {e.name for e in list_experiments()}:
        return [_unknown_experiment(name)]
    if not isinstance(params, Mapping):
        return [f"parameters must be a table of name = value, got {type(params).__name__}"]
    try:
        resolve_params(name, params)
    except ParamError as err:
        return err.messages
    return []


def parse_assignments(name: str, assignments: list[str]) -> dict[str, Any]:
    """Turn command-line ``key=value`` strings into raw parameter values for ``name``.

    Lists are comma-separated (``batch_sizes=16,64,256``). Values are only converted here;
    :func:`resolve_params` checks them. Raises :class:`ParamError` for malformed input.
    """
    experiment = get_experiment(name)
    raw: dict[str, Any] = {}
    problems: list[str] = []
    for text in assignments:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"--set {text!r}: expected key=value, e.g. --set epochs=5")
            continue
        try:
            param = experiment.param(key)
        except KeyError:
            raw[key] = value  # reported as an unknown parameter, with a suggestion
            continue
        raw[key] = param.parse_text(value)
    if problems:
        raise ParamError(problems)
    return raw
