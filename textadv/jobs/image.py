"""The image job behind ``textadv image-train`` and ``recipes/image_adversarial_training.py``.

Train the small CNN (:mod:`textadv.vision.models`) on MNIST-5k (or scikit-learn's digits) with one
of the objectives of :mod:`textadv.objectives`, evaluate it on the held-out split and write a run
directory. :func:`image_train` reads top to bottom as the pipeline it runs:

    settings (resumed ones from the saved run) → check the run directory → source models
    → data → CNN shape → objective → checkpoint of a resumed run → config.json
    → accelerate loop (textadv.train.train) → evaluation → plot, report.md → metrics.json

Every check runs before the run directory is touched (:mod:`textadv.report.runs`). Run directory::

    config.json          {"job": "image-train", "settings": ImageSettings, "model": CNNConfig, "data", ...}
    checkpoint/          model.safetensors + optimiser/scheduler/RNG state (resumable)
    history.json         training losses
    accuracy_vs_eps.png  accuracy under FGSM and APGD or PGD (and transfer attacks) against ε
    report.md            the metrics as Markdown
    metrics.json         written last: its presence marks the run complete

Metrics (PAPERS.md §1, §3, §4), on the first ``eval_examples`` images of the (seeded, shuffled)
held-out split:

- ``clean_accuracy``;
- ``fgsm``: ``{ε: accuracy}`` under white-box ℓ∞ FGSM;
- ``apgd`` (the default ``eval_attack``) or ``pgd``: ``{ε: accuracy}`` under the iterative attack,
  named with its settings in ``eval_attack``: APGD-CE (Croce & Hein 2020) with ``eval_pgd_steps``
  iterations from a random start, an image broken at its first misclassifying iterate; or PGD
  (``eval_pgd_steps`` steps of ``eval_pgd_step_size`` from a random start, the worst of
  ``pgd_restarts``; Madry's evaluation is 40 steps of 0.01);
- ``deepfool_rho``: ρ̂_adv = mean ‖r‖₂/‖x‖₂ over the first ``rho_examples`` held-out images with
  DeepFool's r (10 classes, overshoot 0.02, 50 iterations, no pixel box, as in the paper), and the
  fraction it fooled;
- ``fgsm_rho``: the same ratio for the smallest FGSM step that changes the prediction (see
  :func:`textadv.eval.fgsm_rho`), as in DeepFool's Table 1;
- ``transfer`` (with ``transfer_from``): accuracy on FGSM/PGD examples crafted on another run's model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import torch

from ..vision.models import CNNConfig, SmallCNN
from .image_settings import ADV_CHOICES, RESUMABLE_CHANGES, ImageSettings

JOB = "image-train"
PLOT_FILE = "accuracy_vs_eps.png"

__all__ = ["ADV_CHOICES", "RESUMABLE_CHANGES", "ImageSettings", "ImageResult", "image_train", "load_model"]


@dataclass
class ImageResult:
    run_dir: Path
    metrics: dict
    settings: ImageSettings
    model: Any = field(repr=False, default=None)


def load_model(path: str | Path, device: torch.device | str = "cpu") -> SmallCNN:
    """The trained CNN of an ``image-train`` run directory (its config and ``checkpoint/model.safetensors``)."""
    from safetensors.torch import load_model as load_weights

    from ..report.runs import saved_config
    from ..train.checkpoint import CHECKPOINT, MODEL_FILE, load_named

    run_dir = Path(path)
    config = saved_config(run_dir) if run_dir.is_dir() else None
    weights = run_dir / CHECKPOINT / MODEL_FILE
    if config is not None and config["job"] != JOB:
        raise ValueError(f"{run_dir} is a textadv {config['job']} run; give the run directory of a `textadv {JOB}` run")
    if config is None or not weights.is_file():
        missing = run_dir if config is None else weights
        raise FileNotFoundError(
            f"{missing} not found: give the run directory of a finished `textadv image-train` run "
            f"(it holds config.json and {CHECKPOINT}/{MODEL_FILE})"
        )
    model = SmallCNN(CNNConfig(**config["model"]))
    load_named(weights, lambda p: load_weights(model, str(p), strict=True, device=str(device)))
    return model.to(device).eval()


def _report(settings: ImageSettings, metrics: dict, curves: dict) -> str:
    from ..report import metrics_table, table

    rows = [{"attack": name, **{f"ε={e:g}": acc for e, acc in curve.items()}} for name, curve in curves.items()]
    deepfool, fgsm = metrics["deepfool_rho"], metrics["fgsm_rho"]
    return (
        f"# Image run: --adv {settings.adv} on {metrics['dataset']['name']}\n\n"
        f"{metrics['dataset']['evaluated']} images of the held-out split; trained {metrics['train']['steps']} steps "
        f"({metrics['train']['seconds']:.0f} s).\n\n"
        f"Clean accuracy: {metrics['clean_accuracy']:.4f}\n\n## Accuracy under attack\n\n{table(rows)}\n"
        f"## Minimal perturbations (first {settings.rho_examples} held-out images)\n\n"
        + table(
            [
                {"measure": "DeepFool ρ_adv", "mean": deepfool["mean"], "fooled": deepfool["fooled"]},
                {"measure": "FGSM ρ", "mean": fgsm["mean"], "fooled": fgsm["fooled"]},
            ]
        )
        + f"\n## All metrics\n\n{metrics_table(metrics)}"
    )


def _evaluate(settings: ImageSettings, surface, data, transfer_source, device) -> dict:
    """Clean accuracy, FGSM and APGD/PGD accuracy, DeepFool and FGSM ρ, and the transfer attack (module docstring)."""
    from ..eval import AttackSpec, clean_accuracy, deepfool_rho, fgsm_rho, robust_accuracy, transfer_accuracy
    from ..surfaces import ImageSurface
    from ..train import Batches

    # The held-out split is in a seeded random order, so its first n images are a random subset.
    test = Batches({k: v[: settings.eval_examples] for k, v in data.test.items()}, settings.eval_batch_size)
    rho_set = Batches({k: v[: settings.rho_examples] for k, v in data.test.items()}, settings.eval_batch_size)
    fgsm_spec = AttackSpec("fgsm", norm="inf")
    name = settings.eval_attack
    iterative = AttackSpec(
        name,
        norm="inf",
        steps=settings.eval_pgd_steps,
        step_size=settings.eval_pgd_step_size,
        restarts=settings.pgd_restarts,
    )
    described = {"name": name, "steps": settings.eval_pgd_steps}
    if name == "pgd":
        described.update(step_size=settings.eval_pgd_step_size, restarts=settings.pgd_restarts)
    sweep = dict(eps_values=settings.eval_eps, progress=settings.progress)
    metrics = {
        "evaluated": test.num_examples,
        "clean_accuracy": clean_accuracy(surface, test, progress=settings.progress),
        "fgsm": robust_accuracy(surface, test, fgsm_spec, **sweep),
        name: robust_accuracy(surface, test, iterative, seed=settings.seed, **sweep),
        "eval_attack": described,
    }
    deepfool = deepfool_rho(surface, rho_set, progress=settings.progress)
    fgsm = fgsm_rho(surface, rho_set, progress=settings.progress)
    metrics["deepfool_rho"] = {"mean": deepfool.mean, "fooled": deepfool.fooled, "examples": len(deepfool.per_example)}
    metrics["fgsm_rho"] = {"mean": fgsm.mean, "fooled": fgsm.fooled, "examples": len(fgsm.per_example)}
    if transfer_source is not None:
        source = ImageSurface(transfer_source.to(device))
        metrics["transfer"] = {
            "source": str(settings.transfer_from),
            "fgsm": transfer_accuracy(source, surface, test, fgsm_spec, **sweep),
            name: transfer_accuracy(source, surface, test, iterative, seed=settings.seed, **sweep),
        }
    return metrics


def image_train(
    settings: Optional[ImageSettings] = None,
    output_dir: Optional[str] = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    overrides: Optional[dict] = None,
    accelerator: Any = None,
) -> ImageResult:
    """Train, evaluate and write the run directory (module docstring); the same contract as the text job.

    Args:
        settings: the settings (default :class:`ImageSettings()`); ignored with ``resume``, where the
            saved settings and ``overrides`` decide.
        output_dir: the run directory: missing or empty, or a textadv run with ``overwrite``/``resume``.
        resume: continue the run in ``output_dir`` from its last checkpoint, with its saved settings.
        overwrite: replace the contents of ``output_dir`` (only a textadv run directory).
        overrides: with ``resume``, the settings given again; only ``RESUMABLE_CHANGES`` may differ.
        accelerator: an ``accelerate.Accelerator`` (default: a new one from the launcher's environment).

    Returns:
        :class:`ImageResult`: the run directory, the metrics (on every process), the settings, the model.
    """
    from ..objectives import build_objective
    from ..report import plot_accuracy_vs_eps, write_text
    from ..report.runs import REPORT_FILE, on_main, open_run
    from ..surfaces import ImageSurface
    from ..train import TrainConfig, check_checkpoint, seed_everything, train
    from ..train.loop import default_accelerator
    from ..vision.data import load_images

    # 1. Settings, and the run directory checked (nothing is written before step 4).
    run = open_run(output_dir, JOB, resume=resume, overwrite=overwrite)
    if resume:
        settings = run.resumed(ImageSettings, overrides, RESUMABLE_CHANGES)
    settings = settings or ImageSettings()

    # 2. Source models, data, the CNN's shape, the objective and the training settings.
    sources = [load_model(p) for p in settings.ensemble_sources]
    transfer_source = load_model(settings.transfer_from) if settings.transfer_from else None
    data = load_images(
        settings.dataset,
        seed=settings.seed,
        test_fraction=settings.test_fraction,
        train_size=settings.train_size,
        test_size=settings.test_size,
    )
    channels, side, _ = data.image_shape
    model_config = CNNConfig(
        in_channels=channels,
        image_size=side,
        channels=settings.channels,
        hidden=settings.hidden,
        num_classes=data.num_classes,
    )
    checked = [("--ensemble-sources", m) for m in sources]
    if transfer_source is not None:
        checked.append(("--transfer-from", transfer_source))
    for name, other in checked:
        c = other.config
        if (c.in_channels, c.image_size, c.num_classes) != (channels, side, data.num_classes):
            raise ValueError(
                f"{name}: that model takes {c.image_size}x{c.image_size} images with {c.num_classes} "
                f"classes, but --dataset {data.name} has {side}x{side} and {data.num_classes}"
            )
    accelerator = accelerator or default_accelerator()
    device = accelerator.device
    source_surfaces = [ImageSurface(m.to(device)) for m in sources]
    objective = build_objective(
        settings.adv,
        eps=settings.train_epsilon,
        norm=settings.norm,
        alpha=settings.alpha,
        xi=settings.vat_xi,
        pgd_steps=settings.pgd_steps,
        pgd_step_size=settings.pgd_step_size,
        sources=source_surfaces,
    )
    train_config = TrainConfig(
        batch_size=settings.batch_size,
        lr=settings.lr,
        lr_decay=settings.lr_decay,
        epochs=settings.epochs,
        max_steps=settings.max_steps,
        save_every=settings.save_every,
        log_every=10,
        seed=settings.seed,
        adv_warmup_steps=settings.adv_warmup_steps,
        eps_ramp_steps=settings.eps_ramp_steps,
    )
    train_config.check_processes(accelerator.num_processes)

    # 3. The checkpoint a resumed run continues from; 4. the run directory, config.json first.
    if resume:
        check_checkpoint(run.path, rank=accelerator.process_index)
    run.start_on_main(
        accelerator,
        {
            "settings": settings.to_dict(),
            "model": model_config.to_dict(),
            "data": {
                "name": data.name,
                "train": len(data.train["labels"]),
                "test": len(data.test["labels"]),
                "image_shape": list(data.image_shape),
            },
        },
    )

    # 5. Training.
    seed_everything(settings.seed)
    model = SmallCNN(model_config)
    surface = ImageSurface(model)
    start = time.perf_counter()
    result = train(
        model,
        surface,
        objective,
        data.train,
        config=train_config,
        output_dir=run.path,
        accelerator=accelerator,
        resume=resume,
        progress=settings.progress,
    )
    train_seconds = time.perf_counter() - start

    # 6. Evaluation, once on the main process; every process returns the same metrics.
    model.eval()
    start = time.perf_counter()
    evaluated = on_main(accelerator, lambda: _evaluate(settings, surface, data, transfer_source, device))
    metrics = {
        "adv": settings.adv,
        "dataset": {
            "name": data.name,
            "train": len(data.train["labels"]),
            "test": len(data.test["labels"]),
            "evaluated": evaluated.pop("evaluated"),
            "image_shape": list(data.image_shape),
        },
        "train": {
            "steps": result.global_step,
            "epochs": result.epoch,
            "seconds": round(train_seconds, 1),
            "final_loss": result.final_loss,
            "objective": objective.name,
            "epsilon": settings.train_epsilon,
            "norm": settings.norm,
            **(
                {"adv_warmup_steps": settings.adv_warmup_steps, "eps_ramp_steps": settings.eps_ramp_steps}
                if train_config.schedule.active
                else {}
            ),
        },
        **evaluated,
        "eval_seconds": round(time.perf_counter() - start, 1),
    }

    # 7. Plot and report; metrics.json last.
    if accelerator.is_main_process:
        name, label = settings.eval_attack, f"{settings.eval_attack.upper()}-{settings.eval_pgd_steps}"
        curves = {"FGSM": metrics["fgsm"], label: metrics[name]}
        if "transfer" in metrics:
            curves["transfer FGSM"] = metrics["transfer"]["fgsm"]
            curves[f"transfer {label}"] = metrics["transfer"][name]
        plot_accuracy_vs_eps(
            {k: {0.0: metrics["clean_accuracy"], **v} for k, v in curves.items()},
            run.path / PLOT_FILE,
            title=f"{data.name}, --adv {settings.adv}",
            xlabel="ε (ℓ∞)",
        )
        write_text(run.path / REPORT_FILE, _report(settings, metrics, curves))
        run.finish(metrics)
    accelerator.wait_for_everyone()
    return ImageResult(run.path, metrics, settings, model)
