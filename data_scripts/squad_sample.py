"""Build the small real SQuAD v1.1 file that ships with textadv (textadv/qa/data/squad_sample.json).

Offline users have no SQuAD dev set (no PyPI package ships it), so the README's SQuAD commands run on
this sample: three paragraphs of the SQuAD v1.1 development set (Rajpurkar et al. 2016; Wikipedia text,
CC BY-SA 4.0) and, of their questions, those that Jia & Liang's official adversarial files also cover,
so the sample's questions have official AddSent / AddOneSent variants to compare with.

    python data_scripts/squad_sample.py --dev ../shared/data/squad/dev-v1.1.json \\
        --addsent ../shared/data/squad/sample1k-HCVerifyAll.json --output textadv/qa/data/squad_sample.json
"""

from __future__ import annotations

import argparse
import sys

# (article title, paragraph index in dev-v1.1.json)
PARAGRAPHS = (("Super_Bowl_50", 0), ("Nikola_Tesla", 9), ("Amazon_rainforest", 5))
ATTRIBUTION = {
    "source": "SQuAD v1.1 development set (Rajpurkar, Zhang, Lopyrev & Liang 2016), "
    "https://rajpurkar.github.io/SQuAD-explorer/; questions also covered by Jia & Liang (2017)'s "
    "adversarial files",
    "license": "CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/); paragraphs from the Wikipedia "
    "articles Super Bowl 50, Nikola Tesla and Amazon rainforest, by Wikipedia contributors",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dev", required=True, help="SQuAD v1.1 dev-v1.1.json")
    p.add_argument("--addsent", required=True, help="Jia & Liang's sample1k-HCVerifyAll.json (its original ids)")
    p.add_argument("--output", required=True, help="where to write the sample")
    return p


def main(argv=None) -> int:
    from textadv.qa.squad import original_id, parse_squad, read_squad, to_squad_json
    from textadv.report.io import write_json

    args = build_parser().parse_args(argv)
    covered = {original_id(q.id) for q in read_squad(args.addsent)}
    dev = read_squad(args.dev)
    contexts: dict[str, list[str]] = {}
    for q in dev:
        if q.context not in contexts.setdefault(q.title, []):
            contexts[q.title].append(q.context)
    wanted = {contexts[title][index] for title, index in PARAGRAPHS}
    sample = [q for q in dev if q.context in wanted and q.id in covered]
    obj = to_squad_json(sample)
    parse_squad(obj, "the sample")
    obj.update(ATTRIBUTION)
    write_json(args.output, obj)
    print(f"wrote {len(sample)} questions from {len(wanted)} paragraphs to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
