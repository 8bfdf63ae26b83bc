"""Training: the accelerate loop, resumable checkpoints, seeding and batching (generic over surfaces)."""

from .checkpoint import check_checkpoint, find_checkpoint, load_checkpoint, save_checkpoint
from ..surfaces import to_device
from .data import Batches, dataset_size, epoch_order, shard, take
from .loop import TrainConfig, TrainResult, train
from .processes import combine_gradients
from .seed import epoch_generator, seed_everything, step_generator

__all__ = [
    "TrainConfig",
    "TrainResult",
    "train",
    "combine_gradients",
    "seed_everything",
    "epoch_generator",
    "step_generator",
    "Batches",
    "dataset_size",
    "epoch_order",
    "shard",
    "take",
    "to_device",
    "check_checkpoint",
    "find_checkpoint",
    "load_checkpoint",
    "save_checkpoint",
    "AdversarialTrainer",
]


def __getattr__(name):
    # The transformers.Trainer adapter imports transformers: only on first use.
    if name == "AdversarialTrainer":
        from .trainer import AdversarialTrainer

        return AdversarialTrainer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
