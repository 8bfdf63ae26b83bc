"""A small CNN in the shape of Madry et al.'s MNIST network (2 conv + 2 fully connected layers).

Madry et al. (2018) use conv(32, 5×5) → pool → conv(64, 5×5) → pool → fc(1024) → fc(10). The
default here is narrower (8 and 16 channels, 64 hidden units) so that PGD training finishes in
minutes on two CPU cores; PAPERS.md §4 notes that capacity matters for robustness, so widen it with
``channels``/``hidden`` for numbers closer to the paper. No batch norm. Input ``[B, C, H, W]`` in
[0, 1], output logits ``[B, num_classes]``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Tuple

import torch
from torch import nn


@dataclass(frozen=True)
class CNNConfig:
    in_channels: int = 1
    image_size: int = 28
    channels: Tuple[int, int] = (8, 16)
    hidden: int = 64
    num_classes: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if len(self.channels) != 2 or min(self.channels) < 1:
            raise ValueError(f"channels must be two positive integers, got {self.channels}")
        if self.image_size < 4 or self.image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 (two 2x2 poolings), got {self.image_size}")
        for name in ("in_channels", "hidden", "num_classes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    def to_dict(self) -> dict:
        return asdict(self)


class SmallCNN(nn.Module):
    def __init__(self, config: CNNConfig = CNNConfig()):
        super().__init__()
        self.config = config
        c1, c2 = config.channels
        side = config.image_size // 4
        self.features = nn.Sequential(
            nn.Conv2d(config.in_channels, c1, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * side * side, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.num_classes),
        )

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:  # [B, C, H, W] -> [B, num_classes]
        return self.classifier(self.features(pixels))
