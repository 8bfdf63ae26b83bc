"""What a `textadv pretrain-lm` run learned, measured two ways (docs/results/text.md, language-model section).

1. The unigram baseline: the validation perplexity of the vocabulary's word frequencies alone, on the
   same validation windows the job scores (`lm_sequences`, the first word of each window not predicted).
2. A linear probe: logistic regression (scikit-learn, C = 1) on frozen features of the classifier the
   job's `finetune --init-from RUN` would start from, against the same classifier from its seeded random
   initialisation (`--no-glove`, 128-d) and from finetune's default start (GloVe 6B 50d embedding,
   random LSTM; the baseline of a `pretrain-lm --glove` run): the last LSTM state (what the classifier
   reads), the mean LSTM state and the mean normalised embedding, fitted on the training snippets and
   scored on the validation ones.

    OMP_NUM_THREADS=1 python bench/lm_probe.py runs/lm    # the pretrain-lm run directory
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch

from textadv.jobs.finetune import build_model, load_data
from textadv.jobs.finetune_settings import FinetuneConfig
from textadv.jobs.pretrain_lm import lm_sequences
from textadv.report import read_json
from textadv.text import TextCollator, Vocabulary, encode_examples
from textadv.text.vocab import UNK_ID
from textadv.train import Batches


def unigram_perplexity(run_dir: str) -> tuple[float, int, float]:
    """``(perplexity, predicted words, <unk> share)`` of the unigram model on the run's validation windows."""
    from textadv.jobs.pretrain_lm_settings import PretrainLMConfig

    config = PretrainLMConfig.from_dict(read_json(f"{run_dir}/config.json")["settings"]).resolved()
    data = load_data(config)
    vocabulary = Vocabulary.build(data.train.texts + data.unlabeled, min_count=config.min_count)
    p = vocabulary.frequencies() / vocabulary.frequencies().sum()
    windows = lm_sequences(vocabulary, data.validation.texts[: config.validation_limit], config.max_length)
    targets = [t for w in windows for t in w["input_ids"][1:]]
    nll = -sum(math.log(p[t]) for t in targets) / len(targets)
    return math.exp(nll), len(targets), sum(t == UNK_ID for t in targets) / len(targets)


def features(model, encoder, texts, max_length: int) -> np.ndarray:
    """``[N, H + H + D]``: last LSTM state, mean LSTM state, mean normalised embedding (eval mode)."""
    model.eval()
    out = []
    with torch.no_grad():
        for batch in Batches(encode_examples(encoder, texts, None, max_length), 512, collate_fn=TextCollator()):
            x = model.embed(batch["input_ids"])
            states, _ = model.lstm(x)
            last = batch["attention_mask"].sum(1) - 1
            mask = batch["attention_mask"].unsqueeze(-1).float()
            mean_state = (states * mask).sum(1) / mask.sum(1)
            mean_embedding = (x * mask).sum(1) / mask.sum(1)
            out.append(torch.cat([states[torch.arange(len(last)), last], mean_state, mean_embedding], 1))
    return torch.cat(out).numpy()


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a complete textadv pretrain-lm run directory")
    args = parser.parse_args()
    torch.set_num_threads(1)

    ppl, words, unk = unigram_perplexity(args.run_dir)
    lm = read_json(f"{args.run_dir}/metrics.json")["validation_perplexity"]
    print(f"validation perplexity: language model {lm:.1f}, unigram {ppl:.1f} ({words} words, <unk> {unk:.3f})")

    starts = (
        ("language model", FinetuneConfig(init_from=args.run_dir)),
        ("random", FinetuneConfig(glove=False)),
        ("GloVe", FinetuneConfig(glove=True)),
    )
    for name, config in starts:
        config = config.resolved()
        data = load_data(config)
        torch.manual_seed(0)
        model, encoder, _ = build_model(config, data)
        train = features(model, encoder, data.train.texts, config.max_length)
        valid = features(model, encoder, data.validation.texts, config.max_length)
        h = model.lstm.hidden_size
        for part, cols in (
            ("last state", slice(0, h)),
            ("mean state", slice(h, 2 * h)),
            ("mean embedding", slice(2 * h, None)),
        ):
            probe = LogisticRegression(max_iter=3000, C=1.0).fit(train[:, cols], data.train.labels)
            accuracy = probe.score(valid[:, cols], data.validation.labels)
            print(f"probe, {name} start, {part}: validation accuracy {accuracy:.4f}")
    labels = np.asarray(data.validation.labels)
    print(f"majority class: {max(labels.mean(), 1 - labels.mean()):.4f}")


if __name__ == "__main__":
    main()
