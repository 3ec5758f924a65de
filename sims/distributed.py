"""Data-parallel training on ``torch.distributed``: k worker processes, each training on its
part of every global batch, with the gradients averaged by an all-reduce after every
backward pass (what ``DistributedDataParallel`` does, in one bucket and not overlapped with
the backward pass, so that the all-reduce can be timed on its own).

Backend: ``gloo`` for CPU processes, ``nccl`` for one GPU per process. Workers are fresh
interpreters (``python -m sims.distributed``), never forked: the app's simulation process
is a daemon, which may not start multiprocessing children, and a fork of a process that
holds torch threads or CUDA is unsafe anyway. The parent talks to each worker over its
stdin and a private copy of its stdout (pickled messages); rank 0's rendezvous store
listens on a free port of 127.0.0.1 and the collectives are pinned to the loopback
interface. A worker exits when its stdin closes, so it never outlives the parent.

Message flow (parent -> worker on stdin, worker -> parent on the private stdout):
``setup`` -> (rank 0) ``port`` -> ``port`` to the others -> ``ready`` from each -> ``jobs``
-> per job: ``event`` (rank 0 only), ``finished`` (weights, all-reduce time) -> ``done``.
``cancel`` may come at any time; the workers agree on it through the next all-reduce, so
they all stop after the same update and none is left waiting in a collective.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any

import torch
import torch.distributed as dist
from torch import nn

from sims.training import TrainHook, UpdateStep

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sims.config import DataSpec, ModelSpec, TrainConfig
    from sims.events import SimEvent
    from sims.results import RunRecord

STARTUP_SECONDS = 180.0  # import torch and meet in k fresh processes on a busy machine
COLLECTIVE_SECONDS = 60.0  # a collective that waits longer than this fails (a peer is gone)
CLOSE_SECONDS = 2.0  # how long a worker may take to exit before it is terminated


class DistributedError(RuntimeError):
    """A worker failed or stopped answering; the message carries its last error lines."""


@dataclass(frozen=True)
class Job:
    """One data-parallel run: ``config.batch_size`` is the global batch."""

    label: str
    index: int
    data: DataSpec
    model: ModelSpec
    config: TrainConfig
    seed: int


@dataclass
class WorkerRun:
    """What the workers reported for one job."""

    record: RunRecord | None = None
    weights: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)  # per rank
    first: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)  # after update 1
    allreduce_seconds: float = 0.0  # rank 0's time inside the all-reduce calls
    allreduce_calls: int = 0
    allreduce_bytes: int = 0  # per call


def loopback_interface() -> str | None:
    """The loopback interface's name (``lo`` on Linux, ``lo0`` on macOS), if found."""
    with contextlib.suppress(OSError, AttributeError):
        for _, name in socket.if_nameindex():
            if name.startswith("lo"):
                return name
    return None


# --- inside a worker -------------------------------------------------------------------


class GradientAverager(TrainHook):
    """After each backward pass: one all-reduce of every gradient (weighted by this
    worker's share of the batch, so an uneven last batch still gives the global mean), of
    the batch size and of a stop flag; reports the mean all-reduce time per update."""

    def __init__(self, stop_requested: Callable[[], bool]) -> None:
        self.stop_requested = stop_requested
        self.stopping = False
        self.seconds = 0.0
        self.calls = 0
        self.bytes = 0

    def after_backward(self, step: UpdateStep) -> None:
        grads = [p.grad for p in step.model.parameters() if p.requires_grad]
        if any(g is None for g in grads):
            raise RuntimeError("data-parallel training needs a gradient for every parameter")
        present = [g for g in grads if g is not None]
        local = float(step.inputs.shape[0])
        extra = torch.tensor([local, float(self.stop_requested())], device=present[0].device)
        flat = torch.cat([*(g.reshape(-1) * local for g in present), extra])
        sync = flat.is_cuda
        if sync:
            torch.cuda.synchronize()
        began = time.perf_counter()
        dist.all_reduce(flat)
        if sync:
            torch.cuda.synchronize()
        self.seconds += time.perf_counter() - began
        self.calls += 1
        self.bytes = flat.numel() * flat.element_size()
        total, stop = flat[-2:].tolist()
        mean = flat[:-2] / total
        offset = 0
        for g in present:
            g.copy_(mean[offset : offset + g.numel()].view_as(g))
            offset += g.numel()
        self.stopping = stop > 0

    def is_stopping(self) -> bool:
        """Every worker asked to stop at the last all-reduce (so all stop together)."""
        return self.stopping

    def report(self) -> dict[str, float]:
        return {"allreduce_ms": 1000 * self.seconds / self.calls} if self.calls else {}


class ModelKeeper(TrainHook):
    """Keeps the model a run trains, to read its final weights, and a copy of the weights
    after its first update (before training can amplify any difference)."""

    def __init__(self) -> None:
        self.model: nn.Module | None = None
        self.first: dict[str, torch.Tensor] = {}

    def after_backward(self, step: UpdateStep) -> None:
        self.model = step.model
        if step.update == 2:  # the optimizer has made exactly one step so far
            self.first = self.weights()

    def weights(self) -> dict[str, torch.Tensor]:
        if self.model is None:
            return {}
        return {k: v.detach().cpu().clone() for k, v in self.model.named_parameters()}


def _worker_main() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent decides (it cancels
    # the run, which the workers then end together).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Messages go out on a private copy of stdout; anything else printed goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    inbox = sys.stdin.buffer
    lock = threading.Lock()

    def send(*message: Any) -> None:
        with lock:
            pickle.dump(message, out)
            out.flush()

    try:
        _worker(inbox, send)
    except BaseException as error:  # noqa: BLE001 - the worker's last word to its parent
        send("error", f"{type(error).__name__}: {error}", traceback.format_exc())
        out.flush()
        os._exit(1)
    out.flush()
    os._exit(0)  # skip interpreter teardown (slow with torch) once everything is sent


def _worker(inbox: IO[bytes], send: Callable[..., None]) -> None:
    setup = _read(inbox, "setup")
    rank, world, backend = setup["rank"], setup["world"], setup["backend"]
    torch.set_num_threads(setup["threads"])
    timeout = timedelta(seconds=setup["timeout"])
    if rank == 0:
        # Left to itself the store's server listens on every interface; hand it a socket
        # bound to 127.0.0.1 (a free port chosen by the OS, so no race for it either).
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        store = dist.TCPStore(
            "127.0.0.1",
            listener.getsockname()[1],
            world,
            is_master=True,
            timeout=timeout,
            wait_for_workers=False,
            master_listen_fd=listener.fileno(),
        )
        send("port", store.port)
    else:
        port = _read(inbox, "port")["port"]
        store = dist.TCPStore("127.0.0.1", port, world, is_master=False, timeout=timeout)
    device = "cpu"
    if backend == "nccl":
        torch.cuda.set_device(rank)
        device = "cuda"
    dist.init_process_group(backend, store=store, rank=rank, world_size=world, timeout=timeout)
    send("ready", rank)

    cancel = threading.Event()
    jobs: queue.Queue[list[Job]] = queue.Queue()

    def listen() -> None:
        while True:
            try:
                message = pickle.load(inbox)
            except (EOFError, OSError, pickle.UnpicklingError):
                os._exit(3)  # the parent is gone: nobody is left to report to
            if message[0] == "cancel":
                cancel.set()
            elif message[0] == "jobs":
                jobs.put(message[1])

    threading.Thread(target=listen, name="dp-listen", daemon=True).start()
    from sims.datasets import build_dataset
    from sims.training import train

    for job in jobs.get():
        data = build_dataset(job.data).to(device)
        hook = GradientAverager(cancel.is_set)
        keeper = ModelKeeper()
        record = train(
            data,
            job.model,
            replace(job.config, shard_rank=rank, shard_count=world),
            device=device,
            label=job.label,
            emit=(lambda event: send("event", event)) if rank == 0 else None,
            cancel=hook.is_stopping,
            hooks=[hook, keeper],
            index=job.index,
            seed=job.seed,
        )
        send(
            "finished",
            rank,
            job.label,
            record if rank == 0 else None,
            keeper.weights(),
            keeper.first,
            (hook.seconds, hook.calls, hook.bytes),
        )
        if record.status == "cancelled":
            break
    dist.destroy_process_group()
    send("done", rank)


def _read(inbox: IO[bytes], kind: str) -> dict[str, Any]:
    message = pickle.load(inbox)
    if message[0] != kind:
        raise DistributedError(f"expected a {kind!r} message from the parent, got {message[0]!r}")
    return dict(message[1])


# --- in the parent ---------------------------------------------------------------------


class Workers:
    """k worker processes joined in one process group; a context manager that always
    ends them (politely, then by terminate/kill, every wait bounded)."""

    def __init__(self, count: int, backend: str, *, threads: int = 1) -> None:
        self.count, self.backend, self.threads = count, backend, threads
        self.messages: queue.Queue[tuple[int, tuple[Any, ...]]] = queue.Queue()
        self.errors: deque[str] = deque(maxlen=30)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.lock = threading.Lock()
        self.readers: list[threading.Thread] = []

    def __enter__(self) -> Workers:
        env = dict(os.environ)
        interface = loopback_interface()
        if interface is not None:
            env.setdefault("GLOO_SOCKET_IFNAME", interface)
            env.setdefault("NCCL_SOCKET_IFNAME", interface)
        for rank in range(self.count):
            process = subprocess.Popen(
                [sys.executable, "-m", "sims.distributed"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
            self.processes.append(process)
            self._send(
                rank,
                "setup",
                {
                    "rank": rank,
                    "world": self.count,
                    "backend": self.backend,
                    "threads": self.threads,
                    "timeout": COLLECTIVE_SECONDS,
                },
            )
        # Readers start once every worker has its setup: rank 0's port is passed on at once.
        for rank, process in enumerate(self.processes):
            for target, stream in (
                (self._read_messages, process.stdout),
                (self._read_errors, process.stderr),
            ):
                reader = threading.Thread(target=target, args=(rank, stream), daemon=True)
                reader.start()
                self.readers.append(reader)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_messages(self, rank: int, stream: IO[bytes]) -> None:
        while True:
            try:
                message = pickle.load(stream)
            except (EOFError, OSError, pickle.UnpicklingError):
                self.messages.put((rank, ("exit",)))
                return
            if message[0] == "port":  # the rendezvous must not wait for the main thread
                for other in range(1, self.count):
                    self._send(other, "port", {"port": message[1]})
                continue
            self.messages.put((rank, message))

    def _read_errors(self, rank: int, stream: IO[bytes]) -> None:
        for line in stream:
            text = line.decode(errors="replace").rstrip()
            if text:
                self.errors.append(f"worker {rank}: {text}")

    def _send(self, rank: int, kind: str, payload: Any = None) -> None:
        stdin = self.processes[rank].stdin
        assert stdin is not None
        try:
            with self.lock:
                pickle.dump((kind, payload), stdin)
                stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # it has exited; its reader reports how

    def _next(
        self, deadline: float, cancel: Callable[[], bool] | None
    ) -> tuple[int, tuple[Any, ...]] | None:
        """The next message, or None if ``cancel`` said so; raises past the deadline."""
        while True:
            if cancel is not None and cancel():
                return None
            try:
                return self.messages.get(timeout=0.2)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise DistributedError(self._why("stopped answering")) from None

    def _why(self, what: str, detail: str = "") -> str:
        tail = "; ".join(list(self.errors)[-3:])
        return (
            f"data-parallel worker {what}"
            + (f": {detail}" if detail else "")
            + (f" (last output: {tail})" if tail else "")
        )

    def _failure(self, rank: int, message: tuple[Any, ...]) -> DistributedError:
        if message[0] == "error":
            return DistributedError(self._why(f"{rank} failed", message[1]))
        code = self.processes[rank].poll()
        return DistributedError(self._why(f"{rank} exited unexpectedly (exit code {code})"))

    def wait_ready(self, cancel: Callable[[], bool] | None = None) -> bool:
        """Rendezvous: True once every worker joined the group; False if cancelled."""
        deadline = time.monotonic() + STARTUP_SECONDS
        ready: set[int] = set()
        while len(ready) < self.count:
            got = self._next(deadline, cancel)
            if got is None:
                return False
            rank, message = got
            if message[0] == "ready":
                ready.add(rank)
            else:
                raise self._failure(rank, message)
        return True

    def run(
        self,
        jobs: Sequence[Job],
        emit: Callable[[SimEvent], None],
        cancel: Callable[[], bool] | None = None,
    ) -> dict[str, WorkerRun]:
        """Train ``jobs`` one after another on all workers; rank 0's events go to ``emit``.
        A cancel is passed on to the workers, which end the current run as cancelled."""
        for rank in range(self.count):
            self._send(rank, "jobs", list(jobs))
        runs = {job.label: WorkerRun() for job in jobs}
        done: set[int] = set()
        cancelled = False
        deadline = time.monotonic() + COLLECTIVE_SECONDS
        while len(done) < self.count:
            got = self._next(deadline, None if cancelled else cancel)
            if got is None:
                cancelled = True
                for rank in range(self.count):
                    self._send(rank, "cancel")
                continue
            deadline = time.monotonic() + COLLECTIVE_SECONDS
            rank, message = got
            kind = message[0]
            if kind == "event":
                emit(message[1])
            elif kind == "finished":
                _, rank, label, record, weights, first, (seconds, calls, size) = message
                run = runs[label]
                run.weights[rank], run.first[rank] = weights, first
                if rank == 0:
                    run.record = record
                    run.allreduce_seconds, run.allreduce_calls = seconds, calls
                    run.allreduce_bytes = size
            elif kind == "done" or (cancelled and kind != "error"):
                # After a cancel a worker may stop and exit before it says so: it is done.
                done.add(rank)
            else:
                raise self._failure(rank, message)
        return runs

    def close(self) -> None:
        for process in self.processes:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()  # a worker exits when its stdin closes
        deadline = time.monotonic() + CLOSE_SECONDS
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.0, deadline - time.monotonic()))
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(0.5)
            if process.poll() is None:
                process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(0.5)
        for reader in self.readers:  # they end at the end of their pipe
            reader.join(0.5)
        for process in self.processes:
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


if __name__ == "__main__":
    _worker_main()
