"""Build the vocabulary / word-frequency file of a dataset (Miyato normalisation's fⱼ, PAPERS.md §7).

Frequencies are counted on the training split plus the unlabeled text (never on validation/test).

    # LSTM vocabulary: token<TAB>count per row (<pad> = 0, <unk> = 1)
    python data_scripts/build_vocab.py --dataset rotten_tomatoes --output runs/rt_vocab.tsv
    # counts of a Hugging Face tokenizer's ids, one per embedding row
    python data_scripts/build_vocab.py --dataset rotten_tomatoes --tokenizer minilm --output runs/rt_minilm_freq.txt

``--tokenizer`` takes ``minilm`` (the packaged MiniLM), a hub id or a local directory.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--dataset", default="rotten_tomatoes", help="rotten_tomatoes, a hub id, or a local csv/tsv/jsonl file"
    )
    p.add_argument(
        "--hub", action="store_true", help="load rotten_tomatoes from the hub instead of the packaged corpus"
    )
    p.add_argument("--hub-config", default=None)
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--test-file", default=None)
    p.add_argument("--unlabeled", default="default", help="'default', 'none', or a .txt/.csv/.jsonl file")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the train/validation/test split (default 0)")
    p.add_argument(
        "--tokenizer", default="lstm", help="'lstm' (word vocabulary), 'minilm', a hub id or a local directory"
    )
    p.add_argument("--min-count", type=int, default=2, help="LSTM: words seen fewer times map to <unk> (default 2)")
    p.add_argument("--max-size", type=int, default=None, help="LSTM: keep at most this many rows")
    p.add_argument("--output", required=True, help="file to write")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from textadv import text

    try:
        data = text.load_text_classification(
            args.dataset,
            text_column=args.text_column,
            label_column=args.label_column,
            seed=args.split_seed,
            test_file=args.test_file,
            unlabeled=args.unlabeled,
            hub=args.hub,
            hub_config=args.hub_config,
        )
        texts = data.train.texts + data.unlabeled
        if args.tokenizer == "lstm":
            vocab = text.Vocabulary.build(texts, min_count=args.min_count, max_size=args.max_size)
            vocab.save(args.output)
            rows, total, unk = len(vocab), sum(vocab.counts), vocab.counts[text.UNK_ID]
            print(
                f"{rows} rows; {total} word tokens from {len(data.train)} training "
                f"and {len(data.unlabeled)} unlabeled texts; "
                f"<unk> {100 * unk / max(total, 1):.1f}% -> {args.output}"
            )
        else:
            from transformers import AutoTokenizer

            source = str(text.hf.default_hf_model()) if args.tokenizer == "minilm" else args.tokenizer
            tokenizer = AutoTokenizer.from_pretrained(source)
            counts = text.word_frequencies(tokenizer, texts)
            text.save_frequencies(args.output, counts)
            print(f"{counts.numel()} rows, {int((counts > 0).sum())} seen; {int(counts.sum())} tokens -> {args.output}")
    except (ValueError, FileNotFoundError, OSError) as error:
        print(f"build_vocab: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
