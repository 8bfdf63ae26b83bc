"""Hugging Face classifiers through inputs_embeds: one embedding block, training, save/load."""

import json

import pytest
import torch

from textadv.objectives import build_objective
from textadv.surfaces import TextSurface
from textadv.text import (
    HFTextClassifier,
    TextCollator,
    encode_examples,
    load_hf_classifier,
    load_text_model,
    pad_id_of,
    save_text_model,
    word_frequencies,
)

TEXTS = [
    "a gorgeous, witty, seductive movie.",
    "the plot is nothing but boilerplate clichés",
    "a masterpiece four years in the making",
    "unfunny and lame",
    "an utterly charming film",
    "boring, pointless and far too long",
    "wonderful acting",
    "a dreary mess",
]
LABELS = [1, 0, 1, 0, 1, 0, 1, 0]


@pytest.fixture(scope="module")
def minilm():
    torch.manual_seed(0)
    hf, tok = load_hf_classifier(None, num_labels=2)
    return hf, tok, word_frequencies(tok, TEXTS)


def _batch(tok):
    return TextCollator(pad_id_of(tok))(encode_examples(tok, TEXTS, LABELS, 32))


@pytest.mark.parametrize("normalization", ["raw", "scale"])
def test_inputs_embeds_route_equals_input_ids_route(minilm, normalization):
    hf, tok, freq = minilm
    model = HFTextClassifier(hf, freq, normalization=normalization).eval()
    batch = _batch(tok)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    with torch.no_grad():
        reference = hf(input_ids=ids, attention_mask=mask).logits
        ours = TextSurface(model).logits(TextSurface(model).inputs(batch), batch)
        torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)
        # Feeding the whole embedding block's output would apply position embeddings and LayerNorm
        # twice, and the logits would differ: the comparison above can tell.
        block = hf.base_model.embeddings(input_ids=ids)
        twice = hf(inputs_embeds=block, attention_mask=mask).logits
    assert not torch.allclose(twice, reference, atol=1e-3)


def test_miyato_mode_feeds_normalised_word_embeddings(minilm):
    hf, tok, freq = minilm
    model = HFTextClassifier(hf, freq, normalization="miyato").eval()
    batch = _batch(tok)
    x = model.embed(batch["input_ids"])
    f = model.embedding.frequencies.double()
    table = model.embedding.normalized_weight().double()
    assert float((f @ table.detach()).abs().max()) < 1e-4
    torch.testing.assert_close(x, model.embedding.normalized_weight()[batch["input_ids"]])


def test_requires_frequencies_or_explicit_uniform(minilm):
    hf, _, _ = minilm
    with pytest.raises(ValueError, match="uniform=True"):
        HFTextClassifier(hf)
    assert HFTextClassifier(hf, uniform=True).embedding.uniform


def test_hf_trains_with_objective_step(minilm):
    hf, tok, freq = minilm
    torch.manual_seed(0)
    model = HFTextClassifier(hf, freq)
    model.train()
    surface = TextSurface(model)
    objective = build_objective("at", eps=5.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    batch = _batch(tok)
    losses = []
    for i in range(6):
        optimizer.zero_grad()
        losses.append(objective.step(surface, batch, generator=torch.Generator().manual_seed(i)).loss.item())
        optimizer.step()
    assert sum(losses[-2:]) / 2 < 0.8 * sum(losses[:2]) / 2


def test_save_load_round_trip_gives_identical_logits(minilm, tmp_path):
    from safetensors import safe_open

    hf, tok, freq = minilm
    model = HFTextClassifier(hf, freq, normalization="miyato").eval()
    save_text_model(model, tmp_path / "m", encoder=tok, label_names=["negative", "positive"])
    meta = json.loads((tmp_path / "m" / "textadv_model.json").read_text())
    assert meta["kind"] == "hf" and meta["normalization"] == "miyato"
    with safe_open(str(tmp_path / "m" / "model.safetensors"), framework="pt") as f:
        assert torch.equal(f.get_tensor(meta["embedding_key"]), hf.get_input_embeddings().weight.detach())
    tokens = (tmp_path / "m" / meta["vocab_file"]).read_text(encoding="utf-8").splitlines()
    assert len(tokens) == hf.get_input_embeddings().weight.shape[0] and tokens[tok.cls_token_id] == "[CLS]"
    loaded, encoder, _ = load_text_model(tmp_path / "m")
    batch = _batch(encoder)
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(batch["input_ids"], batch["attention_mask"]),
            model(batch["input_ids"], batch["attention_mask"]),
            rtol=0,
            atol=0,
        )


def _tiny(kind):
    import transformers as T

    configs = {
        "bert": lambda: T.BertConfig(
            vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
        ),
        "roberta": lambda: T.RobertaConfig(
            vocab_size=50,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            pad_token_id=1,
        ),
        "distilbert": lambda: T.DistilBertConfig(vocab_size=50, dim=16, n_layers=1, n_heads=2, hidden_dim=32),
        "gpt2": lambda: T.GPT2Config(
            vocab_size=50, n_embd=16, n_layer=1, n_head=2, pad_token_id=1, bos_token_id=0, eos_token_id=0
        ),
    }
    config = configs[kind]()
    config.num_labels = 2
    torch.manual_seed(0)
    return T.AutoModelForSequenceClassification.from_config(config).eval()


@pytest.mark.parametrize("kind", ["bert", "roberta", "distilbert"])
def test_other_encoder_architectures_take_the_inputs_embeds_route(kind):
    model = _tiny(kind)
    wrapped = HFTextClassifier(model, normalization="raw").eval()
    batch = {
        "input_ids": torch.tensor([[5, 8, 9, 11, 2], [5, 7, 2, 1, 1]]),
        "attention_mask": torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]),
    }
    surface = TextSurface(wrapped)
    with torch.no_grad():
        torch.testing.assert_close(
            surface.logits(surface.inputs(batch), batch),
            model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits,
        )


def test_classifiers_that_need_input_ids_are_refused():
    with pytest.raises(ValueError, match="different logits from inputs_embeds"):
        HFTextClassifier(_tiny("gpt2"), normalization="raw")
