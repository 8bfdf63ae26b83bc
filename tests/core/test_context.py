"""Attacks and the context managers leave a model's mode, parameter gradients and statistics alone."""

import pytest
import torch
import torch.nn.functional as F

from textadv.core import (
    Threat,
    attack_mode,
    deepfool,
    eval_mode,
    fgsm,
    frozen_batchnorm_stats,
    lbfgs,
    pgd,
    vat_perturbation,
)


def make_net():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(8, 3)
    )
    net.train()
    net[3].eval()  # a mixed state, to be restored flag by flag
    return net


ATTACKS = {
    "fgsm": lambda net, x, y: fgsm(lambda z: F.cross_entropy(net(z), y, reduction="none"), x, Threat("inf", 0.1)),
    "pgd": lambda net, x, y: pgd(
        lambda z: F.cross_entropy(net(z), y, reduction="none"), x, Threat(2, 0.5), steps=3, step_size=0.2, restarts=2
    ),
    "vat": lambda net, x, y: vat_perturbation(net, x, Threat(2, 0.5), xi=0.1),
    "deepfool": lambda net, x, y: deepfool(net, x, max_iter=3),
    "lbfgs": lambda net, x, y: lbfgs(net, x, (y + 1) % 3, bounds=None, search_steps=1, max_iter=3),
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
@pytest.mark.parametrize("with_grads", [False, True])
def test_attacks_leave_mode_and_parameter_gradients_as_they_were(name, with_grads):
    net = make_net()
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    grads = [torch.randn_like(p) if with_grads else None for p in net.parameters()]
    for p, g in zip(net.parameters(), grads):
        p.grad = None if g is None else g.clone()
    modes = [m.training for m in net.modules()]
    ATTACKS[name](net, x, y)
    assert [m.training for m in net.modules()] == modes
    for p, g in zip(net.parameters(), grads):
        assert (p.grad is None) if g is None else torch.equal(p.grad, g)
    assert all(p.requires_grad for p in net.parameters())


def test_attack_mode_evaluates_freezes_and_restores():
    net = make_net()
    modes = [m.training for m in net.modules()]
    with attack_mode(net):
        assert not any(m.training for m in net.modules())
        assert not any(p.requires_grad for p in net.parameters())
    assert [m.training for m in net.modules()] == modes
    assert all(p.requires_grad for p in net.parameters())
    with pytest.raises(RuntimeError), eval_mode(net):
        raise RuntimeError("restored even on error")
    assert [m.training for m in net.modules()] == modes


def test_frozen_batchnorm_stats_keep_running_statistics():
    net = make_net()
    bn = net[1]
    before = (bn.running_mean.clone(), bn.running_var.clone())
    with frozen_batchnorm_stats(net):
        net(torch.randn(8, 6) * 5 + 3)
    assert torch.equal(bn.running_mean, before[0]) and torch.equal(bn.running_var, before[1])
    net(torch.randn(8, 6) * 5 + 3)
    assert not torch.equal(bn.running_mean, before[0])  # and they update again afterwards
