"""VAT (Miyato et al. 2018): KL, the power iteration's fixed point, the threat bound, no side effects."""

import pytest
import torch
from hypothesis import given, settings

from textadv.core import Threat, kl_from_logits, vat_perturbation
from threat_cases import SETTINGS, assert_admissible, cases


def test_kl_from_logits_matches_the_definition():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 4, generator=gen, dtype=torch.float64), torch.randn(5, 4, generator=gen, dtype=torch.float64)
    p, q = torch.softmax(a, 1), torch.softmax(b, 1)
    direct = (p * torch.log(p / q)).sum(1)
    torch.testing.assert_close(kl_from_logits(a, b), direct)
    torch.testing.assert_close(kl_from_logits(a, a + 7.0), torch.zeros(5, dtype=torch.float64))  # shift-invariant
    assert (kl_from_logits(a, b) > 0).all()


def test_power_iteration_finds_the_dominant_eigenvector_of_the_kl_hessian():
    # logits = W x: the Hessian of d ↦ KL(p(·|x) ‖ p(·|x+d)) at d = 0 is Wᵀ(diag(p) − ppᵀ)W
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(4, 6, generator=gen, dtype=torch.float64)
    x = torch.randn(3, 6, generator=gen, dtype=torch.float64)
    logits_fn = lambda z: z @ W.T
    r = vat_perturbation(
        logits_fn, x, Threat(2, 2.0), xi=1e-5, iterations=60, generator=torch.Generator().manual_seed(1)
    )
    torch.testing.assert_close(r.norm(dim=1), torch.full((3,), 2.0, dtype=torch.float64))
    for i in range(3):
        p = torch.softmax(logits_fn(x[i : i + 1]), 1)[0]
        hessian = W.T @ (torch.diag(p) - torch.outer(p, p)) @ W
        eigvals, eigvecs = torch.linalg.eigh(hessian)
        assert eigvals[-1] > 1.1 * eigvals[-2]  # a gap, so the iteration has a unique limit
        cos = (r[i] @ eigvecs[:, -1]).abs() / r[i].norm()
        assert cos > 0.99, cos


@settings(**SETTINGS)
@given(cases())
def test_vat_stays_in_the_threat_model(case):
    r = vat_perturbation(case.logits_fn(), case.x, case.threat, xi=1e-3, generator=torch.Generator().manual_seed(0))
    assert_admissible(case, case.x + r)


def test_shared_clean_logits_save_a_forward():
    x = torch.randn(2, 3)
    calls = []
    fn = lambda z: calls.append(1) or z * 2
    vat_perturbation(fn, x, Threat(2, 1.0), xi=0.1, clean_logits=fn(x))
    assert len(calls) == 2  # the caller's clean pass and one power iteration


def test_vat_leaves_parameter_gradients_and_mode_alone():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.0), torch.nn.Linear(8, 3))
    net.train()
    net[2].eval()  # a mixed state must come back exactly
    x = torch.randn(5, 4)
    vat_perturbation(net, x, Threat(2, 1.0), xi=0.1)
    assert all(p.grad is None for p in net.parameters())
    grads = [torch.randn_like(p) for p in net.parameters()]
    for p, g in zip(net.parameters(), grads):
        p.grad = g.clone()
    vat_perturbation(net, x, Threat(2, 1.0), xi=0.1, iterations=2)
    assert all(torch.equal(p.grad, g) for p, g in zip(net.parameters(), grads))
    assert [m.training for m in net.modules()] == [True, True, True, False]


@pytest.mark.parametrize("kwargs, word", [(dict(xi=0.0), "xi"), (dict(xi=0.1, iterations=0), "iterations")])
def test_bad_settings_raise(kwargs, word):
    with pytest.raises(ValueError, match=word):
        vat_perturbation(lambda z: z, torch.zeros(1, 2), Threat(2, 1.0), **kwargs)
