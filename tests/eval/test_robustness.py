"""Closed forms on a linear two-class model: f(x) = w·x + b (class 1 logit), class 0 logit 0.

Under ‖δ‖∞ ≤ ε the margin m = (2y − 1)(w·x + b) falls by exactly ε‖w‖₁ (at δ = −(2y−1)ε·sign(w)),
so an example stays correct iff m > ε‖w‖₁; FGSM finds that corner and PGD reaches it. DeepFool's
minimal ℓ2 perturbation has length |w·x + b|/‖w‖₂ (times 1 + overshoot); FGSM's flips the
prediction first at ε = |w·x + b|/‖w‖₁, with ‖r‖₂ = ε·√n.
"""

import math

import pytest
import torch
from torch import nn

from textadv.eval import AttackSpec, clean_accuracy, deepfool_rho, fgsm_rho, robust_accuracy, transfer_accuracy
from textadv.surfaces import Surface
from textadv.train import Batches


class Linear2(nn.Module):
    def __init__(self, w, b):
        super().__init__()
        self.w, self.b = nn.Parameter(w), nn.Parameter(torch.tensor(b))

    def forward(self, x):  # [B, n] -> [B, 2]
        z = x @ self.w + self.b
        return torch.stack([torch.zeros_like(z), z], dim=1)


class FreeSurface(Surface):
    """Unbounded inputs, so the closed forms hold without clipping."""

    def inputs(self, batch):
        return batch["x"]

    def logits(self, x, batch):
        return self.model(x)


@pytest.fixture
def setup():
    g = torch.Generator().manual_seed(0)
    n = 12
    model = Linear2(torch.randn(n, generator=g), 0.1)
    x = torch.randn(200, n, generator=g)
    with torch.no_grad():
        z = model(x)[:, 1]
    labels = (z > 0).long()
    labels[:30] = 1 - labels[:30]  # some misclassified examples
    return model, FreeSurface(model), Batches({"x": x, "labels": labels}, 64), x, labels, z


def test_clean_and_robust_accuracy_match_the_closed_form(setup):
    model, surface, loader, x, labels, z = setup
    margin = (2 * labels - 1) * z
    l1 = model.w.detach().abs().sum()
    expected_clean = float((margin > 0).float().mean())
    assert clean_accuracy(surface, loader, progress=False) == pytest.approx(expected_clean)
    eps_values = [0.0, 0.05, 0.1, 0.2]
    expected = {e: float((margin > e * l1).float().mean()) for e in eps_values}
    fgsm = robust_accuracy(surface, loader, AttackSpec("fgsm"), eps_values=eps_values, progress=False)
    pgd = robust_accuracy(
        surface, loader, AttackSpec("pgd", steps=10, restarts=2), eps_values=eps_values, progress=False
    )
    apgd = robust_accuracy(surface, loader, AttackSpec("apgd", steps=10), eps_values=eps_values, progress=False)
    assert fgsm == pytest.approx(expected)
    assert pgd == pytest.approx(expected)
    assert apgd == pytest.approx(expected)
    assert expected[0.2] < expected[0.05] < expected_clean  # the check is not vacuous


@pytest.mark.parametrize("norm, eps_values", [("inf", [0.05, 0.1, 0.2]), (2, [0.2, 0.5, 1.0])])
def test_early_stopped_apgd_gives_the_same_accuracy(setup, norm, eps_values):
    """Stopping at an example's first misclassifying iterate changes nothing else (random starts are
    drawn for the whole batch, examples never interact): the accuracy is identical."""
    _, surface, loader, *_ = setup
    spec = AttackSpec("apgd", norm=norm, steps=20)
    fast = robust_accuracy(surface, loader, spec, eps_values=eps_values, seed=3, progress=False)
    full = robust_accuracy(surface, loader, spec, eps_values=eps_values, seed=3, progress=False, early_stop=False)
    assert fast == full
    clean = clean_accuracy(surface, loader, progress=False)
    assert clean > fast[eps_values[0]] > fast[eps_values[-1]]  # the attack bites


def test_transfer_from_the_model_itself_is_white_box(setup):
    _, surface, loader, *_ = setup
    assert transfer_accuracy(
        surface, surface, loader, AttackSpec("fgsm"), eps_values=[0.1], progress=False
    ) == robust_accuracy(surface, loader, AttackSpec("fgsm"), eps_values=[0.1], progress=False)


def test_transfer_from_an_unrelated_model_hurts_less(setup):
    model, surface, loader, *_ = setup
    other = FreeSurface(Linear2(torch.randn(12, generator=torch.Generator().manual_seed(5)), 0.0))
    white = robust_accuracy(surface, loader, AttackSpec("fgsm"), eps_values=[0.2], progress=False)[0.2]
    black = transfer_accuracy(other, surface, loader, AttackSpec("fgsm"), eps_values=[0.2], progress=False)[0.2]
    assert black > white


def test_deepfool_rho_is_the_distance_to_the_hyperplane(setup):
    model, surface, loader, x, _, z = setup
    rho = deepfool_rho(surface, loader, num_classes=2, progress=False)
    expected = 1.02 * z.abs() / model.w.detach().norm() / x.norm(dim=1)
    assert rho.fooled == 1.0
    torch.testing.assert_close(
        torch.tensor(rho.per_example, dtype=torch.float64), expected.double(), rtol=1e-4, atol=1e-6
    )
    assert rho.mean == pytest.approx(float(expected.double().mean()), rel=1e-4)


def test_fgsm_rho_is_the_smallest_flipping_sign_step(setup):
    model, surface, loader, x, _, z = setup
    eps_max = 2.0
    rho = fgsm_rho(surface, loader, eps_max=eps_max, grid=20, bisection_steps=12, progress=False)
    eps = z.abs() / model.w.detach().abs().sum()
    reachable = eps < eps_max
    expected = eps * math.sqrt(x.shape[1]) / x.norm(dim=1)
    got = torch.tensor(rho.per_example)
    tolerance = eps_max / 20 / 2**12 * math.sqrt(x.shape[1]) / x.norm(dim=1)
    assert torch.isnan(got[~reachable]).all()
    assert ((got[reachable] - expected[reachable].double()).abs() <= tolerance[reachable] + 1e-6).all()
    # DeepFool's ℓ2 steps are shorter than FGSM's sign steps (PAPERS.md §3).
    assert deepfool_rho(surface, loader, num_classes=2, progress=False).mean < rho.mean


def test_attacks_leave_the_model_as_they_found_it(setup):
    model, surface, loader, *_ = setup
    model.train()
    robust_accuracy(surface, loader, AttackSpec("pgd", steps=3), eps_values=[0.1], progress=False)
    assert model.training and all(p.requires_grad and p.grad is None for p in model.parameters())


def test_bad_arguments_are_named(setup):
    _, surface, loader, *_ = setup
    with pytest.raises(ValueError, match="attack"):
        robust_accuracy(surface, loader, AttackSpec("cw"), progress=False)
    with pytest.raises(ValueError, match="eps_values"):
        robust_accuracy(surface, loader, eps_values=[-0.1], progress=False)
    with pytest.raises(ValueError, match="eps_max"):
        fgsm_rho(surface, loader, progress=False)


def test_an_attack_added_to_the_table_serves_both_white_box_and_transfer(setup, monkeypatch):
    from textadv.eval import robustness

    def zero_step(loss_fn, x, threat, *, spec, eps, generator=None):  # no perturbation at all
        return x.clone()

    monkeypatch.setattr(robustness, "ATTACKS", {**robustness.ATTACKS, "none": zero_step})
    _, surface, loader, *_ = setup
    clean = clean_accuracy(surface, loader, progress=False)
    spec = AttackSpec("none")
    assert robust_accuracy(surface, loader, spec, eps_values=[0.5], progress=False) == {0.5: clean}
    assert transfer_accuracy(surface, surface, loader, spec, eps_values=[0.5], progress=False) == {0.5: clean}
    assert robust_accuracy(surface, loader, AttackSpec("fgsm"), eps_values=[0.5], progress=False)[0.5] < clean


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(name="cw"), "fgsm, pgd, apgd"),
        (dict(norm=1), "norm"),
        (dict(steps=0), "steps"),
        (dict(restarts=0), "restarts"),
    ],
)
def test_attack_spec_names_the_bad_setting(kwargs, word):
    with pytest.raises(ValueError, match=word):
        AttackSpec(**kwargs)
