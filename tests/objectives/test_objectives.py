"""Objectives: closed-form losses, the number of passes (PAPERS.md §9), AT's gradient, validation."""

import math

import pytest
import torch
import torch.nn.functional as F

from textadv.objectives import build_objective
from textadv.surfaces import Surface


class VectorSurface(Surface):
    """``batch["x"]`` ``[B, ...]`` is perturbed, with no box and an optional ``batch["mask"]``."""

    bounds = None

    def inputs(self, batch):
        return batch["x"]

    def logits(self, x, batch):
        return self.model(x)

    def mask(self, batch):
        return batch.get("mask")


class LogisticRegression(torch.nn.Module):
    """P(y=1|x) = σ(wᵀx + b) as the 2-class model [0, wᵀx + b]; class 1 is y = +1, class 0 is y = −1."""

    def __init__(self, w, b):
        super().__init__()
        self.w, self.b = torch.nn.Parameter(w), torch.nn.Parameter(torch.tensor(b, dtype=w.dtype))

    def forward(self, x):
        z = x @ self.w + self.b
        return torch.stack([torch.zeros_like(z), z], dim=1)


def logistic_case():
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(5, generator=gen, dtype=torch.float64)
    x = torch.randn(12, 5, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 2, (12,), generator=gen)
    return LogisticRegression(w, 0.3), x, labels


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_fgsm_objective_on_logistic_regression_is_goodfellows_closed_form(alpha):
    model, x, labels = logistic_case()
    eps = 0.25
    out = build_objective("fgsm", eps=eps, norm="inf", alpha=alpha).step(
        VectorSurface(model), {"x": x, "labels": labels}
    )
    with torch.no_grad():
        y = labels.double() * 2 - 1  # {0, 1} -> {-1, +1}
        margin = x @ model.w + model.b
        l1 = model.w.abs().sum()
        clean = F.softplus(-y * margin)  # ζ(−y(wᵀx + b))
        adversarial = F.softplus(eps * l1 - y * margin)  # ζ(ε‖w‖₁ − y(wᵀx + b))
        # PAPERS.md §1 writes ζ(y(ε‖w‖₁ − wᵀx − b)); it agrees with the above for y = +1 (for y = −1 the
        # sign of the ε-term must not flip: the adversary always raises the loss)
        paper = F.softplus(y * (eps * l1 - margin))
        torch.testing.assert_close(paper[y > 0], adversarial[y > 0])
        expected = alpha * clean.mean() + (1 - alpha) * adversarial.mean()
    assert abs(out.loss.item() - expected.item()) < 1e-6


class Counting(torch.nn.Module):
    """Counts forward passes, and backward passes through the model (at its output)."""

    def __init__(self, net):
        super().__init__()
        self.net, self.forwards, self.backwards, self.inputs = net, 0, 0, []
        counter = self

        class CountBackward(torch.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                return t.view_as(t)

            @staticmethod
            def backward(ctx, g):
                counter.backwards += 1
                return g

        self._count = CountBackward.apply

    def forward(self, x):
        self.forwards += 1
        self.inputs.append(x.detach().clone())
        return self._count(self.net(x))


def counting_case(mask=None):
    torch.manual_seed(0)
    model = Counting(
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    )
    batch = {"x": torch.randn(4, 3, 4), "labels": torch.tensor([0, 1, 2, 1])}
    if mask is not None:
        batch["mask"] = mask
    return model, batch


@pytest.mark.parametrize(
    "name, kwargs, forwards, backwards",
    [
        ("none", {}, 1, 1),
        ("random", {}, 2, 2),
        ("at", {}, 2, 2),  # the clean backward's ∇ₓ is reused: no third pass
        ("fgsm", dict(alpha=0.5), 2, 2),
        ("vat", {}, 3, 3),  # clean, power iteration (input-only backward), perturbed
        ("at+vat", {}, 4, 4),
        ("pgd", dict(pgd_steps=5), 5 + 2, 5 + 1),  # clean (reported, not backpropagated), k steps, perturbed
    ],
)
def test_passes_per_step(name, kwargs, forwards, backwards):
    model, batch = counting_case()
    build_objective(name, eps=0.5, **kwargs).step(
        VectorSurface(model), batch, generator=torch.Generator().manual_seed(0)
    )
    assert (model.forwards, model.backwards) == (forwards, backwards)


def test_at_perturbation_has_norm_eps_and_respects_the_mask():
    mask = torch.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]])  # [B, T] over [B, T, D]
    model, batch = counting_case(mask)
    build_objective("at", eps=0.7).step(VectorSurface(model), batch)
    clean, perturbed = model.inputs
    r = perturbed - clean
    torch.testing.assert_close(r.reshape(4, -1).norm(dim=1), torch.full((4,), 0.7))
    assert (r[mask == 0] == 0).all()


def test_at_gradient_is_ce_plus_lambda_ce_at_the_fixed_adversarial_input():
    model, batch = counting_case()
    lam, eps = 0.8, 0.5
    build_objective("at", eps=eps, adv_weight=lam).step(VectorSurface(model), batch)
    got = [p.grad.clone() for p in model.parameters()]

    model.zero_grad()
    x, y = batch["x"].clone().requires_grad_(True), batch["labels"]
    (g,) = torch.autograd.grad(F.cross_entropy(model(x), y), x)
    r_adv = eps * g / g.reshape(4, -1).norm(dim=1).reshape(4, 1, 1)  # Miyato: ε·g/‖g‖₂ per example, a constant
    loss = F.cross_entropy(model(batch["x"]), y) + lam * F.cross_entropy(model(batch["x"] + r_adv), y)
    expected = torch.autograd.grad(loss, list(model.parameters()))
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)


def test_vat_step_leaves_parameter_gradients_of_the_power_iteration_out():
    # the step's parameter gradient is that of CE(x) + KL(p ‖ p(x + r)) with p and r constants
    model, batch = counting_case()
    gen = torch.Generator().manual_seed(3)
    out = build_objective("vat", eps=0.5, xi=0.1).step(VectorSurface(model), batch, generator=gen)
    got = [p.grad.clone() for p in model.parameters()]
    r = model.inputs[2] - model.inputs[0]
    logits = model(batch["x"])
    kl = F.kl_div(
        F.log_softmax(model(batch["x"] + r), 1),
        F.log_softmax(logits.detach(), 1),
        log_target=True,
        reduction="batchmean",
    )
    expected = torch.autograd.grad(F.cross_entropy(logits, batch["labels"]) + kl, list(model.parameters()))
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(out.terms["VATTerm"], kl.detach())


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(name="at", eps=-0.1), "eps"),
        (dict(name="at", eps=0.1, norm="l1"), "norm"),
        (dict(name="fgsm", eps=0.1, alpha=1.5), "alpha"),
        (dict(name="mystery", eps=0.1), "mystery"),
    ],
)
def test_bad_settings_raise_naming_the_argument(kwargs, word):
    with pytest.raises(ValueError, match=word):
        build_objective(**kwargs)


@pytest.mark.parametrize(
    "change, word",
    [
        (lambda b: b | {"x": b["x"].index_fill(1, torch.tensor([1]), math.nan)}, "x"),
        (lambda b: b | {"mask": torch.ones(4, 4)}, "mask"),
    ],
)
@pytest.mark.parametrize("name", ["at", "vat", "pgd", "fgsm"])
def test_bad_batches_raise_before_any_pass(name, change, word):
    model, batch = counting_case()
    with pytest.raises(ValueError, match=word):
        build_objective(name, eps=0.1).step(VectorSurface(model), change(batch))
    assert model.forwards == 0


def test_an_objective_describes_what_it_trains_on():
    """``describe`` tells objectives apart by every setting of every term (ε, ξ, weights, norm) and not by how
    they were built: by name and by hand alike; a user's term by its public attributes, a source model by its
    surface's class."""
    from textadv.objectives import AdversarialTerm, Objective, Term, VATTerm

    by_name = build_objective("at+vat", eps=2.0, xi=0.1, adv_weight=0.5)
    by_hand = Objective(1.0, (AdversarialTerm(2.0, 2, 0.5), VATTerm(2.0, 0.1, 2, 1, 0.5)), name="at+vat")
    assert (
        by_name.describe()
        == by_hand.describe()
        == {
            "name": "at+vat",
            "clean_weight": 1.0,
            "terms": [
                {
                    "term": "AdversarialTerm",
                    "settings": {"eps": 2.0, "norm": 2, "weight": 0.5, "predicted_labels": False},
                },
                {"term": "VATTerm", "settings": {"eps": 2.0, "xi": 0.1, "norm": 2, "iterations": 1, "weight": 0.5}},
            ],
        }
    )
    for other in (
        build_objective("at+vat", eps=2.0, xi=0.2, adv_weight=0.5),
        build_objective("at+vat", eps=2.0, xi=0.1, adv_weight=1.0),
        build_objective("at+vat", eps=2.0, xi=0.1, adv_weight=0.5).scaled(0.5),
    ):
        assert other.describe() != by_name.describe()

    class Smoothness(Term):  # a user's term that is not a dataclass
        def __init__(self, scale):
            self.scale, self._cache = scale, object()

    assert Objective(1.0, (Smoothness(0.3),)).describe()["terms"] == [
        {"term": "Smoothness", "settings": {"scale": 0.3}}
    ]
    source = VectorSurface(LogisticRegression(torch.ones(2), 0.0))
    ensemble = build_objective("ensemble", eps=0.1, sources=[source], alpha=0.5)
    assert ensemble.describe()["terms"][0]["settings"]["sources"] == ["VectorSurface"]
