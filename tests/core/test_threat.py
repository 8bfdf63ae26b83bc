"""Threat: the norm algebra every attack relies on (projection, random start, unit direction, clip)."""

import math

import pytest
import torch
from hypothesis import given, settings

from textadv.core import Threat
from threat_cases import SETTINGS, assert_admissible, cases


@settings(**SETTINGS)
@given(cases())
def test_project_lands_in_the_ball_and_fixes_points_inside(case):
    gen = torch.Generator().manual_seed(0)
    delta = torch.randn(case.x.shape, generator=gen, dtype=case.x.dtype) * 3
    projected = case.threat.project(delta)
    assert_admissible(case, case.threat.perturb(case.x, delta))
    assert (case.threat.norms(projected) <= case.eps() + 1e-6).all()
    # a projection is idempotent: points already in the ball stay where they are
    torch.testing.assert_close(case.threat.project(projected), projected, rtol=1e-9, atol=1e-12)


@settings(**SETTINGS)
@given(cases())
def test_random_start_is_admissible_and_seeded(case):
    r1 = case.threat.random(case.x, torch.Generator().manual_seed(3))
    r2 = case.threat.random(case.x, torch.Generator().manual_seed(3))
    assert torch.equal(r1, r2)
    assert_admissible(case, case.threat.perturb(case.x, r1))
    assert (case.threat.norms(r1) <= case.eps() + 1e-6).all()
    assert (r1[~case.unmasked()] == 0).all()


@settings(**SETTINGS)
@given(cases())
def test_direction_has_unit_norm_or_is_zero(case):
    gen = torch.Generator().manual_seed(1)
    grad = torch.randn(case.x.shape, generator=gen, dtype=case.x.dtype)
    d = case.threat.direction(grad)
    assert (d[~case.unmasked()] == 0).all()
    norms = case.threat.norms(d)
    has_room = case.unmasked().reshape(case.x.shape[0], -1).any(dim=1)
    torch.testing.assert_close(norms[has_room], torch.ones_like(norms[has_room]))
    assert (norms[~has_room] == 0).all()
    zero = case.threat.direction(torch.zeros_like(case.x))
    assert torch.isfinite(zero).all() and (zero == 0).all()


def test_direction_is_sign_for_linf_and_normalised_gradient_for_l2():
    g = torch.tensor([[3.0, -4.0], [0.0, 2.0]])
    assert torch.equal(Threat("inf", 1.0).direction(g), torch.sign(g))
    torch.testing.assert_close(Threat(2, 1.0).direction(g), torch.tensor([[0.6, -0.8], [0.0, 1.0]]))


def test_l2_random_radius_is_uniform_in_the_ball():
    # for a uniform draw in the n-ball, (‖δ‖/ε)^n is U(0, 1): mean 1/2
    threat = Threat(2, 2.0)
    x = torch.zeros(4000, 3, dtype=torch.float64)
    r = threat.random(x, torch.Generator().manual_seed(0))
    u = (threat.norms(r) / 2.0) ** 3
    assert abs(u.mean().item() - 0.5) < 0.02
    assert u.max() <= 1.0


def test_perturb_clips_to_the_box_and_masks():
    threat = Threat("inf", 0.5, bounds=(0.0, 1.0), mask=torch.tensor([[1.0, 0.0]]))
    x = torch.tensor([[[0.9, 0.1], [0.5, 0.5]]])  # [B=1, T=2, D=2], mask over [B, T]
    out = threat.perturb(x, torch.full_like(x, 0.4))
    torch.testing.assert_close(out, torch.tensor([[[1.0, 0.5], [0.5, 0.5]]]))


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(norm="inf", eps=-0.1), "eps"),
        (dict(norm="inf", eps=math.nan), "eps"),
        (dict(norm="inf", eps=torch.tensor([0.1, -1.0])), "eps"),
        (dict(norm=1, eps=0.1), "norm"),
        (dict(norm="l7", eps=0.1), "norm"),
        (dict(norm=2, eps=0.1, bounds=(1.0, 1.0)), "bounds"),
        (dict(norm=2, eps=0.1, bounds=(1.0, 0.0)), "bounds"),
    ],
)
def test_bad_settings_raise_naming_the_argument(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Threat(**kwargs)


def test_check_names_the_bad_argument():
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="mask"):
        Threat(2, 0.1, mask=torch.ones(3, 2)).check(x)
    with pytest.raises(ValueError, match="eps"):
        Threat(2, torch.tensor([0.1, 0.2, 0.3])).check(x)
    with pytest.raises(ValueError, match="x"):
        Threat(2, 0.1).check(torch.tensor([[0.0, math.nan, 0.0]]))
    with pytest.raises(ValueError, match="bounds"):
        Threat(2, 0.1, bounds=(0.5, 1.0)).check(x)
