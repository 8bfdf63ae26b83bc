"""``transformers.Trainer`` with textadv's objectives: AT, VAT, AT+VAT in the user's own HF script.

:class:`AdversarialTrainer` replaces :meth:`transformers.Trainer.training_step` by the same
``Objective.step`` the accelerate loop (:func:`textadv.train.train`) runs, so a Trainer user gets
Miyato et al.'s embedding-space AT and VAT (PAPERS.md §7) with the pass counts of PAPERS.md §9:
AT reuses the clean backward's input gradient, VAT shares the clean logits and takes its
power-iteration gradient with ``torch.autograd.grad``. Everything else (optimiser, scheduler,
gradient clipping, mixed precision, logging, checkpoints, evaluation) is the Trainer's.

The model is a textadv text model (:class:`~textadv.text.HFTextClassifier` or
:class:`~textadv.text.LSTMClassifier`: anything with ``embed``/``classify``/``embedding``), seen
through a :class:`~textadv.surfaces.TextSurface`. Batches from the data collator hold
``input_ids [B, T]``, ``attention_mask [B, T]`` and ``labels [B]``.

How a Trainer step maps onto an objective step:

- **Gradient accumulation.** Trainer's accelerator runs with ``num_steps=1`` and the base class
  divides the loss by ``current_gradient_accumulation_steps`` (the number of micro-batches of this
  optimiser step) before ``accelerator.backward``. Here every backward the objective runs goes
  through ``accelerator.backward(loss / n)``: the objective's loss is a mean over the micro-batch
  and its gradient is linear in the loss, so n micro-batches of b examples accumulate the gradient
  of the mean over n·b examples, as in the base class. The input gradient AT reuses is scaled by
  1/n too, which changes nothing: AT uses only its direction (ℓ2-normalised or its sign). Like the
  base class with a sequence-classification loss, ``num_items_in_batch`` is not used.
- **Several processes.** Trainer wraps the model in DDP, but the surface calls ``embed`` and
  ``classify`` of the unwrapped model, so DDP's hooks never fire and gradients are not synchronised
  by it. On the micro-batch that ends an optimiser step (``accelerator.sync_gradients``) the
  gradients are averaged across processes with :func:`textadv.train.processes.combine_gradients` (one
  flattened all-reduce, the loop's own helper). ``torch.nn.DataParallel`` (several GPUs in one
  process) is not supported: launch one process per GPU (``torchrun``/``accelerate launch``).
- **Randomness.** Micro-step k (``global_step · n + index within the step``) of process r draws the
  objective's random numbers (VAT's direction, the random baseline) from
  :func:`textadv.train.seed.step_generator` ``(args.seed, r, k)``: same seed, same draws, and a
  resumed run draws what an uninterrupted one would.
- **Unlabeled text (semi-supervised VAT).** ``unlabeled_dataset`` (examples without labels, collated
  by the data collator) gives micro-step k the k-th batch of ``unlabeled_batch_size`` examples per
  process, from seeded permutations (:func:`textadv.train.data.epoch_order`, the loop's order).
- **Non-finite steps.** A micro-batch whose loss is NaN or infinite, or an optimiser step whose
  accumulated gradient norm is, stops training with :class:`~textadv.train.guard.NonFiniteTrainingError`
  naming the step, before the optimiser step (the loop's own check, :mod:`textadv.train.guard`); the
  checkpoints the Trainer saved stay as they are. With fp16 mixed precision the gradients are left to
  the grad scaler, which skips such steps by design, and only the loss is checked.
- **The ε schedule** (``adv_warmup_steps``, ``eps_ramp_steps``: :mod:`textadv.train.schedule`, the loop's
  :class:`~textadv.train.schedule.EpsSchedule`). The step is Trainer's optimiser step ``state.global_step``
  (0 for the first), so every micro-batch of one optimiser step runs the same objective and a run
  resumed from a Trainer checkpoint, whose ``global_step`` is restored, continues the schedule where it
  stopped. Warm-up steps run ``Objective.clean_only()`` (the step of ``"none"``: no term, no extra pass,
  no unlabeled batch collated), ramp steps ``Objective.scaled(f)``, later steps the objective as built.
  Both at 0 (the default) leave the adapter's steps as they were.
- **Checkpoints and resuming.** Every checkpoint Trainer writes (``checkpoint-N/``) also holds
  ``adversarial_settings.json`` (:data:`SETTINGS_FILE`, :meth:`AdversarialTrainer.training_settings`): the
  objective as :meth:`Objective.describe <textadv.objectives.Objective.describe>` reports it (its name, clean
  weight and each term's class and settings: ε, ξ, norm, weight, iterations, ...), ``adv_warmup_steps``,
  ``eps_ramp_steps``, the number of unlabeled examples (``null``: none given) and ``unlabeled_batch_size``
  (``null`` without an unlabeled set, which leaves it unused). ``train(resume_from_checkpoint=...)`` (a path,
  or ``True``: Trainer's last checkpoint in ``output_dir``) compares them with the trainer's own before Trainer
  loads anything or runs a step, and refuses every difference in one ``ValueError`` naming each setting, old
  -> new (:func:`textadv.report.runs.setting_changes`, the comparison of the accelerate loop's resume); a
  refused resume writes nothing. A checkpoint without the file (plain ``transformers.Trainer``, an
  adapter before it saved its settings) resumes with a warning that the settings could not be checked.
  ``TrainingArguments`` (seed, batch size, number of processes, ...) are Trainer's and not compared; nor are
  ``surface_fn`` and the data themselves, beyond the size of the unlabeled set.

  The hooks: the file is written by an override of ``Trainer._save_checkpoint(model, trial, ...)``, the one
  method through which Trainer writes every checkpoint (the periodic saves and the just-in-time checkpoint of
  ``trainer_jit_checkpoint``, which calls it directly, with no ``on_save`` callback), before the base class
  saves the rest, so ``trainer_state.json``, which Trainer needs to resume, is written after it and Trainer's
  rotation and Hub upload see it. The method is private, but its name and its ``(model, trial)`` arguments
  have stayed the same from the oldest supported transformers (4.40, which adds ``metrics``) to 5.x; extra
  arguments are passed on (tested with transformers 5.23).
  The check is in an override of the public ``train``, before ``super().train``: ahead of ``model_init``,
  ``_load_from_checkpoint`` (which DeepSpeed and FSDP runs skip, loading later) and the first step.
- **Logging.** The mean of each term since the last log (e.g. ``AdversarialTerm``, ``VATTerm``) and
  the clean loss are added to Trainer's logs as ``adv/<name>``; with a schedule, ``adv/eps_scale`` is
  the ε factor of the last optimiser step logged (0 in the warm-up), as the loop's ``eps_scale``.
- **Evaluation** (``evaluate``/``predict``): the surface's loss (cross-entropy) of the clean logits
  from the same surface, so the model's own ``forward`` needs no ``labels`` argument.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Union

import torch
from torch import nn
from transformers import Trainer
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, get_last_checkpoint

from ..objectives import Objective, build_objective
from ..report.io import as_written, read_json_object, write_json
from ..report.runs import describe_changes, setting_changes
from ..surfaces import Surface, TextSurface
from .data import dataset_size, take, unlabeled_indices
from .guard import check_step, grad_norm
from .launch import warn_on_main
from .processes import Processes, combine_gradients
from .schedule import EpsSchedule
from .seed import step_generator

SurfaceFactory = Callable[[nn.Module], Surface]
SETTINGS_FILE = "adversarial_settings.json"  # in every checkpoint-N/ of an AdversarialTrainer
SETTINGS_FORMAT = 1


def _objective_from(objective: Union[Objective, str], settings: Optional[Mapping[str, Any]]) -> Objective:
    if isinstance(objective, Objective):
        if settings:
            raise ValueError("objective_settings apply to an objective given by name, not to an Objective instance")
        return objective
    if not isinstance(objective, str):
        raise ValueError(f"objective must be an Objective or a name such as 'vat', got {type(objective).__name__}")
    settings = dict(settings or {})
    if objective != "none" and "eps" not in settings:
        raise ValueError(
            f"objective {objective!r} needs objective_settings={{'eps': ...}} (e.g. 5.0 for Miyato normalisation)"
        )
    settings.setdefault("eps", 0.0)
    return build_objective(objective, **settings)


def _schedule_for(objective: Objective, adv_warmup_steps: int, eps_ramp_steps: int) -> EpsSchedule:
    """The schedule of the two settings (``ValueError`` naming a negative or non-integer one, the loop's rule and
    message), refused up front if a term of ``objective`` cannot scale its ε (a user's term without ``eps``)."""
    schedule = EpsSchedule(adv_warmup_steps, eps_ramp_steps)
    if schedule.ramp:
        try:
            objective.scaled(0.5)
        except TypeError as error:
            raise ValueError(f"eps_ramp_steps={schedule.ramp} scales every term's ε, but {error}") from None
    return schedule


def _flat_settings(settings: Mapping[str, Any]) -> dict:
    """:meth:`AdversarialTrainer.training_settings` as one level of named settings, the names a refusal shows:
    ``objective`` (its name), ``objective.clean_weight``, ``objective.terms`` (the terms' classes) and
    ``objective.<Term>.<setting>`` (``<Term>[i]`` when a class occurs more than once), then the others."""
    objective = settings["objective"]
    terms = [term["term"] for term in objective["terms"]]
    flat = {"objective": objective["name"], "objective.clean_weight": objective["clean_weight"]}
    flat["objective.terms"] = terms
    counts, seen = Counter(terms), Counter()
    for term in objective["terms"]:
        name = term["term"]
        label = name if counts[name] == 1 else f"{name}[{seen[name]}]"
        seen[name] += 1
        for key, value in term["settings"].items():
            flat[f"objective.{label}.{key}"] = value
    flat.update((key, value) for key, value in settings.items() if key != "objective")
    return flat


class AdversarialTrainer(Trainer):
    """A ``transformers.Trainer`` whose training step is ``objective.step`` on a text surface.

    Args:
        model: a textadv text model (``HFTextClassifier``, ``LSTMClassifier``).
        args, data_collator, train_dataset, eval_dataset, ...: as for ``transformers.Trainer``.
        objective: an :class:`~textadv.objectives.Objective`, or a name of
            :func:`~textadv.objectives.build_objective` (``"none"``, ``"random"``, ``"at"``, ``"vat"``,
            ``"at+vat"``, ...) with ``objective_settings`` (``{"eps": 5.0, "xi": 0.1, ...}``; ``eps`` is required).
        objective_settings: keyword arguments of ``build_objective`` when ``objective`` is a name.
        unlabeled_dataset: optional examples without labels for semi-supervised VAT.
        unlabeled_batch_size: unlabeled examples per process and micro-step (default:
            ``args.per_device_train_batch_size``).
        surface_fn: ``model -> Surface`` (default :class:`~textadv.surfaces.TextSurface`).
        adv_warmup_steps: the first N optimiser steps are clean (the step of ``"none"``); 0: none.
        eps_ramp_steps: then every term's ε grows linearly from 0 to the objective's over N optimiser steps
            (PGD's step size with it, VAT's ξ not); 0: none. Both: :mod:`textadv.train.schedule`, a deviation
            from Miyato's and Madry's recipes, off by default; the names and rules of ``TrainConfig``.

    Checkpoints hold these settings (:data:`SETTINGS_FILE`) and :meth:`train` refuses to resume one with
    others (module docstring: "Checkpoints and resuming").
    """

    def __init__(
        self,
        model: nn.Module = None,
        args=None,
        *trainer_args,
        objective: Union[Objective, str] = "none",
        objective_settings: Optional[Mapping[str, Any]] = None,
        unlabeled_dataset: Any = None,
        unlabeled_batch_size: Optional[int] = None,
        surface_fn: SurfaceFactory = TextSurface,
        adv_warmup_steps: int = 0,
        eps_ramp_steps: int = 0,
        **trainer_kwargs,
    ):
        self.objective = _objective_from(objective, objective_settings)
        self.schedule = _schedule_for(self.objective, adv_warmup_steps, eps_ramp_steps)
        if unlabeled_batch_size is not None and unlabeled_batch_size < 1:
            raise ValueError(f"unlabeled_batch_size must be >= 1, got {unlabeled_batch_size}")
        if unlabeled_dataset is not None and dataset_size(unlabeled_dataset) == 0:
            raise ValueError("unlabeled_dataset is empty")
        if model is None or not all(hasattr(model, a) for a in ("embed", "classify")):
            raise ValueError(
                "model must be a textadv text model with embed() and classify() (HFTextClassifier, LSTMClassifier); "
                "wrap a Hugging Face model with textadv.text.HFTextClassifier(model, frequencies)"
            )
        # Trainer writes ``model.config.use_cache``; the LSTM's config is a frozen dataclass of its sizes, not a
        # transformers config, so it is set aside while the base class initialises (Trainer only reads it later).
        settings = model.__dict__.get("config")
        if dataclasses.is_dataclass(settings):
            del model.__dict__["config"]
        try:
            super().__init__(model, args, *trainer_args, **trainer_kwargs)
        finally:
            if dataclasses.is_dataclass(settings):
                model.__dict__["config"] = settings
        if self.args.n_gpu > 1:
            raise ValueError(
                "AdversarialTrainer does not support torch.nn.DataParallel (several GPUs in one process): "
                "launch one process per GPU with torchrun or accelerate launch"
            )
        if self.args.label_names is None:
            # The text models' forward takes no labels argument; keep the labels column
            # and evaluate through compute_loss.
            self.label_names = ["labels"]
        self.unlabeled_dataset = unlabeled_dataset
        self.unlabeled_batch_size = unlabeled_batch_size or self.args.per_device_train_batch_size
        if (
            unlabeled_dataset is not None
            and dataset_size(unlabeled_dataset) < self.unlabeled_batch_size * self.args.world_size
        ):
            raise ValueError(
                f"unlabeled_dataset ({dataset_size(unlabeled_dataset)} examples) must hold at least one batch of "
                f"{self.unlabeled_batch_size} per process x {self.args.world_size} processes"
            )
        self.surface_fn = surface_fn
        self._micro_step = (-1, 0)  # (global_step, micro-batches already run in it)
        self._step_objective = (-1, self.objective)  # (global_step, the scheduled objective of that step)
        self._logged = {}  # name -> [sum of detached values, count]

    # -- checkpoints and resuming --------------------------------------------------------------

    def training_settings(self) -> dict:
        """The settings of this trainer that shape the run's trajectory beyond ``TrainingArguments``, as saved
        in every checkpoint and compared on resume (module docstring: "Checkpoints and resuming")."""
        unlabeled = self.unlabeled_dataset is not None
        return {
            "objective": self.objective.describe(),
            "adv_warmup_steps": self.schedule.warmup,
            "eps_ramp_steps": self.schedule.ramp,
            "unlabeled_examples": dataset_size(self.unlabeled_dataset) if unlabeled else None,
            "unlabeled_batch_size": self.unlabeled_batch_size if unlabeled else None,
        }

    def _save_checkpoint(self, model: nn.Module, trial: Any, *args, **kwargs) -> None:
        """Trainer's checkpoint, with :data:`SETTINGS_FILE` written (atomically) into its folder first."""
        if self.args.should_save:
            folder = Path(self._get_output_dir(trial=trial)) / f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
            folder.mkdir(parents=True, exist_ok=True)
            saved = {"format_version": SETTINGS_FORMAT, "trainer": type(self).__name__}
            write_json(folder / SETTINGS_FILE, {**saved, "settings": self.training_settings()})
        super()._save_checkpoint(model, trial, *args, **kwargs)

    def check_resume(self, checkpoint: Union[str, os.PathLike]) -> None:
        """``ValueError`` naming every setting (old -> new) in which this trainer differs from the one that wrote
        ``checkpoint``; a warning when ``checkpoint`` holds no :data:`SETTINGS_FILE`. Reads only."""
        path = Path(checkpoint) / SETTINGS_FILE
        if not path.is_file():
            warn_on_main(
                f"{checkpoint} holds no {SETTINGS_FILE} (a checkpoint of transformers.Trainer or of an older "
                "AdversarialTrainer): the objective, ε schedule and unlabeled set of the resumed run could not be "
                "checked against the checkpoint's; resuming with the ones this trainer was given",
                stacklevel=3,
            )
            return
        saved = read_json_object(path)
        try:
            old = _flat_settings(saved["settings"])
        except (KeyError, TypeError, AttributeError):
            raise ValueError(
                f"{path} does not hold AdversarialTrainer settings (a JSON object with 'settings' holding "
                "'objective' with 'name', 'clean_weight' and 'terms'); remove it to resume unchecked"
            ) from None
        changes = setting_changes(old, _flat_settings(as_written(self.training_settings())))
        if changes:
            raise ValueError(
                f"cannot resume from {checkpoint}: it was trained with other AdversarialTrainer settings "
                f"({describe_changes(changes)}); build the trainer with the checkpoint's settings to continue "
                "that run, or train a new run in another output_dir"
            )

    def train(self, resume_from_checkpoint: Union[str, os.PathLike, bool, None] = None, *args, **kwargs):
        """``Trainer.train``; a resume is first checked against the checkpoint's settings (:meth:`check_resume`).

        ``True`` is the last ``checkpoint-N`` in ``args.output_dir``, as Trainer resolves it; a path or ``True``
        that names no checkpoint is left to Trainer's own error.
        """
        if resume_from_checkpoint is True and os.path.isdir(self.args.output_dir):
            resume_from_checkpoint = get_last_checkpoint(self.args.output_dir) or True
        if isinstance(resume_from_checkpoint, (str, os.PathLike)) and os.path.isdir(resume_from_checkpoint):
            self.check_resume(resume_from_checkpoint)
        return super().train(resume_from_checkpoint, *args, **kwargs)

    # -- the step -------------------------------------------------------------------------------

    def surface(self, model: Optional[nn.Module] = None) -> Surface:
        """The surface around the unwrapped model (Trainer may wrap it in DDP after ``__init__``)."""
        return self.surface_fn(self.accelerator.unwrap_model(model if model is not None else self.model))

    def _next_micro_step(self) -> int:
        step, done = self._micro_step
        done = done if step == self.state.global_step else 0
        self._micro_step = (self.state.global_step, done + 1)
        return self.state.global_step * self.args.gradient_accumulation_steps + done

    def objective_at(self, step: int) -> Objective:
        """The objective of optimiser step ``step`` under the ε schedule (the objective as built when it is off)."""
        if not self.schedule.active:
            return self.objective
        cached_step, objective = self._step_objective
        if cached_step != step:  # built once per optimiser step, shared by its micro-batches
            objective = self.schedule.objective_at(self.objective, step)
            self._step_objective = (step, objective)
        return objective

    def _unlabeled_batch(self, k: int):
        """Process r's share of the k-th global unlabeled batch, on the loop's schedule (``data.unlabeled_indices``)."""
        if self.unlabeled_dataset is None:
            return None
        world = self.args.world_size
        local = unlabeled_indices(
            dataset_size(self.unlabeled_dataset),
            self.unlabeled_batch_size * world,
            k,
            seed=self.args.seed,
            rank=self.args.process_index,
            world=world,
        )
        return self._prepare_inputs(take(self.unlabeled_dataset, local.tolist(), self.data_collator))

    def training_step(self, model: nn.Module, inputs: Mapping[str, Any], num_items_in_batch=None) -> torch.Tensor:
        """One micro-batch of the objective: forward(s) and backward(s); returns the detached loss / n."""
        model.train()
        if hasattr(self.optimizer, "train") and callable(self.optimizer.train):
            self.optimizer.train()
        inputs = self._prepare_inputs(inputs)
        n = getattr(self, "current_gradient_accumulation_steps", None) or self.args.gradient_accumulation_steps
        k = self._next_micro_step()
        objective = self.objective_at(self.state.global_step)
        clean = self.schedule.clean(self.state.global_step)

        def backward(loss: torch.Tensor, **kwargs) -> None:
            self.accelerator.backward(loss / n, **kwargs)

        with self.compute_loss_context_manager():
            out = objective.step(
                self.surface(model),
                inputs,
                backward=backward,
                unlabeled=None if clean else self._unlabeled_batch(k),
                step=self.state.global_step,
                generator=step_generator(self.args.seed, self.args.process_index, k, self.args.device),
            )
        procs = Processes(self.accelerator)
        norm = None
        if self.accelerator.sync_gradients:
            params = [p for p in self.model.parameters() if p.requires_grad]
            if procs.distributed:
                combine_gradients(params, 1.0 / procs.world, procs)
            if getattr(self.accelerator, "scaler", None) is None:  # a grad scaler handles inf gradients itself
                norm = grad_norm(params)
        check_step(
            self.state.global_step + 1,
            loss=out.loss,
            grad_norm=norm,
            kept=f"every checkpoint already saved in {self.args.output_dir}",
        )
        self._remember("clean_loss", out.clean_loss)
        for name, value in out.terms.items():
            self._remember(name, value)
        return (out.loss / n).detach()

    # -- logging and evaluation -----------------------------------------------------------------

    def _remember(self, name: str, value: torch.Tensor) -> None:
        total = self._logged.setdefault(name, [torch.zeros((), dtype=torch.float64, device=value.device), 0])
        total[0] += value.detach().to(torch.float64)
        total[1] += 1

    def log(self, logs: dict, *args, **kwargs) -> None:
        """Trainer's logging, with the mean of the clean loss and of each term since the last training log."""
        if "loss" in logs and self._logged:
            for name, (total, count) in self._logged.items():
                mean = total / count
                if self.args.world_size > 1:
                    mean = self.accelerator.reduce(mean.to(self.args.device), reduction="mean")
                logs[f"adv/{name}"] = round(float(mean), 6)
            self._logged = {}
            if self.schedule.active:  # logged after the optimiser step: global_step already counts it
                logs["adv/eps_scale"] = self.schedule.factor(self.state.global_step - 1)
        super().log(logs, *args, **kwargs)

    def compute_loss(
        self, model: nn.Module, inputs: Mapping[str, Any], return_outputs: bool = False, num_items_in_batch=None
    ):
        """The surface's clean loss (cross-entropy for a classifier), used by ``evaluate``/``predict``."""
        surface = self.surface(model)
        logits = surface.logits(surface.inputs(inputs), inputs)
        loss = surface.loss(logits, surface.labels(inputs), reduction="mean")
        return (loss, {"logits": logits}) if return_outputs else loss
