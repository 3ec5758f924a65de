"""BatchNorm whose statistics are those of the global batch across data-parallel workers.

torch's own SyncBatchNorm refuses CPU tensors (torch 2.13), so this one all-reduces the
count, sum and sum of squares itself, with the matching backward pass; it runs on every
device. Outside a process group it is plain BatchNorm.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import nn


class _AllReduceSum(torch.autograd.Function):
    """Sum over workers whose gradient is the sum of the workers' gradients (the result is
    used by every worker's loss)."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        out = tensor.clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        out = grad.clone()
        dist.all_reduce(out)
        return out


class SyncedBatchNorm(nn.BatchNorm1d):
    """BatchNorm whose training statistics cover the global batch of all workers.

    ``torch.nn.SyncBatchNorm`` does the same but refuses CPU tensors (torch 2.13: "expected
    input tensor to be on GPU"), so with ``gloo`` on CPU the batch mean and variance come
    from one all-reduce of each worker's count, sum and sum of squares; the autograd
    function above all-reduces their gradients too, so the backward pass matches a single
    process's BatchNorm over the whole batch. Outside a process group of two or more (one
    process, or evaluation) it is plain BatchNorm.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        synced = self.training and dist.is_initialized() and dist.get_world_size() > 1
        if not synced:
            return super().forward(x)
        width = self.num_features
        count = torch.full((1,), float(x.shape[0]), dtype=x.dtype, device=x.device)
        stats = _AllReduceSum.apply(torch.cat([x.sum(0), (x * x).sum(0), count]))
        total = stats[-1]
        mean = stats[:width] / total
        var = (stats[width : 2 * width] / total - mean * mean).clamp_min(0)
        if self.track_running_stats and self.running_mean is not None:
            momentum = self.momentum if self.momentum is not None else 0.1
            with torch.no_grad():
                unbiased = var * total / (total - 1).clamp_min(1)
                self.running_mean.lerp_(mean.detach(), momentum)
                assert self.running_var is not None
                self.running_var.lerp_(unbiased.detach(), momentum)
                if self.num_batches_tracked is not None:
                    self.num_batches_tracked += 1
        out = (x - mean) * torch.rsqrt(var + self.eps)
        if self.affine:
            out = out * self.weight + self.bias
        return out
