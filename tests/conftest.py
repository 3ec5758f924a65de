"""The quick suite (`pytest -m "not slow"`) leaves out what takes seconds per test: tests that
drive the real app (every async pilot test), start processes, a browser or tmux, or train."""

from __future__ import annotations

import inspect

import pytest

# Modules whose tests train models, start processes or drive a terminal or a browser.
SLOW_MODULES = frozenset(
    {
        "test_sims",
        "test_sim_cli",
        "test_cli_sim_progress",
        "test_sim_runner",
        "test_sim_runner_cancel",
        "test_sim_runner_limits",
        "test_engine_accuracy",
        "test_experiments_more",
        "test_experiments_new",
        "test_serve",
        "test_tui_tmux",
        "test_tui_snapshots",
        "test_store_readonly",
        "test_store_runs",
        "test_store_recovery",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    slow = pytest.mark.slow
    for item in items:
        function = getattr(item, "function", None)
        module = item.module.__name__ if isinstance(item, pytest.Function) else ""
        if module in SLOW_MODULES or (function and inspect.iscoroutinefunction(function)):
            item.add_marker(slow)
