"""Run an experiment in a separate process and receive its events through a one-way pipe.

The child is started with ``spawn`` (never ``fork``: unsafe with threads and CUDA). Starting
is safe inside a Textual app, which replaces ``sys.stdout``/``sys.stderr`` with objects that
have no usable file descriptor (Textual issue #3593): the process and multiprocessing's
resource tracker are started with the real streams restored. The child leaves one core to the
UI, writes nothing to the terminal, ignores Ctrl-C (the parent decides), and exits by itself
if the parent dies, so it can never be orphaned.

The channel is built so that no call here can hang:

- only the child holds the pipe's write end, so a child that dies, even mid-message, gives
  end-of-file instead of a read that waits forever;
- the parent reads without blocking (whatever bytes are there, into a buffer) and waits only
  with a timeout; a message is decoded once all of it has arrived;
- ``cancel`` raises a flag, keeps reading while the child winds down (a child blocked
  writing a large message can then finish it), terminates it only after a bounded wait, and
  then closes the pipe: nothing is read after a terminate;
- no data crosses twice: run histories arrive point by point (``RunProgress``), so
  ``RunFinished`` and ``ExperimentFinished`` travel without them and are completed here.

This module does not import torch; only the child does.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import multiprocessing
import multiprocessing.connection
import multiprocessing.resource_tracker
import os
import pickle
import signal
import struct
import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

from sims.events import ExperimentFinished, RunFailed, RunFinished, RunProgress, SimEvent
from sims.params import check_seed
from sims.registry import resolve_params
from sims.results import HistoryPoint, RunRecord

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from multiprocessing.process import BaseProcess

TERMINAL_EVENTS = (ExperimentFinished, RunFailed)

_HEADER = struct.Struct("!Q")  # each message: its length, then the pickled event
_READ_SIZE = 1 << 20
_STOP_WAIT = 0.5  # seconds a cancelled child gets to stop by itself (it checks every update)
_TERM_WAIT = 0.25  # then after SIGTERM, before SIGKILL
_KILL_WAIT = 0.2


class SimRunner:
    """One background simulation at a time.

    ``start`` validates the parameters in this process (raising
    :class:`~sims.params.ParamError`) and launches the child; ``poll`` returns the next event
    or ``None``; the stream ends with ``ExperimentFinished`` or ``RunFailed`` (a crash in the
    child, including its traceback, or a child that died without a word). ``cancel`` ends the
    child within a second; complete events it sent before are still delivered by ``poll``.
    """

    def __init__(self, *, threads: int | None = None, quiet: bool = True) -> None:
        self.threads = threads
        self.quiet = quiet
        self._process: BaseProcess | None = None
        self._channel: _Channel | None = None
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
        the child is gone and what it sent has been delivered."""
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
        check_seed(seed)
        context = multiprocessing.get_context("spawn")
        reader, writer = context.Pipe(duplex=False)
        with _real_std_streams():  # the event's semaphore starts the resource tracker
            self._cancel_event = context.Event()
        self._process = context.Process(
            target=_child_main,
            args=(writer, self._cancel_event, name, values, seed, device, self.threads, self.quiet),
            name=f"sim-{name}",
            daemon=True,
        )
        try:
            with _real_std_streams():
                self._process.start()
        except BaseException:
            reader.close()
            self._process = self._cancel_event = None
            raise
        finally:
            # From here on only the child can write: its death always ends the stream.
            writer.close()
        self._finished = False
        self._cancelled = False
        self._channel = _Channel(reader)

    def poll(self, timeout: float | None = 0.0) -> SimEvent | None:
        """The next event, waiting up to ``timeout`` seconds (``None``: until one comes or
        the child is gone); ``None`` if there is none yet or the stream has ended."""
        channel = self._channel
        if channel is None or self._finished:
            return None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            event = channel.next_event()
            if event is not None:
                if isinstance(event, TERMINAL_EVENTS):
                    self._end()
                return event
            if channel.closed:
                return self._ended_silently()
            left = 0.2 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                return None
            channel.read(min(left, 0.2))

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
        """Stop the child: raise its cancel flag and keep reading while it stops by itself
        (up to 0.5 s), then terminate it, then kill it. Returns once it is gone (well under
        1 s). Events that arrived whole stay available to ``poll``; nothing is read after
        a terminate."""
        process, channel = self._process, self._channel
        if process is None or channel is None or self._finished or self._cancelled:
            return
        self._cancelled = True
        self._cancel_event.set()
        deadline = time.monotonic() + _STOP_WAIT
        while not channel.closed and time.monotonic() < deadline:
            channel.read(deadline - time.monotonic())
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            channel.close()  # a message cut short by the terminate must never be read
            process.terminate()
            process.join(_TERM_WAIT)
        if process.is_alive():
            process.kill()
            process.join(_KILL_WAIT)
        channel.close()

    def close(self) -> None:
        """Cancel anything running and release the pipe."""
        if self._process is not None and self._process.is_alive():
            self.cancel()
        if self._channel is not None:
            self._channel.close()
        if self._process is not None and self._process.pid is not None:
            self._process.join(0)  # reap it if it has exited
        self._process = self._channel = self._cancel_event = None
        self._finished = True

    def __enter__(self) -> SimRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ended_silently(self) -> SimEvent | None:
        """The pipe closed with no final event: a cancel, or a child that died."""
        self._end()
        if self._cancelled or self._process is None:
            return None
        self._process.join(1.0)
        return RunFailed(
            reason="the simulation process ended unexpectedly "
            f"({_describe_exit(self._process.exitcode)})"
        )

    def _end(self) -> None:
        self._finished = True
        if self._channel is not None:
            self._channel.close()
        if self._process is not None:
            self._process.join(1.0)


class _Channel:
    """The parent's end of the pipe: non-blocking reads into a buffer, whole messages out.

    ``closed`` becomes true at end-of-file or after :meth:`close`; events decoded before
    that are still returned by :meth:`next_event`.
    """

    def __init__(self, connection: multiprocessing.connection.Connection) -> None:
        self._connection: multiprocessing.connection.Connection | None = connection
        os.set_blocking(connection.fileno(), False)
        self._buffer = bytearray()
        self._ready: collections.deque[SimEvent] = collections.deque()
        self._assembler = _Assembler()

    @property
    def closed(self) -> bool:
        return self._connection is None

    def next_event(self) -> SimEvent | None:
        return self._ready.popleft() if self._ready else None

    def read(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for bytes, read what is there, decode whole
        messages."""
        connection = self._connection
        if connection is None:
            return
        if not multiprocessing.connection.wait([connection], max(0.0, timeout)):
            return
        try:
            chunk = os.read(connection.fileno(), _READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.close()
            return
        self._buffer += chunk
        self._decode()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._buffer.clear()  # a partial message can never be completed now

    def _decode(self) -> None:
        buffer, size = self._buffer, _HEADER.size
        start = 0
        while len(buffer) - start >= size:
            (length,) = _HEADER.unpack_from(buffer, start)
            end = start + size + length
            if len(buffer) < end:
                break
            message = pickle.loads(bytes(buffer[start + size : end]))
            self._ready.append(self._assembler.complete(message))
            start = end
        del buffer[:start]


class _Assembler:
    """Puts back what the child left out of a message because it had already been sent:
    each run's history (sent point by point) and the experiment's run records (sent with
    each ``RunFinished``)."""

    def __init__(self) -> None:
        self.history: list[HistoryPoint] = []
        self.records: list[RunRecord] = []

    def complete(self, event: SimEvent) -> SimEvent:
        if isinstance(event, RunProgress):
            fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(HistoryPoint)}
            self.history.append(HistoryPoint(**fields))
        elif isinstance(event, RunFinished):
            record = dataclasses.replace(event.record, history=self.history)
            self.history = []
            self.records.append(record)
            return dataclasses.replace(event, record=record)
        elif isinstance(event, ExperimentFinished):
            result = dataclasses.replace(event.result, runs=self.records)
            return ExperimentFinished(result)
        return event


def _strip(event: SimEvent) -> SimEvent:
    """What crosses the pipe: events without data the receiver already has."""
    if isinstance(event, RunFinished):
        return dataclasses.replace(event, record=dataclasses.replace(event.record, history=[]))
    if isinstance(event, ExperimentFinished):
        return ExperimentFinished(dataclasses.replace(event.result, runs=[]))
    return event


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
    writer: multiprocessing.connection.Connection,
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
    fd = writer.fileno()

    def send(event: SimEvent) -> None:
        # Written in full before training goes on, so nothing is left in a buffer at exit.
        # A parent that stops reading blocks this write; it then cancels or kills us.
        payload = pickle.dumps(_strip(event), protocol=pickle.HIGHEST_PROTOCOL)
        data = memoryview(_HEADER.pack(len(payload)) + payload)
        while data:
            data = data[os.write(fd, data) :]

    code = 0
    try:
        from sims.device import configure_threads
        from sims.lab import run_experiment

        configure_threads(threads, leave_free=1)
        run_experiment(
            name, params, seed=seed, device=device, on_event=send, cancel=cancelled.is_set
        )
    except BaseException as error:  # noqa: BLE001 - the child's last word to its parent
        code = 1
        reason = f"{type(error).__name__}: {error}".strip()
        if type(error).__name__ in {"DeviceError", "ParamError"}:
            reason = str(error)
        with contextlib.suppress(OSError):  # the parent may be gone
            send(RunFailed(reason=reason, details=traceback.format_exc()))
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
