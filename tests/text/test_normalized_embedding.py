"""Miyato normalisation: statistics, gradients through E and Var, explicit frequency tables."""

import pytest
import torch
from torch import nn

from textadv.text import NormalizedEmbedding, SequenceDropout
from textadv.text.normalized_embedding import VARIANCE_EPS


def _table(v=7, d=4, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    emb = nn.Embedding(v, d).to(dtype)
    with torch.no_grad():
        emb.weight.copy_(torch.randn(v, d, generator=g, dtype=dtype) * 3 + 2)
    counts = torch.arange(1, v + 1, dtype=torch.float64)  # unequal frequencies
    return emb, counts


def test_weighted_mean_zero_and_variance_one_per_dimension():
    emb, counts = _table()
    norm = NormalizedEmbedding(emb, counts)
    f = counts / counts.sum()
    table = norm(torch.arange(7)).double()  # [V, D]
    mean = f @ table
    var = f @ (table - mean) ** 2
    torch.testing.assert_close(mean, torch.zeros(4, dtype=torch.float64), atol=1e-5, rtol=0)
    raw_var = f @ (emb.weight.double() - f @ emb.weight.double()) ** 2
    torch.testing.assert_close(var, raw_var / (raw_var + VARIANCE_EPS), atol=1e-5, rtol=0)


def test_matches_direct_formula_and_whole_table():
    emb, counts = _table()
    norm = NormalizedEmbedding(emb, counts)
    w, f = emb.weight.double(), counts / counts.sum()
    e = (f[:, None] * w).sum(0)
    var = (f[:, None] * (w - e) ** 2).sum(0)
    expected = (w - e) / torch.sqrt(var + VARIANCE_EPS)
    ids = torch.tensor([[3, 1, 6], [0, 0, 2]])
    torch.testing.assert_close(norm(ids).double(), expected[ids], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(norm.normalized_weight().double(), expected, atol=1e-5, rtol=1e-5)


def test_gradients_flow_through_mean_and_variance():
    emb, counts = _table(v=5, d=3, dtype=torch.float64)
    norm = NormalizedEmbedding(emb, counts)
    ids = torch.tensor([[0, 2, 2, 4]])

    def full(weight):
        return torch.func.functional_call(norm, {"embedding.weight": weight}, (ids,))

    # Analytic gradients of the whole function (E and Var included) against finite differences.
    assert torch.autograd.gradcheck(full, (emb.weight.detach().clone().requires_grad_(True),))

    # And they differ from treating E and Var as constants: the statistics are in the graph.
    w = emb.weight.detach().clone().requires_grad_(True)
    probe = torch.randn(1, 4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    (g_full,) = torch.autograd.grad((full(w) * probe).sum(), w)
    mean, var = norm.moments()
    detached = (w[ids] - mean.detach()) / torch.sqrt(var.detach() + VARIANCE_EPS)
    (g_const,) = torch.autograd.grad((detached * probe).sum(), w)
    assert not torch.allclose(g_full, g_const)
    assert g_full[1].abs().sum() > 0  # row 1 is never looked up, yet moves E and Var
    assert g_const[1].abs().sum() == 0


def test_missing_frequencies_is_an_error_unless_uniform():
    emb, _ = _table()
    with pytest.raises(ValueError, match="uniform=True"):
        NormalizedEmbedding(emb)
    with pytest.raises(ValueError, match="uniform=True"):
        NormalizedEmbedding(emb, mode="scale")
    uniform = NormalizedEmbedding(emb, uniform=True)
    explicit = NormalizedEmbedding(emb, torch.ones(7))
    ids = torch.arange(7)
    torch.testing.assert_close(uniform(ids), explicit(ids))
    assert uniform.uniform and not explicit.uniform


@pytest.mark.parametrize("bad", [torch.ones(6), torch.tensor([1.0, -1, 1, 1, 1, 1, 1]), torch.zeros(7)])
def test_bad_frequency_tables_are_rejected(bad):
    emb, _ = _table()
    with pytest.raises(ValueError, match="frequencies"):
        NormalizedEmbedding(emb, bad)


def test_scale_and_raw_modes_leave_embeddings_unchanged():
    emb, counts = _table()
    ids = torch.tensor([[1, 2, 3]])
    scale = NormalizedEmbedding(emb, counts, mode="scale")
    torch.testing.assert_close(scale(ids), emb(ids))
    f = counts / counts.sum()
    w = emb.weight.detach().double()
    var = f @ (w - f @ w) ** 2
    assert scale.eps_scale() == pytest.approx(float(var.mean().sqrt()), rel=1e-5)
    raw = NormalizedEmbedding(emb, mode="raw")  # no frequencies needed
    torch.testing.assert_close(raw(ids), emb(ids))
    assert raw.eps_scale() == 1.0 and NormalizedEmbedding(emb, counts).eps_scale() == 1.0


def test_unregistered_embedding_is_saved_once():
    emb, counts = _table()
    owner = nn.Module()
    owner.table = emb
    owner.norm = NormalizedEmbedding(emb, counts, register_embedding=False)
    assert sorted(owner.state_dict()) == ["norm.frequencies", "table.weight"]
    assert owner.norm.weight is emb.weight


def test_sequence_dropout_shares_one_mask_over_time():
    torch.manual_seed(0)
    drop = SequenceDropout(0.5)
    x = torch.ones(64, 9, 16)
    y = drop(x)
    assert torch.equal(y, y[:, :1, :].expand_as(y))  # same mask at every position
    kept = (y[:, 0, :] != 0).float()
    assert set(y.unique().tolist()) <= {0.0, 2.0}  # inverted dropout scaling 1/keep
    assert 0.4 < kept.mean().item() < 0.6
    drop.eval()
    assert torch.equal(drop(x), x)
    with pytest.raises(ValueError, match="dropout"):
        SequenceDropout(1.0)
