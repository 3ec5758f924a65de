"""SGD with momentum, Adam and AdamW, with the same arithmetic as ``torch.optim`` (tests compare the
two), written with ``torch._foreach_*`` ops for small models.

Why not ``torch.optim``: constructing any ``torch.optim.Optimizer`` imports
``torch._dynamo``, which takes about 1.5 s on a small CPU, i.e. longer than a whole demo run,
and its per-step bookkeeping costs about a third of an update of the small models used here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from collections.abc import Iterable


class Optimizer:
    """The part of the ``torch.optim`` interface the training loop uses: ``lr`` (may be
    changed between steps), ``zero_grad()`` (sets gradients to ``None``) and ``step()``."""

    def __init__(self, params: Iterable[torch.nn.Parameter], lr: float) -> None:
        self.params = [p for p in params if p.requires_grad]
        # Detached views share storage with the parameters: in-place updates on them change
        # the weights without autograd bookkeeping (no ``torch.no_grad()`` per step).
        self.weights = [p.detach() for p in self.params]
        self.lr = lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def _grads(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """(weights, gradients) of the parameters that received a gradient."""
        pairs = [(w, p.grad) for w, p in zip(self.weights, self.params, strict=True)]
        kept = [(w, g) for w, g in pairs if g is not None]
        return [w for w, _ in kept], [g for _, g in kept]

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """``torch.optim.SGD`` with ``momentum`` (dampening 0, no Nesterov) and weight decay."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.buffers: list[torch.Tensor] | None = None

    def step(self) -> None:
        weights, grads = self._grads()
        if self.weight_decay:
            grads = list(torch._foreach_add(grads, weights, alpha=self.weight_decay))
        if self.momentum:
            if self.buffers is None:
                self.buffers = [g.clone() for g in grads]
            else:
                torch._foreach_mul_(self.buffers, self.momentum)
                torch._foreach_add_(self.buffers, grads)
            grads = self.buffers
        torch._foreach_add_(weights, grads, alpha=-self.lr)


class Adam(Optimizer):
    """``torch.optim.Adam`` (betas 0.9/0.999, eps 1e-8, L2 weight decay, no AMSGrad)."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.steps = 0
        self.first = [torch.zeros_like(w) for w in self.weights]
        self.second = [torch.zeros_like(w) for w in self.weights]

    def step(self) -> None:
        weights, grads = self._grads()
        if len(weights) != len(self.weights):
            raise RuntimeError("Adam here expects every parameter to receive a gradient")
        if self.weight_decay:
            grads = list(torch._foreach_add(grads, weights, alpha=self.weight_decay))
        self.steps += 1
        torch._foreach_lerp_(self.first, grads, 1 - self.beta1)
        torch._foreach_mul_(self.second, self.beta2)
        torch._foreach_addcmul_(self.second, grads, grads, value=1 - self.beta2)
        correction1 = 1 - self.beta1**self.steps
        correction2_sqrt = math.sqrt(1 - self.beta2**self.steps)
        denominators = torch._foreach_sqrt(self.second)
        torch._foreach_div_(denominators, correction2_sqrt)
        torch._foreach_add_(denominators, self.eps)
        torch._foreach_addcdiv_(weights, self.first, denominators, value=-self.lr / correction1)


class AdamW(Adam):
    """``torch.optim.AdamW``: Adam with decoupled weight decay (Loshchilov & Hutter 2019).

    The weights shrink by ``lr * weight_decay`` before the Adam step, outside the adaptive
    denominator, so every weight decays at the same rate whatever its gradient history; L2
    added to the gradient (:class:`Adam` with ``weight_decay``) is divided by that
    denominator instead. As in torch, the shrink is multiplied by the current ``lr`` (the
    paper multiplies it by the schedule factor only).
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas=betas, eps=eps)
        self.decoupled_decay = weight_decay

    def step(self) -> None:
        if self.decoupled_decay:
            torch._foreach_mul_(self.weights, 1 - self.lr * self.decoupled_decay)
        super().step()
