"""The ε unit σ̄ of ``"scale"`` normalisation: computed once per optimiser step, always the current weights' value."""

import pytest
import torch
from torch import nn
from torch.autograd.graph import increment_version

import textadv.text.normalized_embedding as normalized_embedding
from textadv.objectives import build_objective
from textadv.surfaces import TextSurface
from textadv.text import LSTMClassifier, LSTMConfig, NormalizedEmbedding

V, T, B = 50, 6, 4


def _model(seed: int = 0) -> LSTMClassifier:
    torch.manual_seed(seed)
    counts = torch.arange(1, V + 1, dtype=torch.float64)
    config = LSTMConfig(V, 2, embedding_dim=8, hidden_size=8, dense_size=4, normalization="scale")
    return LSTMClassifier(config, counts)


def _batch(step: int) -> dict:
    g = torch.Generator().manual_seed(100 + step)
    ids = torch.randint(2, V, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    mask[0, 4:] = 0
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.randint(0, 2, (B,), generator=g)}


def _fresh_unit(embedding: NormalizedEmbedding) -> float:
    """σ̄ straight from the formula, no cache."""
    with torch.no_grad():
        _, var = normalized_embedding.frequency_moments(embedding.weight, embedding.frequencies)
    return float(var.mean().sqrt())


def _train(model, steps: int, fused: bool):
    """AT+VAT steps with Adam; returns the losses and the gradients of every step."""
    surface, objective = TextSurface(model), build_objective("at+vat", eps=5.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05, fused=fused)
    losses, grads = [], []
    for step in range(steps):
        torch.manual_seed(step)  # the embedding dropout
        out = objective.step(surface, _batch(step), generator=torch.Generator().manual_seed(step))
        losses.append(out.loss)
        grads.append([p.grad.clone() for p in model.parameters()])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return losses, grads


@pytest.mark.parametrize("fused", [False, True], ids=["adam", "fused-adam"])
def test_unit_is_computed_once_per_optimizer_step(monkeypatch, fused):
    model = _model()
    computed, moments = [], normalized_embedding.frequency_moments

    def counting(weight, frequencies):
        computed.append(weight.detach().clone())
        return moments(weight, frequencies)

    monkeypatch.setattr(normalized_embedding, "frequency_moments", counting)
    _train(model, steps=3, fused=fused)
    # AT and VAT each ask for the unit; the weights change between steps, never within one.
    assert len(computed) == 3
    assert not torch.equal(computed[0], computed[1]) and not torch.equal(computed[1], computed[2])


@pytest.mark.parametrize("fused", [False, True], ids=["adam", "fused-adam"])
def test_cached_unit_trains_bit_for_bit_like_the_formula(fused):
    cached = _model()
    uncached = _model()
    uncached.embedding.eps_scale = lambda: _fresh_unit(uncached.embedding)
    losses_c, grads_c = _train(cached, steps=4, fused=fused)
    losses_u, grads_u = _train(uncached, steps=4, fused=fused)
    for step in range(4):
        assert torch.equal(losses_c[step], losses_u[step])
        assert all(torch.equal(a, b) for a, b in zip(grads_c[step], grads_u[step]))
    assert all(torch.equal(a, b) for a, b in zip(cached.parameters(), uncached.parameters()))


def test_unit_follows_every_way_the_weights_change():
    embedding = NormalizedEmbedding(nn.Embedding(V, 8), torch.arange(1, V + 1.0), mode="scale")
    weight = embedding.weight

    def changed(before: float) -> float:
        now = embedding.eps_scale()
        assert now == _fresh_unit(embedding) and now != before
        return now

    unit = changed(0.0)
    assert embedding.eps_scale() == unit  # unchanged weights: the cached value
    with torch.no_grad():
        weight.mul_(1.5)  # an in-place edit bumps the version counter
    unit = changed(unit)
    embedding.load_state_dict({"embedding.weight": torch.randn(V, 8), "frequencies": embedding.frequencies})
    unit = changed(unit)
    embedding.load_state_dict({"embedding.weight": weight.detach(), "frequencies": torch.rand(V)})
    unit = changed(unit)  # new frequencies, same weights
    weight.data.mul_(2.0)  # bypasses the version counter, as documented
    assert embedding.eps_scale() == unit
    increment_version(weight)
    unit = changed(unit)
    embedding.embedding.weight = nn.Parameter(torch.randn(V, 8))  # a new tensor
    unit = changed(unit)


def test_a_backward_into_the_weight_drops_the_cache():
    # A fused optimiser updates in place without bumping the version counter; the gradient hook
    # is what tells the cache that an update may follow.
    embedding = NormalizedEmbedding(nn.Embedding(V, 8), torch.arange(1, V + 1.0), mode="scale")
    optimizer = torch.optim.Adam(embedding.parameters(), lr=0.5, fused=True)
    unit = embedding.eps_scale()
    version = embedding.weight._version
    embedding(torch.tensor([[3, 4, 5]])).pow(2).sum().backward()
    optimizer.step()
    assert embedding.weight._version == version  # the update itself left no trace
    assert embedding.eps_scale() == _fresh_unit(embedding) != unit


def test_vat_xi_is_in_the_unit_of_eps():
    """In ``scale`` mode VAT's ξ is multiplied by σ̄ like ε (docs/miyato_reference.md, D3).

    The VAT term equals the core's ``vat_perturbation`` called by hand with ξ·σ̄ and ε·σ̄ on the same
    embeddings, dropout mask and initial direction, and differs from the same call with ξ unscaled.
    """
    from textadv.core import Threat, kl_from_logits, vat_perturbation
    from textadv.objectives.base import CleanPass
    from textadv.objectives.vat import VATTerm

    model = _model()
    model.eval()  # no dropout: the hand-made pass sees the same embeddings
    surface, batch = TextSurface(model), _batch(0)
    unit = surface.unit()
    assert unit != 1.0
    x = surface.inputs(batch).detach()
    logits = surface.logits(x, batch)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(7))

    class Fixed(CleanPass):
        def normal(self, x, unlabeled=False):
            return noise

    term = VATTerm(eps=2.0, xi=0.5)
    clean = Fixed(surface, batch, x, logits, batch["labels"])
    value = term.loss(clean)

    def by_hand(xi):
        threat = Threat(2, 2.0 * unit, mask=batch["attention_mask"])
        f = lambda z: surface.logits(z, batch)  # noqa: E731
        r = vat_perturbation(f, x, threat, xi=xi, clean_logits=logits.detach(), noise=noise)
        return kl_from_logits(logits.detach(), f(x + r)).mean()

    torch.testing.assert_close(value, by_hand(0.5 * unit), rtol=0, atol=0)
    assert not torch.equal(value, by_hand(0.5))
