"""Deterministic data sets, generated from a seed on the CPU and then moved to the device
once. Every training run slices batches out of these tensors; nothing is loaded per sample."""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass, replace
from importlib import resources

import torch

from sims.config import DIGITS_IMAGES, DataSpec

_DIGITS_FILE = "digits.u8.gz"  # 1,797 rows of 64 pixels (0..16) and the label; see DIGITS-LICENSE


@dataclass(frozen=True)
class Dataset:
    """Training and validation tensors (features flat: ``(N, features)``; labels int64).

    ``flipped`` counts training labels changed by label noise; ``image_shape`` is set for
    image data so a CNN can view the features as ``(1, H, W)``.
    """

    spec: DataSpec
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    classes: int
    flipped: int
    image_shape: tuple[int, int, int] | None = None

    @property
    def features(self) -> int:
        return int(self.x_train.shape[1])

    def to(self, device: str | torch.device) -> Dataset:
        return replace(
            self,
            x_train=self.x_train.to(device),
            y_train=self.y_train.to(device),
            x_val=self.x_val.to(device),
            y_val=self.y_val.to(device),
        )


def build_dataset(spec: DataSpec) -> Dataset:
    """The data set described by ``spec``, on the CPU: shuffled, split into training and
    validation, with ``label_noise`` applied to the training labels only."""
    generator = torch.Generator().manual_seed(_mix(spec.seed, 0xDA7A))
    image_shape = None
    if spec.name == "teacher":
        classes = spec.classes or 10
        x, y = _teacher(spec.used_examples, spec.features, classes, generator)
    elif spec.name == "spirals":
        classes = spec.classes or 3
        x, y = _spirals(spec.used_examples, classes, generator)
    elif spec.name == "digits":
        classes, image_shape = 10, (1, 8, 8)
        x, y = load_digits()
    else:
        raise ValueError(f"unknown data set {spec.name!r}")

    order = torch.randperm(x.shape[0], generator=generator)[: spec.used_examples]
    x, y = x[order], y[order]
    n_val = spec.n_val
    x_val, y_val = x[:n_val], y[:n_val]
    x_train, y_train = x[n_val:], y[n_val:].clone()
    if spec.name == "digits":
        # Centre each pixel on the training mean; one global scale keeps always-blank border
        # pixels at zero instead of dividing by a zero standard deviation.
        mean = x_train.mean(0, keepdim=True)
        scale = (x_train - mean).std().clamp_min(1e-6)
        x_train, x_val = (x_train - mean) / scale, (x_val - mean) / scale
    clean = y_train.clone()
    flipped = _flip_labels(y_train, classes, spec.label_noise, generator)
    if spec.folds >= 2:
        # Labels are flipped before the split, so every fold holds the same noisy training
        # labels, as cross-validation on a real noisy training set would.
        bounds = [round(i * x_train.shape[0] / spec.folds) for i in range(spec.folds + 1)]
        lo, hi = bounds[spec.fold], bounds[spec.fold + 1]
        keep = torch.ones(x_train.shape[0], dtype=torch.bool)
        keep[lo:hi] = False
        x_val, y_val = x_train[lo:hi], y_train[lo:hi]
        x_train, y_train = x_train[keep], y_train[keep]
        flipped = int((y_train != clean[keep]).sum())
    return Dataset(
        spec=spec,
        x_train=x_train.contiguous(),
        y_train=y_train,
        x_val=x_val.contiguous(),
        y_val=y_val,
        classes=classes,
        flipped=flipped,
        image_shape=image_shape,
    )


def load_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The shipped 8x8 digits: features ``(1797, 64)`` scaled to 0..1, labels ``(1797,)``."""
    raw = gzip.decompress(resources.files("sims").joinpath("data", _DIGITS_FILE).read_bytes())
    table = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(DIGITS_IMAGES, 65)
    return table[:, :64].float() / 16.0, table[:, 64].long()


def _teacher(
    n: int, features: int, classes: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian inputs labelled by a random teacher network: a linear map plus a
    32-unit ReLU layer, so the classes are separated by gently curved boundaries.

    The teacher is drawn before the inputs, so it is the same for every ``n``. Per-class
    offsets, fitted on a reference sample, give every class about the same share.
    """
    hidden = 32
    w0 = torch.randn(features, classes, generator=generator) / math.sqrt(features)
    w1 = torch.randn(features, hidden, generator=generator) / math.sqrt(features)
    b1 = torch.randn(hidden, generator=generator) * 0.5
    w2 = torch.randn(hidden, classes, generator=generator) / math.sqrt(hidden)

    def logits(x: torch.Tensor) -> torch.Tensor:
        return x @ w0 + 0.5 * (torch.relu(x @ w1 + b1) @ w2)

    reference = logits(torch.randn(16384, features, generator=generator))
    offset = torch.zeros(classes)
    for _ in range(50):
        share = torch.bincount((reference - offset).argmax(1), minlength=classes) / 16384
        offset += 0.1 * torch.log(share.clamp_min(1e-3) * classes)
    x = torch.randn(n, features, generator=generator)
    return x, (logits(x) - offset).argmax(1)


def _spirals(n: int, classes: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``classes`` interleaved spiral arms in the plane, with a little Gaussian jitter."""
    y = torch.arange(n) % classes
    t = torch.rand(n, generator=generator)
    radius = 0.15 + 0.85 * t
    angle = 2 * math.pi * (1.1 * t + y.float() / classes)
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    x = x + 0.035 * torch.randn(n, 2, generator=generator)
    return x * 2.0, y


def _flip_labels(
    labels: torch.Tensor, classes: int, fraction: float, generator: torch.Generator
) -> int:
    """Give ``fraction`` of ``labels`` (in place) a different class, chosen uniformly."""
    count = round(fraction * labels.shape[0])
    if count == 0:
        return 0
    which = torch.randperm(labels.shape[0], generator=generator)[:count]
    shift = torch.randint(1, classes, (count,), generator=generator)
    labels[which] = (labels[which] + shift) % classes
    return count


def _mix(seed: int, salt: int) -> int:
    """A 63-bit seed derived from ``seed`` and a per-purpose ``salt``, so that data, weights
    and batch order get independent random streams."""
    return (seed * 0x9E3779B97F4A7C15 + salt) % (2**63 - 1)
