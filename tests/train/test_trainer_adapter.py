"""The transformers.Trainer adapter runs the same objective step as the library, and trains."""

import copy

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


def tiny_model(tokenizer, seed=0):
    """A 2-layer BERT with dropout off (same vocabulary as the packaged MiniLM), fast on CPU."""
    torch.manual_seed(seed)
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        num_labels=2,
    )
    hf = transformers.BertForSequenceClassification(config)
    return HFTextClassifier(hf, word_frequencies(tokenizer, TEXTS))


def trainer_for(model, tokenizer, tmp_path, objective, **args):
    """A Trainer on the 8 TEXTS, one process on CPU, no clipping, no checkpoints."""
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
        objective_settings=SETTINGS.get(objective),
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
