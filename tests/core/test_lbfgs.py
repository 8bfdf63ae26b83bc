"""Box-constrained L-BFGS (Szegedy et al. 2014): reaches the target with a near-minimal perturbation."""

import math

import pytest
import torch

from textadv.core import lbfgs


def affine_binary(w, b):
    return lambda z: torch.stack([torch.zeros(z.shape[0], dtype=z.dtype), z @ w + b], dim=1)


def test_affine_binary_finds_the_shortest_way_across():
    # the smallest perturbation that reaches the other class is −f(x)/‖w‖²·w (length |f|/‖w‖); the
    # search over c should land just beyond it, along w
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(6, generator=gen)
    x = torch.randn(4, 6, generator=gen)
    model = affine_binary(w, 0.2)
    f = x @ w + 0.2
    target = (f < 0).long()  # the other class
    x_adv = lbfgs(model, x, target, bounds=None, search_steps=10)
    assert (model(x_adv).argmax(1) == target).all()
    eta = x_adv - x
    dist = f.abs() / w.norm()
    ratio = eta.norm(dim=1) / dist
    assert (ratio >= 1 - 1e-4).all() and (ratio < 1.1).all(), ratio
    cos = (eta @ w).abs() / (eta.norm(dim=1) * w.norm())
    assert (cos > 0.999).all()


def test_box_is_respected_and_targets_reached():
    gen = torch.Generator().manual_seed(1)
    W, b = torch.randn(4, 10, generator=gen), torch.randn(4, generator=gen)
    model = lambda z: z @ W.T * 3 + b
    x = torch.rand(5, 10, generator=gen)
    target = (model(x).argmax(1) + 1) % 4
    x_adv = lbfgs(model, x, target, bounds=(0.0, 1.0), search_steps=4, max_iter=50)
    assert (x_adv >= 0).all() and (x_adv <= 1).all()
    reached = model(x_adv).argmax(1) == target
    assert reached.any()
    assert torch.equal(x_adv[~reached], x[~reached])  # the others come back unchanged


def test_unreachable_or_already_reached_targets_come_back_unchanged():
    x = torch.rand(3, 4)
    constant = lambda z: z @ torch.zeros(4, 3) + torch.tensor([1.0, 0.0, 0.0])  # always class 0
    assert torch.equal(lbfgs(constant, x, 2, search_steps=2, max_iter=5), x)
    calls = []
    x_same = lbfgs(lambda z: calls.append(1) or constant(z), x, torch.zeros(3, dtype=torch.long))
    assert torch.equal(x_same, x) and len(calls) == 1  # only the clean check: nothing to do


@pytest.mark.parametrize(
    "x, kwargs, word",
    [
        (torch.tensor([[0.1, math.nan]]), {}, "x"),
        (torch.full((1, 2), 0.5), dict(bounds=(1.0, 0.0)), "bounds"),
        (torch.full((1, 2), 2.0), {}, "bounds"),
        (torch.full((1, 2), 0.5), dict(c_init=0.0), "c_init"),
        (torch.full((1, 2), 0.5), dict(search_steps=0), "search_steps"),
        (torch.full((1, 2), 0.5), dict(max_iter=0), "max_iter"),
        (torch.full((1, 2), 0.5), dict(target=torch.tensor([0, 1])), "target"),
        (torch.full((1, 2), 0.5), dict(target=5), "target"),
    ],
)
def test_bad_input_raises_before_any_optimisation(x, kwargs, word):
    kwargs = {"target": 1} | kwargs
    calls = []

    def logits(z):
        calls.append(1)
        return z

    with pytest.raises(ValueError, match=word):
        lbfgs(logits, x, **kwargs)
    assert len(calls) <= 1  # at most the clean forward that tells the number of classes
