"""One seed for a run: data order, the objective's random draws, and the global RNGs.

Randomness in a training run comes from three places, all derived from ``TrainConfig.seed``:

- the data order: epoch ``e`` uses the permutation drawn from ``seed`` and ``e`` (:func:`epoch_generator`);
- the objective's random draws: VAT directions and the random-perturbation baseline per example,
  from ``(seed, step, example index)`` (:class:`textadv.core.draws.ExampleDraws`, the same for any
  number of processes); PGD random starts from a ``torch.Generator`` re-seeded from
  ``(seed, rank, step)`` at every step (:func:`step_generator`). Either way a resumed run draws
  exactly what an uninterrupted one would;
- the global torch / numpy / ``random`` RNGs (dropout), seeded once by :func:`seed_everything` and
  saved in every checkpoint.

Model initialisation is the caller's: call :func:`seed_everything` before building the model.
"""

from __future__ import annotations

import random

import numpy as np
import torch

# Large odd multipliers keep (seed, epoch/rank, step) triples from colliding in the derived seeds.
_EPOCH_MIX = 1_000_003
_RANK_MIX = 7_919
_STEP_MIX = 104_729


def seed_everything(seed: int) -> None:
    """Seed ``random``, numpy and torch (CPU and every CUDA device)."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The CPU generator that draws epoch ``epoch``'s data permutation (the same on every process)."""
    return torch.Generator().manual_seed(seed * _EPOCH_MIX + epoch)


def step_generator(seed: int, rank: int, step: int, device: torch.device | str = "cpu") -> torch.Generator:
    """The generator handed to ``Objective.step`` at global step ``step`` on process ``rank``."""
    g = torch.Generator(device=device)
    g.manual_seed((seed * _EPOCH_MIX + rank * _RANK_MIX + step * _STEP_MIX) % (2**63 - 1))
    return g
