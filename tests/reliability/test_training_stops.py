"""Training stops at the first non-finite loss or gradient, and non-finite settings are refused up front.

A diverging run used to train on: every weight became NaN, the job evaluated the broken model and
wrote ``metrics.json`` as if the run were complete (``image-train --adv vat --vat-xi inf`` exited 0).
Now every training loop (the accelerate loop both jobs run, and the ``transformers.Trainer``
adapter) stops before the optimiser step of the first step whose loss or gradient norm is not
finite, naming the step; the checkpoint written last stays as it was and no ``metrics.json`` marks
the run complete. Infinite settings are refused by the settings checks, before the run directory is
touched.
"""

import json
import math

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from textadv.objectives import build_objective
from textadv.report import is_complete
from textadv.surfaces import ImageSurface
from textadv.train import TrainConfig, train
from textadv.train.guard import NonFiniteTrainingError
from textadv.vision import load_images
from _cli import refused
from test_run_dirs import IMAGE, TEXT, corpus, tree  # noqa: F401  (corpus is a fixture)


@pytest.fixture(autouse=True)
def _one_thread(single_thread):
    """Small runs throughout: see ``single_thread`` in tests/conftest.py."""


def finite_weights(path) -> bool:
    return all(torch.isfinite(t).all() for t in load_file(str(path)).values())


# ---------------------------------------------------------------------------------- the jobs


def test_a_diverging_image_run_stops_at_its_step_and_keeps_the_last_checkpoint(tmp_path, capsys):
    """AdamW moves every weight by about lr: with lr 1e30 step 1 is finite, step 2 overflows to NaN."""
    run = tmp_path / "run"
    argv = ["image-train", *IMAGE, "--adv", "none", "--lr", "1e30", "--save-every", "1", "--max-steps", "5"]
    refused([*argv, "--output-dir", str(run)], capsys, "step 2", "loss is nan", "checkpoint of step 1")
    assert not (run / "metrics.json").exists() and not is_complete(run)
    checkpoint = run / "checkpoint"
    assert json.loads((checkpoint / "state.json").read_text())["global_step"] == 1
    assert finite_weights(checkpoint / "model.safetensors")
    # Resuming replays step 2 from that checkpoint, stops there again and leaves the checkpoint as it was.
    before = tree(checkpoint)
    refused([*argv, "--resume", str(run)], capsys, "step 2")
    assert tree(checkpoint) == before and not is_complete(run)


@pytest.mark.parametrize(
    "flags, name",
    [
        (["--adv", "vat", "--vat-xi", "inf"], "--vat-xi"),
        (["--adv", "pgd", "--pgd-step-size", "inf"], "--pgd-step-size"),
        (["--adv", "none", "--eval-pgd-step-size", "inf"], "--eval-pgd-step-size"),
        (["--adv", "none", "--eval-eps", "0.1", "inf"], "--eval-eps"),
    ],
)
def test_an_infinite_image_setting_is_refused_before_the_run_directory_is_touched(tmp_path, capsys, flags, name):
    run = tmp_path / "run"
    run.mkdir()
    refused(["image-train", *IMAGE, *flags, "--max-steps", "5", "--output-dir", str(run)], capsys, name, "finite")
    assert tree(run) == {}


def test_an_infinite_text_setting_is_refused_before_the_run_directory_is_touched(tmp_path, capsys, corpus):  # noqa: F811
    run = tmp_path / "run"
    run.mkdir()
    argv = ["finetune", *corpus, *TEXT, "--grad-clip", "inf", "--max-steps", "2", "--output-dir", str(run)]
    refused(argv, capsys, "--grad-clip", "finite")
    assert tree(run) == {}


# ---------------------------------------------------------------------------------- the loop


class NaNGradient(nn.Module):
    """Adds ``sqrt(0·p)`` = 0 to its input: the loss stays finite, the gradient of ``p`` is 0·∞ = NaN."""

    def __init__(self):
        super().__init__()
        self.p = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return x + torch.sqrt(self.p * 0.0)


@pytest.mark.parametrize("grad_clip", [None, 1.0])
def test_the_loop_stops_on_a_non_finite_gradient_before_updating_the_parameters(tmp_path, grad_clip):
    data = load_images("digits", seed=0, train_size=32, test_size=10).train
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10), NaNGradient())
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    config = TrainConfig(batch_size=16, max_steps=2, grad_clip=grad_clip, seed=0)
    objective = build_objective("none", eps=0.0)
    with pytest.raises(NonFiniteTrainingError, match=r"^training stopped at step 1: the gradient norm is nan"):
        train(model, ImageSurface(model), objective, data, config=config, output_dir=tmp_path, progress=False)
    assert all(torch.equal(v, initial[k]) for k, v in model.state_dict().items())  # no NaN reached the weights
    assert not (tmp_path / "checkpoint").exists()


class ScaledPixels(ImageSurface):
    """Perturbs ``pixels · model.scale``: the tensor to perturb depends on a parameter, as embeddings do."""

    def inputs(self, batch):
        return batch["pixels"] * self.model.scale


class OverflowingSGD(torch.optim.SGD):
    """SGD whose first update overflows ``scale`` to inf: a diverging update with finite loss and gradient."""

    def __init__(self, params, scale):
        super().__init__(params, lr=0.01)
        self.scale = scale

    def step(self, closure=None):
        out = super().step(closure)
        with torch.no_grad():
            self.scale.fill_(math.inf)
        return out


def test_a_non_finite_input_of_the_objective_names_the_step(tmp_path):
    """Embeddings that overflowed after an update reach AT's input check first: the stop names the step."""
    data = load_images("digits", seed=0, train_size=32, test_size=10).train
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    model.scale = nn.Parameter(torch.ones(()))
    config = TrainConfig(batch_size=16, max_steps=3, seed=0)
    with pytest.raises(NonFiniteTrainingError, match=r"^training stopped at step 2: the model's input .* not finite"):
        train(
            model,
            ScaledPixels(model),
            build_objective("at", eps=0.1, norm=2),
            data,
            config=config,
            output_dir=tmp_path,
            optimizer_factory=lambda params: OverflowingSGD(params, model.scale),
            progress=False,
        )


def test_the_loop_trains_on_when_every_step_is_finite(tmp_path):
    # the same model without the NaN gradient: the check lets finite steps through and costs no pass
    data = load_images("digits", seed=0, train_size=32, test_size=10).train
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    config = TrainConfig(batch_size=16, max_steps=2, grad_clip=None, seed=0, log_every=1)
    result = train(
        model, ImageSurface(model), build_objective("none", eps=0.0), data, config=config, output_dir=tmp_path
    )
    assert result.global_step == 2 and all(math.isfinite(h["loss"]) for h in result.history if "loss" in h)


# ---------------------------------------------------------------------------------- the Trainer adapter


def test_the_trainer_adapter_stops_at_the_diverging_step_and_keeps_its_checkpoint(tmp_path):
    transformers = pytest.importorskip("transformers")
    from textadv.text import LSTMClassifier, LSTMConfig, TextCollator, Vocabulary, encode_examples
    from textadv.train.trainer import AdversarialTrainer

    texts = ["a warm funny film", "a dull mess", "the best movie", "the worst film"] * 2
    labels = [1, 0, 1, 0] * 2
    vocab = Vocabulary.build(texts)
    torch.manual_seed(0)
    model = LSTMClassifier(
        LSTMConfig(len(vocab), 2, embedding_dim=8, hidden_size=8, dense_size=4, embedding_dropout=0.0),
        vocab.frequencies(),
    )
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        learning_rate=1e30,  # step 1 moves every weight by about 1e30; step 2 overflows
        max_steps=4,
        save_strategy="steps",
        save_steps=1,
        report_to=[],
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
        max_grad_norm=0.0,
    )
    trainer = AdversarialTrainer(
        model,
        args,
        data_collator=TextCollator(),
        train_dataset=encode_examples(vocab, texts, labels, 16),
        objective="none",  # with a perturbation, the objective's own input check sees the NaN embeddings first
    )
    with pytest.raises(NonFiniteTrainingError, match=r"^training stopped at step 2: the (loss|gradient norm) is"):
        trainer.train()
    assert all(torch.isfinite(p).all() for p in model.parameters())  # step 2 never reached the weights
    assert sorted(p.name for p in tmp_path.glob("checkpoint-*")) == ["checkpoint-1"]
    assert finite_weights(tmp_path / "checkpoint-1" / "model.safetensors")
