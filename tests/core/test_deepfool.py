"""DeepFool (Moosavi-Dezfooli et al. 2016): the closed-form affine step, the multi-class iteration, ρ."""

import math

import pytest
import torch
from hypothesis import given, settings

from textadv.core import deepfool, robustness_rho
from threat_cases import SETTINGS, cases


def affine_binary(w, b):
    """Logits [0, wᵀx + b]: the classifier f(x) = wᵀx + b as a 2-class model."""
    return lambda z: torch.stack([torch.zeros(z.shape[0], dtype=z.dtype), z @ w + b], dim=1)


@pytest.mark.parametrize("overshoot", [0.02, 0.3])
def test_affine_binary_is_one_closed_form_step(overshoot):
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(7, generator=gen, dtype=torch.float64)
    x = torch.randn(6, 7, generator=gen, dtype=torch.float64)
    b = 0.3
    f = x @ w + b  # both signs occur
    assert (f > 0).any() and (f < 0).any()
    calls = []
    model = affine_binary(w, b)
    x_adv = deepfool(lambda z: calls.append(1) or model(z), x, overshoot=overshoot, max_iter=50)
    expected = x + (1 + overshoot) * (-f / w.dot(w)).unsqueeze(1) * w  # r* = −f(x)/‖w‖²·w, Eq. 3
    torch.testing.assert_close(x_adv, expected)
    assert len(calls) == 3  # clean logits, one step, then the check that every label flipped


def test_masked_affine_step_is_the_closest_point_within_the_mask():
    # Restricted to the entries P may change, the nearest point of the hyperplane wᵀx + b = 0 is
    # x − f(x)/‖Pw‖²·Pw; masked entries (padding) never move.
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(4, 3, 5, generator=gen, dtype=torch.float64)  # [B, T, D]
    w = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 1]], dtype=torch.float64)  # [B, T]
    b = 0.2
    model = lambda z: torch.stack([torch.zeros(z.shape[0], dtype=z.dtype), (z * w).sum((1, 2)) + b], dim=1)  # noqa: E731
    x_adv = deepfool(model, x, overshoot=0.0, max_iter=1, mask=mask)
    pw = w * mask[:, :, None]  # [B, T, D]
    f = (x * w).sum((1, 2)) + b
    expected = x - (f / pw.pow(2).sum((1, 2)))[:, None, None] * pw
    torch.testing.assert_close(x_adv, expected)
    assert torch.equal((x_adv - x)[mask == 0], torch.zeros_like((x_adv - x)[mask == 0]))


def linear_model(seed, classes=5, dim=12):
    gen = torch.Generator().manual_seed(seed)
    W = torch.randn(classes, dim, generator=gen, dtype=torch.float64)
    b = torch.randn(classes, generator=gen, dtype=torch.float64)
    return W, b, torch.randn(16, dim, generator=gen, dtype=torch.float64)


def test_multiclass_flips_every_label_and_respects_the_hyperplane_bound():
    W, b, x = linear_model(1)
    logits = lambda z: z @ W.T + b
    x_adv = deepfool(logits, x, overshoot=0.02)
    clean = logits(x).argmax(1)
    assert (logits(x_adv).argmax(1) != clean).all()
    # to change the label, x must cross at least one hyperplane f_k = f_k̂: ‖r‖ ≥ minₖ |f'ₖ|/‖w'ₖ‖
    f = logits(x) - logits(x).gather(1, clean[:, None])
    w_diff = W.unsqueeze(0) - W[clean].unsqueeze(1)  # [B, C, D]
    dist = (f.abs() / w_diff.norm(dim=2)).masked_fill(f == 0, math.inf).amin(dim=1)
    assert ((x_adv - x).norm(dim=1) >= dist - 1e-9).all()


def test_first_step_projects_onto_the_closest_of_the_top_classes():
    W, b, x = linear_model(2)
    logits = lambda z: z @ W.T + b
    top2 = logits(x).topk(2, dim=1).indices
    x_adv = deepfool(logits, x, num_classes=2, overshoot=0.1, max_iter=1)
    w_diff = W[top2[:, 1]] - W[top2[:, 0]]  # only the runner-up is a candidate
    f_diff = logits(x).gather(1, top2[:, 1:]).squeeze(1) - logits(x).gather(1, top2[:, :1]).squeeze(1)
    expected = x + 1.1 * (f_diff.abs() / (w_diff * w_diff).sum(1)).unsqueeze(1) * w_diff
    torch.testing.assert_close(x_adv, expected)


def test_batched_equals_one_example_at_a_time():
    # flipped examples stop changing, so a batch gives what each example gives alone
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Tanh(), torch.nn.Linear(32, 6)).double()
    x = torch.randn(10, 8, dtype=torch.float64)
    batched = deepfool(net, x, num_classes=4)
    single = torch.cat([deepfool(net, x[i : i + 1], num_classes=4) for i in range(10)])
    torch.testing.assert_close(batched, single)
    with torch.no_grad():
        assert (net(batched).argmax(1) != net(x).argmax(1)).all()


@settings(**SETTINGS)
@given(cases())
def test_deepfool_stays_in_bounds_and_is_finite(case):
    bounds = case.threat.bounds
    x_adv = deepfool(case.logits_fn(), case.x, num_classes=3, max_iter=5, bounds=bounds)
    assert torch.isfinite(x_adv).all()
    if bounds is not None:
        assert (x_adv >= bounds[0]).all() and (x_adv <= bounds[1]).all()
    if case.constant:
        assert torch.equal(x_adv, case.x)  # zero gradients: zero steps, no NaN


def test_robustness_rho_is_the_relative_l2_norm():
    x = torch.tensor([[3.0, 4.0], [1.0, 0.0]])
    x_adv = torch.tensor([[3.0, 5.0], [1.0, 0.5]])
    torch.testing.assert_close(robustness_rho(x, x_adv), torch.tensor([0.2, 0.5]))
    with pytest.raises(ValueError, match="shape"):
        robustness_rho(x, x_adv[:1])
    with pytest.raises(ValueError, match="zero"):
        robustness_rho(torch.zeros(1, 2), torch.ones(1, 2))


@pytest.mark.parametrize(
    "x, kwargs, word",
    [
        (torch.tensor([[0.1, math.nan]]), {}, "x"),
        (torch.zeros(1, 2), dict(bounds=(1.0, 0.0)), "bounds"),
        (torch.full((1, 2), 2.0), dict(bounds=(0.0, 1.0)), "bounds"),
        (torch.zeros(1, 2), dict(num_classes=1), "num_classes"),
        (torch.zeros(1, 2), dict(overshoot=-0.1), "overshoot"),
        (torch.zeros(1, 2), dict(max_iter=0), "max_iter"),
    ],
)
def test_bad_input_raises_before_any_work(x, kwargs, word):
    calls = []
    with pytest.raises(ValueError, match=word):
        deepfool(lambda z: calls.append(1) or z, x, **kwargs)
    assert calls == []


def test_deepfool_perturbations_are_smaller_than_the_smallest_fgsm_that_fools():
    # PAPERS.md §3: DeepFool's ρ̂_adv is several times smaller than FGSM's (0.20 vs 1.0 on LeNet-MNIST)
    sklearn = pytest.importorskip("sklearn.datasets")
    digits = sklearn.load_digits()
    x = torch.tensor(digits.data[:600] / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target[:600])
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    x_test = torch.tensor(digits.data[600:700] / 16.0, dtype=torch.float32)
    with torch.no_grad():
        label = net(x_test).argmax(1)
    x_deepfool = deepfool(net, x_test, bounds=(0.0, 1.0))
    rho_deepfool = robustness_rho(x_test, x_deepfool)
    # the smallest ε on a grid for which FGSM (against the predicted label) changes the label
    z = x_test.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(torch.nn.functional.cross_entropy(net(z), label, reduction="sum"), z)
    rho_fgsm = torch.full((100,), math.inf)
    for eps in torch.linspace(0.01, 1.0, 100).tolist():
        x_adv = (x_test + eps * g.sign()).clamp(0, 1)
        with torch.no_grad():
            fooled = (net(x_adv).argmax(1) != label) & torch.isinf(rho_fgsm)
        rho_fgsm[fooled] = robustness_rho(x_test, x_adv)[fooled]
    with torch.no_grad():
        both = torch.isfinite(rho_fgsm) & (net(x_deepfool).argmax(1) != label)
    assert both.sum() > 40
    # on 8×8 digits (64 pixels, FGSM clipped at the box) the gap is smaller than on MNIST, but it is there
    assert rho_deepfool[both].mean() * 1.2 < rho_fgsm[both].mean(), (rho_deepfool[both].mean(), rho_fgsm[both].mean())
    assert (rho_deepfool[both] <= rho_fgsm[both]).float().mean() > 0.8
