"""The ε schedule of training (textadv.train.schedule): warm-up steps are clean steps, the ramp scales every
ε-carrying term exactly as an objective built at the smaller ε, and the loop applies it by the global step."""

import json

import pytest
import torch

from textadv.core.draws import ExampleDraws
from textadv.objectives import build_objective
from textadv.surfaces.image import ImageSurface
from textadv.train import TrainConfig
from textadv.train.checkpoint import CHECKPOINT
from textadv.train.data import epoch_order, take
from textadv.train.schedule import EpsSchedule
from textadv.train.seed import step_generator

from _tiny import BAD_SCHEDULES, small_run, tiny_data, tiny_model


def _params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_the_factor_is_zero_in_warm_up_then_linear_from_zero_then_one():
    assert [EpsSchedule(2, 4).factor(t) for t in range(9)] == [0, 0, 0, 0.25, 0.5, 0.75, 1, 1, 1]
    assert [EpsSchedule(2, 4).clean(t) for t in range(4)] == [True, True, False, False]
    assert [EpsSchedule(0, 3).factor(t) for t in range(5)] == [0, 1 / 3, 2 / 3, 1, 1]
    assert [EpsSchedule(3, 0).factor(t) for t in range(5)] == [0, 0, 0, 1, 1]
    for warmup, ramp in [(0, 0), (0, 7), (5, 0), (4, 9), (1, 1)]:
        schedule = EpsSchedule(warmup, ramp)
        for t in range(warmup + ramp + 3):
            expected = 0.0 if t < warmup else (1.0 if t >= warmup + ramp else (t - warmup) / ramp)
            assert schedule.factor(t) == expected
            assert schedule.clean(t) == (t < warmup)


def test_off_and_after_the_ramp_the_objective_is_the_one_built():
    objective = build_objective("pgd", eps=0.3, pgd_steps=7, pgd_step_size=0.1)
    assert not EpsSchedule().active and TrainConfig().schedule == EpsSchedule(0, 0)
    assert all(EpsSchedule().objective_at(objective, t) is objective for t in range(50))
    assert all(EpsSchedule(3, 5).objective_at(objective, t) is objective for t in range(8, 50))
    clean = EpsSchedule(3, 5).objective_at(objective, 2)
    assert (clean.clean_weight, tuple(clean.terms)) == (1.0, ())  # PGD's clean weight 0 becomes 1: a clean step


def _batch(n=16):
    data, _ = tiny_data(64)
    return {k: v[:n] for k, v in data.items()}


# eps and PGD's step size chosen so that eps·factor is the same float however it is computed
SETTINGS = {
    "random": dict(norm=2),
    "at": dict(norm=2),
    "vat": dict(norm=2, xi=0.5),
    "at+vat": dict(norm=2, xi=0.5),
    "fgsm": dict(alpha=0.5),
    "pgd": dict(pgd_steps=3, pgd_step_size=0.25),
}


@pytest.mark.parametrize("name", [*SETTINGS, "ensemble"])
def test_a_ramp_step_equals_the_objective_built_at_the_scaled_eps(name):
    """Every ε-carrying term (and PGD's step size) scales; VAT's ξ does not: same loss, terms and gradients."""
    settings = dict(SETTINGS.get(name, {}))
    if name == "ensemble":
        settings["sources"] = [ImageSurface(tiny_model(5).eval())]
    model = tiny_model(0)
    surface = ImageSurface(model)
    batch = _batch()
    objective = build_objective(name, eps=0.5, **settings)
    schedule = EpsSchedule(1, 4)

    def run(obj, t):
        model.zero_grad(set_to_none=True)
        out = obj.step(
            surface, batch, step=t, generator=step_generator(0, 0, t), draws=ExampleDraws(0, t, list(range(16)))
        )
        return out, {k: p.grad.clone() for k, p in model.named_parameters()}

    for t in range(1, 7):  # factors 0, 1/4, 1/2, 3/4, then 1 twice
        factor = schedule.factor(t)
        direct = dict(settings, eps=0.5 * factor)
        if name == "pgd":
            direct["pgd_step_size"] = 0.25 * factor
        scheduled, scheduled_grads = run(schedule.objective_at(objective, t), t)
        built, built_grads = run(build_objective(name, **direct), t)
        assert torch.equal(scheduled.loss, built.loss), (t, factor)
        assert scheduled.terms.keys() == built.terms.keys()
        assert all(torch.equal(scheduled.terms[k], built.terms[k]) for k in built.terms)
        assert all(torch.equal(scheduled_grads[k], built_grads[k]) for k in built_grads)
        if factor == 0:  # ε = 0: every perturbed term is its clean value (the KL of VAT is zero)
            for key, value in scheduled.terms.items():
                weight = 0.0 if key == "VATTerm" else (0.5 if name in ("fgsm", "ensemble") else 1.0)
                torch.testing.assert_close(value, weight * scheduled.clean_loss, rtol=0, atol=1e-6)


@pytest.mark.parametrize("objective", ["at", "pgd"])
def test_warm_up_steps_are_the_steps_of_plain_training(tmp_path, objective):
    """With dropout and PGD's random starts: the first N logged losses and the parameters after N steps are those
    of --adv none with the same seed (no extra pass consumed any random number); step N+1 is adversarial."""
    _, plain = small_run(tmp_path / "none", "none", max_steps=7)
    plain_model, _ = small_run(tmp_path / "none5", "none", max_steps=5)
    warm_model, warm = small_run(tmp_path / "warm5", objective, warmup=5, max_steps=5)
    _, longer = small_run(tmp_path / "warm7", objective, warmup=5, max_steps=7)
    losses = [h["loss"] for h in longer.history]
    assert losses[:5] == [h["loss"] for h in plain.history[:5]]
    assert losses[5] != plain.history[5]["loss"]
    assert [h["eps_scale"] for h in longer.history] == [0, 0, 0, 0, 0, 1, 1]
    term = "AdversarialTerm" if objective == "at" else "PGDTerm"
    assert [h["terms"][term] for h in longer.history[:5]] == [0.0] * 5
    pa, pb = _params(plain_model), _params(warm_model)
    assert all(torch.equal(pa[k], pb[k]) for k in pa)


def test_the_loop_runs_each_ramp_step_at_its_scaled_eps(tmp_path):
    """The PGD term the loop logs at step t equals PGD built at ε·(t − W)/R called on the model of step t."""
    warmup, ramp, seed = 1, 4, 1
    _, straight = small_run(tmp_path / "straight", "pgd", warmup=warmup, ramp=ramp, max_steps=6, dropout=0.0)
    data, _ = tiny_data(64)
    for t in (1, 2, 3, 4):  # factors 0, 1/4, 1/2, 3/4; 4 batches of 16 per epoch, so step 4 opens epoch 1
        model, _ = small_run(tmp_path / f"upto{t}", "pgd", warmup=warmup, ramp=ramp, max_steps=t, dropout=0.0)
        factor = (t - warmup) / ramp
        epoch, position = divmod(t, 4)
        indices = epoch_order(64, seed, epoch)[position * 16 : (position + 1) * 16].tolist()
        direct = build_objective("pgd", eps=0.2 * factor, norm="inf", pgd_steps=2, pgd_step_size=0.1 * factor)
        out = direct.step(
            ImageSurface(model),
            take(data, indices),
            step=t,
            generator=step_generator(seed, 0, t),
            draws=ExampleDraws(seed, t, indices),
        )
        logged = straight.history[t]
        assert logged["step"] == t + 1 and logged["eps_scale"] == factor
        assert logged["terms"]["PGDTerm"] == out.terms["PGDTerm"].item()
        assert logged["loss"] == out.loss.item()


def test_resume_in_the_ramp_reaches_the_uninterrupted_run_bit_for_bit(tmp_path):
    # PGD random starts, dropout, lr decay and an epoch boundary (4 batches per epoch) cross the interruption at step 5.
    straight, straight_result = small_run(tmp_path / "straight", "pgd", warmup=2, ramp=6, max_steps=11)
    small_run(tmp_path / "cut", "pgd", warmup=2, ramp=6, max_steps=5)
    resumed, resumed_result = small_run(tmp_path / "cut", "pgd", warmup=2, ramp=6, max_steps=11, resume=True)
    ps, pr = _params(straight), _params(resumed)
    assert all(torch.equal(ps[k], pr[k]) for k in ps)
    assert resumed_result.history == straight_result.history
    assert [h["eps_scale"] for h in straight_result.history] == [0, 0, 0, 1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1, 1, 1]
    with pytest.raises(ValueError, match="eps_ramp_steps: 6 -> 3"):
        small_run(tmp_path / "cut", "pgd", warmup=2, ramp=3, max_steps=12, resume=True)


def test_a_checkpoint_written_before_the_schedule_existed_resumes_with_it_off(tmp_path):
    small_run(tmp_path / "straight", "pgd", max_steps=6)
    small_run(tmp_path / "old", "pgd", max_steps=3)
    state_file = tmp_path / "old" / CHECKPOINT / "state.json"
    state = json.loads(state_file.read_text())
    for key in ("adv_warmup_steps", "eps_ramp_steps"):
        del state["config"][key]
    state_file.write_text(json.dumps(state))
    resumed, result = small_run(tmp_path / "old", "pgd", max_steps=6, resume=True)
    assert result.global_step == 6 and all("eps_scale" not in h for h in result.history)
    with pytest.raises(ValueError, match="adv_warmup_steps: 0 -> 2"):
        small_run(tmp_path / "old", "pgd", max_steps=7, resume=True, warmup=2)


@pytest.mark.parametrize("kwargs, name", BAD_SCHEDULES)
def test_config_refuses_bad_schedules_naming_the_setting(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must be an integer >= 0"):
        TrainConfig(**kwargs)
