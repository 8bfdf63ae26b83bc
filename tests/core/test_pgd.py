"""PGD (Madry et al. 2018): iterates stay in the ball, the loss rises, restarts keep the worst, seeds repeat."""

import pytest
import torch
from hypothesis import given, settings

from textadv.core import Threat, fgsm, pgd
from threat_cases import SETTINGS, assert_admissible, cases


@settings(**SETTINGS)
@given(cases())
def test_pgd_stays_in_the_threat_model(case):
    gen = torch.Generator().manual_seed(0)
    x_adv = pgd(case.loss_fn(), case.x, case.threat, steps=3, step_size=0.3, restarts=2, generator=gen)
    assert_admissible(case, x_adv)


def test_pgd_on_a_linear_loss_reaches_the_corner_of_the_box():
    # loss = wᵀx: the ℓ∞ maximiser is x + ε·sign(w), which PGD reaches from any start with enough steps
    w = torch.tensor([1.0, -2.0, 0.5, -0.1])
    x = torch.zeros(3, 4)
    threat = Threat("inf", 0.3)
    x_adv = pgd(lambda z: z @ w, x, threat, steps=10, step_size=0.1, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(x_adv, x + 0.3 * w.sign())
    # ℓ2: the maximiser is ε·w/‖w‖
    x_adv = pgd(lambda z: z @ w, x, Threat(2, 0.3), steps=30, step_size=0.1, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(x_adv, x + 0.3 * w / w.norm(), atol=1e-3, rtol=0)


def test_pgd_is_at_least_as_strong_as_fgsm_and_repeatable():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
    loss_fn = lambda z: torch.nn.functional.cross_entropy(net(z), y, reduction="none")
    threat = Threat("inf", 0.3)
    run = lambda: pgd(
        loss_fn, x, threat, steps=20, step_size=0.05, restarts=2, generator=torch.Generator().manual_seed(5)
    )
    a, b = run(), run()
    assert torch.equal(a, b)
    with torch.no_grad():
        assert loss_fn(a).mean() >= loss_fn(fgsm(loss_fn, x, threat)).mean() - 1e-6
        assert loss_fn(a).mean() > loss_fn(x).mean()


def test_restarts_keep_the_worst_example_per_input():
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    loss_fn = lambda z: torch.nn.functional.cross_entropy(net(z), y, reduction="none")
    threat = Threat(2, 0.5)
    # two single runs drawing their starts from one generator in turn are the two restarts of one call
    gen = torch.Generator().manual_seed(7)
    first, second = (pgd(loss_fn, x, threat, steps=2, step_size=0.1, generator=gen) for _ in range(2))
    best = pgd(loss_fn, x, threat, steps=2, step_size=0.1, restarts=2, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        second_worse = (loss_fn(second) > loss_fn(first)).reshape(-1, 1)
    assert 0 < second_worse.sum() < 16  # both restarts win somewhere
    torch.testing.assert_close(best, torch.where(second_worse, second, first))


def test_pgd_counts_one_forward_per_step_without_restarts():
    calls = []

    def loss_fn(z):
        calls.append(1)
        return z.sum(1)

    pgd(loss_fn, torch.zeros(2, 3), Threat("inf", 0.1), steps=5, step_size=0.02)
    assert len(calls) == 5


@pytest.mark.parametrize(
    "kwargs, word", [(dict(steps=-1), "steps"), (dict(restarts=0), "restarts"), (dict(step_size=-0.1), "step_size")]
)
def test_bad_settings_raise_before_any_work(kwargs, word):
    calls = []
    args = dict(steps=2, step_size=0.1) | kwargs
    with pytest.raises(ValueError, match=word):
        pgd(lambda z: calls.append(1) or z.sum(1), torch.zeros(2, 3), Threat("inf", 0.1), **args)
    assert calls == []
