"""The training loop: any model, any :class:`~textadv.surfaces.Surface`, any objective, on 1 CPU,
N CPU processes or N GPUs through accelerate.

Each step runs ``objective.step`` (the forward(s) and backward(s) of the whole objective, PAPERS.md
§9), then averages gradients across processes, clips them, and steps the optimiser and the per-step
exponential learning-rate decay (Miyato et al. 2017 decay the rate by 0.9998 per step).

Distributed training without DDP. Surfaces call submodules of the model directly (the text surface
runs the embedding layer and the rest of the network separately), which DDP's forward hooks would
miss, so the model is never wrapped by ``accelerator.prepare``. It is moved to
``accelerator.device`` and, after the objective's backward, the gradients of all processes are
combined with one flattened all-reduce weighted by each process's share of the global batch (the
terms on a semi-supervised unlabeled batch by the share of that batch: ``unlabeled_weight``). Each
global batch (``TrainConfig.batch_size`` examples, in an order that depends only on the seed and the
epoch) is split into contiguous per-process slices, so for objectives whose loss is a mean over the
batch, N processes compute the same update as one process (up to float rounding). The random
perturbations of VAT and of the random baseline are drawn per example from its global index and the
step (:class:`~textadv.core.draws.ExampleDraws`), so they too are the same for any number of
processes. Two caveats: batch-norm statistics are per process, and PGD's random starts come from a
per-process generator.

The perturbation budget follows :class:`~textadv.train.schedule.EpsSchedule` (``TrainConfig``'s
``adv_warmup_steps`` and ``eps_ramp_steps``): each step runs the objective of its global step, clean
in the warm-up, every ε scaled in the ramp, as built afterwards. Both at 0 (the default) leave the
objective untouched. A pure function of the step, it resumes exactly where it stopped.

A step whose loss or global gradient norm is NaN or infinite stops the run before the optimiser
step (:mod:`textadv.train.guard`): :class:`~textadv.train.guard.NonFiniteTrainingError` names the
step, the parameters are those of the step before, and the last checkpoint stays as it was.

Launch (:mod:`textadv.train.launch`): ``python script.py`` for one process;
``accelerate launch --multi_gpu --num_processes N script.py`` or ``torchrun --nproc_per_node N script.py``
for N (gloo on CPU, NCCL on GPUs). Mixed precision is not applied
by this loop (it trains in the model's dtype).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Mapping, Optional

import torch

from ..core.draws import ExampleDraws
from ..core.threat import NonFiniteInputError
from ..objectives import Objective
from ..report.io import write_json
from ..report.runs import resumed_settings
from ..surfaces import Batch, Surface, to_device
from .checkpoint import CHECKPOINT, find_checkpoint, load_checkpoint, save_checkpoint
from .data import Collate, dataset_size, epoch_order, num_batches, shard, take, unlabeled_indices
from .guard import NonFiniteTrainingError, check_step, grad_norm
from .launch import default_accelerator
from .processes import Processes, combine_gradients
from .schedule import EpsSchedule
from .seed import seed_everything, step_generator

EvalFn = Callable[[torch.nn.Module], Mapping[str, Any]]
OptimizerFactory = Callable[[List[torch.nn.Parameter]], torch.optim.Optimizer]

# The settings a resumed run may change (the budget, evaluation and logging); every other one shapes
# the trajectory and must stay as saved to reach the result of an uninterrupted run.
RESUMABLE = ("epochs", "max_steps", "eval_every", "save_every", "log_every")
# Settings added after checkpoints were first written, with the value that reproduces those runs:
# a checkpoint that lacks one was trained with it.
_ADDED_LATER = {"adv_warmup_steps": 0, "eps_ramp_steps": 0}


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run.

    Args:
        batch_size: the global batch (all processes together); must be divisible by the number of processes.
        lr: the optimiser's learning rate (AdamW unless ``optimizer_factory`` says otherwise).
        weight_decay: AdamW's decoupled weight decay.
        lr_decay: the learning rate is multiplied by this after every step (Miyato: 0.9998; 1: constant).
        epochs: passes over the training set.
        max_steps: stop after this many optimiser steps in all (``None``: ``epochs`` decide).
        grad_clip: clip the global gradient norm to this value (``None``: no clipping).
        unlabeled_batch_size: global batch of the ``unlabeled`` set (default: ``batch_size``).
        eval_every / save_every / log_every: in steps; 0 means only at the end (eval, save) or never (log).
        seed: data order, the objective's random draws, the global RNGs (see :mod:`textadv.train.seed`).
        shuffle: draw a new permutation of the training set every epoch.
        adv_warmup_steps: the first steps are clean (no perturbed term, no extra pass); 0: none.
        eps_ramp_steps: then ε grows linearly from 0 to the objective's over this many steps; 0: none.
            Both: :mod:`textadv.train.schedule` (a deviation from Miyato's and Madry's recipes, off by default).
    """

    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    lr_decay: float = 1.0
    epochs: int = 1
    max_steps: Optional[int] = None
    grad_clip: Optional[float] = 1.0
    unlabeled_batch_size: Optional[int] = None
    eval_every: int = 0
    save_every: int = 0
    log_every: int = 10
    seed: int = 0
    shuffle: bool = True
    adv_warmup_steps: int = 0
    eps_ramp_steps: int = 0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive finite number, got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 (or None), got {self.max_steps}")
        if self.grad_clip is not None and not (self.grad_clip > 0 and math.isfinite(self.grad_clip)):
            raise ValueError(
                f"grad_clip must be a finite number > 0 (or None to disable clipping), got {self.grad_clip}"
            )
        if self.unlabeled_batch_size is not None and self.unlabeled_batch_size < 1:
            raise ValueError(f"unlabeled_batch_size must be >= 1, got {self.unlabeled_batch_size}")
        for name in ("eval_every", "save_every", "log_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        EpsSchedule(self.adv_warmup_steps, self.eps_ramp_steps)  # both integers >= 0, else ValueError naming them

    @property
    def schedule(self) -> EpsSchedule:
        """The perturbation-budget schedule of the run (:mod:`textadv.train.schedule`)."""
        return EpsSchedule(self.adv_warmup_steps, self.eps_ramp_steps)

    def check_processes(self, processes: int, unlabeled_size: Optional[int] = None) -> None:
        """The global batches must split evenly over ``processes``; an unlabeled set must hold one batch.

        :func:`train` checks this; a job checks it before it writes its run directory, so that a launch
        with the wrong number of processes leaves nothing behind.
        """
        if self.batch_size % processes:
            raise ValueError(f"batch_size {self.batch_size} must be divisible by the number of processes {processes}")
        unlabeled_batch = self.unlabeled_batch_size or self.batch_size
        if unlabeled_size is not None and (unlabeled_size < unlabeled_batch or unlabeled_batch % processes):
            raise ValueError(
                f"the unlabeled set ({unlabeled_size} examples) must hold at least one batch of "
                f"{unlabeled_batch}, divisible by the number of processes {processes}"
            )


@dataclass
class TrainResult:
    global_step: int
    epoch: int  # completed epochs
    history: list = field(default_factory=list)
    final_eval: Optional[dict] = None
    checkpoint_dir: Optional[Path] = None

    @property
    def final_loss(self) -> Optional[float]:
        """The last logged training loss, or ``None`` before any log."""
        return next((h["loss"] for h in reversed(self.history) if "loss" in h), None)

    def summary(self, seconds: float, resumed: bool) -> dict:
        """The ``train`` entry of a text job's ``metrics.json``."""
        return {
            "steps": self.global_step,
            "epochs_completed": self.epoch,
            "seconds": seconds,
            "final_loss": self.final_loss,
            "resumed": bool(resumed),
        }


def train(
    model: torch.nn.Module,
    surface: Surface,
    objective: Objective,
    dataset: Any,
    *,
    config: TrainConfig,
    output_dir: str | Path,
    collate_fn: Optional[Collate] = None,
    unlabeled: Any = None,
    eval_fn: Optional[EvalFn] = None,
    accelerator: Any = None,
    resume: bool = False,
    optimizer_factory: Optional[OptimizerFactory] = None,
    progress: bool = True,
) -> TrainResult:
    """Train ``model`` (seen through ``surface``) on ``objective``; checkpoints under ``output_dir``.

    Args:
        model: the module whose trainable parameters are optimised; ``surface.model`` must be it (or
            a module of it). Build it after :func:`~textadv.train.seed.seed_everything` for a seeded init.
        surface: runs the model from the perturbed tensor.
        objective: its ``step`` does the forward(s) and backward(s) of one step.
        dataset: a mapping of tensors ``{name: [N, ...]}`` or a sequence of examples with
            ``collate_fn`` (see :mod:`textadv.train.data`).
        config: :class:`TrainConfig`.
        output_dir: ``checkpoint/`` and ``history.json`` are written here.
        unlabeled: optional unlabeled set (same forms as ``dataset``) for semi-supervised VAT; step k
            gets unlabeled global batch k, cycling through seeded epochs of that set.
        eval_fn: ``eval_fn(model) -> {name: value}``, called on every process every ``eval_every``
            steps and at the end; the values go into the history.
        accelerator: an ``accelerate.Accelerator`` (default: a new one, which reads the launcher's
            environment). Its mixed precision must be ``"no"``.
        resume: continue from the checkpoint in ``output_dir`` (the data position, optimiser,
            scheduler and RNG states included) if there is one; start afresh otherwise.
        optimizer_factory: ``factory(params) -> optimizer`` (default ``AdamW(lr, weight_decay)``).
        progress: show a tqdm bar on the main process (when stderr is a terminal).

    Raises:
        NonFiniteTrainingError: (a ``ValueError``) a step's loss or gradient norm is not finite; raised
            before that step's optimiser step, so the parameters and the checkpoint written last
            are those of earlier steps.

    Returns:
        :class:`TrainResult`. ``output_dir/history.json`` holds the same history: one entry per
        ``log_every`` steps (``step, epoch, lr, loss, clean_loss, terms``, and ``eps_scale`` with an ε
        schedule) and per evaluation (``step, eval``).
    """
    from tqdm.auto import tqdm

    if accelerator is None:
        accelerator = default_accelerator()
    if getattr(accelerator, "mixed_precision", "no") != "no":
        raise ValueError("textadv.train.train runs in full precision; create the Accelerator with mixed_precision='no'")
    procs = Processes(accelerator)
    config.check_processes(procs.world, None if unlabeled is None else dataset_size(unlabeled))
    num_examples = dataset_size(dataset)
    if num_examples == 0:
        raise ValueError("the training set is empty")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)

    model.to(procs.device)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    optimizer = (
        optimizer_factory(params)
        if optimizer_factory
        else torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    )
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)

    batches_per_epoch = num_batches(num_examples, config.batch_size)
    total_steps = config.epochs * batches_per_epoch
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    global_step, epoch, position, history = 0, 0, 0, []
    saved_step = None  # the step of the checkpoint in output_dir, for the message of a stopped run

    checkpoint = find_checkpoint(output_dir) if resume else None
    if checkpoint is not None:
        state = load_checkpoint(
            checkpoint, model=model, optimizer=optimizer, scheduler=scheduler, rank=procs.rank, device=procs.device
        )
        saved = {**_ADDED_LATER, **state["config"]}
        resumed_settings(saved, asdict(config), RESUMABLE)  # refuses a change to the trajectory
        global_step, epoch, position, history = (
            state["global_step"],
            state["epoch"],
            state["position"],
            state["history"],
        )
        saved_step = global_step
    else:
        seed_everything(config.seed + procs.rank)

    unlabeled_size = dataset_size(unlabeled) if unlabeled is not None else 0
    unlabeled_batch = config.unlabeled_batch_size or config.batch_size
    term_names = [type(t).__name__ for t in objective.terms]
    schedule = config.schedule

    def unlabeled_for(step: int) -> tuple[Optional[Batch], Optional[ExampleDraws]]:
        if unlabeled is None:
            return None, None
        local = unlabeled_indices(
            unlabeled_size,
            unlabeled_batch,
            step,
            seed=config.seed,
            rank=procs.rank,
            world=procs.world,
            shuffle=config.shuffle,
        )
        return to_device(take(unlabeled, local.tolist(), collate_fn), procs.device), ExampleDraws(
            config.seed, step, local.tolist(), stream=1
        )

    def state_dict() -> dict:
        return {
            "global_step": global_step,
            "epoch": epoch,
            "position": position,
            "config": asdict(config),
            "history": history,
        }

    def kept() -> str:
        """What a stopped run leaves, for its message."""
        return (
            "no checkpoint"
            if saved_step is None
            else f"the checkpoint of step {saved_step} in {output_dir / CHECKPOINT}"
        )

    def save() -> Path:
        nonlocal saved_step
        saved_step = global_step
        path = save_checkpoint(
            output_dir,
            model=model,
            optimizer=optimizer,
            scheduler=scheduler,
            state=state_dict(),
            rank=procs.rank,
            barrier=procs.barrier,
        )
        if procs.is_main:
            write_json(output_dir / "history.json", history)
        return path

    def evaluate() -> dict:
        metrics = dict(eval_fn(model))
        model.train()
        history.append({"step": global_step, "eval": metrics})
        return metrics

    final_eval, last_eval_step, last_save_step = None, None, None
    running = torch.zeros(2 + len(term_names), device=procs.device, dtype=torch.float64)
    running_steps = 0
    bar = tqdm(
        total=total_steps,
        initial=global_step,
        desc=f"train {objective.name}",
        disable=True if not (progress and procs.is_main) else None,
    )
    while global_step < total_steps:
        order = epoch_order(num_examples, config.seed, epoch, config.shuffle)
        while position < batches_per_epoch and global_step < total_steps:
            indices = order[position * config.batch_size : (position + 1) * config.batch_size]
            local = shard(indices, procs.rank, procs.world)
            share = len(local) / len(indices)
            loss = None
            if len(local):
                batch = to_device(take(dataset, local.tolist(), collate_fn), procs.device)
                unlabeled_step, unlabeled_draws = unlabeled_for(global_step)
                try:
                    step_objective = schedule.objective_at(objective, global_step) if schedule.active else objective
                    out = step_objective.step(
                        surface,
                        batch,
                        backward=procs.backward,
                        unlabeled=unlabeled_step,
                        step=global_step,
                        generator=step_generator(config.seed, procs.rank, global_step, procs.device),
                        draws=ExampleDraws(config.seed, global_step, local.tolist()),
                        unlabeled_draws=unlabeled_draws,
                        # the unlabeled batch splits evenly (check_processes): its share is 1/world
                        unlabeled_weight=1.0 if unlabeled_step is None else (1.0 / procs.world) / share,
                    )
                except NonFiniteInputError as error:
                    # the tensor to perturb is the model's own (e.g. normalised embeddings that overflowed)
                    raise NonFiniteTrainingError(
                        f"training stopped at step {global_step + 1}: the model's input to the objective is not "
                        f"finite ({error}); {kept()} is kept; lower the learning rate or check the objective's "
                        "settings"
                    ) from error
                loss = out.loss
                values = [out.loss, out.clean_loss] + [out.terms.get(n, torch.zeros(())) for n in term_names]
                running += share * torch.stack([v.detach().to(procs.device, torch.float64) for v in values])
            combine_gradients(params, share, procs)
            if config.grad_clip is not None:
                norm = torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
            else:
                norm = grad_norm(params)
            # the same global norm on every process, so all of them stop at the same step
            check_step(
                global_step + 1,
                loss=loss,
                grad_norm=norm,
                kept=kept(),
            )
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            global_step += 1
            position += 1
            running_steps += 1
            bar.update(1)

            if config.log_every and global_step % config.log_every == 0:
                mean = (procs.all_sum(running.clone()) / running_steps).tolist()
                entry = {
                    "step": global_step,
                    "epoch": epoch,
                    "lr": scheduler.get_last_lr()[0],
                    "loss": mean[0],
                    "clean_loss": mean[1],
                    "terms": dict(zip(term_names, mean[2:])),
                }
                if schedule.active:  # the ε factor of the last step logged (0 in warm-up)
                    entry["eps_scale"] = schedule.factor(global_step - 1)
                history.append(entry)
                bar.set_postfix(loss=f"{mean[0]:.4f}")
                running.zero_()
                running_steps = 0
            if eval_fn is not None and config.eval_every and global_step % config.eval_every == 0:
                final_eval, last_eval_step = evaluate(), global_step
            if config.save_every and global_step % config.save_every == 0 and global_step < total_steps:
                save()
                last_save_step = global_step
        if position >= batches_per_epoch:
            epoch += 1
            position = 0
    bar.close()

    if eval_fn is not None and last_eval_step != global_step:
        final_eval = evaluate()
    checkpoint_dir = save() if last_save_step != global_step else output_dir / "checkpoint"
    return TrainResult(
        global_step=global_step, epoch=epoch, history=history, final_eval=final_eval, checkpoint_dir=checkpoint_dir
    )
