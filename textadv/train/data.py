"""Batches for the training loop and for evaluation, and their split across processes.

A dataset is either

- a mapping of tensors with a common first dimension (``{"pixels": [N, 1, 28, 28], "labels": [N]}``),
  indexed directly (fast; no collate), or
- any sequence of examples with a ``collate_fn(list_of_examples) -> Batch`` (default
  ``torch.utils.data.default_collate``), e.g. tokenised text padded per batch.

The global batch order depends on the seed and the epoch only (:func:`epoch_order`), so it is the
same for any number of processes; :func:`shard` gives each process a contiguous slice of each global
batch. N processes with per-process batch b thus see exactly the examples of one process with batch
N·b.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, List, Mapping, Optional, Sequence

import torch
from torch import Tensor

from ..surfaces import Batch
from .seed import epoch_generator

Collate = Callable[[List[Any]], Batch]


def dataset_size(dataset: Any) -> int:
    """Number of examples of a tensor mapping or a sequence."""
    if isinstance(dataset, Mapping):
        sizes = {k: v.shape[0] for k, v in dataset.items() if isinstance(v, Tensor)}
        if not sizes:
            raise ValueError("a dataset given as a mapping must hold tensors with a common first dimension")
        if len(set(sizes.values())) != 1:
            raise ValueError(f"dataset tensors disagree on the number of examples: {sizes}")
        return next(iter(sizes.values()))
    return len(dataset)


def take(dataset: Any, indices: Sequence[int], collate_fn: Optional[Collate] = None) -> Batch:
    """The batch made of ``dataset[indices]``."""
    if isinstance(dataset, Mapping):
        index = torch.as_tensor(list(indices), dtype=torch.long)
        return {k: (v[index] if isinstance(v, Tensor) else v) for k, v in dataset.items()}
    collate = collate_fn or torch.utils.data.default_collate
    return collate([dataset[int(i)] for i in indices])


def epoch_order(num_examples: int, seed: int, epoch: int, shuffle: bool = True) -> Tensor:
    """The example order of epoch ``epoch``: a seeded permutation ``[N]`` (or ``arange`` unshuffled)."""
    if not shuffle:
        return torch.arange(num_examples)
    return torch.randperm(num_examples, generator=epoch_generator(seed, epoch))


def num_batches(num_examples: int, batch_size: int, drop_last: bool = False) -> int:
    if drop_last:
        return num_examples // batch_size
    return (num_examples + batch_size - 1) // batch_size


def shard(global_indices: Tensor, rank: int, world_size: int) -> Tensor:
    """Process ``rank``'s contiguous slice of one global batch (sizes differ by at most one).

    A process may get an empty slice when the last global batch has fewer examples than processes.
    """
    return torch.tensor_split(global_indices, world_size)[rank]


def unlabeled_indices(
    num_examples: int,
    global_batch: int,
    step: int,
    *,
    seed: int,
    rank: int = 0,
    world: int = 1,
    shuffle: bool = True,
) -> Tensor:
    """Process ``rank``'s indices of the unlabeled global batch of step ``step`` (semi-supervised VAT).

    Step k takes global batch k of a cycle of seeded epochs over the unlabeled set, full batches only
    (every step the same size; the last ``num_examples mod global_batch`` examples of an epoch wait
    for a later permutation). The epochs are numbered downward from -1, so they never share a
    permutation with the labelled epochs (0, 1, ...). The training loop and the ``Trainer`` adapter
    both draw their unlabeled batches here.
    """
    if not 1 <= global_batch <= num_examples:
        raise ValueError(f"the unlabeled set ({num_examples} examples) must hold at least one batch of {global_batch}")
    per_epoch = num_examples // global_batch
    order = epoch_order(num_examples, seed, -1 - step // per_epoch, shuffle)
    start = (step % per_epoch) * global_batch
    return shard(order[start : start + global_batch], rank, world)


class Batches:
    """The dataset in order, ``batch_size`` examples at a time (the last batch may be smaller).

    Re-iterable (each ``iter`` starts again), so one object serves as the ``loader`` of every
    function of :mod:`textadv.eval`.
    """

    def __init__(self, dataset: Any, batch_size: int, *, collate_fn: Optional[Collate] = None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.dataset, self.batch_size, self.collate_fn = dataset, batch_size, collate_fn
        self.num_examples = dataset_size(dataset)

    def __len__(self) -> int:
        return num_batches(self.num_examples, self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        n = self.num_examples
        for start in range(0, n, self.batch_size):
            yield take(self.dataset, range(start, min(start + self.batch_size, n)), self.collate_fn)
