"""TextSurface with the objectives: AT norm and padding, VAT and parameter gradients, shared dropout."""

import pytest
import torch

from textadv.objectives import build_objective
from textadv.surfaces import TextSurface
from textadv.text import LSTMClassifier, LSTMConfig, TextCollator

VOCAB = 40


def _model(dropout=0.5, normalization="miyato", seed=0):
    torch.manual_seed(seed)
    counts = torch.arange(VOCAB, dtype=torch.float64) + 1
    counts[0] = 0  # <pad> never occurs
    config = LSTMConfig(
        VOCAB, 3, embedding_dim=8, hidden_size=12, dense_size=6, embedding_dropout=dropout, normalization=normalization
    )
    return LSTMClassifier(config, counts)


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = [7, 3, 5, 1]
    examples = [
        {"input_ids": torch.randint(2, VOCAB, (n,), generator=g).tolist(), "labels": i % 3}
        for i, n in enumerate(lengths)
    ]
    return TextCollator()(examples)


class RecordingSurface(TextSurface):
    """Records every tensor the model is run from, and the parameter gradients at that moment."""

    def __init__(self, model):
        super().__init__(model)
        self.calls = []
        self.embeds = 0

    def inputs(self, batch):
        self.embeds += 1
        return super().inputs(batch)

    def logits(self, x, batch):
        grads = [None if p.grad is None else p.grad.clone() for p in self.model.parameters()]
        self.calls.append((x.detach().clone(), grads))
        return super().logits(x, batch)


@pytest.mark.parametrize("normalization", ["miyato", "scale"])
def test_at_perturbation_has_norm_eps_per_example_and_zero_on_padding(normalization):
    model = _model(normalization=normalization)
    surface = RecordingSurface(model)
    batch = _batch()
    build_objective("at", eps=5.0).step(surface, batch)
    assert len(surface.calls) == 2 and surface.embeds == 1  # clean pass, one perturbed pass
    clean, perturbed = surface.calls[0][0], surface.calls[1][0]
    delta = perturbed - clean  # [B, T, D]
    expected = 5.0 * model.embedding.eps_scale()
    torch.testing.assert_close(delta.flatten(1).norm(dim=1), torch.full((4,), expected), rtol=1e-4, atol=1e-5)
    padding = batch["attention_mask"] == 0
    assert padding.any()
    assert torch.all(delta[padding] == 0)
    # Not per token: tokens of one example get different norms.
    per_token = delta[0].norm(dim=-1)
    assert per_token.std() > 0


def test_scale_mode_eps_is_relative_to_embedding_spread():
    model = _model(normalization="scale")
    sigma = model.embedding.eps_scale()
    assert sigma != pytest.approx(1.0)
    threat = TextSurface(model).threat(_batch(), 2, 5.0)
    assert threat.eps == pytest.approx(5.0 * sigma)


def test_vat_leaves_parameter_gradients_untouched_until_the_final_backward():
    model = _model()
    surface = RecordingSurface(model)
    out = build_objective("vat", eps=5.0, xi=0.1).step(surface, _batch())
    # clean pass, power iteration, perturbed pass: no parameter gradient exists during any of them
    assert len(surface.calls) == 3
    for _, grads in surface.calls:
        assert all(g is None for g in grads)
    assert all(p.grad is not None for p in model.parameters())
    assert out.terms["VATTerm"] > 0


def test_vat_power_iteration_does_not_change_existing_gradients():
    model = _model()
    surface = RecordingSurface(model)
    batch = _batch()
    # Accumulated gradients from an earlier micro-batch must survive the power iteration unchanged.
    build_objective("none", eps=0.0).step(TextSurface(model), batch)
    before = [p.grad.clone() for p in model.parameters()]
    build_objective("vat", eps=5.0, xi=0.1).step(surface, batch)
    for _, grads in surface.calls:
        for g, b in zip(grads, before):
            assert torch.equal(g, b)


def test_clean_and_perturbed_passes_share_the_dropout_mask():
    model = _model(dropout=0.5)
    model.train()
    batch = _batch()
    # Two draws differ (the test would notice a redrawn mask)...
    torch.manual_seed(1)
    surface = TextSurface(model)
    assert not torch.equal(surface.inputs(batch), surface.inputs(batch))
    # ...yet with ε = 0 the perturbed pass reproduces the clean loss exactly: same mask.
    out = build_objective("at", eps=0.0).step(surface, batch)
    assert out.terms["AdversarialTerm"] == out.clean_loss
    out = build_objective("random", eps=0.0).step(surface, batch)
    assert out.terms["RandomTerm"] == out.clean_loss


def test_mask_is_the_attention_mask_and_there_are_no_bounds():
    batch = _batch()
    surface = TextSurface(_model())
    assert torch.equal(surface.mask(batch), batch["attention_mask"])
    assert surface.bounds is None
    with pytest.raises(ValueError, match="eps"):
        surface.threat(batch, 2, -1.0)


def test_semi_supervised_vat_perturbs_the_unlabeled_batch_within_its_padding():
    model = _model()
    surface = RecordingSurface(model)
    batch = _batch(seed=0)
    unlabeled = {k: v for k, v in _batch(seed=1).items() if k != "labels"}
    unlabeled["input_ids"] = unlabeled["input_ids"][:, :6]
    unlabeled["attention_mask"] = unlabeled["attention_mask"][:, :6]
    out = build_objective("vat", eps=5.0, xi=0.1).step(surface, batch, unlabeled=unlabeled)
    assert out.terms["VATTerm"] > 0
    # calls: labelled clean pass, unlabeled clean pass, power iteration, unlabeled perturbed pass
    assert [c[0].shape[1] for c in surface.calls] == [7, 6, 6, 6]
    delta = surface.calls[3][0] - surface.calls[1][0]
    torch.testing.assert_close(delta.flatten(1).norm(dim=1), torch.full((4,), 5.0), rtol=1e-4, atol=1e-5)
    assert torch.all(delta[unlabeled["attention_mask"] == 0] == 0)
