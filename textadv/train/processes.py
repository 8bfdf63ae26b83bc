"""The processes of a run, seen from an accelerate ``Accelerator``, and the gradient all-reduce.

Shared by the training loop (:func:`textadv.train.train`) and the ``transformers.Trainer`` adapter
(:class:`textadv.train.AdversarialTrainer`): neither wraps the model in DDP (surfaces call
submodules, which DDP's hooks would miss), so both combine gradients here after the objective's
backward. Both warn through it when the launch asked for more processes than the accelerator has
(:func:`textadv.train.launch.warn_on_launch_mismatch`).
"""

from __future__ import annotations

from typing import Any, List

import torch
import torch.distributed as dist

from .launch import warn_on_launch_mismatch


class Processes:
    """Rank, world size, device and collectives, from an accelerate ``Accelerator``."""

    def __init__(self, accelerator: Any):
        self.rank = accelerator.process_index
        self.world = accelerator.num_processes
        self.device = accelerator.device
        self.is_main = accelerator.is_main_process
        self.backward = accelerator.backward
        self.distributed = self.world > 1 and dist.is_available() and dist.is_initialized()
        warn_on_launch_mismatch(accelerator)

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def all_sum(self, t: torch.Tensor) -> torch.Tensor:
        if self.distributed:
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t


def combine_gradients(params: List[torch.nn.Parameter], weight: float, procs: Processes) -> None:
    """``grad ← Σ_processes weight_p · grad_p`` with one flattened all-reduce.

    ``weight_p`` is process p's share of the global batch, so a batch-mean loss gives the gradient of
    the global batch mean. A parameter without a gradient on every process keeps ``grad = None``.
    """
    if not procs.distributed:
        return
    pieces, flags = [], []
    for p in params:
        flags.append(0.0 if p.grad is None else 1.0)
        pieces.append(torch.zeros_like(p).reshape(-1) if p.grad is None else p.grad.reshape(-1) * weight)
    flat = torch.cat(pieces + [torch.tensor(flags, device=procs.device, dtype=pieces[0].dtype)])
    procs.all_sum(flat)
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset : offset + n].view_as(p).clone()
        offset += n
    for p, has_grad in zip(params, flat[offset:].tolist()):
        if has_grad == 0:
            p.grad = None
