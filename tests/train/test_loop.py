import json
import os

import pytest
import torch

from textadv.objectives import build_objective
from textadv.surfaces.image import ImageSurface
from textadv.train import TrainConfig, find_checkpoint, train
from textadv.train.checkpoint import CHECKPOINT

from _tiny import small_run, tiny_data, tiny_model


def _params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_loss_goes_down_on_real_digits(tmp_path):
    data, _ = tiny_data(256)
    model = tiny_model(0)
    config = TrainConfig(batch_size=32, epochs=4, lr=0.02, log_every=8, seed=0)
    result = train(
        model,
        ImageSurface(model),
        build_objective("none", eps=0.0),
        data,
        config=config,
        output_dir=tmp_path,
        progress=False,
    )
    losses = [h["loss"] for h in result.history if "loss" in h]
    assert result.global_step == 32
    assert losses[-1] < 0.5 * losses[0]
    with torch.no_grad():
        accuracy = (model(data["pixels"]).argmax(1) == data["labels"]).float().mean()
    assert accuracy > 0.7  # 10 classes: chance is 0.1
    assert json.loads((tmp_path / "history.json").read_text()) == json.loads(json.dumps(result.history))


def test_same_seed_same_parameters_other_seed_differs(tmp_path):
    a, _ = small_run(tmp_path / "a", max_steps=5)
    b, _ = small_run(tmp_path / "b", max_steps=5)
    c, _ = small_run(tmp_path / "c", max_steps=5, seed=2)
    pa, pb, pc = _params(a), _params(b), _params(c)
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    assert not all(torch.equal(pa[k], pc[k]) for k in pa)


def test_resume_reaches_the_uninterrupted_result(tmp_path):
    # PGD random starts, dropout, lr decay and an epoch boundary (4 batches per epoch) all cross the interruption.
    straight, straight_result = small_run(tmp_path / "straight", max_steps=11)
    small_run(tmp_path / "resumed", max_steps=6, save_every=4)
    state = json.loads((tmp_path / "resumed" / CHECKPOINT / "state.json").read_text())
    assert (state["global_step"], state["epoch"], state["position"]) == (6, 1, 2)
    resumed, resumed_result = small_run(tmp_path / "resumed", max_steps=11, resume=True)
    assert resumed_result.global_step == 11
    ps, pr = _params(straight), _params(resumed)
    for k in ps:
        torch.testing.assert_close(pr[k], ps[k], rtol=0, atol=1e-6)
    assert [h["loss"] for h in resumed_result.history] == pytest.approx(
        [h["loss"] for h in straight_result.history], abs=1e-6
    )
    leftovers = [p for p in os.listdir(tmp_path / "resumed") if p.startswith(".")]
    assert leftovers == []
    assert sorted(os.listdir(tmp_path / "resumed" / CHECKPOINT)) == [
        "model.safetensors",
        "optimizer.pt",
        "rng-0.pt",
        "scheduler.pt",
        "state.json",
    ]


def test_resume_refuses_changed_settings(tmp_path):
    small_run(tmp_path, max_steps=2)
    with pytest.raises(ValueError, match="lr"):
        small_run(tmp_path, max_steps=4, resume=True, lr=0.02)


def test_interrupted_swap_leaves_a_usable_checkpoint(tmp_path):
    small_run(tmp_path, max_steps=2)
    # A kill between the two renames leaves only the previous checkpoint, under its old name.
    (tmp_path / CHECKPOINT).rename(tmp_path / ".checkpoint.old")
    (tmp_path / ".checkpoint.tmp").mkdir()  # a half-written new one
    assert find_checkpoint(tmp_path) == tmp_path / ".checkpoint.old"
    _, result = small_run(tmp_path, max_steps=3, resume=True)
    assert result.global_step == 3
    assert find_checkpoint(tmp_path) == tmp_path / CHECKPOINT
    assert not (tmp_path / ".checkpoint.old").exists() and not (tmp_path / ".checkpoint.tmp").exists()


def test_eval_fn_runs_periodically_and_at_the_end(tmp_path):
    data, _ = tiny_data(64)
    model = tiny_model(0)
    seen = []

    def eval_fn(m):
        seen.append(m.training)
        return {"calls": len(seen)}

    config = TrainConfig(batch_size=16, epochs=2, eval_every=3, log_every=0)
    result = train(
        model,
        ImageSurface(model),
        build_objective("none", eps=0.0),
        data,
        config=config,
        output_dir=tmp_path,
        eval_fn=eval_fn,
        progress=False,
    )
    assert [h["step"] for h in result.history] == [3, 6, 8]
    assert result.final_eval == {"calls": 3}
    assert model.training


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"lr_decay": 1.5}, "lr_decay"),
        ({"epochs": 0}, "epochs"),
        ({"max_steps": 0}, "max_steps"),
        ({"grad_clip": 0.0}, "grad_clip"),
        ({"seed": -1}, "seed"),
        ({"eval_every": -1}, "eval_every"),
    ],
)
def test_config_rejects_bad_values(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TrainConfig(**kwargs)


def test_unlabeled_schedule_is_full_seeded_batches_split_across_processes():
    from textadv.train.data import epoch_order, unlabeled_indices

    n, batch, seed = 23, 6, 4  # 3 full batches per unlabeled epoch; 5 examples wait for the next permutation
    steps = [unlabeled_indices(n, batch, k, seed=seed) for k in range(6)]
    assert all(len(s) == batch for s in steps)
    first_epoch = torch.cat(steps[:3])
    assert len(set(first_epoch.tolist())) == 18  # no example twice within an epoch
    assert not torch.equal(first_epoch, torch.cat(steps[3:]))  # a new permutation next epoch
    assert not torch.equal(first_epoch, epoch_order(n, seed, 0)[:18])  # never the labelled order
    for k in range(6):  # 2 or 3 processes together see exactly the 1-process batch
        for world in (2, 3):
            parts = [unlabeled_indices(n, batch, k, seed=seed, rank=r, world=world) for r in range(world)]
            assert torch.equal(torch.cat(parts), steps[k])
    with pytest.raises(ValueError, match="at least one batch"):
        unlabeled_indices(5, 6, 0, seed=seed)


def test_the_loop_takes_its_unlabeled_batches_from_the_schedule(tmp_path):
    from textadv.objectives import Objective
    from textadv.train.data import unlabeled_indices

    class Recording(Objective):
        def step(self, surface, batch, *, unlabeled=None, **kwargs):
            seen.append(unlabeled["pixels"].clone())
            return super().step(surface, batch, unlabeled=unlabeled, **kwargs)

    seen = []
    train_set, test_set = tiny_data(train_size=40)
    unlabeled = {"pixels": test_set["pixels"][:25]}
    model = tiny_model()
    config = TrainConfig(batch_size=8, max_steps=4, unlabeled_batch_size=10, seed=3, log_every=0)
    train(
        model,
        ImageSurface(model),
        Recording(),
        train_set,
        config=config,
        output_dir=tmp_path,
        unlabeled=unlabeled,
        progress=False,
    )
    assert len(seen) == 4
    for k, pixels in enumerate(seen):
        assert torch.equal(pixels, unlabeled["pixels"][unlabeled_indices(25, 10, k, seed=3)])
