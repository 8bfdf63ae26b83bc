"""APGD (Croce & Hein 2020, Algorithm 1): the checkpoints, the monotone best loss, the threat set, the
step-halving rule, the first misclassifying iterate, and APGD against PGD of the same budget on a
trained CNN. (The comparison with torchattacks' APGD is in bench/apgd.py: torchattacks is not a
test dependency, and its random start cannot be seeded to ours.)"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings

from textadv.core import Threat, apgd, apgd_run, pgd
from textadv.core.apgd import checkpoints
from threat_cases import SETTINGS, assert_admissible, cases


def test_checkpoints_follow_the_paper():
    # p = 0, .22, .41, .57, .70, .80, .87, .93, .99 (increments shrink by .03, at least .06), w = ⌈p·N⌉
    assert checkpoints(100) == [22, 41, 57, 70, 80, 87, 93, 99]
    assert checkpoints(40) == [math.ceil(p * 40) for p in (0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99)]
    assert checkpoints(0) == [] and checkpoints(1) == [1]


@settings(**SETTINGS)
@given(cases())
def test_apgd_stays_in_the_threat_model(case):
    run = apgd_run(case.loss_fn(), case.x, case.threat, steps=6, generator=torch.Generator().manual_seed(0))
    assert_admissible(case, run.x)
    # the best loss never decreases, and the result is the best point found
    assert (run.best_loss.diff(dim=0) >= 0).all()
    with torch.no_grad():
        torch.testing.assert_close(case.loss_fn()(run.x), run.loss)
    torch.testing.assert_close(run.loss, run.best_loss[-1])


@pytest.fixture(scope="module")
def digits_cnn():
    """A small CNN trained on scikit-learn's 8×8 digits (a real model, trained in about a second)."""
    from textadv.vision import CNNConfig, SmallCNN, load_images

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    split = load_images("digits", seed=0)
    model = SmallCNN(CNNConfig(image_size=8, channels=(4, 8), hidden=32))
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    x, y = split.train["pixels"], split.train["labels"]
    for _ in range(15):
        for idx in torch.randperm(len(y)).split(64):
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval().requires_grad_(False)
    xt, yt = split.test["pixels"][:200], split.test["labels"][:200]
    assert (model(xt).argmax(1) == yt).float().mean() > 0.85  # trained
    yield model, xt, yt
    torch.set_num_threads(threads)


@pytest.mark.parametrize("norm, eps", [("inf", 0.1), (2, 1.0)])
def test_apgd_beats_pgd_of_the_same_budget_on_a_trained_cnn(digits_cnn, norm, eps):
    model, x, y = digits_cnn
    loss_fn = lambda z: F.cross_entropy(model(z), y, reduction="none")  # noqa: E731
    threat = Threat(norm, eps, bounds=(0.0, 1.0))
    run = apgd_run(loss_fn, x, threat, steps=40, random_start=False)
    x_pgd = pgd(loss_fn, x, threat, steps=40, step_size=2.5 * eps / 40, random_start=False)
    with torch.no_grad():
        ours, theirs = loss_fn(run.x), loss_fn(x_pgd)
    assert (ours >= theirs - 1e-6).float().mean() >= 0.75  # most examples (measured: 84% ℓ∞, 88% ℓ2)
    assert ours.mean() > theirs.mean()
    assert (threat.norms(run.x - x) <= eps + 1e-5).all() and run.x.min() >= 0 and run.x.max() <= 1
    assert (run.best_loss.diff(dim=0) >= 0).all()
    # η starts at 2ε and only ever halves, at checkpoints
    assert (run.step_size[0] == 2 * eps).all()
    ratio = run.step_size[1:] / run.step_size[:-1]
    assert ((ratio == 1) | (ratio == 0.5)).all()
    changed = (ratio != 1).any(dim=1).nonzero().flatten() + 1
    assert set(changed.tolist()) <= set(checkpoints(40)) and len(changed) > 0


def test_halving_follows_the_two_conditions():
    """Loss wᵀx on ℓ∞ without a box: the first step reaches the maximiser x + ε·sign(w); every later
    step stays there, so no step increases the loss (condition 1 at every checkpoint): η halves at
    each checkpoint and the result is the corner."""
    w = torch.tensor([1.0, -2.0, 0.5, -0.1], dtype=torch.float64)
    x = torch.zeros(3, 4, dtype=torch.float64)
    run = apgd_run(lambda z: z @ w, x, Threat("inf", 0.3), steps=20, random_start=False)
    torch.testing.assert_close(run.x, x + 0.3 * w.sign())
    expected, eta = [], 0.6
    for k in range(21):
        if k in checkpoints(20):
            eta /= 2
        expected.append(eta)
    torch.testing.assert_close(run.step_size[:, 0], torch.tensor(expected, dtype=torch.float64))


def test_done_examples_keep_their_first_finishing_point(digits_cnn):
    model, x, y = digits_cnn
    threat = Threat("inf", 0.1, bounds=(0.0, 1.0))
    loss_rows = lambda z, rows: F.cross_entropy(model(z), y[rows], reduction="none")  # noqa: E731
    wrong = lambda z, rows: model(z).argmax(1) != y[rows]  # noqa: E731
    dropped = apgd_run(loss_rows, x, threat, steps=40, random_start=False, done_fn=wrong)
    kept = apgd_run(loss_rows, x, threat, steps=40, random_start=False, done_fn=wrong, drop_done=False)
    assert torch.equal(dropped.done, kept.done) and 0.3 < dropped.done.float().mean() < 1
    torch.testing.assert_close(dropped.x, kept.x, rtol=0, atol=1e-6)
    with torch.no_grad():
        assert (model(dropped.x).argmax(1) != y)[dropped.done].all()  # finished means misclassified
        clean_wrong = model(x).argmax(1) != y
    assert torch.equal(dropped.x[clean_wrong], x[clean_wrong])  # already wrong: δ = 0
    # the finishing point is the first misclassifying iterate: the full run's trajectory is the same
    # up to it, so examples never finished agree with the run without done_fn
    plain = apgd_run(lambda z: F.cross_entropy(model(z), y, reduction="none"), x, threat, steps=40, random_start=False)
    standing = ~dropped.done
    torch.testing.assert_close(dropped.x[standing], plain.x[standing], rtol=0, atol=1e-6)


def test_seeded_random_start_repeats_and_targeted_descends():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
    loss_fn = lambda z: F.cross_entropy(net(z), y, reduction="none")  # noqa: E731
    threat = Threat(2, 0.5)
    a, b = (apgd(loss_fn, x, threat, steps=10, generator=torch.Generator().manual_seed(3)) for _ in range(2))
    assert torch.equal(a, b)
    low = apgd(loss_fn, x, threat, steps=10, random_start=False, targeted=True)
    with torch.no_grad():
        assert loss_fn(low).mean() < loss_fn(x).mean() < loss_fn(a).mean()


def test_per_example_eps_and_empty_batch():
    w = torch.tensor([1.0, -1.0])
    eps = torch.tensor([0.0, 0.2, 0.5])
    x_adv = apgd(lambda z: z @ w, torch.zeros(3, 2), Threat("inf", eps), steps=5, random_start=False)
    torch.testing.assert_close(x_adv, eps[:, None] * w.sign())
    empty = torch.zeros(0, 2)
    assert apgd(lambda z: z @ w, empty, Threat("inf", 0.1), steps=5).shape == (0, 2)


@pytest.mark.parametrize(
    "x, kwargs, word",
    [
        (torch.tensor([[float("nan"), 0.0]]), {}, "NaN"),
        (torch.tensor([[float("inf"), 0.0]]), {}, "NaN or infinite"),
        (torch.zeros(1, 2), {"steps": -1}, "steps"),
        (torch.zeros(1, 2), {"rho": 0.0}, "rho"),
        (torch.zeros(1, 2), {"momentum": 1.5}, "momentum"),
    ],
)
def test_bad_input_is_named(x, kwargs, word):
    with pytest.raises(ValueError, match=word):
        apgd(lambda z: z.sum(1), x, Threat("inf", 0.1), **kwargs)
