"""Small models sized for seconds of training: an MLP for any data, a CNN for 8x8 images."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from sims.config import ModelSpec
    from sims.datasets import Dataset


class MLP(nn.Module):
    def __init__(
        self, inputs: int, hidden: int, depth: int, classes: int, norm: str = "none"
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = inputs
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), *_norm(norm, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SmallCNN(nn.Module):
    """conv3x3(16) - ReLU - conv3x3(32) - ReLU - maxpool2 - dense(hidden) - ReLU - dense."""

    def __init__(self, image_shape: tuple[int, int, int], hidden: int, classes: int) -> None:
        super().__init__()
        channels, height, width = image_shape
        self.image_shape = image_shape
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Linear(32 * (height // 2) * (width // 2), hidden),
            nn.ReLU(),
            nn.Linear(hidden, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        images = x.view(x.shape[0], *self.image_shape)
        return self.head(self.features(images))


def _norm(kind: str, width: int) -> list[nn.Module]:
    if kind == "batch":
        return [nn.BatchNorm1d(width)]
    if kind == "sync-batch":
        from sims.sync_batchnorm import SyncedBatchNorm

        return [SyncedBatchNorm(width)]
    return []


def build_model(spec: ModelSpec, data: Dataset) -> nn.Module:
    """A freshly initialised model for ``data`` (seed torch's RNG first for repeatable
    weights)."""
    if spec.kind == "cnn":
        if data.image_shape is None:
            raise ValueError(f"a CNN needs image data; {data.spec.name!r} is not images")
        return SmallCNN(data.image_shape, spec.hidden, data.classes)
    return MLP(data.features, spec.hidden, spec.depth, data.classes, spec.norm)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
