"""What the fine-tuning job writes after training: the neighbour table, the accuracy plot and ``report.md``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

from ..report import REPORT_FILE, format_value, plot_accuracy_vs_eps, table, write_json, write_text
from .finetune_settings import FinetuneConfig

PLOT_FILE = "accuracy_vs_eps.png"
NEIGHBOURS_FILE = "neighbours"


def neighbour_comparison(model_dir: Path, words: Sequence[str], k: int):
    """The ``k`` nearest vocabulary words (cosine) to each of ``words`` in a saved model's embedding.

    The embedding-neighbour analysis (:mod:`textadv.analysis`) on the model directory, in the space
    the model was trained in (Miyato-normalised for ``normalization="miyato"``, raw otherwise).
    """
    from ..analysis.compare import compare
    from ..analysis.sources import checkpoint_table

    source = checkpoint_table(model_dir, name="trained")
    return compare([source], list(words), min(k, len(source.vocab) - 1))


def neighbour_rows(comparison) -> List[dict]:
    """``[{word, label, neighbours: [{word, cosine}]}]`` per query word (``neighbours.json``)."""
    return [
        {"word": q.word, "label": q.label, "neighbours": [{"word": n.word, "cosine": n.cosine} for n in q.neighbours]}
        for (q,) in comparison.neighbours
    ]


def write_neighbours(run_dir: Path, model_dir: Path, config: FinetuneConfig) -> Optional[str]:
    """``neighbours.json`` and ``neighbours.md`` of the trained embedding; returns the Markdown (``None``: no words)."""
    from ..analysis.report import to_markdown

    if not config.neighbour_words:
        return None
    comparison = neighbour_comparison(model_dir, config.neighbour_words, config.neighbour_k)
    space = comparison.sources[0].space
    markdown = to_markdown(comparison)
    write_json(
        run_dir / f"{NEIGHBOURS_FILE}.json", {"k": comparison.k, "space": space, "words": neighbour_rows(comparison)}
    )
    write_text(run_dir / f"{NEIGHBOURS_FILE}.md", markdown)
    return markdown


def plot_accuracy(run_dir: Path, config: FinetuneConfig, test_metrics: dict) -> None:
    """Test accuracy under FGM and PGD against ε (``accuracy_vs_eps.png``), when there is an attacked ε."""
    if "fgm_accuracy" not in test_metrics:
        return
    clean = test_metrics["clean_accuracy"]
    curves = {
        name: {0.0: clean, **{float(e): a for e, a in test_metrics[f"{key}_accuracy"].items()}}
        for name, key in (("FGM", "fgm"), (f"PGD-{config.pgd_steps}", "pgd"))
    }
    unit = "× σ̄" if config.normalization == "scale" else config.normalization
    plot_accuracy_vs_eps(
        curves, run_dir / PLOT_FILE, title=f"--adv {config.adv}, {config.model}", xlabel=f"ε (ℓ2, {unit})"
    )


def report_markdown(config: FinetuneConfig, metrics: dict, neighbours_md: Optional[str]) -> str:
    """``report.md``: settings, test accuracy (clean, FGM, PGD), notes about the data, the neighbour table."""
    train, test = metrics["train"], metrics["test"]
    lines = [f"# textadv finetune: `--adv {config.adv}` on {metrics['data']['source']}", ""]
    lines += [
        f"Model `{config.model}` (normalisation `{config.normalization}`"
        + (", GloVe-initialised" if config.glove else "")
        + f"), seed {config.seed}, "
        f"{train['steps']} steps ({train['epochs_completed']} full epochs), "
        f"{train['seconds']:.0f} s of training.",
        "",
    ]
    lines += [
        "## Test split",
        "",
        f"Clean accuracy **{test['clean_accuracy']:.4f}** (error {100 * test['clean_error']:.2f}%) "
        f"on {metrics['data']['test_examples']} held-out examples.",
        "",
    ]
    if "fgm_accuracy" in test:
        rows = [
            {
                "ε (ℓ2)": e,
                "FGM accuracy": test["fgm_accuracy"][e],
                "PGD-%d accuracy" % config.pgd_steps: test["pgd_accuracy"][e],
            }
            for e in test["fgm_accuracy"]
        ]
        scale = config.normalization == "scale"
        unit = " (ε in units of σ̄, the embeddings' frequency-weighted spread)" if scale else ""
        lines += [
            f"Accuracy under embedding-space attacks on the whole sequence of each example{unit}:",
            "",
            table(rows),
            f"![accuracy vs ε]({PLOT_FILE})",
            "",
        ]
    if metrics.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in metrics["notes"]] + [""]
    if neighbours_md:
        # The neighbour report's own title becomes a section of this one.
        lines += [
            "## Embedding neighbours",
            "",
            neighbours_md.replace("# Embedding neighbours\n", "", 1).replace("\n## ", "\n### "),
            "",
        ]
    settings = [
        {"setting": k, "value": " ".join(map(str, v)) if isinstance(v, (list, tuple)) else format_value(v)}
        for k, v in config.to_dict().items()
    ]
    lines += ["## Settings", "", table(settings), ""]
    return "\n".join(lines)


def write_report(run_dir: Path, config: FinetuneConfig, metrics: dict, neighbours_md: Optional[str]) -> Path:
    return write_text(run_dir / REPORT_FILE, report_markdown(config, metrics, neighbours_md))
