"""Run an experiment in a separate process and receive its events through a queue.

The child is started with ``spawn`` (never ``fork``: unsafe with threads and CUDA). Starting
is safe inside a Textual app, which replaces ``sys.stdout``/``sys.stderr`` with objects that
have no usable file descriptor (Textual issue #3593): the process and multiprocessing's
resource tracker are started with the real streams restored. The child leaves one core to the
UI, writes nothing to the terminal, ignores Ctrl-C (the parent decides), and exits by itself
if the parent dies, so it can never be orphaned.

This module does not import torch; only the child does.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import multiprocessing.resource_tracker
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from multiprocessing.process import BaseProcess
from typing import Any

from sims.events import ExperimentFinished, RunFailed, SimEvent
from sims.registry import resolve_params

TERMINAL_EVENTS = (ExperimentFinished, RunFailed)


class SimRunner:
    """One background simulation at a time.

    ``start`` validates the parameters in this process (raising
    :class:`~sims.params.ParamError`) and launches the child; ``poll`` returns the next event
    or ``None``; the stream ends with ``ExperimentFinished`` or ``RunFailed`` (a crash in the
    child, including its traceback, or a child that died without a word). ``cancel`` ends the
    child within a second; events it sent before are still delivered by ``poll``.
    """

    def __init__(self, *, threads: int | None = None, quiet: bool = True) -> None:
        self.threads = threads
        self.quiet = quiet
        self._process: BaseProcess | None = None
        self._queue: Any = None
        self._cancel_event: Any = None
        self._finished = True
        self._cancelled = False

    @property
    def running(self) -> bool:
        """True from ``start`` until the stream ended or the run was cancelled."""
        return not self._finished and not self._cancelled

    @property
    def finished(self) -> bool:
        """True once the stream has ended: its last event was delivered, or after a cancel
        the child is gone and what it sent has been read."""
        return self._finished

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        if self.running:
            raise RuntimeError("a simulation is already running; cancel it first")
        self.close()
        values = resolve_params(name, params)
        context = multiprocessing.get_context("spawn")
        with _real_std_streams():  # the queue's semaphores start the resource tracker
            self._queue = context.Queue()
            self._cancel_event = context.Event()
        self._process = context.Process(
            target=_child_main,
            args=(
                self._queue,
                self._cancel_event,
                name,
                values,
                seed,
                device,
                self.threads,
                self.quiet,
            ),
            name=f"sim-{name}",
            daemon=True,
        )
        self._finished = False
        self._cancelled = False
        with _real_std_streams():
            self._process.start()

    def poll(self, timeout: float | None = 0.0) -> SimEvent | None:
        """The next event, waiting up to ``timeout`` seconds (``None``: until one comes);
        ``None`` if there is none yet or the stream has ended."""
        if self._queue is None or self._finished:
            return None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
            event = self._get(step)
            if event is not None:
                if isinstance(event, TERMINAL_EVENTS):
                    self._end()
                return event
            process = self._process
            if process is not None and not process.is_alive():
                # Gone: deliver what it managed to send, else say how it ended.
                event = self._get(0.1)
                if event is not None:
                    if isinstance(event, TERMINAL_EVENTS):
                        self._end()
                    return event
                self._end()
                if self._cancelled:
                    return None
                return RunFailed(
                    reason="the simulation process ended unexpectedly "
                    f"({_describe_exit(process.exitcode)})"
                )
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def events(self, timeout: float | None = None) -> Iterator[SimEvent]:
        """Every remaining event until the stream ends; with a ``timeout``, also stop when
        no event came for that long."""
        while not self._finished:
            event = self.poll(timeout)
            if event is None:
                if timeout is not None:
                    return
                continue
            yield event

    def cancel(self) -> None:
        """Stop the child: ask it to stop between updates, terminate it if it has not
        stopped in 0.4 s, kill it if that fails. Returns once it is gone (well under 1 s)."""
        process = self._process
        if process is None or self._finished:
            return
        self._cancelled = True
        self._cancel_event.set()
        process.join(0.4)
        if process.is_alive():
            process.terminate()
            process.join(0.3)
        if process.is_alive():
            process.kill()
            process.join(0.2)

    def close(self) -> None:
        """Cancel anything running and release the queue."""
        if self._process is not None and self._process.is_alive():
            self.cancel()
        if self._queue is not None:
            self._queue.cancel_join_thread()
            self._queue.close()
        self._process = self._queue = self._cancel_event = None
        self._finished = True

    def __enter__(self) -> SimRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, timeout: float) -> SimEvent | None:
        try:
            if timeout <= 0:
                return self._queue.get_nowait()
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        except (EOFError, OSError, ValueError):  # a child killed mid-message
            return None

    def _end(self) -> None:
        self._finished = True
        if self._process is not None:
            self._process.join(1.0)


@contextlib.contextmanager
def _real_std_streams() -> Iterator[None]:
    """Put the interpreter's original stdout/stderr back while starting a process."""
    out = sys.__stdout__ if sys.__stdout__ is not None else sys.stdout
    err = sys.__stderr__ if sys.__stderr__ is not None else sys.stderr
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        multiprocessing.resource_tracker.ensure_running()
        yield


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        hint = ", possibly out of memory" if name == "SIGKILL" else ""
        return f"killed by {name}{hint}"
    return f"exit code {code}"


def _child_main(
    events: Any,
    cancel_event: Any,
    name: str,
    params: dict[str, Any],
    seed: int,
    device: str,
    threads: int | None,
    quiet: bool,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if quiet:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    _exit_with_parent()
    cancelled = threading.Event()

    def watch_cancel() -> None:
        cancel_event.wait()
        cancelled.set()

    threading.Thread(target=watch_cancel, name="sim-cancel", daemon=True).start()
    code = 0
    try:
        from sims.device import configure_threads
        from sims.lab import run_experiment

        configure_threads(threads, leave_free=1)
        run_experiment(
            name, params, seed=seed, device=device, on_event=events.put, cancel=cancelled.is_set
        )
    except BaseException as error:
        code = 1
        reason = f"{type(error).__name__}: {error}".strip()
        if type(error).__name__ in {"DeviceError", "ParamError"}:
            reason = str(error)
        events.put(RunFailed(reason=reason, details=traceback.format_exc()))
    finally:
        events.close()
        events.join_thread()  # every event is in the pipe now
    # Skip interpreter teardown: unloading torch takes ~0.4 s and nothing is left to save.
    os._exit(code)


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(3)

    threading.Thread(target=watch, name="sim-parent-watch", daemon=True).start()
