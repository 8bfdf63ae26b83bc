"""The perturbation-budget schedule of training: clean warm-up steps, then a linear ε ramp.

One schedule, a pure function of the global step ``t`` (0 for the first optimiser step), applied by
the training loop (:func:`textadv.train.train`) to whatever objective a job built, so the image job
(``textadv image-train``) and the text job (``textadv finetune``) share it through the same two
settings, ``--adv-warmup-steps W`` and ``--eps-ramp-steps R``:

- ``t < W``: a clean step. No adversarial, VAT, random or ensemble term at all and no extra pass:
  the step of ``--adv none`` (the clean loss with weight 1, also for objectives whose own clean
  weight is α or, for Madry's PGD, 0).
- ``W ≤ t < W + R``: every ε-carrying term runs at ``ε · (t − W) / R``, growing linearly from 0
  (the first ramp step perturbs by 0) towards the run's ε.
- ``t ≥ W + R``: the objective as built, at its ε.

What scales with the factor: the radius ε of every term (Miyato's AT/FGM and random perturbation,
Goodfellow's FGSM, VAT's ε, Tramèr's ensemble FGSM, Madry's PGD) and PGD's step size in proportion,
so that PGD takes the same number of steps across the same fraction of a smaller ball. VAT's
finite-difference step ξ does not scale: it is the probe of the power iteration, not the budget.

Relation to the papers (PAPERS.md):

- Text, Miyato et al. (2017) train AT and VAT at their full ε from the first step, with no warm-up
  and no ramp; both settings default to 0 (off), which is their recipe. A warm-up or ramp is a
  deviation from it (delayed adversarial training), offered for the regimes where the perturbed
  terms dominate a model that has learnt nothing yet.
- Images, Madry et al. (2018) train with PGD-40 at ε = 0.3 from the first step as well; the ε
  ramp-up is the common practice of later Madry-style training (e.g. the linear ε schedules of
  Gowal et al. 2018 and Wong et al. 2020) for getting a network off the chance plateau that training
  at the full ε from initialisation can leave it on (docs/results/image.md), and is a deviation from
  the paper's own recipe, which reaches ε = 0.3 with 100,000 steps instead.

With both at 0 the loop uses the objective unchanged (bit-identical to a run without a schedule).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..objectives import Objective

#: the command-line flags of the two settings, for error messages
FLAGS = {"adv_warmup_steps": "--adv-warmup-steps", "eps_ramp_steps": "--eps-ramp-steps"}


def check_steps(name: str, value: object) -> int:
    """``value`` if it is an integer >= 0, else ``ValueError`` naming ``name`` (a flag or a setting)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0 (a number of optimiser steps), got {value!r}")
    return value


@dataclass(frozen=True)
class EpsSchedule:
    """``warmup`` clean steps, then ε ramped linearly from 0 over ``ramp`` steps (module docstring)."""

    warmup: int = 0
    ramp: int = 0

    def __post_init__(self) -> None:
        check_steps("adv_warmup_steps", self.warmup)
        check_steps("eps_ramp_steps", self.ramp)

    @property
    def active(self) -> bool:
        """Whether any step differs from the objective as built."""
        return self.warmup > 0 or self.ramp > 0

    def factor(self, step: int) -> float:
        """The multiplier of ε at global step ``step``: 0 in warm-up, ``(step − W) / R`` in the ramp, then 1."""
        if step < self.warmup:
            return 0.0
        ramped = step - self.warmup
        if ramped >= self.ramp:
            return 1.0
        return ramped / self.ramp

    def clean(self, step: int) -> bool:
        """Whether ``step`` is a warm-up step (no perturbed term at all)."""
        return step < self.warmup

    def objective_at(self, objective: Objective, step: int) -> Objective:
        """The objective of global step ``step``: a clean one in warm-up, ε scaled in the ramp, else ``objective``."""
        if self.clean(step):
            return objective.clean_only()
        factor = self.factor(step)
        return objective if factor == 1.0 else objective.scaled(factor)
