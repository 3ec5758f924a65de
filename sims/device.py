"""Choosing where to train (CUDA > MPS > CPU unless told) and how many CPU threads to use."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from collections.abc import Iterator

DEVICE_CHOICES: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")


class DeviceError(RuntimeError):
    """The requested device is not available on this machine."""


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.insert(0, "cuda")
    if _mps_available():
        devices.insert(0, "mps")
    return devices


def resolve_device(requested: str = "auto") -> str:
    """``auto`` picks CUDA, then MPS, then CPU; naming an unavailable device is an error
    with a message that says what is available."""
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if _mps_available() else "cpu"
    if requested not in DEVICE_CHOICES:
        raise DeviceError(f"unknown device {requested!r}; expected one of auto, cpu, cuda, mps")
    if requested not in available_devices():
        raise DeviceError(
            f"device {requested!r} is not available here (this torch build: "
            f"{torch.__version__}); available: {', '.join(available_devices())}"
        )
    return requested


def device_name(device: str) -> str:
    """A human label such as ``cuda (NVIDIA H100)`` or ``cpu (2 threads)``."""
    if device == "cuda":
        return f"cuda ({torch.cuda.get_device_name()})"
    if device == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def configure_threads(threads: int | None = None, *, leave_free: int = 0) -> int:
    """Set torch's intra-op threads: ``threads`` if given, else half of the usable cores
    left after ``leave_free`` (at least 1, at most 4). Returns the number set.

    Why so few: the models here are tiny, so each op is too short to split well, and when
    another process competes for the cores, spinning OpenMP threads wait on each other. On
    a busy 2-core machine, 2 threads made an update of the default MLP 60x slower than 1.
    """
    count = threads if threads is not None else min(4, (usable_cores() - leave_free) // 2)
    count = max(1, count)
    torch.set_num_threads(count)
    return count


def synchronize(device: str) -> None:
    """Wait for the work queued on ``device`` (CUDA and MPS run asynchronously), so that a
    clock read next measures finished work. No-op on the CPU."""
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


def empty_cache(device: str) -> None:
    """Hand the caching allocator's unused blocks back to the device (after an
    out-of-memory, once the failed step's tensors are gone). No-op on the CPU."""
    if device == "cuda":
        torch.cuda.empty_cache()
    elif device == "mps":
        torch.mps.empty_cache()


@contextmanager
def kernel_settings(device: str, *, deterministic: bool) -> Iterator[None]:
    """cuDNN settings for one experiment, restored afterwards (never left process-wide).

    ``deterministic``: fixed kernels, so equal inputs give equal numbers on one GPU; off for
    experiments that measure speed, where cuDNN may pick its fastest kernels (autotuning)."""
    if device != "cuda":
        yield
        return
    cudnn = torch.backends.cudnn
    before = (cudnn.benchmark, cudnn.deterministic)
    cudnn.benchmark, cudnn.deterministic = (False, True) if deterministic else (True, False)
    try:
        yield
    finally:
        cudnn.benchmark, cudnn.deterministic = before
