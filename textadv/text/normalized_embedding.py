"""Frequency-normalised word embeddings, Miyato, Dai & Goodfellow (2017), PAPERS.md §7.

    v̄ₖ = (vₖ − E) / √(Var + 1e-6),   E = Σⱼ fⱼ vⱼ,   Var = Σⱼ fⱼ (vⱼ − E)²     (per dimension)

with fⱼ the unigram frequency of vocabulary row j in the training plus unlabeled text (normalised
to sum to 1). E and Var are recomputed from the current embedding matrix at every forward, and
gradients flow through them, as in the reference implementation. With normalised embeddings an ε
means the same thing for every model: each dimension has unit frequency-weighted variance.

Three modes (``mode``):

- ``"miyato"``: the formula above; ε is absolute in normalised units (Miyato: ε = 5.0 on IMDB).
  The default for models trained from scratch (the LSTM).
- ``"scale"``: the embeddings are left as they are (a pretrained transformer keeps seeing the
  inputs it was trained on) and ε is *relative*: :meth:`NormalizedEmbedding.eps_scale` returns
  σ̄ = √(mean_d Var_d), the root-mean-square frequency-weighted standard deviation of the embedding
  dimensions (detached), and surfaces multiply ε by it. A perturbation of norm ε·σ̄ on raw
  embeddings has the same size relative to the spread of the embeddings as a perturbation of norm
  ε on Miyato-normalised ones (exactly so when all dimensions have the same variance), so the same
  ε = 5.0 default carries over. Frequencies are still needed (for Var). σ̄ is a pass over the
  whole ``[V, D]`` matrix, so it is computed once per value of the weights and cached (see
  :meth:`NormalizedEmbedding.eps_scale`).
- ``"raw"``: identity, ε absolute in raw embedding units; no frequencies needed. For tests and for
  users who set ε by hand.

A missing frequency table is an error in ``"miyato"`` and ``"scale"`` modes unless the caller asks
for uniform weights with ``uniform=True``: the reference code silently fell back to uniform weights.

Against the reference code (tensorflow/models ``research/adversarial_text/layers.py``
``Embedding._normalize``; the full comparison is docs/miyato_reference.md): ``"miyato"`` is the same
formula, constant and gradient path. Deviations: the LSTM's vocabulary keeps an ``<unk>`` row that
carries the count of every out-of-vocabulary word, where the reference drops those words from the
text. In ``"scale"`` mode (no reference counterpart) ε and VAT's ξ are both multiplied by σ̄
(``TextSurface.unit``), so their ratio is the reference's.
"""

from __future__ import annotations

import weakref
from typing import Optional, Sequence, Union

import torch
from torch import Tensor, nn

MODES = ("miyato", "scale", "raw")
VARIANCE_EPS = 1e-6


def frequency_moments(weight: Tensor, frequencies: Tensor) -> tuple[Tensor, Tensor]:
    """Frequency-weighted mean and variance per dimension of an embedding matrix.

    Args:
        weight: ``[V, D]`` embedding matrix.
        frequencies: ``[V]`` non-negative weights summing to 1.

    Returns:
        ``(E [D], Var [D])``, differentiable with respect to ``weight``.
    """
    f = frequencies.to(dtype=weight.dtype, device=weight.device)
    mean = f @ weight  # [D]
    var = f @ (weight - mean).pow(2)  # [D]
    return mean, var


def normalize_frequencies(counts: Union[Tensor, Sequence[float]], vocab_size: int) -> Tensor:
    """Counts (or unnormalised frequencies) ``[V]`` → frequencies summing to 1 (float64 on CPU).

    Raises ``ValueError`` when the table has the wrong length, negative or non-finite entries, or
    sums to zero.
    """
    f = torch.as_tensor(counts, dtype=torch.float64).reshape(-1)
    if f.numel() != vocab_size:
        raise ValueError(
            f"frequencies has {f.numel()} entries but the embedding matrix has {vocab_size} rows; "
            "count the frequencies with the same vocabulary/tokenizer as the model"
        )
    if not torch.isfinite(f).all() or (f < 0).any():
        raise ValueError("frequencies must be finite and non-negative")
    total = f.sum()
    if total <= 0:
        raise ValueError("frequencies sum to zero: count them on a non-empty training text")
    return f / total


class NormalizedEmbedding(nn.Module):
    """An ``nn.Embedding`` whose output rows are frequency-normalised (module docstring).

    Args:
        embedding: the word-embedding table ``[V, D]`` (an ``nn.Embedding``; for Hugging Face models
            ``model.get_input_embeddings()``).
        frequencies: counts or frequencies ``[V]``, one per embedding row (normalised here).
        mode: ``"miyato"``, ``"scale"`` or ``"raw"``.
        uniform: use uniform frequencies when ``frequencies`` is ``None``; must be asked for explicitly.
        register_embedding: register ``embedding`` as a submodule (default). Pass ``False`` when
            another module already owns it (a Hugging Face model): registering it twice would give
            the same tensor two names in ``state_dict()``, which safetensors refuses to save.

    ``forward(input_ids [B, T]) -> [B, T, D]``. The frequency table is a persistent buffer
    (``frequencies``), so it travels with ``state_dict()``.
    """

    def __init__(
        self,
        embedding: nn.Embedding,
        frequencies: Optional[Union[Tensor, Sequence[float]]] = None,
        *,
        mode: str = "miyato",
        uniform: bool = False,
        register_embedding: bool = True,
    ):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        weight = embedding.weight
        if weight.dim() != 2:
            raise ValueError(f"the embedding weight must be [V, D], got shape {tuple(weight.shape)}")
        vocab_size = weight.shape[0]
        if frequencies is None:
            if mode != "raw" and not uniform:
                raise ValueError(
                    f"normalisation mode {mode!r} needs word frequencies (counted on the training and "
                    "unlabeled text, e.g. textadv.text.Vocabulary.frequencies() or "
                    "textadv.text.word_frequencies(tokenizer, texts)); pass uniform=True to use uniform "
                    "weights on purpose"
                )
            f = torch.full((vocab_size,), 1.0 / vocab_size, dtype=torch.float64)
        else:
            if uniform:
                raise ValueError("pass either frequencies or uniform=True, not both")
            f = normalize_frequencies(frequencies, vocab_size)
        self.mode = mode
        self.uniform = frequencies is None and mode != "raw"
        self.register_buffer("frequencies", f.to(dtype=torch.float32, device=weight.device))
        self._sigma_cache = None  # (weakref to the weight, its version key, σ̄) in "scale" mode
        self._sigma_hook = None  # (weakref to the weight hooked, hook handle)
        if register_embedding:
            self.embedding = embedding
        else:
            # A plain attribute: the owner registers the module (and saves its weight) once.
            object.__setattr__(self, "embedding", embedding)

    @property
    def weight(self) -> Tensor:
        """The raw embedding matrix ``[V, D]``."""
        return self.embedding.weight

    def moments(self) -> tuple[Tensor, Tensor]:
        """``(E [D], Var [D])`` of the current embedding matrix, differentiable."""
        return frequency_moments(self.weight, self.frequencies)

    def normalized_weight(self) -> Tensor:
        """The whole normalised table ``[V, D]`` (``"miyato"``) or the raw one (other modes)."""
        if self.mode != "miyato":
            return self.weight
        mean, var = self.moments()
        return (self.weight - mean) / torch.sqrt(var + VARIANCE_EPS)

    def eps_scale(self) -> float:
        """The unit of ε: σ̄ = √(mean_d Var_d) in ``"scale"`` mode, 1 otherwise (a constant).

        σ̄ costs a pass over the whole ``[V, D]`` matrix, so it is cached and recomputed only when
        the weights may have changed: when the weight tensor, its storage or its autograd version
        counter changed (an optimiser step, ``load_state_dict``, any in-place edit under
        ``torch.no_grad()``, ``.to()``), or when a backward accumulated a gradient into the weight
        (which catches fused optimisers, whose in-place update does not bump the version counter).
        So a training step computes it once, and the value is always the one the current weights
        give (bit for bit). Edits through ``weight.data`` bypass the version counter: after one,
        call ``torch.autograd.graph.increment_version(weight)``.
        """
        if self.mode != "scale":
            return 1.0
        weight, freqs = self.weight, self.frequencies
        key = (weight.data_ptr(), weight._version, freqs.data_ptr(), freqs._version)
        cache = self._sigma_cache
        if cache is not None and cache[0]() is weight and cache[1] == key:
            return cache[2]
        self._watch_gradients(weight)
        with torch.no_grad():
            _, var = self.moments()
            value = float(var.mean().sqrt())
        self._sigma_cache = (weakref.ref(weight), key, value)
        return value

    def _watch_gradients(self, weight: Tensor) -> None:
        """Drop the cached σ̄ whenever a backward accumulates a gradient into ``weight`` (an update may follow)."""
        hooked = self._sigma_hook
        if not weight.requires_grad or (hooked is not None and hooked[0]() is weight):
            return
        if hooked is not None:
            hooked[1].remove()
        owner = weakref.ref(self)

        def forget(_: Tensor) -> None:
            module = owner()
            if module is not None:
                module._sigma_cache = None

        self._sigma_hook = (weakref.ref(weight), weight.register_post_accumulate_grad_hook(forget))

    def __getstate__(self) -> dict:
        # The cache holds weak references, which do not pickle; it is rebuilt on the next call.
        state = super().__getstate__()
        state["_sigma_cache"] = state["_sigma_hook"] = None
        return state

    def forward(self, input_ids: Tensor) -> Tensor:
        rows = self.embedding(input_ids)  # [B, T, D]
        if self.mode != "miyato":
            return rows
        # Only the looked-up rows are normalised; E and Var come from the whole table.
        mean, var = self.moments()
        return (rows - mean) / torch.sqrt(var + VARIANCE_EPS)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, uniform={self.uniform}, rows={self.frequencies.numel()}"


class SequenceDropout(nn.Module):
    """Embedding dropout with one mask per example shared over time steps (Miyato et al. 2017).

    ``x [B, T, D]`` → ``x · m / keep`` with ``m ~ Bernoulli(keep)`` of shape ``[B, 1, D]``: whole
    embedding dimensions are dropped for an example, the same ones at every position (the
    reference code's ``noise_shape=(batch, 1, dim)``). Identity in eval mode or with ``p = 0``.
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"embedding dropout p must be in [0, 1), got {p}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.empty(x.shape[0], 1, x.shape[2], dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p}"
