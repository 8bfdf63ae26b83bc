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


#: the objectives of the 2-process comparison and their settings. VAT's ξ is large enough that its finite
#: difference stands far above float32 rounding, so the comparison measures the draws, not rounding.
OBJECTIVES = {"at": dict(eps=0.5, norm=2), "vat": dict(eps=0.5, norm=2, xi=0.5), "random": dict(eps=0.5, norm=2)}


def tiny_config():
    """69 examples in global batches of 16 for 2 epochs: 10 steps, the last batch of each epoch (5) split 3 + 2."""
    from textadv.train import TrainConfig

    return TrainConfig(batch_size=16, epochs=2, lr=0.01, log_every=1, seed=3)
