"""One training step for every objective, with the fewest passes (PAPERS.md §9).

An objective is a weighted clean loss plus extra terms that each perturb the clean input:

    L = w_clean · J(x) + Σ_k term_k(x)

J is the surface's supervised loss (:meth:`~textadv.surfaces.Surface.loss`: cross-entropy for a
classifier), averaged over the batch.

The clean pass is shared: every term sees the clean logits, and terms that need ∇ₓJ (AT, FGSM)
reuse the gradient the clean backward already computed instead of running another backward. Cost
for a clean step of 3F (forward F, backward 2F): AT 6F (2.0×), VAT 8F (2.7×), AT+VAT 11F (3.7×).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import torch
from torch import Tensor

from ..core import detach_logits, frozen_batchnorm_stats
from ..core.draws import ExampleDraws
from ..surfaces import Batch, Surface

Backward = Callable[..., None]


def _default_backward(loss: Tensor, **kwargs) -> None:
    loss.backward(**kwargs)


def _setting(value: Any) -> Any:
    """A setting as :meth:`Term.describe` reports it: numbers, strings, booleans and ``None`` as they are,
    sequences and mappings item by item, any other object (a source model's surface) by its class name."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_setting(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _setting(v) for k, v in value.items()}
    return type(value).__name__


@dataclass
class CleanPass:
    """What the shared clean pass produced, handed to every term."""

    surface: Surface
    batch: Batch
    x: Tensor  # [B, ...] the tensor perturbed, in the graph when it depends on parameters
    logits: Any  # the surface's outputs: [B, C] for a classifier
    labels: Any  # surface.labels(batch): [B] for a classifier
    step: int = 0
    generator: Optional[torch.Generator] = None
    input_grad: Optional[Tensor] = None  # ∇ₓ J(x), set when some term needs it
    draws: Optional[ExampleDraws] = None  # per-example draws of the batch (the training loop's)
    unlabeled_draws: Optional[ExampleDraws] = None  # the same for the unlabeled batch

    def normal(self, x: Tensor, unlabeled: bool = False) -> Tensor:
        """Standard normal numbers of ``x``'s shape for a random perturbation of the (unlabeled) batch.

        Per example from ``draws`` when the caller gives them (the same for any number of processes),
        else from ``generator``.
        """
        draws = self.unlabeled_draws if unlabeled else self.draws
        if draws is None:
            return torch.randn(x.shape, generator=self.generator, dtype=x.dtype, device=x.device)
        return draws.normal(x.shape, x.dtype, x.device)

    def perturbed_logits(self, delta: Tensor) -> Tensor:
        """Logits at ``x + δ``; gradients flow through ``x`` (δ is a constant)."""
        with frozen_batchnorm_stats(self.surface.model):
            return self.surface.logits(self.x + delta.detach(), self.batch)

    def perturbed_loss(self, delta: Tensor) -> Tensor:
        """The batch mean of the supervised loss at ``x + δ`` against the batch's labels (a scalar)."""
        return self.surface.loss(self.perturbed_logits(delta), self.labels, reduction="mean")

    def logits_fn(self) -> Callable[[Tensor], Any]:
        """``z -> logits`` from a detached point, for attacks (no running-stat updates)."""

        def fn(z: Tensor) -> Tensor:
            with frozen_batchnorm_stats(self.surface.model):
                return self.surface.logits(z, self.batch)

        return fn

    def loss_fn(self, labels: Any = None) -> Callable[[Tensor], Tensor]:
        """``z -> per-example loss [B]`` against ``labels`` (default: the batch's labels)."""
        y = self.labels if labels is None else labels
        logits_fn = self.logits_fn()
        return lambda z: self.surface.loss(logits_fn(z), y)


class Term:
    """An extra loss term built on the clean pass."""

    #: whether the term needs ∇ₓ J(x) from the clean backward
    needs_input_grad: bool = False
    #: whether the term reads the separate unlabeled batch of ``Objective.step`` (semi-supervised VAT)
    uses_unlabeled: bool = False

    def loss(self, clean: CleanPass, unlabeled: Optional[Batch] = None) -> Tensor:
        raise NotImplementedError

    def describe(self) -> dict:
        """The term's settings, to tell whether two runs train the same objective (a resumed Trainer run,
        :class:`~textadv.train.trainer.AdversarialTrainer`): a dataclass term's fields (ε, ξ, norm, weight, ...),
        another term's public instance attributes; an object that is not a number, string, boolean or a
        sequence of them is described by its class name only (EnsembleTerm's source models: their surfaces'
        classes, not their weights). A term whose behaviour hangs on anything else says so in its override."""
        if dataclasses.is_dataclass(self):
            items = [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)]
        else:
            items = [(k, v) for k, v in vars(self).items() if not k.startswith("_")]
        return {name: _setting(value) for name, value in items}

    def scaled(self, factor: float) -> "Term":
        """The same term with its perturbation budget ε multiplied by ``factor`` (the ε schedule of
        :mod:`textadv.train.schedule`). A dataclass term with an ``eps`` field gets ``eps · factor``;
        a term whose other settings are budgets too (PGD's step size) says so in its override."""
        if not (dataclasses.is_dataclass(self) and any(f.name == "eps" for f in dataclasses.fields(self))):
            raise TypeError(f"{type(self).__name__} has no eps to scale; override Term.scaled")
        return dataclasses.replace(self, eps=self.eps * factor)


@dataclass(frozen=True)
class StepOutput:
    loss: Tensor  # the total objective, detached
    clean_loss: Tensor  # detached
    logits: Any  # the clean outputs (logits), detached
    terms: dict = field(default_factory=dict)  # name -> detached value


@dataclass(frozen=True)
class Objective:
    """``clean_weight · J(x) + Σ terms``. ``Objective()`` is plain training."""

    clean_weight: float = 1.0
    terms: Sequence[Term] = ()
    name: str = "none"

    def __post_init__(self) -> None:
        if self.clean_weight < 0:
            raise ValueError(f"clean_weight must be >= 0, got {self.clean_weight}")

    def describe(self) -> dict:
        """``{"name", "clean_weight", "terms": [{"term": class name, "settings": Term.describe()}, ...]}``: what
        the objective trains on, the same for an objective built by name and for the equal one built by hand."""
        return {
            "name": self.name,
            "clean_weight": self.clean_weight,
            "terms": [{"term": type(t).__name__, "settings": t.describe()} for t in self.terms],
        }

    def scaled(self, factor: float) -> "Objective":
        """Every term at ``factor`` times its ε (:meth:`Term.scaled`); the clean weight is unchanged."""
        return dataclasses.replace(self, terms=tuple(t.scaled(factor) for t in self.terms))

    def clean_only(self) -> "Objective":
        """The clean step of the same objective: ``J(x)`` with weight 1 and no term, what ``none`` trains on
        (the warm-up of :mod:`textadv.train.schedule`)."""
        return Objective(1.0, (), name=self.name)

    @property
    def uses_unlabeled(self) -> bool:
        """Whether some term reads an unlabeled batch: only then is an unlabeled set worth encoding."""
        return any(t.uses_unlabeled for t in self.terms)

    def step(
        self,
        surface: Surface,
        batch: Batch,
        *,
        backward: Backward = _default_backward,
        unlabeled: Optional[Batch] = None,
        step: int = 0,
        generator: Optional[torch.Generator] = None,
        draws: Optional[ExampleDraws] = None,
        unlabeled_draws: Optional[ExampleDraws] = None,
        unlabeled_weight: float = 1.0,
    ) -> StepOutput:
        """Forward and backward of the whole objective; parameter gradients accumulate in ``.grad``.

        ``backward(loss, **kwargs)`` is ``loss.backward`` by default and ``accelerator.backward``
        in the accelerate loop. The optimiser step is the caller's. Random perturbations (VAT's
        initial direction, the random baseline) take their numbers per example from ``draws`` /
        ``unlabeled_draws`` when given, else from ``generator``. ``unlabeled_weight`` multiplies the
        terms read on the ``unlabeled`` batch: a process whose share of the labelled batch differs
        from its share of the unlabeled batch passes their ratio (the loop does), so that weighting
        the whole step by its labelled share leaves each part weighted by its own share.
        """
        x = surface.inputs(batch)
        if self.terms:
            # x finite, the mask fits, x inside the bounds: fail before any pass runs
            surface.threat(batch, 2, 0.0).check(x.detach())
        needs_input_grad = any(t.needs_input_grad for t in self.terms)
        x_clean = x  # what the clean pass runs from
        if needs_input_grad and x.requires_grad and self.clean_weight > 0:
            # x depends on parameters (normalised embeddings: statistics over the whole vocabulary).
            # The clean backward stops at a detached copy; its gradient at x joins the terms' backward
            # below, so the graph under x is traversed once per step instead of twice.
            x_clean = x.detach().requires_grad_(True)
        elif x.requires_grad:
            x.retain_grad()
        elif needs_input_grad:
            x = x_clean = x.detach().requires_grad_(True)
        labels = surface.labels(batch)
        logits = surface.logits(x_clean, batch)
        clean_loss = surface.loss(logits, labels, reduction="mean")
        clean = CleanPass(
            surface,
            batch,
            x,
            logits,
            labels,
            step=step,
            generator=generator,
            draws=draws,
            unlabeled_draws=unlabeled_draws,
        )

        total = clean_loss.detach() * self.clean_weight
        # With clean_weight 0 (Madry's PGD) the clean loss is only reported: no backward through it.
        pending = self.clean_weight * clean_loss if self.clean_weight > 0 else None
        carried, joined = None, []  # the clean backward's gradient at x, still to go through the graph under x
        if needs_input_grad:
            if self.clean_weight > 0:
                # The clean backward yields ∇ₓ for free (the AT cost floor); keep the graph for the terms.
                backward(pending, retain_graph=True)
                clean.input_grad = x_clean.grad.detach() / self.clean_weight
                pending = None
                if x_clean is not x:
                    # Already scaled as ``backward`` scales losses (gradient accumulation, loss scaling).
                    carried = x_clean.grad.detach()

                    def join(g: Tensor) -> Tensor:
                        joined.append(True)
                        return g + carried

                    x.register_hook(join)
            else:
                (g,) = torch.autograd.grad(clean_loss, x, retain_graph=True)
                clean.input_grad = g.detach()
        values = {}
        for term in self.terms:
            value = term.loss(clean, unlabeled)
            if unlabeled is not None and term.uses_unlabeled and unlabeled_weight != 1.0:
                value = value * unlabeled_weight
            values[type(term).__name__] = value.detach()
            total = total + value.detach()
            pending = value if pending is None else pending + value
        if pending is not None and pending.requires_grad:
            backward(pending)
        if carried is not None and not joined:
            torch.autograd.backward(x, carried)  # no term reached x: the clean gradient goes down alone
        return StepOutput(loss=total, clean_loss=clean_loss.detach(), logits=detach_logits(logits), terms=values)
