"""FGSM / FGM (Goodfellow et al. 2015; Miyato et al. 2017): closed-form values and the threat bound."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings

from textadv.core import Threat, fgsm
from threat_cases import SETTINGS, assert_admissible, cases

# PAPERS.md §1: logistic regression with zero bias
W = torch.tensor([-1.0, -1, 1, -1, 1, -1, 1, 1, -1, 1])
X = torch.tensor([[2.0, -1, 3, -2, 2, 2, 1, -4, 5, 1]])


def two_logit(z):
    """Logistic regression as a 2-class model: logits [0, wᵀx], so P(y=1|x) = σ(wᵀx)."""
    return torch.stack([torch.zeros(z.shape[0], dtype=z.dtype), z @ W], dim=1)


def test_goodfellow_logistic_regression_example():
    p_clean = torch.softmax(two_logit(X), dim=1)[0, 1].item()
    assert p_clean == pytest.approx(0.047, abs=5e-4)  # σ(−3)
    threat = Threat("inf", 0.5)
    # untargeted against the loss of label 0: its gradient σ(wᵀx)·w has the sign of w, so P(y=1) rises
    loss_label0 = lambda z: F.cross_entropy(two_logit(z), torch.zeros(1, dtype=torch.long), reduction="none")
    x_adv = fgsm(loss_label0, X, threat)
    torch.testing.assert_close(x_adv - X, 0.5 * torch.sign(W).unsqueeze(0))
    assert torch.softmax(two_logit(x_adv), dim=1)[0, 1].item() == pytest.approx(0.881, abs=5e-4)  # σ(2)
    # equivalently, targeted towards label 1 (descend its loss)
    loss_label1 = lambda z: F.cross_entropy(two_logit(z), torch.ones(1, dtype=torch.long), reduction="none")
    torch.testing.assert_close(fgsm(loss_label1, X, threat, targeted=True), x_adv)


def test_fgm_l2_step_is_eps_along_the_gradient():
    # loss = wᵀx has gradient w: FGM moves by ε·w/‖w‖₂
    x_adv = fgsm(lambda z: z @ W, X, Threat(2, 0.7))
    torch.testing.assert_close(x_adv - X, 0.7 * (W / W.norm()).unsqueeze(0))


def test_given_gradient_is_reused_without_calling_the_loss():
    calls = []
    grad = torch.randn(X.shape)
    x_adv = fgsm(lambda z: calls.append(1) or z.sum(1), X, Threat("inf", 0.1), grad=grad)
    assert calls == []
    torch.testing.assert_close(x_adv, X + 0.1 * grad.sign())


@settings(**SETTINGS)
@given(cases())
def test_fgsm_stays_in_the_threat_model(case):
    for targeted in (False, True):
        x_adv = fgsm(case.loss_fn(), case.x, case.threat, targeted=targeted)
        assert_admissible(case, x_adv)
        if case.constant:
            assert torch.equal(x_adv, case.x)  # zero gradient: no step, no NaN


@pytest.mark.parametrize(
    "make, word",
    [
        (lambda: (X, Threat("inf", 0.1, bounds=(0.0, 1.0))), "bounds"),  # X lies outside [0, 1]
        (lambda: (X.clone().index_fill_(1, torch.tensor([3]), math.nan), Threat("inf", 0.1)), "x"),
        (lambda: (X, Threat("inf", 0.1, mask=torch.ones(2))), "mask"),
    ],
)
def test_bad_input_raises_before_any_work(make, word):
    x, threat = make()
    calls = []
    with pytest.raises(ValueError, match=word):
        fgsm(lambda z: calls.append(1) or z.sum(1), x, threat)
    assert calls == []
