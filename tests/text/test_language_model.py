"""The language model of the pretraining job: its sampled softmax against the full softmax, and its
encoder built exactly as the classifier's."""

import math

import pytest
import torch
import torch.nn.functional as F

from textadv.text import LSTMClassifier, LSTMConfig
from textadv.text.lstm import ENCODER_PREFIXES, LSTMLanguageModel, sampled_softmax_loss

V, H = 40, 8


def _model(counts=None, seed=0):
    torch.manual_seed(seed)
    counts = torch.arange(1, V + 1, dtype=torch.float64) if counts is None else counts
    return LSTMLanguageModel(V, embedding_dim=6, hidden_size=H, embedding_dropout=0.0, counts=counts)


def test_sampling_every_class_once_gives_the_full_softmax_cross_entropy(single_thread):
    model = _model()
    torch.manual_seed(1)
    with torch.no_grad():
        model.softmax.weight.normal_(0, 2.0)
        model.softmax.bias.normal_(0, 1.0)
    hidden, targets = torch.randn(12, H), torch.randint(0, V, (12,))
    # Every class once with expected count 1: the target's accidental hit is removed and its own
    # logit stands in for it, so the candidate set is exactly the vocabulary.
    sampled = sampled_softmax_loss(
        hidden, model.softmax.weight, model.softmax.bias, targets, torch.arange(V), torch.zeros(V)
    )
    full = model.next_word_losses(hidden, targets, num_sampled=0)
    torch.testing.assert_close(
        full, F.cross_entropy(hidden @ model.softmax.weight.T + model.softmax.bias, targets, reduction="none")
    )
    torch.testing.assert_close(sampled, full, rtol=1e-6, atol=1e-6)


def test_exp_of_the_sampled_loss_is_an_unbiased_estimate_of_exp_of_the_full_loss(single_thread):
    # Skewed unigram counts, few samples: the importance weights matter.
    counts = torch.tensor([0.0] + [float(1 + (7 * i) % 13) ** 2 for i in range(1, V)], dtype=torch.float64)
    model = _model(counts)
    torch.manual_seed(2)
    with torch.no_grad():
        model.softmax.weight.normal_(0, 1.0)
    hidden, targets = torch.randn(3, H), torch.tensor([3, 17, 30])
    full = model.next_word_losses(hidden, targets, num_sampled=0).double()
    generator = torch.Generator().manual_seed(0)
    draws = torch.stack(
        [model.next_word_losses(hidden, targets, num_sampled=5, generator=generator).double() for _ in range(6000)]
    )  # [draws, 3]
    ratio = draws.exp().mean(0)
    stderr = draws.exp().std(0) / math.sqrt(draws.shape[0])
    assert torch.all((ratio - full.exp()).abs() < 4 * stderr), (ratio, full.exp(), stderr)
    # log of an unbiased estimate: the loss itself is biased low (Jensen), and strictly so here.
    assert torch.all(draws.mean(0) < full)
    # A class with zero count (padding) is never drawn.
    assert model.unigram[0] == 0


def test_the_encoder_is_created_as_the_classifiers_so_the_same_seed_gives_the_same_weights(single_thread):
    counts = torch.arange(1, V + 1, dtype=torch.float64)
    lm = _model(counts, seed=5)
    torch.manual_seed(5)
    classifier = LSTMClassifier(
        LSTMConfig(V, 2, embedding_dim=6, hidden_size=H, dense_size=4, embedding_dropout=0.0), counts
    )
    lm_state, clf_state = lm.state_dict(), classifier.state_dict()
    shared = [k for k in clf_state if k.startswith(ENCODER_PREFIXES)]
    assert shared and all(torch.equal(lm_state[k], clf_state[k]) for k in shared)


def test_counts_of_the_wrong_length_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        LSTMLanguageModel(V, embedding_dim=6, hidden_size=H, embedding_dropout=0.0, counts=torch.ones(V - 1))
