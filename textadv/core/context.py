"""Keep a model's state as it was while an attack or an extra pass runs through it.

In the spirit of advertorch's ``ctx_noparamgrad_and_eval``: attacks in ``textadv.core`` take
gradients with ``torch.autograd.grad`` with respect to the input alone, so they never write
``param.grad``; these context managers cover the rest (train/eval mode, ``requires_grad``).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


@contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Put every submodule in eval mode, then restore each one's own flag."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, training in modes:
            m.training = training


@contextmanager
def frozen_parameters(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Turn ``requires_grad`` off for every parameter (no parameter graph is built), then restore."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


@contextmanager
def attack_mode(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Eval mode and frozen parameters: the state to attack a trained model in."""
    with eval_mode(model), frozen_parameters(model):
        yield model


@contextmanager
def frozen_batchnorm_stats(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Stop batch-norm layers from updating running statistics during extra (perturbed) passes.

    Training-mode normalisation still uses the batch statistics; only the running averages are
    left alone, so the perturbed passes of AT/VAT/PGD do not leak into evaluation statistics.
    """
    saved = []
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            saved.append((m, m.momentum))
            m.momentum = 0.0  # running = (1 - 0)·running + 0·batch: unchanged
    try:
        yield model
    finally:
        for m, momentum in saved:
            m.momentum = momentum
