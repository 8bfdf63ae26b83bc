"""The attacks under inputs at the edge: non-finite settings, float16/bfloat16 tensors, empty batches.

- A non-finite scalar setting (ε, a step size, ξ, the overshoot, a count) is a ``ValueError`` naming
  the argument, raised before the model runs: an infinite PGD step or VAT ξ would otherwise turn
  every output into NaN.
- In float16 and bfloat16 a zero gradient or an all-zero (or all-masked) example gives a finite
  perturbation inside the ball, where the ℓ2 norm's floor of 1e-12 used to underflow to 0 (0/0).
  float32 runs exactly the arithmetic it always ran (compared with the formulas written out).
- An empty batch comes back empty, with the input's shape and dtype, and the model is not called.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from textadv.core import Threat, deepfool, fgsm, lbfgs, pgd, robustness_rho, vat_perturbation

LOW = (torch.float16, torch.bfloat16)
INF, NAN = math.inf, math.nan


@pytest.fixture(autouse=True)
def _one_thread(single_thread):
    """Tiny tensors throughout: see ``single_thread`` in tests/conftest.py."""


def counted(fn):
    """``fn`` with a list of its calls (to assert that an attack refused or returned before running the model)."""
    calls = []

    def wrapped(z):
        calls.append(tuple(z.shape))
        return fn(z)

    return wrapped, calls


def linear(dtype, classes=4, features=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(classes, features, generator=g).to(dtype)
    return lambda z: z.reshape(z.shape[0], -1) @ w.T


# ---------------------------------------------------------------------------------- non-finite settings

_X = torch.full((2, 3), 0.5)
_LOGITS = linear(torch.float32, 3, 3)
_LOSS = lambda z: _LOGITS(z).logsumexp(1)  # noqa: E731
_T = Threat(2, 0.1)
REFUSALS = [
    ("pgd", lambda f, a: pgd(f, _X, _T, **({"steps": 2, "step_size": 0.1} | a)), dict(step_size=INF), "step_size"),
    ("pgd", lambda f, a: pgd(f, _X, _T, **({"steps": 2, "step_size": 0.1} | a)), dict(step_size=-INF), "step_size"),
    ("pgd", lambda f, a: pgd(f, _X, _T, **({"steps": 2, "step_size": 0.1} | a)), dict(steps=INF), "steps"),
    ("pgd", lambda f, a: pgd(f, _X, _T, **({"steps": 2, "step_size": 0.1} | a)), dict(restarts=NAN), "restarts"),
    ("vat", lambda f, a: vat_perturbation(f, _X, _T, **({"xi": 0.1} | a)), dict(xi=INF), "xi"),
    ("vat", lambda f, a: vat_perturbation(f, _X, _T, **({"xi": 0.1} | a)), dict(iterations=INF), "iterations"),
    ("deepfool", lambda f, a: deepfool(f, _X, **a), dict(overshoot=INF), "overshoot"),
    ("deepfool", lambda f, a: deepfool(f, _X, **a), dict(max_iter=INF), "max_iter"),
    ("deepfool", lambda f, a: deepfool(f, _X, **a), dict(num_classes=NAN), "num_classes"),
    ("lbfgs", lambda f, a: lbfgs(f, _X, 1, **a), dict(search_steps=INF), "search_steps"),
    ("lbfgs", lambda f, a: lbfgs(f, _X, 1, **a), dict(max_iter=NAN), "max_iter"),
]


@pytest.mark.parametrize("name, attack, kwargs, word", REFUSALS, ids=[f"{r[0]}-{r[3]}={r[2][r[3]]}" for r in REFUSALS])
def test_a_non_finite_setting_is_refused_naming_it_before_the_model_runs(name, attack, kwargs, word):
    fn, calls = counted(_LOSS if name == "pgd" else _LOGITS)
    with pytest.raises(ValueError, match=rf"^{word} must be"):
        attack(fn, kwargs)
    assert calls == []


def test_finite_settings_still_run():
    # the same calls with finite values: the refusals above are about the values, not the call
    fn, calls = counted(_LOGITS)
    r = vat_perturbation(fn, _X, _T, xi=1e-3, iterations=2)
    torch.testing.assert_close(_T.norms(r), torch.full((2,), 0.1))
    assert len(calls) == 3  # one clean forward, one per power iteration


# ---------------------------------------------------------------------------------- float16 / bfloat16


def ball_bound(eps, norm, dtype, entries):
    """ε plus rounding: the unit direction rounded to ``dtype`` (relative), and x + δ − x with x in [0, 1]
    (half a unit in the last place of numbers below 2, per entry)."""
    u = torch.finfo(dtype).eps
    return eps * (1 + u) + u * (math.sqrt(entries) if norm == 2 else 1)


@pytest.mark.parametrize("dtype", LOW)
def test_the_l2_direction_of_a_zero_gradient_is_zero_in_low_precision(dtype):
    d = Threat(2, 0.5).direction(torch.zeros(2, 3, dtype=dtype))
    assert d.dtype == dtype and torch.equal(d, torch.zeros(2, 3, dtype=dtype))
    # a per-example ε of 0 and a zero δ: 0/0 in the projection's factor without the float32 floor
    p = Threat(2, torch.zeros(2, dtype=dtype)).project(torch.zeros(2, 3, dtype=dtype))
    assert torch.equal(p, torch.zeros(2, 3, dtype=dtype))


@pytest.mark.parametrize("dtype", LOW)
def test_low_precision_algebra_is_the_float32_algebra_rounded(dtype):
    g = torch.randn(4, 3, 5, generator=torch.Generator().manual_seed(0))
    g[1] = 0
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    low, outside = g.to(dtype), (3 * g).to(dtype)
    for threat in (Threat(2, 0.3, mask=mask), Threat(2, torch.tensor([0.0, 0.3, 1.0, 2.0]), mask=mask)):
        assert torch.equal(threat.direction(low), threat.direction(low.float()).to(dtype))
        assert torch.equal(threat.project(outside), threat.project(outside.float()).to(dtype))


def _zero_gradient_cases(dtype):
    """An input with an all-zero example and an all-masked example, and closures whose gradients are zero there."""
    g = torch.Generator().manual_seed(1)
    x = torch.rand(4, 3, 4, generator=g).to(dtype)
    x[1] = 0  # an all-zero example (the linear model's gradient is still non-zero there)
    mask = torch.tensor([1.0, 1.0, 0.0, 1.0])  # example 2: padding only
    logits = linear(dtype)
    flat = lambda z: logits(z) * 0  # noqa: E731  a constant model: zero gradient everywhere
    return x, mask, logits, flat


@pytest.mark.parametrize("norm", ["inf", 2])
@pytest.mark.parametrize("dtype", LOW)
def test_fgsm_pgd_and_vat_are_finite_and_in_the_ball_in_low_precision(dtype, norm):
    x, mask, logits, flat = _zero_gradient_cases(dtype)
    labels = torch.arange(4)
    eps = 0.25
    for bounds in (None, (0.0, 1.0)):
        threat = Threat(norm, eps, bounds=bounds, mask=mask)
        for model in (logits, flat):
            loss = lambda z: F.cross_entropy(model(z).float(), labels, reduction="none")  # noqa: E731
            outs = {
                "fgsm": fgsm(loss, x, threat) - x,
                "pgd": pgd(loss, x, threat, steps=3, step_size=0.1, generator=torch.Generator().manual_seed(0)) - x,
                "vat": vat_perturbation(model, x, threat, xi=0.1, generator=torch.Generator().manual_seed(0)),
                "vat ξ=1e-6": vat_perturbation(model, x, threat, xi=1e-6, generator=torch.Generator().manual_seed(0)),
            }
            for name, delta in outs.items():
                assert delta.dtype == dtype, name
                assert torch.isfinite(delta).all(), (name, bounds, model is flat)
                norms = threat.norms(delta.float())
                assert (norms <= ball_bound(eps, norm, dtype, 12)).all(), (name, norms)
                assert (delta[2] == 0).all(), name  # the padding-only example is never perturbed
                if model is flat and name != "pgd":
                    assert (delta == 0).all(), name  # no gradient: no direction, not NaN


@pytest.mark.parametrize("dtype", LOW)
def test_deepfool_and_lbfgs_are_finite_in_low_precision(dtype):
    x, mask, logits, flat = _zero_gradient_cases(dtype)
    for model in (logits, flat):
        out = deepfool(model, x, max_iter=5, mask=mask)
        assert out.dtype == dtype and torch.isfinite(out).all()
        assert torch.equal(out[2], x[2])  # nothing to perturb there
        if model is flat:
            assert torch.equal(out, x)  # a constant model: every step is zero, not NaN
    for model in (logits, flat):
        out = lbfgs(model, x, 3, search_steps=3, max_iter=10)
        assert out.dtype == dtype and torch.isfinite(out).all()
        assert ((out >= 0) & (out <= 1)).all()


def test_float32_runs_the_arithmetic_written_out():
    """float32 is untouched by the low-precision path: the results equal the formulas bit for bit."""
    g = torch.randn(4, 6, generator=torch.Generator().manual_seed(2))
    g[1] = 0
    threat = Threat(2, 0.3)
    n = g.reshape(4, -1).norm(p=2, dim=1).clamp_min(1e-12)
    unit = g / n[:, None]
    assert torch.equal(threat.direction(g), unit)
    delta = 3 * g
    factor = torch.clamp(0.3 / delta.norm(p=2, dim=1).clamp_min(1e-12), max=1.0)
    assert torch.equal(threat.project(delta), delta * factor[:, None])
    # FGM of a linear loss (gradient w per example) is x + ε w/‖w‖
    w = torch.randn(4, 6, generator=torch.Generator().manual_seed(3))
    x = torch.rand(4, 6, generator=torch.Generator().manual_seed(4))
    wn = w / w.reshape(4, -1).norm(p=2, dim=1).clamp_min(1e-12)[:, None]
    assert torch.equal(fgsm(lambda z: (z * w).sum(1), x, threat), x + wn * 0.3)


# ---------------------------------------------------------------------------------- empty batches

EMPTY = [
    ("fgsm", lambda f, x: fgsm(f, x, Threat(2, 0.5))),
    ("fgsm-grad", lambda f, x: fgsm(f, x, Threat("inf", 0.5, bounds=(0, 1)), grad=torch.zeros_like(x))),
    ("pgd", lambda f, x: pgd(f, x, Threat("inf", 0.5, bounds=(0, 1)), steps=3, step_size=0.1, restarts=2)),
    ("vat", lambda f, x: vat_perturbation(f, x, Threat(2, 0.5), xi=1e-6)),
    ("deepfool", lambda f, x: deepfool(f, x)),
    ("lbfgs", lambda f, x: lbfgs(f, x, 1)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("name, attack", EMPTY, ids=[e[0] for e in EMPTY])
def test_an_empty_batch_comes_back_empty_without_running_the_model(name, attack, dtype):
    x = torch.zeros(0, 3, 4, dtype=dtype)
    fn, calls = counted(lambda z: z.reshape(z.shape[0], 12)[:, :3])
    out = attack(fn, x)
    assert out.shape == x.shape and out.dtype == dtype
    assert calls == []


def test_rho_of_an_empty_batch_is_empty():
    x = torch.zeros(0, 5)
    assert robustness_rho(x, x).shape == (0,)


def test_an_empty_batch_is_still_checked():
    with pytest.raises(ValueError, match="mask"):
        pgd(lambda z: z.sum(1), torch.zeros(0, 3), Threat(2, 0.5, mask=torch.ones(1, 3)), steps=1, step_size=0.1)
