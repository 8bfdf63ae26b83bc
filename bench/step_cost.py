"""Cost of one training step of each objective over plain training, against the floor of PAPERS.md §9.

For Miyato's LSTM and the packaged MiniLM, one batch, every objective (``none``, ``random``, ``at``,
``vat``, ``at+vat``) timed side by side in ONE run: a warm-up call each, then ``--repeats`` rounds in
which every objective runs once, in a seeded random order (so load changes hit all of them alike); the median of
each is divided by the median of ``none``. A step here is ``objective.step`` (every forward and
backward of the objective) plus ``zero_grad``; the optimiser update, the same for every objective,
is left out, since §9's floor counts passes. With ``scale`` normalisation (MiniLM) each step still
pays for one ε unit σ̄ (a pass over the whole embedding matrix), as in training: the step's backward
into the embedding drops the cached value (``NormalizedEmbedding.eps_scale``).

§9's floor (F = one forward, full backward ≈ 2F, input-only backward ≈ F): AT 2.0×, VAT 2.7×,
AT+VAT 3.7×; the goals are AT ≤ 2.1× and VAT ≤ 2.8×.

Passes are counted in a separate, untimed call with hooks on one layer of the network body:
forward calls, backward traversals of the layer (one per forward whose graph is backpropagated),
and backward calls that reached the layer's weight (a parameter-gradient hook, once per call).

Where installed, smart-pytorch's and vat-pytorch's ``SMARTLoss`` (one power iteration, KL as the
loss, i.e. VAT with their own ℓ∞-per-token normalisation) run on the same model and batch as
"CE + their regulariser" steps: ``pip install --no-deps -r bench/requirements.txt``.

Inputs are random token ids with full attention masks and random word counts for the normalisation
(timings do not depend on the values). ``--threads`` sets torch's intra-op threads; on a shared
machine read ``uptime`` before trusting absolute times (the ratios are more robust).

    python bench/step_cost.py [--repeats 15] [--threads 2] [--clock wall|cpu] [--models lstm,minilm]

On a busy shared machine, ``--threads 1 --clock cpu`` measures CPU time rather than wall time:
multi-threaded ops stall when a thread is descheduled, which inflates wall times at random.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F

FLOORS = {"random": 2.0, "at": 2.0, "vat": 8 / 3, "at+vat": 11 / 3}  # PAPERS.md §9 (random: like AT without ∇ₓ)
GOALS = {"at": 2.1, "vat": 2.8}
# (forward calls, backward traversals, backward calls reaching the parameters) of the hooked layer
# under §9's accounting: one traversal per forward whose graph is backpropagated; AT's clean backward
# is a call of its own (it yields ∇ₓ), the other terms join one final backward; VAT's power
# iteration is an input-only traversal.
EXPECTED_PASSES = {
    "none": (1, 1, 1),
    "random": (2, 2, 1),
    "at": (2, 2, 2),
    "vat": (3, 3, 1),
    "at+vat": (4, 4, 2),
}
OBJECTIVES = ("none", "random", "at", "vat", "at+vat")
UNCACHED = "(σ̄ per call)"


def lstm_case(batch: int, length: int, vocab: int, emb: int, hidden: int, seed: int):
    from textadv.text import LSTMClassifier, LSTMConfig

    torch.manual_seed(seed)
    counts = torch.randint(1, 1000, (vocab,)).float()
    model = LSTMClassifier(LSTMConfig(vocab, 2, embedding_dim=emb, hidden_size=hidden, dense_size=30), counts)
    ids = torch.randint(2, vocab, (batch, length))
    # hook target: the dense layer after the LSTM sits on every pass's path
    return (
        model,
        ids,
        model.dense,
        model.dense.weight,
        f"LSTM vocab {vocab}, emb {emb}, hidden {hidden}, batch {batch}, T {length}",
    )


def minilm_case(batch: int, length: int, seed: int):
    from textadv.text import HFTextClassifier, load_hf_classifier

    torch.manual_seed(seed)
    hf, tokenizer = load_hf_classifier(None, num_labels=2)
    counts = torch.randint(1, 1000, (tokenizer.vocab_size,)).float()
    model = HFTextClassifier(hf, counts)
    ids = torch.randint(1000, tokenizer.vocab_size, (batch, length))
    query = hf.base_model.encoder.layer[0].attention.self.query
    return model, ids, query, query.weight, f"MiniLM-L6 (packaged), scale normalisation, batch {batch}, T {length}"


def objective_steps(model, batch, eps: float, seed: int) -> Dict[str, Callable[[], None]]:
    from textadv.objectives import build_objective
    from textadv.surfaces import TextSurface

    surface = TextSurface(model)
    steps = {}
    for name in OBJECTIVES:
        objective = build_objective(name, eps=eps)

        def step(objective=objective):
            objective.step(surface, batch, generator=torch.Generator().manual_seed(seed))
            model.zero_grad(set_to_none=True)

        steps[name] = step
    if model.embedding.mode == "scale":
        steps[f"at+vat {UNCACHED}"] = uncached_unit(model, steps["at+vat"])
    steps.update(library_steps(model, batch))
    return steps


def uncached_unit(model, step: Callable[[], None]) -> Callable[[], None]:
    """``step`` with σ̄ recomputed at every ``eps_scale()`` call, as before it was cached: the saving, side by side."""
    from torch.autograd.graph import increment_version

    embedding = model.embedding

    def recompute() -> float:
        increment_version(embedding.weight)  # marks the weight changed, so the cached σ̄ is not used
        return type(embedding).eps_scale(embedding)

    def uncached() -> None:
        embedding.eps_scale = recompute
        try:
            step()
        finally:
            del embedding.eps_scale

    return uncached


def library_steps(model, batch) -> Dict[str, Callable[[], None]]:
    """CE + SMARTLoss (one power iteration, KL) of smart-pytorch and vat-pytorch, where installed."""
    mask, labels = batch["attention_mask"], batch["labels"]
    classify = lambda e: model.classify(e, mask)  # noqa: E731
    losses = {}
    try:
        import smart_pytorch

        losses["smart-pytorch vat"] = smart_pytorch.SMARTLoss(
            eval_fn=classify, loss_fn=smart_pytorch.kl_loss, num_steps=1
        )
    except ImportError:
        print("smart-pytorch not installed: skipped (pip install --no-deps -r bench/requirements.txt)")
    try:
        import vat_pytorch

        class Head(torch.nn.Module):
            def forward(self, e):
                return classify(e)

        losses["vat-pytorch vat"] = vat_pytorch.SMARTLoss(model=Head(), loss_fn=vat_pytorch.kl_loss, num_steps=1)
    except ImportError:
        print("vat-pytorch not installed: skipped (pip install --no-deps -r bench/requirements.txt)")
    steps = {}
    for name, regulariser in losses.items():

        def step(regulariser=regulariser):
            x = model.embed(batch["input_ids"])
            logits = model.classify(x, mask)
            (F.cross_entropy(logits, labels) + regulariser(x, logits)).backward()
            model.zero_grad(set_to_none=True)

        steps[name] = step
    return steps


def count_passes(step: Callable[[], None], layer: torch.nn.Module, weight: torch.Tensor) -> Tuple[int, int, int]:
    """(forward calls, backward calls, backwards that reached ``weight``) of one step, through hooks on ``layer``."""
    counts = [0, 0, 0]

    def on_forward(*_):
        counts[0] += 1

    def on_backward(*_):
        counts[1] += 1

    def on_weight(grad):
        counts[2] += 1
        return grad

    handles = [
        layer.register_forward_hook(on_forward),
        layer.register_full_backward_hook(on_backward),
        weight.register_hook(on_weight),
    ]
    try:
        step()
    finally:
        for h in handles:
            h.remove()
    return tuple(counts)


def measure(
    steps: Dict[str, Callable[[], None]], repeats: int, clock: Callable[[], float] = time.perf_counter
) -> Dict[str, List[float]]:
    """Seconds per step, one entry per round: one warm-up call each, then ``repeats`` interleaved rounds."""
    for step in steps.values():
        step()
    times = {name: [] for name in steps}
    for round_ in range(repeats):
        # A new order every round: no objective always runs first or always follows the same one
        # (running the same step twice in a row, at the seam of reversed rounds, made it faster).
        names = list(steps)
        random.Random(round_).shuffle(names)
        for name in names:
            start = clock()
            steps[name]()
            times[name].append(clock() - start)
    return times


def unit_cost(model, repeats: int, clock: Callable[[], float]) -> Tuple[float, float]:
    """Median seconds of ``eps_scale()`` computed afresh (the weights marked changed) and from the cache."""
    from torch.autograd.graph import increment_version

    fresh, cached = [], []
    for _ in range(repeats):
        increment_version(model.embedding.weight)
        start = clock()
        model.embedding.eps_scale()
        fresh.append(clock() - start)
        start = clock()
        model.embedding.eps_scale()
        cached.append(clock() - start)
    return statistics.median(fresh), statistics.median(cached)


def report(title: str, times: Dict[str, List[float]], passes: Dict[str, tuple]) -> None:
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = medians["none"]
    print(f"\n## {title}")
    print(f"{'objective':<20}{'median ms':>10}{'× none':>8}{'floor':>7}{'goal':>6}   passes F/B/Bparam (§9 expects)")
    for name, t in medians.items():
        base_name = name.removesuffix(f" {UNCACHED}")
        floor = f"{FLOORS[base_name]:.1f}" if base_name in FLOORS else ("2.7" if "vat" in name else "")
        goal = f"{GOALS[name]:.1f}" if name in GOALS else ""
        got = "/".join(map(str, passes[name]))
        want = "/".join(map(str, EXPECTED_PASSES[base_name])) if base_name in EXPECTED_PASSES else "-"
        print(f"{name:<20}{t * 1e3:>10.1f}{t / base:>8.2f}{floor:>7}{goal:>6}   {got} ({want})")
    for name in times:
        if name.endswith(UNCACHED):
            # The two run next to each other in every round: the per-round difference cancels slow load changes.
            base_name = name.removesuffix(f" {UNCACHED}")
            diffs = [a - b for a, b in zip(times[name], times[base_name])]
            print(
                f"{name} minus {base_name}, median of {len(diffs)} per-round differences: "
                f"{statistics.median(diffs) * 1e3:+.1f} ms ({statistics.median(diffs) / base:+.3f}× none)"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="lstm,minilm")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: perf_counter; cpu: this process's CPU time "
        "(with --threads 1, robust to other jobs on a shared machine)",
    )
    parser.add_argument("--eps", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lstm-batch", type=int, default=32)
    parser.add_argument("--lstm-length", type=int, default=100)
    parser.add_argument("--lstm-vocab", type=int, default=20_000)
    parser.add_argument("--lstm-emb", type=int, default=256)
    parser.add_argument("--lstm-hidden", type=int, default=512)
    parser.add_argument("--minilm-batch", type=int, default=16)
    parser.add_argument("--minilm-length", type=int, default=64)
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.threads} threads, {args.clock} clock, "
        f"{args.repeats} interleaved repeats, eps {args.eps}; "
        f"load average {os.getloadavg()[0]:.2f} / {os.getloadavg()[1]:.2f} / {os.getloadavg()[2]:.2f} (1/5/15 min) "
        f"on {os.cpu_count()} cores"
    )
    for kind in args.models.split(","):
        if kind == "lstm":
            model, ids, layer, weight, title = lstm_case(
                args.lstm_batch, args.lstm_length, args.lstm_vocab, args.lstm_emb, args.lstm_hidden, args.seed
            )
        elif kind == "minilm":
            model, ids, layer, weight, title = minilm_case(args.minilm_batch, args.minilm_length, args.seed)
        else:
            parser.error(f"unknown model {kind!r}; choose from lstm, minilm")
        model.train()
        batch = {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "labels": torch.randint(0, 2, (ids.shape[0],)),
        }
        steps = objective_steps(model, batch, args.eps, args.seed)
        passes = {name: count_passes(step, layer, weight) for name, step in steps.items()}
        clock = time.process_time if args.clock == "cpu" else time.perf_counter
        times = measure(steps, args.repeats, clock)
        report(title, times, passes)
        if model.embedding.mode == "scale":
            fresh, cached = unit_cost(model, args.repeats, clock)
            none = statistics.median(times["none"])
            print(
                f"ε unit σ̄: {fresh * 1e3:.1f} ms computed ({fresh / none:.3f}× none), "
                f"{cached * 1e3:.3f} ms from the cache; a step computes it once"
            )
    print(f"\nload average at the end {os.getloadavg()[0]:.2f} / {os.getloadavg()[1]:.2f} / {os.getloadavg()[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
