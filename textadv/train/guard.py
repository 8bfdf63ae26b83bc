"""Stop training at the first non-finite loss or gradient: the one check every training loop runs.

A NaN or infinite loss (a diverging learning rate, an objective setting that overflows) would
otherwise flow into the optimiser, turn every weight into NaN, and let the job finish as if it had
trained: evaluate the broken model and write ``metrics.json``. The accelerate loop
(:func:`textadv.train.train`, which the text and image jobs run) and the ``transformers.Trainer``
adapter call :func:`check_step` after the backward and before the optimiser step, so the parameters
and every checkpoint already written stay those of the last good step, and no ``metrics.json``
marks the run complete.

The check costs no pass: it reads the loss the step already computed and the global gradient norm
(the one gradient clipping computes anyway, or one reduction over the gradients without clipping),
with a single host synchronisation for both. With several processes the gradient norm is taken after
the all-reduce, so it is the same everywhere and every process stops at the same step (a non-finite
loss makes its process's gradients non-finite, and the all-reduce carries them to every process).
"""

from __future__ import annotations

from typing import Iterable, Optional

import torch
from torch import Tensor


class NonFiniteTrainingError(ValueError, FloatingPointError):
    """A training step's loss or gradient is NaN or infinite.

    A ``ValueError`` (as well as a ``FloatingPointError``) so that commands report it as one line
    and exit 2, like any other setting that cannot train.
    """


def grad_norm(params: Iterable[torch.nn.Parameter]) -> Tensor:
    """The global ℓ2 norm of the parameters' gradients (those without one are skipped), a 0-dim tensor."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.nn.utils.get_total_norm(grads, norm_type=2.0)


def check_step(
    step: int, *, loss: Optional[Tensor] = None, grad_norm: Optional[Tensor] = None, kept: str = "no checkpoint"
) -> None:
    """Raise :class:`NonFiniteTrainingError` naming ``step`` when ``loss`` or ``grad_norm`` is not finite.

    Args:
        step: the 1-based number of the optimiser step being taken (the one that is refused).
        loss: the step's loss (any shape; ``None`` when this process had no examples).
        grad_norm: the global gradient norm after the backward (``None``: not checked).
        kept: what survives the stop, for the message (e.g. ``"the checkpoint of step 6 in run/checkpoint"``).
    """
    named = [(name, v) for name, v in (("loss", loss), ("gradient norm", grad_norm)) if v is not None]
    if not named:
        return
    device = named[0][1].device
    finite = torch.stack([torch.isfinite(v.detach()).all().to(device) for _, v in named])
    if bool(finite.all()):  # the one host synchronisation of the check
        return
    name, value = next((n, v.detach()) for (n, v), ok in zip(named, finite.tolist()) if not ok)
    value = value.item() if value.numel() == 1 else value[~torch.isfinite(value)].flatten()[0].item()
    raise NonFiniteTrainingError(
        f"training stopped at step {step}: the {name} is {value} (not finite); the parameters were not updated "
        f"and {kept} is kept; lower the learning rate or check the objective's settings"
    )
