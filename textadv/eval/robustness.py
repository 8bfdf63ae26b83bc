"""Clean and adversarial accuracy, transfer (black-box) accuracy, and minimal-perturbation measures.

Generic over :class:`~textadv.surfaces.Surface`: every attack perturbs ``surface.inputs(batch)``
(detached) inside ``surface.threat(batch, norm, eps)`` (which carries the surface's mask and
bounds), runs the model through ``surface.logits``, and runs under
:func:`~textadv.core.attack_mode` (eval mode, frozen parameters). A ``loader`` is any re-iterable of
batches (e.g. :class:`textadv.train.Batches`); batches are moved to the model's device.

- :func:`robust_accuracy`: accuracy under an :class:`AttackSpec` (FGSM, Goodfellow et al. 2015, PGD
  with restarts, Madry et al. 2018, or APGD-CE, Croce & Hein 2020) at several ε, PAPERS.md §1, §4.
  APGD counts an example as broken at its first misclassifying iterate (AutoAttack's counting) and,
  with ``early_stop`` (the default), stops attacking it there: the same accuracy, in less time.
- :func:`transfer_accuracy`: examples crafted on a source model, scored on a target model (the
  black-box setting of Tramèr et al. 2018, §5).
- :func:`deepfool_rho`: ρ̂_adv = mean ‖r̂(x)‖₂/‖x‖₂ with DeepFool's r̂ (Moosavi-Dezfooli et al. 2016, §3).
- :func:`fgsm_rho`: the same measure for FGSM, as in DeepFool's Table 1: for each example the
  smallest ε at which ``x + ε·sign(∇ₓJ)`` changes the predicted label (a grid, then bisection).

The attacks are crafted against the surface's supervised loss (:meth:`~textadv.surfaces.Surface.loss`,
cross-entropy for a classifier). :data:`ATTACKS` maps each attack's name to the core function that
runs it: adding an attack is one function and one entry there.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence

import torch
from torch import Tensor

from ..core import Threat, apgd, attack_mode, fgsm, pgd
from ..surfaces import Batch, Surface, to_device


@dataclass(frozen=True)
class AttackSpec:
    """One evaluation attack: its name in :data:`ATTACKS`, the norm of its ball and its settings.

    ``steps``, ``step_size`` (default ``2.5·ε/steps``, Madry et al.) and ``restarts`` (the worst of
    several random starts is kept) apply to PGD; FGSM is one step of size ε. APGD takes ``steps``
    (N_iter) from a random start and sets its own step size (``step_size`` and ``restarts`` are not
    used: one run, as in the comparison with PGD of the same budget).
    """

    name: str = "pgd"
    norm: object = "inf"
    steps: int = 40
    step_size: Optional[float] = None
    restarts: int = 1

    def __post_init__(self) -> None:
        if self.name not in ATTACKS:
            raise ValueError(f"attack must be one of {', '.join(ATTACKS)}, got {self.name!r}")
        Threat(self.norm, 0.0)  # raises ValueError naming the norm
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.restarts < 1:
            raise ValueError(f"restarts must be >= 1, got {self.restarts}")

    def step_size_for(self, eps: float) -> float:
        """The PGD step size at ε: ``step_size``, or ``2.5·ε/steps`` (Madry et al.)."""
        return self.step_size if self.step_size is not None else 2.5 * eps / self.steps


#: ``attack(loss_fn, x, threat, spec=, eps=, generator=) -> x_adv`` with ``loss_fn(z) -> [B]`` to ascend
Attack = Callable[..., Tensor]


def _fgsm(loss_fn, x: Tensor, threat: Threat, *, spec: AttackSpec, eps: float, generator=None) -> Tensor:
    return fgsm(loss_fn, x, threat).detach()


def _pgd(loss_fn, x: Tensor, threat: Threat, *, spec: AttackSpec, eps: float, generator=None) -> Tensor:
    return pgd(
        loss_fn,
        x,
        threat,
        steps=spec.steps,
        step_size=spec.step_size_for(eps),
        restarts=spec.restarts,
        generator=generator,
    )


def _apgd(
    loss_fn, x: Tensor, threat: Threat, *, spec: AttackSpec, eps: float, generator=None, done_fn=None, drop_done=True
) -> Tensor:
    return apgd(loss_fn, x, threat, steps=spec.steps, generator=generator, done_fn=done_fn, drop_done=drop_done)


#: the evaluation attacks by name: the one place to add an attack
ATTACKS: Mapping[str, Attack] = MappingProxyType({"fgsm": _fgsm, "pgd": _pgd, "apgd": _apgd})
#: attacks that stop at an example's first misclassifying iterate: their function also takes
#: ``done_fn(z, rows)`` (then ``loss_fn(z, rows)``) and ``drop_done`` (see :func:`textadv.core.apgd.apgd_run`)
STOPPING: frozenset = frozenset({"apgd"})


class Rho(NamedTuple):
    """A minimal-perturbation measure: ``mean`` ρ over the fooled examples and ``per_example`` ρ
    (NaN where the attack did not change the prediction). Unpacks as ``mean, per_example``."""

    mean: float
    per_example: List[float]

    @property
    def fooled(self) -> float:
        """Fraction of examples whose prediction the attack changed."""
        return sum(r == r for r in self.per_example) / len(self.per_example)


def _device(surface: Surface) -> torch.device:
    for p in surface.model.parameters():
        return p.device
    return torch.device("cpu")


def _bar(loader: Iterable, desc: str, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(loader, desc=desc, leave=False, disable=None if progress else True)


def _check_eps_values(eps_values: Sequence[float]) -> List[float]:
    values = [float(e) for e in eps_values]
    if not values:
        raise ValueError("eps_values must hold at least one ε")
    for e in values:
        if not e >= 0:
            raise ValueError(f"every ε in eps_values must be >= 0, got {e}")
    return values


def _batch_rows(batch: Batch, rows: Tensor, size: int) -> Batch:
    """The examples ``rows`` of a batch: every tensor (or tuple of tensors) with ``size`` rows is indexed."""

    def pick(v):
        if isinstance(v, Tensor) and v.dim() >= 1 and v.shape[0] == size:
            return v[rows.to(v.device)]
        if isinstance(v, (tuple, list)) and v and all(isinstance(t, Tensor) and t.dim() >= 1 for t in v):
            return type(v)(pick(t) for t in v)
        return v

    return {k: pick(v) for k, v in batch.items()}


def adversarial_inputs(
    surface: Surface,
    batch: Batch,
    attack: AttackSpec,
    *,
    eps: float,
    generator: Optional[torch.Generator] = None,
    early_stop: bool = True,
) -> Tensor:
    """The adversarial version ``[B, ...]`` of ``surface.inputs(batch)`` (detached), against the true labels.

    ``fgsm``: one step of size ε (sign for ℓ∞, normalised gradient for ℓ2). ``pgd``: ``steps`` steps
    of ``step_size`` from a random start, keeping the worst of ``restarts`` runs. ``apgd``: ``steps``
    APGD iterations from a random start; an example's result is its first misclassifying point (the
    clean input when it is already misclassified), else the iterate of highest loss. With
    ``early_stop``, APGD stops computing an example at that point (the result is the same). Call it
    under ``attack_mode(surface.model)``.
    """
    x = surface.inputs(batch).detach()
    labels = surface.labels(batch)
    threat = surface.threat(batch, attack.norm, eps)
    run = ATTACKS[attack.name]
    if attack.name not in STOPPING:

        def loss_fn(z: Tensor) -> Tensor:
            return surface.loss(surface.logits(z, batch), labels)

        return run(loss_fn, x, threat, spec=attack, eps=eps, generator=generator)

    size = x.shape[0]

    def loss_rows(z: Tensor, rows: Tensor) -> Tensor:
        sub = _batch_rows(batch, rows, size)
        return surface.loss(surface.logits(z, sub), surface.labels(sub))

    def misclassified(z: Tensor, rows: Tensor) -> Tensor:
        sub = _batch_rows(batch, rows, size)
        return ~_hits(surface, z, sub)

    return run(
        loss_rows, x, threat, spec=attack, eps=eps, generator=generator, done_fn=misclassified, drop_done=early_stop
    )


def _hits(surface: Surface, x: Tensor, batch: Batch) -> Tensor:
    """``[B]``: whether each example's prediction at ``x`` is right (every output, for several)."""
    with torch.no_grad():
        labels = surface.labels(batch)
        hit = surface.predict(surface.logits(x, batch)) == labels  # [B] (or [B, ...]: every output right)
        return hit.reshape(len(labels), -1).all(dim=1)


def _correct(surface: Surface, x: Tensor, batch: Batch) -> Tensor:
    return _hits(surface, x, batch).sum()


def clean_accuracy(surface: Surface, loader: Iterable[Batch], *, progress: bool = True) -> float:
    """Fraction of examples whose predicted class is the label (eval mode)."""
    correct, total = 0, 0
    device = _device(surface)
    with attack_mode(surface.model), torch.no_grad():
        for batch in _bar(loader, "clean accuracy", progress):
            batch = to_device(batch, device)
            correct += int(_correct(surface, surface.inputs(batch), batch))
            total += len(surface.labels(batch))
    if total == 0:
        raise ValueError("the loader yielded no examples")
    return correct / total


def _attacked_accuracy(
    source: Surface, target: Surface, loader, *, attack: AttackSpec, eps_values, seed, progress, desc, early_stop=True
):
    eps_values = _check_eps_values(eps_values)
    if not isinstance(attack, AttackSpec):
        raise ValueError(f"attack must be an AttackSpec (e.g. AttackSpec('pgd', norm=2)), got {attack!r}")
    device = _device(target)
    generator = torch.Generator(device=device).manual_seed(seed)
    correct = {e: 0 for e in eps_values}
    total = 0
    with attack_mode(source.model), attack_mode(target.model):
        for batch in _bar(loader, desc, progress):
            batch = to_device(batch, device)
            x = target.inputs(batch).detach()
            total += len(target.labels(batch))
            for e in eps_values:
                if e == 0:
                    x_adv = x
                else:
                    x_adv = adversarial_inputs(source, batch, attack, eps=e, generator=generator, early_stop=early_stop)
                    if x_adv.shape != x.shape:
                        raise ValueError(
                            f"source and target surfaces perturb tensors of different shapes "
                            f"{tuple(x_adv.shape)} and {tuple(x.shape)}; transfer needs a shared input space"
                        )
                correct[e] += int(_correct(target, x_adv, batch))
    if total == 0:
        raise ValueError("the loader yielded no examples")
    return {e: correct[e] / total for e in eps_values}


def robust_accuracy(
    surface: Surface,
    loader: Iterable[Batch],
    attack: AttackSpec = AttackSpec(),
    *,
    eps_values: Sequence[float] = (0.3,),
    seed: int = 0,
    progress: bool = True,
    early_stop: bool = True,
) -> Dict[float, float]:
    """``{ε: accuracy}`` under a white-box attack (see :func:`adversarial_inputs`); ε = 0 is clean accuracy.

    ``early_stop``: attacks in :data:`STOPPING` (APGD) stop attacking an example at its first
    misclassifying point, which they keep; it changes only the time, never the accuracy, so it is
    on by default. FGSM (one step) and PGD (scored at its last iterate, whose random starts are
    drawn per batch) are unaffected.
    """
    return _attacked_accuracy(
        surface,
        surface,
        loader,
        attack=attack,
        eps_values=eps_values,
        seed=seed,
        progress=progress,
        desc=f"{attack.name} accuracy",
        early_stop=early_stop,
    )


def transfer_accuracy(
    source: Surface,
    target: Surface,
    loader: Iterable[Batch],
    attack: AttackSpec = AttackSpec("fgsm"),
    *,
    eps_values: Sequence[float] = (0.3,),
    seed: int = 0,
    progress: bool = True,
) -> Dict[float, float]:
    """``{ε: accuracy of target}`` on examples crafted against ``source`` (black-box transfer).

    Both surfaces must perturb the same input space (pixels); the target never sees a gradient query.
    """
    if _device(source) != _device(target):
        raise ValueError(f"source and target models are on different devices ({_device(source)}, {_device(target)})")
    return _attacked_accuracy(
        source,
        target,
        loader,
        attack=attack,
        eps_values=eps_values,
        seed=seed,
        progress=progress,
        desc=f"transfer {attack.name}",
    )


def deepfool_rho(
    surface: Surface,
    loader: Iterable[Batch],
    *,
    num_classes: int = 10,
    overshoot: float = 0.02,
    max_iter: int = 50,
    bounds: Optional[tuple] = None,
    progress: bool = True,
) -> Rho:
    """DeepFool's ρ̂_adv as a :class:`Rho` (mean over fooled examples, per-example values).

    ρ(x) = ‖x_adv − x‖₂/‖x‖₂ with the norm over the whole perturbed tensor of one example. DeepFool
    attacks the predicted label (not the true one), so every example counts. The surface's mask
    keeps padding of text unperturbed. Examples still
    classified as before after ``max_iter`` iterations are left out of the mean.

    ``bounds`` defaults to ``None``, as in the paper: ρ̂_adv measures the distance to the decision
    boundary, box or not. Clipping every iterate to the pixel box (``bounds=surface.bounds``) makes
    DeepFool stall on a share of MNIST digits (30-40% of a small CNN's, in docs/results/image.md).
    """
    from ..core.deepfool import deepfool, robustness_rho

    device = _device(surface)
    rhos: List[float] = []
    with attack_mode(surface.model):
        for batch in _bar(loader, "deepfool", progress):
            batch = to_device(batch, device)
            x = surface.inputs(batch).detach()
            logits_fn = lambda z, b=batch: surface.logits(z, b)  # noqa: E731
            x_adv = deepfool(
                logits_fn,
                x,
                num_classes=num_classes,
                overshoot=overshoot,
                max_iter=max_iter,
                bounds=bounds,
                mask=surface.mask(batch),
            )
            with torch.no_grad():
                fooled = logits_fn(x_adv).argmax(1) != logits_fn(x).argmax(1)
            rho = robustness_rho(x, x_adv)
            rhos += torch.where(fooled, rho, torch.full_like(rho, float("nan"))).tolist()
    return _summarise(rhos)


def _summarise(rhos: List[float]) -> Rho:
    if not rhos:
        raise ValueError("the loader yielded no examples")
    t = torch.tensor(rhos, dtype=torch.float64)
    ok = ~torch.isnan(t)
    return Rho(float(t[ok].mean()) if ok.any() else float("nan"), rhos)


def fgsm_rho(
    surface: Surface,
    loader: Iterable[Batch],
    *,
    eps_max: Optional[float] = None,
    grid: int = 20,
    bisection_steps: int = 10,
    progress: bool = True,
) -> Rho:
    """FGSM's ρ̂ as in DeepFool's Table 1, as a :class:`Rho` (mean over flipped examples, per-example values).

    For each example the FGSM direction ``d = sign(∇ₓ CE(f(x), k̂(x)))`` is taken once at ``x``
    against the predicted label ``k̂(x)`` (as DeepFool does), then the smallest ε ∈ (0, eps_max] with
    ``k̂(clip(x + ε·d)) ≠ k̂(x)`` is found: the first flipping point of a ``grid`` of equally spaced
    ε, refined by ``bisection_steps`` bisections between it and the grid point before it. ρ is
    ‖r‖₂/‖x‖₂ for the perturbation actually applied, ``r = clip(x + ε·d) − x`` (equal to ε·‖d‖₂ away
    from the box's faces). ``eps_max`` defaults to the width of the surface's bounds (1 for pixels,
    where ε = 1 already saturates every pixel); unbounded surfaces must give it.
    """
    if eps_max is None:
        if surface.bounds is None:
            raise ValueError("eps_max is required for a surface without bounds")
        eps_max = surface.bounds[1] - surface.bounds[0]
    if not eps_max > 0:
        raise ValueError(f"eps_max must be > 0, got {eps_max}")
    if grid < 1 or bisection_steps < 0:
        raise ValueError(f"grid must be >= 1 and bisection_steps >= 0, got {grid} and {bisection_steps}")
    device = _device(surface)
    rhos: List[float] = []
    with attack_mode(surface.model):
        for batch in _bar(loader, "fgsm rho", progress):
            batch = to_device(batch, device)
            x = surface.inputs(batch).detach()
            with torch.no_grad():
                pred = surface.logits(x, batch).argmax(1)
            threat = surface.threat(batch, "inf", 0.0)
            z = x.clone().requires_grad_(True)
            with torch.enable_grad():
                (grad,) = torch.autograd.grad(surface.loss(surface.logits(z, batch), pred).sum(), z)
            d = threat.direction(grad)

            def flipped(eps: Tensor) -> Tensor:  # eps [B]
                with torch.no_grad():
                    return surface.logits(threat.clip(x + threat.expand(eps, x) * d), batch).argmax(1) != pred

            n = x.shape[0]
            hi = torch.full((n,), float("nan"), device=device)
            for i in range(1, grid + 1):
                eps = torch.full((n,), eps_max * i / grid, device=device)
                hit = flipped(eps) & torch.isnan(hi)
                hi = torch.where(hit, eps, hi)
            found = ~torch.isnan(hi)
            lo = torch.where(found, hi - eps_max / grid, torch.zeros_like(hi))
            hi = torch.where(found, hi, torch.full_like(hi, eps_max))
            for _ in range(bisection_steps):
                mid = (lo + hi) / 2
                flip = flipped(mid)
                hi = torch.where(flip, mid, hi)
                lo = torch.where(flip, lo, mid)
            r = threat.clip(x + threat.expand(hi, x) * d) - x
            rho = r.reshape(n, -1).norm(dim=1) / x.reshape(n, -1).norm(dim=1)
            rhos += torch.where(found, rho, torch.full_like(rho, float("nan"))).tolist()
    return _summarise(rhos)
