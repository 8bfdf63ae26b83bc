"""A tiny real task shared by the training-loop tests and the 2-process worker."""

from __future__ import annotations

from torch import nn

from textadv.train import seed_everything
from textadv.vision import load_images


#: ε-schedule settings every entry point refuses (TrainConfig, the Trainer adapter), with the name the error
#: must start with: negative, fractional and boolean step counts.
BAD_SCHEDULES = [
    ({"adv_warmup_steps": -1}, "adv_warmup_steps"),
    ({"eps_ramp_steps": -5}, "eps_ramp_steps"),
    ({"eps_ramp_steps": 2.5}, "eps_ramp_steps"),
    ({"adv_warmup_steps": True}, "adv_warmup_steps"),
]


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


#: the runs of the 2-process comparison: objective and settings, and whether VAT also reads an unlabeled
#: set (semi-supervised: its draws come from the unlabeled stream). VAT's ξ is large enough that its finite
#: difference stands far above float32 rounding, so the comparison measures the draws, not rounding.
RUNS = {
    "at": ("at", dict(eps=0.5, norm=2), False),
    "vat": ("vat", dict(eps=0.5, norm=2, xi=0.5), False),
    "vat-unlabeled": ("vat", dict(eps=0.5, norm=2, xi=0.5), True),
    "random": ("random", dict(eps=0.5, norm=2), False),
}


def tiny_run(name: str, output_dir, accelerator=None):
    """Train a fresh tiny model on run ``name`` of :data:`RUNS`, in global batches of 16 for 2 epochs.

    69 examples, 10 steps, the last batch of each epoch (5) split 3 + 2 over 2 processes; semi-supervised
    runs read the 60 held-out images as the unlabeled set, split 8 + 8 in every step, so on the uneven
    steps a process's share of the labelled batch is not its share of the unlabeled one (the loop passes
    their ratio as ``unlabeled_weight``). Returns ``(model, TrainResult)``.
    """
    from textadv.objectives import build_objective
    from textadv.surfaces.image import ImageSurface
    from textadv.train import TrainConfig, train

    objective, settings, semi_supervised = RUNS[name]
    data, held_out = tiny_data(69)
    model = tiny_model()
    result = train(
        model,
        ImageSurface(model),
        build_objective(objective, **settings),
        data,
        config=TrainConfig(batch_size=16, epochs=2, lr=0.01, log_every=1, seed=3),
        output_dir=output_dir,
        unlabeled={"pixels": held_out["pixels"]} if semi_supervised else None,
        accelerator=accelerator,
        progress=False,
    )
    return model, result


def small_run(
    tmp,
    objective: str = "pgd",
    *,
    warmup: int = 0,
    ramp: int = 0,
    seed: int = 1,
    max_steps=None,
    resume: bool = False,
    dropout: float = 0.3,
    lr: float = 0.01,
    save_every: int = 0,
):
    """Train :func:`tiny_model` on 64 digits with ``objective`` (ℓ∞, ε = 0.2; PGD: 2 steps of 0.1), batches of
    16 for 3 epochs, every step logged; ``warmup``/``ramp`` are the ε schedule's. Returns ``(model, TrainResult)``."""
    from textadv.objectives import build_objective
    from textadv.surfaces.image import ImageSurface
    from textadv.train import TrainConfig, train

    data, _ = tiny_data(64)
    model = tiny_model(0, dropout)
    obj = build_objective(objective, eps=0.2, norm="inf", pgd_steps=2, pgd_step_size=0.1)
    config = TrainConfig(
        batch_size=16,
        epochs=3,
        max_steps=max_steps,
        lr=lr,
        lr_decay=0.99,
        log_every=1,
        save_every=save_every,
        seed=seed,
        adv_warmup_steps=warmup,
        eps_ramp_steps=ramp,
    )
    result = train(model, ImageSurface(model), obj, data, config=config, output_dir=tmp, resume=resume, progress=False)
    return model, result
