"""Surfaces own the loss: AT and VAT through ``Surface.loss`` / ``Surface.distributions``.

A classifier (Miyato's LSTM, masked) must give exactly the objective of the papers written out by
hand, and a surface with two categorical outputs (the start and end logits of an answer span) must
get AT and VAT unchanged: AT's perturbation has norm ε per example along the gradient of the summed
loss, and VAT's divergence is the sum of the two heads' KLs.
"""

import pytest
import torch
import torch.nn.functional as F

from textadv.eval import AttackSpec, adversarial_inputs
from textadv.objectives import build_objective
from textadv.surfaces import Surface, TextSurface
from textadv.text import LSTMClassifier, LSTMConfig


def kl(p_logits, q_logits):
    """KL(p ‖ q) per example from logits [B, C], written out: Σ_c p_c (log p_c − log q_c)."""
    log_p, log_q = torch.log_softmax(p_logits, dim=-1), torch.log_softmax(q_logits, dim=-1)
    return (log_p.exp() * (log_p - log_q)).sum(dim=-1)


def unit(v, mask):
    """v masked (mask [B, T] over [B, T, D]) and scaled to ‖v‖₂ = 1 per example."""
    v = v * mask.unsqueeze(-1)
    return v / v.reshape(len(v), -1).norm(dim=1).reshape(-1, 1, 1)


# ------------------------------------------------------------------ a classifier: the papers' formulas
def lstm_case():
    torch.manual_seed(0)
    counts = torch.randint(1, 50, (40,)).float()
    config = LSTMConfig(40, 3, embedding_dim=6, hidden_size=5, dense_size=4, embedding_dropout=0.0)
    model = LSTMClassifier(config, counts)
    ids = torch.randint(2, 40, (4, 6))
    mask = torch.ones(4, 6)
    mask[1, 4:] = 0
    mask[3, 2:] = 0
    return model, {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([0, 2, 1, 2])}


def test_lstm_at_step_is_miyatos_objective_written_out():
    model, batch = lstm_case()
    eps, lam = 2.0, 0.7
    out = build_objective("at", eps=eps, adv_weight=lam).step(TextSurface(model), batch)
    got = [p.grad.clone() for p in model.parameters()]

    params = list(model.parameters())
    mask, y = batch["attention_mask"], batch["labels"]
    x = model.embed(batch["input_ids"])  # normalised embeddings: a function of the parameters
    clean = F.cross_entropy(model.classify(x, mask), y)
    (g,) = torch.autograd.grad(clean, x, retain_graph=True)
    r_adv = eps * unit(g, mask)  # L = CE(s) + λ·CE(s + ε·g/‖g‖₂), r_adv a constant (PAPERS.md §7)
    loss = clean + lam * F.cross_entropy(model.classify(x + r_adv, mask), y)
    expected = torch.autograd.grad(loss, params)
    torch.testing.assert_close(out.loss, loss.detach())
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)


def test_lstm_vat_step_is_the_power_iteration_written_out():
    model, batch = lstm_case()
    eps, xi = 2.0, 0.1
    out = build_objective("vat", eps=eps, xi=xi).step(
        TextSurface(model), batch, generator=torch.Generator().manual_seed(3)
    )
    got = [p.grad.clone() for p in model.parameters()]

    params = list(model.parameters())
    mask, y = batch["attention_mask"], batch["labels"]
    x = model.embed(batch["input_ids"])
    logits = model.classify(x, mask)
    p = logits.detach()
    d = unit(torch.randn(x.shape, generator=torch.Generator().manual_seed(3)), mask).requires_grad_(True)
    (g,) = torch.autograd.grad(kl(p, model.classify(x.detach() + xi * d, mask)).sum(), d)
    r_vadv = eps * unit(g, mask)
    lds = kl(p, model.classify(x + r_vadv, mask)).mean()
    expected = torch.autograd.grad(F.cross_entropy(logits, y) + lds, params)
    torch.testing.assert_close(out.terms["VATTerm"], lds.detach())
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)


# ------------------------------------------------------------------ two categorical outputs (start, end)
class SpanModel(torch.nn.Module):
    """Token features ``[B, T, D]`` → start and end logits ``[B, T]`` (a tiny reading-comprehension head)."""

    def __init__(self, dim):
        super().__init__()
        self.hidden = torch.nn.Linear(dim, 8)
        self.start = torch.nn.Linear(8, 1)
        self.end = torch.nn.Linear(8, 1)

    def forward(self, x):
        h = torch.tanh(self.hidden(x))
        return self.start(h).squeeze(-1), self.end(h).squeeze(-1)


class SpanSurface(Surface):
    """``batch["x"]`` ``[B, T, D]`` perturbed under ``batch["mask"]``; labels ``[B, 2]`` (start, end)."""

    bounds = None

    def inputs(self, batch):
        return batch["x"]

    def logits(self, x, batch):
        start, end = self.model(x)
        pad = (1 - batch["mask"]) * -1e4  # padding never answers
        return start + pad, end + pad

    def mask(self, batch):
        return batch["mask"]

    def loss(self, outputs, labels, reduction="none"):
        per_example = F.cross_entropy(outputs[0], labels[:, 0], reduction="none") + F.cross_entropy(
            outputs[1], labels[:, 1], reduction="none"
        )
        return per_example.mean() if reduction == "mean" else per_example

    def distributions(self, outputs):
        return outputs

    def predict(self, outputs):
        return torch.stack([o.argmax(dim=-1) for o in outputs], dim=1)


def span_case():
    torch.manual_seed(1)
    model = SpanModel(5)
    x = torch.randn(3, 7, 5)
    mask = torch.ones(3, 7)
    mask[0, 5:] = 0
    mask[2, 3:] = 0
    labels = torch.tensor([[1, 3], [0, 6], [2, 2]])
    return model, {"x": x, "mask": mask, "labels": labels}


class Recording(SpanSurface):
    """Keeps every input the model is run from."""

    def __init__(self, model):
        super().__init__(model)
        self.seen = []

    def logits(self, x, batch):
        self.seen.append(x.detach().clone())
        return super().logits(x, batch)


def span_loss(model, x, batch):
    start, end = SpanSurface(model).logits(x, batch)
    y = batch["labels"]
    return F.cross_entropy(start, y[:, 0], reduction="none") + F.cross_entropy(end, y[:, 1], reduction="none")


def test_at_on_two_heads_perturbs_along_the_summed_loss_with_norm_eps():
    model, batch = span_case()
    eps = 0.6
    surface = Recording(model)
    out = build_objective("at", eps=eps).step(surface, batch)
    clean, perturbed = surface.seen
    r = perturbed - clean
    torch.testing.assert_close(r.reshape(3, -1).norm(dim=1), torch.full((3,), eps))
    assert (r[batch["mask"] == 0] == 0).all()

    x = batch["x"].clone().requires_grad_(True)
    (g,) = torch.autograd.grad(span_loss(model, x, batch).mean(), x)
    torch.testing.assert_close(r, eps * unit(g, batch["mask"]))
    with torch.no_grad():
        expected = span_loss(model, batch["x"], batch).mean() + span_loss(model, batch["x"] + r, batch).mean()
    torch.testing.assert_close(out.loss, expected)


def test_vat_on_two_heads_sums_the_kl_of_both():
    model, batch = span_case()
    eps, xi = 0.6, 0.1
    surface = Recording(model)
    out = build_objective("vat", eps=eps, xi=xi).step(surface, batch, generator=torch.Generator().manual_seed(5))
    clean, _, perturbed = surface.seen  # clean pass, power iteration, perturbed pass
    r = perturbed - clean
    torch.testing.assert_close(r.reshape(3, -1).norm(dim=1), torch.full((3,), eps))

    plain = SpanSurface(model)
    with torch.no_grad():
        p_start, p_end = plain.logits(batch["x"], batch)
    noise = torch.randn(batch["x"].shape, generator=torch.Generator().manual_seed(5))
    d = unit(noise, batch["mask"]).requires_grad_(True)
    q_start, q_end = plain.logits(batch["x"] + xi * d, batch)
    (g,) = torch.autograd.grad((kl(p_start, q_start) + kl(p_end, q_end)).sum(), d)
    torch.testing.assert_close(r, eps * unit(g, batch["mask"]))
    with torch.no_grad():
        q_start, q_end = plain.logits(batch["x"] + r, batch)
        lds = (kl(p_start, q_start) + kl(p_end, q_end)).mean()
        one_head = kl(p_start, q_start).mean()
    torch.testing.assert_close(out.terms["VATTerm"], lds)
    assert abs(lds - one_head) > 1e-4  # the end head's KL is not lost


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_evaluation_attacks_on_two_heads_stay_in_the_ball_and_raise_the_summed_loss(attack):
    model, batch = span_case()
    eps = 0.6
    x_adv = adversarial_inputs(
        SpanSurface(model),
        batch,
        AttackSpec(attack, norm=2, steps=5),
        eps=eps,
        generator=torch.Generator().manual_seed(0),
    )
    r = x_adv - batch["x"]
    assert (r.reshape(3, -1).norm(dim=1) <= eps * (1 + 1e-5)).all()
    assert (r[batch["mask"] == 0] == 0).all()
    with torch.no_grad():
        assert (span_loss(model, x_adv, batch) > span_loss(model, batch["x"], batch)).all()
