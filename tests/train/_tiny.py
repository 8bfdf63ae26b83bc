"""A tiny real task shared by the training-loop tests and the 2-process worker."""

from __future__ import annotations

from torch import nn

from textadv.train import seed_everything
from textadv.vision import load_images


def tiny_data(train_size: int = 69):
    """Real 8×8 digits (scikit-learn) or MNIST; 8×8 digits keep the tests fast."""
    split = load_images("digits", seed=0, train_size=train_size, test_size=60)
    return split.train, split.test


def tiny_model(seed: int = 0, dropout: float = 0.0) -> nn.Module:
    seed_everything(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(4 * 4 * 4, 10),
    )
