"""Per-example random draws that do not depend on how a batch is split across processes.

A random perturbation (VAT's initial direction d, the random-perturbation baseline) drawn from one
generator per process depends on which process holds an example, so N processes would not train
like one. :class:`ExampleDraws` instead draws the numbers of each example from its own CPU
generator, seeded by ``(seed, stream, step, index)`` where ``index`` is the example's global index
(its position in the dataset): the same example at the same step gets the same numbers on any
process, for any number of processes, on CPU and on GPU (the numbers are drawn on the CPU in float64
and then moved to the device and dtype of the input).

The draw of an example is also independent of padding: its values are drawn in the row-major order
of the example's own shape and a longer draw starts with the numbers of a shorter one, so a sequence
padded on the right to a longer batch (another process's batch) gets the same numbers at its real
positions. This is why the normal numbers come from uniform pairs by Box-Muller rather than from
``torch.randn``, whose CPU kernel fills a tensor in blocks and does not keep that prefix property.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

_MASK64 = (1 << 64) - 1


def _splitmix64(value: int) -> int:
    """One step of the SplitMix64 mixer: spreads nearby integers over all 64 bits."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def example_seed(seed: int, stream: int, step: int, index: int) -> int:
    """The seed of one example's generator: a 63-bit mix of ``(seed, stream, step, index)``."""
    h = 0
    for part in (seed, stream, step, index):
        h = _splitmix64(h ^ (int(part) & _MASK64))
    return h >> 1


def example_normal(seed: int, shape: Sequence[int]) -> Tensor:
    """Standard normal numbers of ``shape`` (float64, CPU) from a generator seeded with ``seed``.

    Box-Muller on uniform pairs: number i uses uniforms 2i and 2i+1, so the draw of a shape is a
    prefix of the draw of any larger shape (in row-major order).
    """
    n = math.prod(shape)
    u = torch.rand(2 * n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).view(n, 2)
    radius = torch.sqrt(-2.0 * torch.log1p(-u[:, 0]))  # 1 - u ∈ (0, 1]: finite
    return (radius * torch.cos(2.0 * math.pi * u[:, 1])).view(*shape)


@dataclass(frozen=True)
class ExampleDraws:
    """The random numbers of the examples of one (per-process) batch at one training step.

    Args:
        seed: the run's seed.
        step: the global optimiser step.
        indices: the global index of each row of the batch (its position in the dataset).
        stream: which dataset the indices refer to (0: the labelled set, 1: the unlabeled set), so
            that example i of one set and example i of the other draw different numbers.
    """

    seed: int
    step: int
    indices: tuple
    stream: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "indices", tuple(int(i) for i in self.indices))

    def normal(self, shape: Sequence[int], dtype: torch.dtype, device: torch.device | str) -> Tensor:
        """``[B, ...]`` standard normal numbers, row b drawn for example ``indices[b]``."""
        shape = tuple(shape)
        if not shape or shape[0] != len(self.indices):
            raise ValueError(f"a draw of shape {shape} must have one row per example ({len(self.indices)})")
        rows = [example_normal(example_seed(self.seed, self.stream, self.step, i), shape[1:]) for i in self.indices]
        drawn = torch.stack(rows) if rows else torch.empty(shape, dtype=torch.float64)
        return drawn.to(device=device, dtype=dtype)


__all__ = ["ExampleDraws", "example_normal", "example_seed"]
