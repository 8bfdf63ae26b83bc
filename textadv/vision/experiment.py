"""The image experiment behind ``textadv image-train`` and ``recipes/image_adversarial_training.py``.

Train the small CNN on MNIST-5k (or scikit-learn's digits) with one of the objectives of
:mod:`textadv.objectives`, then evaluate it on the held-out split and write a run directory:

    model_config.json          the CNN's settings and the data's image shape (rebuilds the checkpoint)
    checkpoint/                model.safetensors + optimiser/scheduler/RNG state (resumable)
    history.json               training losses
    accuracy_vs_eps.png        accuracy under FGSM and PGD (and transfer attacks) against ε
    report.md                  the metrics as Markdown
    metrics.json               written last: its presence marks the run complete

Metrics (PAPERS.md §1, §3, §4), all on the held-out split:

The accuracies use the first ``eval_examples`` images of the (seeded, shuffled) held-out split.

- ``clean_accuracy``;
- ``fgsm`` / ``pgd``: ``{ε: accuracy}`` under white-box ℓ∞ FGSM and PGD (``eval_pgd_steps`` steps
  of ``eval_pgd_step_size`` from a random start, the worst of ``pgd_restarts``; Madry's evaluation
  is 40 steps of 0.01);
- ``deepfool_rho``: ρ̂_adv = mean ‖r‖₂/‖x‖₂ over the first ``rho_examples`` held-out images with
  DeepFool's r (10 classes, overshoot 0.02, 50 iterations, no pixel box, as in the paper), and the
  fraction it fooled;
- ``fgsm_rho``: the same ratio for the smallest FGSM step that changes the prediction (see
  :func:`textadv.eval.fgsm_rho`), as in DeepFool's Table 1;
- ``transfer`` (with ``transfer_from``): accuracy on FGSM/PGD examples crafted on another run's model.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Tuple

import torch

from .models import CNNConfig, SmallCNN

ADV_CHOICES = ("none", "fgsm", "pgd", "ensemble", "vat")
MODEL_CONFIG = "model_config.json"


@dataclass(frozen=True)
class ImageExperimentConfig:
    """Settings of one image run; the command's flags map one to one onto these fields."""

    output_dir: str
    adv: str = "pgd"
    epsilon: Optional[float] = None  # None: 0.3 (ℓ∞) for fgsm/pgd/ensemble, 2.0 (ℓ2) for vat
    alpha: float = 0.5
    pgd_steps: int = 7
    pgd_step_size: float = 0.1
    vat_xi: float = 1e-6
    ensemble_sources: Tuple[str, ...] = ()
    dataset: str = "mnist5k"
    test_fraction: float = 0.2
    train_size: Optional[int] = None
    test_size: Optional[int] = None
    channels: Tuple[int, int] = (8, 16)
    hidden: int = 64
    batch_size: int = 64
    lr: float = 1e-3
    lr_decay: float = 1.0
    epochs: int = 2
    max_steps: Optional[int] = None
    save_every: int = 0
    seed: int = 0
    eval_eps: Tuple[float, ...] = (0.05, 0.1, 0.2, 0.3)
    eval_pgd_steps: int = 40
    eval_pgd_step_size: float = 0.01
    pgd_restarts: int = 1
    eval_examples: Optional[int] = 500
    rho_examples: int = 200
    eval_batch_size: int = 250
    transfer_from: Optional[str] = None
    resume: bool = False
    overwrite: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if self.adv not in ADV_CHOICES:
            raise ValueError(f"unknown --adv {self.adv!r}; choose one of {', '.join(ADV_CHOICES)}")
        if self.epsilon is not None and not self.epsilon >= 0:
            raise ValueError(f"--epsilon must be >= 0, got {self.epsilon}")
        if not 0 <= self.alpha <= 1:
            raise ValueError(f"--alpha must be in [0, 1], got {self.alpha}")
        if self.pgd_steps < 1 or not self.pgd_step_size > 0:
            raise ValueError(f"--pgd-steps must be >= 1 and --pgd-step-size > 0, got {self.pgd_steps} and {self.pgd_step_size}")
        if self.eval_pgd_steps < 1 or not self.eval_pgd_step_size > 0:
            raise ValueError("--eval-pgd-steps must be >= 1 and --eval-pgd-step-size > 0")
        if not self.eval_eps or any(not e >= 0 for e in self.eval_eps):
            raise ValueError(f"--eval-eps must list values >= 0, got {list(self.eval_eps)}")
        if self.eval_examples is not None and self.eval_examples < 1:
            raise ValueError(f"--eval-examples must be >= 1, got {self.eval_examples}")
        for name in ("pgd_restarts", "rho_examples", "eval_batch_size", "hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
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
        return "2" if self.adv == "vat" else "inf"

    @property
    def train_epsilon(self) -> float:
        if self.epsilon is not None:
            return self.epsilon
        return 2.0 if self.adv == "vat" else 0.3


def checkpoint_paths(path: str | Path) -> Tuple[Path, Path]:
    """``(model_config.json, model.safetensors)`` of a run directory or of its ``checkpoint/`` folder."""
    path = Path(path)
    run_dir = path.parent if path.name == "checkpoint" or path.suffix == ".safetensors" else path
    weights = path if path.suffix == ".safetensors" else run_dir / "checkpoint" / "model.safetensors"
    config = run_dir / MODEL_CONFIG
    for f in (config, weights):
        if not f.is_file():
            raise FileNotFoundError(
                f"{f} not found: give the run directory of a finished `textadv image-train` run "
                "(it holds model_config.json and checkpoint/model.safetensors)"
            )
    return config, weights


def load_model(path: str | Path, device: torch.device | str = "cpu") -> SmallCNN:
    """Rebuild the CNN of a run directory from ``model_config.json`` and its safetensors weights."""
    from safetensors.torch import load_model as load_weights

    config_file, weights = checkpoint_paths(path)
    settings = json.loads(config_file.read_text(encoding="utf-8"))
    model = SmallCNN(CNNConfig(**settings["model"]))
    load_weights(model, str(weights), strict=True, device=str(device))
    return model.to(device).eval()


def run_experiment(cfg: ImageExperimentConfig, accelerator=None) -> dict:
    """Train, evaluate and write the run directory; returns the metrics (also in ``metrics.json``)."""
    from ..eval import clean_accuracy, deepfool_rho, fgsm_rho, robust_accuracy, transfer_accuracy
    from ..objectives import build_objective
    from ..report import finish_run, metrics_table, plot_accuracy_vs_eps, prepare_run_dir, table, write_json, write_text
    from ..surfaces.image import ImageSurface
    from ..train import TrainConfig, batches, seed_everything, train
    from ..train.loop import default_accelerator
    from .data import load_images

    # Every check that can fail runs before the run directory is touched.
    sources = [load_model(p) for p in cfg.ensemble_sources]
    transfer_source = load_model(cfg.transfer_from) if cfg.transfer_from else None
    data = load_images(cfg.dataset, seed=cfg.seed, test_fraction=cfg.test_fraction,
                       train_size=cfg.train_size, test_size=cfg.test_size)
    channels, side, _ = data.image_shape
    model_config = CNNConfig(in_channels=channels, image_size=side, channels=cfg.channels, hidden=cfg.hidden,
                             num_classes=data.num_classes)
    checked = [("--ensemble-sources", m) for m in sources]
    if transfer_source is not None:
        checked.append(("--transfer-from", transfer_source))
    for name, other in checked:
        if (other.config.in_channels, other.config.image_size, other.config.num_classes) != (channels, side, data.num_classes):
            raise ValueError(f"{name}: that model takes {other.config.image_size}x{other.config.image_size} images with "
                             f"{other.config.num_classes} classes, but --dataset {data.name} has {side}x{side} and {data.num_classes}")
    train_config = TrainConfig(batch_size=cfg.batch_size, lr=cfg.lr, lr_decay=cfg.lr_decay, epochs=cfg.epochs,
                               max_steps=cfg.max_steps, save_every=cfg.save_every, log_every=10, seed=cfg.seed)

    accelerator = accelerator or default_accelerator()
    run_dir = Path(cfg.output_dir)
    if accelerator.is_main_process:
        prepare_run_dir(run_dir, resume=cfg.resume, overwrite=cfg.overwrite)
        write_json(run_dir / MODEL_CONFIG, {"model": model_config.to_dict(), "dataset": data.name, "settings": asdict(cfg)})
    accelerator.wait_for_everyone()

    seed_everything(cfg.seed)
    model = SmallCNN(model_config)
    surface = ImageSurface(model)
    device = accelerator.device
    source_surfaces = [ImageSurface(m.to(device)) for m in sources]
    objective = build_objective(cfg.adv, eps=cfg.train_epsilon, norm=cfg.norm, alpha=cfg.alpha, xi=cfg.vat_xi,
                                pgd_steps=cfg.pgd_steps, pgd_step_size=cfg.pgd_step_size, sources=source_surfaces)
    start = time.perf_counter()
    result = train(model, surface, objective, data.train, config=train_config, output_dir=run_dir,
                   accelerator=accelerator, resume=cfg.resume, progress=cfg.progress)
    train_seconds = time.perf_counter() - start
    if not accelerator.is_main_process:
        return {}

    model.eval()
    # The held-out split is in a seeded random order, so its first n images are a random subset.
    test = batches({k: v[:cfg.eval_examples] for k, v in data.test.items()}, cfg.eval_batch_size)
    rho_set = batches({k: v[:cfg.rho_examples] for k, v in data.test.items()}, cfg.eval_batch_size)
    attack = dict(norm="inf", eps_values=cfg.eval_eps, progress=cfg.progress)
    pgd_attack = dict(attack, steps=cfg.eval_pgd_steps, step_size=cfg.eval_pgd_step_size, restarts=cfg.pgd_restarts, seed=cfg.seed)
    start = time.perf_counter()
    metrics = {
        "adv": cfg.adv,
        "dataset": {"name": data.name, "train": len(data.train["labels"]), "test": len(data.test["labels"]),
                    "evaluated": test.num_examples,
                    "image_shape": list(data.image_shape)},
        "train": {"steps": result.global_step, "epochs": result.epoch, "seconds": round(train_seconds, 1),
                  "final_loss": next((h["loss"] for h in reversed(result.history) if "loss" in h), None),
                  "objective": objective.name, "epsilon": cfg.train_epsilon, "norm": cfg.norm},
        "clean_accuracy": clean_accuracy(surface, test, progress=cfg.progress),
        "fgsm": robust_accuracy(surface, test, attack="fgsm", **attack),
        "pgd": robust_accuracy(surface, test, attack="pgd", **pgd_attack),
        "pgd_settings": {"steps": cfg.eval_pgd_steps, "step_size": cfg.eval_pgd_step_size, "restarts": cfg.pgd_restarts},
    }
    deepfool = deepfool_rho(surface, rho_set, progress=cfg.progress)
    fgsm = fgsm_rho(surface, rho_set, progress=cfg.progress)
    metrics["deepfool_rho"] = {"mean": deepfool.mean, "fooled": deepfool.fooled, "examples": len(deepfool.per_example)}
    metrics["fgsm_rho"] = {"mean": fgsm.mean, "fooled": fgsm.fooled, "examples": len(fgsm.per_example)}
    curves = {"FGSM": metrics["fgsm"], f"PGD-{cfg.eval_pgd_steps}": metrics["pgd"]}
    if transfer_source is not None:
        source = ImageSurface(transfer_source.to(device))
        metrics["transfer"] = {
            "source": str(cfg.transfer_from),
            "fgsm": transfer_accuracy(source, surface, test, attack="fgsm", **attack),
            "pgd": transfer_accuracy(source, surface, test, attack="pgd", **pgd_attack),
        }
        curves["transfer FGSM"] = metrics["transfer"]["fgsm"]
        curves[f"transfer PGD-{cfg.eval_pgd_steps}"] = metrics["transfer"]["pgd"]
    metrics["eval_seconds"] = round(time.perf_counter() - start, 1)

    plot_accuracy_vs_eps({k: {0.0: metrics["clean_accuracy"], **v} for k, v in curves.items()}, run_dir / "accuracy_vs_eps.png",
                         title=f"{data.name}, --adv {cfg.adv}", xlabel="ε (ℓ∞)")
    rows = [{"attack": name, **{f"ε={e:g}": acc for e, acc in curve.items()}} for name, curve in curves.items()]
    report = (
        f"# Image run: --adv {cfg.adv} on {data.name}\n\n"
        f"{test.num_examples} images of the held-out split; trained {result.global_step} steps "
        f"({train_seconds:.0f} s).\n\n"
        f"Clean accuracy: {metrics['clean_accuracy']:.4f}\n\n## Accuracy under attack\n\n{table(rows)}\n"
        f"## Minimal perturbations (first {cfg.rho_examples} held-out images)\n\n"
        + table([{"measure": "DeepFool ρ_adv", "mean": deepfool.mean, "fooled": deepfool.fooled},
                 {"measure": "FGSM ρ", "mean": fgsm.mean, "fooled": fgsm.fooled}])
        + f"\n## All metrics\n\n{metrics_table(metrics)}"
    )
    write_text(run_dir / "report.md", report)
    finish_run(run_dir, metrics)
    return metrics
