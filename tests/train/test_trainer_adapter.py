"""The transformers.Trainer adapter runs the same objective step as the library, and trains."""

import copy
import json
import re
import shutil

import pytest
import torch

transformers = pytest.importorskip("transformers")

from textadv.objectives import build_objective  # noqa: E402
from textadv.surfaces import TextSurface  # noqa: E402
from textadv.text import (  # noqa: E402
    HFTextClassifier,
    LSTMClassifier,
    LSTMConfig,
    TextCollator,
    Vocabulary,
    encode_examples,
    load_hf_classifier,
    load_text_classification,
    pad_id_of,
    word_frequencies,
)
from textadv.train.seed import step_generator  # noqa: E402
from textadv.train.trainer import AdversarialTrainer  # noqa: E402

from _tiny import BAD_SCHEDULES  # noqa: E402

TEXTS = [
    "a gorgeous, witty, seductive movie.",
    "the plot is nothing but boilerplate clichés",
    "a masterpiece four years in the making",
    "unfunny and lame",
    "an utterly charming film",
    "boring, pointless and far too long",
    "wonderful acting from the whole cast",
    "a dreary mess",
]
LABELS = [1, 0, 1, 0, 1, 0, 1, 0]
SETTINGS = {"at": {"eps": 1.0}, "vat": {"eps": 1.0, "xi": 0.1}}


@pytest.fixture(scope="module")
def tokenizer():
    return load_hf_classifier(None, num_labels=2)[1]


def tiny_model(tokenizer, seed=0, dropout=0.0):
    """A 2-layer BERT, dropout off unless asked (same vocabulary as the packaged MiniLM), fast on CPU."""
    torch.manual_seed(seed)
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
        num_labels=2,
    )
    hf = transformers.BertForSequenceClassification(config)
    return HFTextClassifier(hf, word_frequencies(tokenizer, TEXTS))


def trainer_for(
    model,
    tokenizer,
    tmp_path,
    objective,
    schedule=(0, 0),
    unlabeled=None,
    objective_settings=None,
    unlabeled_batch_size=None,
    **args,
):
    """A Trainer on the 8 TEXTS, one process on CPU, no clipping, no checkpoints; ``schedule``: (W, R);
    ``objective_settings``: SETTINGS[objective] unless given."""
    defaults = dict(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        report_to=[],
        use_cpu=True,
        seed=0,
        save_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
        max_grad_norm=0.0,
    )
    defaults.update(args)
    return AdversarialTrainer(
        model,
        transformers.TrainingArguments(**defaults),
        data_collator=TextCollator(pad_id_of(tokenizer)),
        train_dataset=encode_examples(tokenizer, TEXTS, LABELS, 32),
        objective=objective,
        objective_settings=objective_settings or (SETTINGS.get(objective) if isinstance(objective, str) else None),
        unlabeled_dataset=unlabeled,
        unlabeled_batch_size=unlabeled_batch_size,
        **dict(zip(("adv_warmup_steps", "eps_ramp_steps"), schedule)),
    )


def tiny_lstm():
    """Miyato's LSTM at toy size, embedding dropout off (its mask would come from the global RNG)."""
    vocab = Vocabulary.build(TEXTS)
    torch.manual_seed(0)
    return LSTMClassifier(
        LSTMConfig(len(vocab), 2, embedding_dim=16, hidden_size=16, dense_size=8, embedding_dropout=0.0),
        vocab.frequencies(),
    ), vocab


@pytest.mark.parametrize("name,kind", [("at", "bert"), ("vat", "bert"), ("at", "lstm"), ("vat", "lstm")])
def test_training_step_gives_the_gradients_of_objective_step(tokenizer, tmp_path, name, kind):
    model, encoder = (tiny_model(tokenizer), tokenizer) if kind == "bert" else tiny_lstm()
    reference = copy.deepcopy(model)
    batch = TextCollator(pad_id_of(encoder))(encode_examples(encoder, TEXTS, LABELS, 32))
    trainer = trainer_for(model, encoder, tmp_path, name)
    loss = trainer.training_step(trainer.model, dict(batch))

    objective = build_objective(name, **SETTINGS[name])
    out = objective.step(TextSurface(reference), batch, generator=step_generator(0, 0, 0))
    torch.testing.assert_close(loss, out.loss)
    checked = 0
    for (key, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        assert (p.grad is None) == (q.grad is None), key
        if q.grad is not None:
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-7, msg=key)
            checked += 1
    assert checked >= 6
    # The term really contributes: without it the gradients differ.
    plain = copy.deepcopy(reference)
    plain.zero_grad(set_to_none=True)
    build_objective("none", eps=0.0).step(TextSurface(plain), batch)
    weight = "model.classifier.weight" if kind == "bert" else "output.weight"
    assert not torch.allclose(dict(plain.named_parameters())[weight].grad, dict(model.named_parameters())[weight].grad)


def test_gradient_accumulation_matches_one_large_batch(tokenizer, tmp_path):
    """2 micro-batches of 4 accumulate the same update as 1 batch of 8 (plain SGD, one step, no clipping)."""
    params = []
    for batch_size, accumulation in ((4, 2), (8, 1)):
        model = tiny_model(tokenizer)
        trainer = trainer_for(
            model,
            tokenizer,
            tmp_path / str(batch_size),
            "at",
            per_device_train_batch_size=batch_size,
            gradient_accumulation_steps=accumulation,
            max_steps=1,
            optim="sgd",
            learning_rate=1.0,
            lr_scheduler_type="constant",
        )
        trainer.train()
        params.append({k: v.detach().clone() for k, v in model.named_parameters()})
    start = dict(tiny_model(tokenizer).named_parameters())
    moved = 0
    for key, value in params[0].items():
        torch.testing.assert_close(value, params[1][key], rtol=1e-4, atol=1e-6, msg=key)
        moved += int(not torch.equal(value, start[key].detach()))
    assert moved > 10


def test_a_few_trainer_steps_on_rotten_tomatoes_decrease_the_loss(tokenizer, tmp_path):
    data = load_text_classification("rotten_tomatoes", seed=0, max_train_examples=64, unlabeled=None)
    model = tiny_model(tokenizer)
    train = encode_examples(tokenizer, data.train.texts, data.train.labels, 32)
    unlabeled = encode_examples(tokenizer, data.validation.texts[:32], None, 32)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=16,
        learning_rate=1e-2,
        max_steps=12,
        report_to=[],
        use_cpu=True,
        seed=0,
        save_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
    )
    trainer = AdversarialTrainer(
        model,
        args,
        data_collator=TextCollator(pad_id_of(tokenizer)),
        train_dataset=train,
        objective="vat",
        objective_settings={"eps": 1.0},
        unlabeled_dataset=unlabeled,
    )
    # The clean loss of the whole subset before and after (eval path: the same surface, no labels in forward).
    before = trainer.evaluate(eval_dataset=train)["eval_loss"]
    trainer.train()
    after = trainer.evaluate(eval_dataset=train)["eval_loss"]
    assert after < before - 0.01  # 0.694 -> 0.672 here
    logged = [h for h in trainer.state.log_history if "loss" in h]
    assert logged and all("adv/VATTerm" in h and "adv/clean_loss" in h for h in logged)


def test_objective_settings_are_validated(tokenizer, tmp_path):
    with pytest.raises(ValueError, match="eps"):
        trainer_for(tiny_model(tokenizer), tokenizer, tmp_path, "at+vat")
    with pytest.raises(ValueError, match="model"):
        AdversarialTrainer(
            torch.nn.Linear(2, 2),
            transformers.TrainingArguments(output_dir=str(tmp_path), report_to=[]),
            objective="none",
        )


def test_the_adapter_draws_the_loops_unlabeled_batches(tokenizer, tmp_path):
    from textadv.train.data import unlabeled_indices

    unlabeled = encode_examples(tokenizer, TEXTS + TEXTS[:3], None, 32)  # 11 examples, batches of 4
    trainer = AdversarialTrainer(
        tiny_model(tokenizer),
        transformers.TrainingArguments(
            output_dir=str(tmp_path), per_device_train_batch_size=4, report_to=[], use_cpu=True, seed=5
        ),
        data_collator=TextCollator(pad_id_of(tokenizer)),
        train_dataset=encode_examples(tokenizer, TEXTS, LABELS, 32),
        objective="vat",
        objective_settings=SETTINGS["vat"],
        unlabeled_dataset=unlabeled,
        unlabeled_batch_size=4,
    )
    collate = TextCollator(pad_id_of(tokenizer))
    for k in range(5):  # two unlabeled epochs of 2 full batches, and the start of a third
        expected = collate([unlabeled[i] for i in unlabeled_indices(11, 4, k, seed=5).tolist()])
        got = trainer._unlabeled_batch(k)
        assert torch.equal(got["input_ids"], expected["input_ids"])


# -- the ε schedule (textadv.train.schedule) on Trainer's optimiser step ----------------------------------------


def _weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def _logs(trainer):
    return [h for h in trainer.state.log_history if "loss" in h]


@pytest.mark.parametrize("name", ["at", "vat"])
def test_warm_up_steps_are_the_trainer_steps_of_none(tokenizer, tmp_path, name):
    """With dropout on: after W warm-up steps the weights are those of objective "none" with the same seed, bit
    for bit (no term, no extra pass, no random number drawn, VAT's unlabeled set unread); step W+1 is not."""
    unlabeled = encode_examples(tokenizer, TEXTS[::-1], None, 32) if name == "vat" else None

    def run(objective, steps, schedule=(0, 0)):
        model = tiny_model(tokenizer, dropout=0.1)
        args = dict(max_steps=steps, unlabeled=unlabeled if objective != "none" else None, schedule=schedule)
        trainer = trainer_for(model, tokenizer, tmp_path / f"{objective}{steps}{schedule}", objective, **args)
        trainer.train()
        return _weights(model), _logs(trainer)

    plain3, plain_logs = run("none", 3)
    plain4, _ = run("none", 4)
    warm3, warm_logs = run(name, 3, schedule=(3, 2))
    warm4, longer_logs = run(name, 4, schedule=(3, 2))
    assert _same(plain3, warm3)
    assert [h["loss"] for h in warm_logs] == [h["loss"] for h in plain_logs]
    assert not _same(plain4, warm4)  # step 4 opens the ramp: ε·0, but the term's pass ran (dropout, VAT's KL)
    assert [h["adv/eps_scale"] for h in longer_logs] == [0, 0, 0, 0]
    term = "adv/AdversarialTerm" if name == "at" else "adv/VATTerm"
    assert [term in h for h in longer_logs] == [False, False, False, True]


@pytest.mark.parametrize("name,kind", [("at", "bert"), ("vat", "bert"), ("at", "lstm")])
def test_a_ramp_step_is_the_objective_step_at_the_scaled_eps(tokenizer, tmp_path, name, kind):
    """At optimiser step t the Trainer's loss and gradients are those of the objective built at ε·f(t), with
    f(t) = 0 (and no term) for t < W, (t − W)/R for W ≤ t < W + R, 1 after: W = 2, R = 4, ε = 1."""
    warmup, ramp = 2, 4
    model, encoder = (tiny_model(tokenizer), tokenizer) if kind == "bert" else tiny_lstm()
    batch = TextCollator(pad_id_of(encoder))(encode_examples(encoder, TEXTS, LABELS, 32))
    trainer = trainer_for(model, encoder, tmp_path, name, schedule=(warmup, ramp))

    def gradients():
        grads = {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}
        model.zero_grad(set_to_none=True)
        return grads

    full = None
    for t in range(8):
        factor = 0.0 if t < warmup else min((t - warmup) / ramp, 1.0)
        trainer.state.global_step = t
        loss = trainer.training_step(trainer.model, dict(batch))
        got = gradients()
        if t < warmup:
            direct = build_objective("none", eps=0.0)
        else:
            direct = build_objective(name, **dict(SETTINGS[name], eps=SETTINGS[name]["eps"] * factor))
        out = direct.step(TextSurface(model), batch, generator=step_generator(0, 0, t))
        expected = gradients()
        assert torch.equal(loss, out.loss), t
        assert got.keys() == expected.keys() and all(torch.equal(got[k], expected[k]) for k in got), t
        if t == warmup + ramp:
            full = got
    # The factor matters: step 3 (ε/4) and step 6 (ε) give different gradients at the same weights.
    trainer.state.global_step = 3
    trainer.training_step(trainer.model, dict(batch))
    quarter = gradients()
    assert any(not torch.allclose(quarter[k], full[k]) for k in full)


def test_the_micro_batches_of_an_optimiser_step_share_its_factor(tokenizer, tmp_path):
    """2 micro-batches of 4 reach the weights of 1 batch of 8 under the schedule (factors 0, 0, 1/2, 1 by
    optimiser step), and neither reaches those of the run without it."""
    params = []
    for batch_size, accumulation, schedule in ((4, 2, (1, 2)), (8, 1, (1, 2)), (8, 1, (0, 0))):
        model = tiny_model(tokenizer)
        trainer = trainer_for(
            model,
            tokenizer,
            tmp_path / f"{batch_size}{schedule}",
            "at",
            schedule=schedule,
            per_device_train_batch_size=batch_size,
            gradient_accumulation_steps=accumulation,
            max_steps=4,
            optim="sgd",
            learning_rate=1.0,
            lr_scheduler_type="constant",
        )
        trainer.train()
        params.append({k: v.detach().clone() for k, v in model.named_parameters()})
        if schedule != (0, 0):
            assert [h["adv/eps_scale"] for h in _logs(trainer)] == [0, 0, 0.5, 1]
    accumulated, large, unscheduled = params
    for key, value in accumulated.items():
        torch.testing.assert_close(value, large[key], rtol=1e-4, atol=1e-6, msg=key)
    assert max(float((large[k] - unscheduled[k]).abs().max()) for k in large) > 1e-2


def test_with_the_schedule_off_or_over_the_adapter_steps_as_before(tokenizer, tmp_path):
    """Both settings at 0 give the default adapter's weights bit for bit (dropout on, 4 steps, no eps_scale
    logged); after the ramp a step's loss and gradients are those of the adapter without a schedule."""
    runs = []
    for schedule in (None, (0, 0)):
        model = tiny_model(tokenizer, dropout=0.1)
        args = dict(max_steps=4) if schedule is None else dict(max_steps=4, schedule=schedule)
        trainer = trainer_for(model, tokenizer, tmp_path / str(schedule), "vat", **args)
        trainer.train()
        runs.append((_weights(model), _logs(trainer)))
        assert not trainer.schedule.active and all("adv/eps_scale" not in h for h in _logs(trainer))
    assert _same(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]

    batch = TextCollator(pad_id_of(tokenizer))(encode_examples(tokenizer, TEXTS, LABELS, 32))
    model = tiny_model(tokenizer)
    steps = []
    for schedule in ((0, 0), (2, 3)):
        trainer = trainer_for(model, tokenizer, tmp_path / f"after{schedule}", "vat", schedule=schedule)
        trainer.state.global_step = 5
        loss = trainer.training_step(trainer.model, dict(batch))
        steps.append((loss, {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}))
        model.zero_grad(set_to_none=True)
    (loss_off, grads_off), (loss_after, grads_after) = steps
    assert torch.equal(loss_off, loss_after) and _same(grads_off, grads_after)


# -- checkpoints hold the adapter's settings; a resume with others is refused -----------------------------------

RESUMED = dict(schedule=(1, 4), lr_scheduler_type="constant", save_strategy="steps", save_steps=3)


@pytest.fixture(scope="module")
def interrupted(tokenizer, tmp_path_factory):
    """AT (ε = 1) under a ramp (W = 1, R = 4), checkpoints every 3 steps: the uninterrupted 6-step run (its
    directory, weights and logs) and a run stopped after step 3 (its directory, holding checkpoint-3)."""
    root = tmp_path_factory.mktemp("interrupted")
    straight = tiny_model(tokenizer)
    trainer = trainer_for(straight, tokenizer, root / "straight", "at", max_steps=6, **RESUMED)
    trainer.train()
    trainer_for(tiny_model(tokenizer), tokenizer, root / "cut", "at", max_steps=3, **RESUMED).train()
    return {"straight": root / "straight", "weights": _weights(straight), "logs": _logs(trainer), "cut": root / "cut"}


def _files(directory):
    """Every file under ``directory`` with its bytes, and every folder: what a refused resume must leave alone."""
    paths = sorted(directory.rglob("*"))
    return {str(p.relative_to(directory)): p.read_bytes() if p.is_file() else None for p in paths}


AT_SETTINGS = {
    "objective": {
        "name": "at",
        "clean_weight": 1.0,
        "terms": [
            {"term": "AdversarialTerm", "settings": {"eps": 1.0, "norm": 2, "weight": 1.0, "predicted_labels": False}}
        ],
    },
    "adv_warmup_steps": 1,
    "eps_ramp_steps": 4,
    "unlabeled_examples": None,
    "unlabeled_batch_size": None,
}


def test_every_checkpoint_holds_the_adapters_settings(tokenizer, tmp_path, interrupted):
    """checkpoint-3 and checkpoint-6 each hold adversarial_settings.json with the objective's terms and their
    settings, the schedule and the unlabeled set; with VAT on an unlabeled set, its size and batch size and ξ."""
    checkpoints = sorted(p.name for p in interrupted["straight"].iterdir() if p.name.startswith("checkpoint-"))
    assert checkpoints == ["checkpoint-3", "checkpoint-6"]
    for name in checkpoints:
        saved = json.loads((interrupted["straight"] / name / "adversarial_settings.json").read_text())
        assert saved == {"format_version": 1, "trainer": "AdversarialTrainer", "settings": AT_SETTINGS}

    unlabeled = encode_examples(tokenizer, TEXTS[:6], None, 32)
    trainer = trainer_for(
        tiny_model(tokenizer),
        tokenizer,
        tmp_path,
        "vat",
        unlabeled=unlabeled,
        unlabeled_batch_size=3,
        max_steps=1,
        save_strategy="steps",
    )
    trainer.train()
    saved = json.loads((tmp_path / "checkpoint-1" / "adversarial_settings.json").read_text())["settings"]
    vat = {"eps": 1.0, "xi": 0.1, "norm": 2, "iterations": 1, "weight": 1.0}
    assert saved["objective"]["terms"] == [{"term": "VATTerm", "settings": vat}]
    assert (saved["unlabeled_examples"], saved["unlabeled_batch_size"]) == (6, 3)
    assert (saved["adv_warmup_steps"], saved["eps_ramp_steps"]) == (0, 0)


def test_a_resume_with_the_same_settings_continues_the_run_bit_for_bit(tokenizer, tmp_path, interrupted):
    """Interrupted at step 3 of the ramp and resumed (``resume_from_checkpoint=True``: the last checkpoint) with
    the same settings, given as a built Objective instead of a name, the run logs the factors 1/2, 3/4, 1 of
    steps 4-6 and reaches the weights of the uninterrupted run bit for bit."""
    assert [h["adv/eps_scale"] for h in interrupted["logs"]] == [0, 0, 0.25, 0.5, 0.75, 1]
    shutil.copytree(interrupted["cut"], tmp_path / "cut")
    resumed = tiny_model(tokenizer, seed=1)  # the checkpoint's weights replace these
    same = build_objective("at", eps=1.0)
    trainer = trainer_for(resumed, tokenizer, tmp_path / "cut", same, max_steps=6, **RESUMED)
    trainer.train(resume_from_checkpoint=True)
    assert [h["adv/eps_scale"] for h in _logs(trainer) if h["step"] > 3] == [0.5, 0.75, 1]
    assert _same(interrupted["weights"], _weights(resumed))


REFUSED = {
    "eps": (
        dict(objective="at", objective_settings={"eps": 2.0}),
        "objective.AdversarialTerm.eps: 1.0 -> 2.0",
    ),
    "objective": (
        dict(objective="vat"),
        "objective: 'at' -> 'vat'; objective.terms: ['AdversarialTerm'] -> ['VATTerm']",
    ),
    "ramp": (dict(objective="at", schedule=(1, 2)), "eps_ramp_steps: 4 -> 2"),
    "warm-up and eps": (
        dict(objective="at", objective_settings={"eps": 0.5}, schedule=(0, 4)),
        "objective.AdversarialTerm.eps: 1.0 -> 0.5; adv_warmup_steps: 1 -> 0",
    ),
    "a user's objective": ("weight", "objective.AdversarialTerm.weight: 1.0 -> 0.5"),
    "an unlabeled set": ("unlabeled", "unlabeled_examples: None -> 8; unlabeled_batch_size: None -> 4"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_resume_with_other_settings_is_refused_before_anything_changes(tokenizer, interrupted, case):
    """A changed ε, objective, ramp, warm-up, term weight of a hand-built Objective or unlabeled set: resuming
    (from the path or with True) raises one ValueError naming each changed setting, old -> new, before Trainer
    loads the checkpoint (the model keeps its own weights, no step is counted) and every file of the run
    directory is byte for byte what it was."""
    from textadv.objectives import AdversarialTerm, Objective

    changed, named = REFUSED[case]
    if changed == "weight":
        changed = dict(objective=Objective(1.0, (AdversarialTerm(1.0, weight=0.5),), name="at"))
    elif changed == "unlabeled":
        changed = dict(objective="at", unlabeled=encode_examples(tokenizer, TEXTS, None, 32))
    settings = {**RESUMED, **changed}
    before = _files(interrupted["cut"])
    model = tiny_model(tokenizer, seed=1)
    start = _weights(model)
    trainer = trainer_for(model, tokenizer, interrupted["cut"], max_steps=6, **settings)
    for resume in (True, str(interrupted["cut"] / "checkpoint-3")):
        with pytest.raises(ValueError) as error:
            trainer.train(resume_from_checkpoint=resume)
        message = str(error.value)
        assert message.startswith(f"cannot resume from {interrupted['cut'] / 'checkpoint-3'}")
        assert f"({named})" in message
    assert trainer.state.global_step == 0 and _same(start, _weights(model))
    assert _files(interrupted["cut"]) == before


def test_a_checkpoint_without_the_settings_file_resumes_with_a_warning(tokenizer, tmp_path, interrupted):
    """A checkpoint as plain Trainer (or an older adapter) writes it: the resume warns that the settings could not
    be checked and continues the run to the uninterrupted weights; its new checkpoint holds the file."""
    shutil.copytree(interrupted["cut"], tmp_path / "cut")
    (tmp_path / "cut" / "checkpoint-3" / "adversarial_settings.json").unlink()
    resumed = tiny_model(tokenizer, seed=1)
    trainer = trainer_for(resumed, tokenizer, tmp_path / "cut", "at", max_steps=6, **RESUMED)
    with pytest.warns(UserWarning, match="holds no adversarial_settings.json .* could not be checked"):
        trainer.train(resume_from_checkpoint=str(tmp_path / "cut" / "checkpoint-3"))
    assert _same(interrupted["weights"], _weights(resumed))
    saved = json.loads((tmp_path / "cut" / "checkpoint-6" / "adversarial_settings.json").read_text())
    assert saved["settings"] == AT_SETTINGS


def test_a_damaged_settings_file_is_refused_naming_it(tokenizer, tmp_path, interrupted):
    shutil.copytree(interrupted["cut"], tmp_path / "cut")
    path = tmp_path / "cut" / "checkpoint-3" / "adversarial_settings.json"
    path.write_text('{"settings": {"eps": 1.0}}')
    before = _files(tmp_path / "cut")
    trainer = trainer_for(tiny_model(tokenizer), tokenizer, tmp_path / "cut", "at", max_steps=6, **RESUMED)
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))} does not hold AdversarialTrainer settings"):
        trainer.train(resume_from_checkpoint=True)
    assert _files(tmp_path / "cut") == before


@pytest.mark.parametrize("kwargs, name", [*BAD_SCHEDULES, ({"adv_warmup_steps": "3"}, "adv_warmup_steps")])
def test_bad_schedules_are_refused_naming_the_argument(tokenizer, tmp_path, kwargs, name):
    """The rule and message of TrainConfig and the jobs (textadv.train.schedule.check_steps), before Trainer starts."""
    with pytest.raises(ValueError, match=f"^{name} must be an integer >= 0"):
        AdversarialTrainer(
            tiny_model(tokenizer),
            transformers.TrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True),
            objective="at",
            objective_settings=SETTINGS["at"],
            **kwargs,
        )


def test_a_ramp_is_refused_up_front_for_a_term_without_eps(tokenizer, tmp_path):
    from textadv.objectives import Objective, Term

    class Smoothness(Term):  # a user's term with no perturbation budget to scale
        def loss(self, clean, unlabeled=None):
            return clean.logits.square().mean()

    objective = Objective(1.0, (Smoothness(),), name="smooth")
    args = transformers.TrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True)
    with pytest.raises(ValueError, match=r"^eps_ramp_steps=3 scales every term's ε, but Smoothness has no eps"):
        AdversarialTrainer(tiny_model(tokenizer), args, objective=objective, eps_ramp_steps=3)
    warm = AdversarialTrainer(tiny_model(tokenizer), args, objective=objective, adv_warmup_steps=3)
    assert warm.schedule.warmup == 3  # a warm-up alone never scales a term
