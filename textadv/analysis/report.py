"""Neighbour reports: Markdown and HTML tables, CSV and JSON for machines, a rank plot.

One :class:`~textadv.analysis.compare.Comparison` is laid out once as titled tables
(:func:`report_tables`) and rendered as Markdown or HTML from that single layout; the CSV files
are long-format (one row per source × query × neighbour), the JSON holds the whole comparison.
The plot shows, for each named pair, the rank of the second word among the neighbours of the
first in every source (log scale), the view of Miyato et al.'s Table 3 (PAPERS.md §7).
All files are written atomically (:mod:`textadv.report.io`).
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import os
from pathlib import Path
from typing import Optional, Union

from ..report.io import atomic_path, write_json, write_text
from ..report.markdown import table as markdown_table
from .compare import Comparison

PathLike = Union[str, os.PathLike]


def _cos(value: Optional[float]) -> str:
    return "" if value is None else f"{value:.3f}"


def report_tables(comparison: Comparison) -> list:
    """``[(title, columns, rows)]``: one neighbour table per query word, then pairs, then antonyms.

    Neighbour tables put the sources side by side: a column with the neighbour and one with its
    cosine per source; the column header carries the query's label in that source (marking a mean
    of word pieces or an unknown word).
    """
    tables = []
    for word, per_source in zip(comparison.words, comparison.neighbours):
        columns = ["#"]
        for qn in per_source:
            columns += [f"{qn.source}: {qn.label}", f"{qn.source} cosine"]
        rows = []
        for r in range(comparison.k):
            row = {"#": str(r + 1)}
            for qn in per_source:
                n = qn.neighbours[r] if r < len(qn.neighbours) else None
                row[f"{qn.source}: {qn.label}"] = n.word if n else "—"
                row[f"{qn.source} cosine"] = _cos(n.cosine) if n else ""
            rows.append(row)
        tables.append((f"Neighbours of “{word}” (top {comparison.k}, cosine)", columns, rows))
    if comparison.pairs:
        columns = ["pair"]
        for s in comparison.sources:
            columns += [f"{s.name} rank", f"{s.name} cosine"]
        rows = []
        for per_source in comparison.pairs:
            first = per_source[0]
            row = {"pair": f"{first.word} → {first.other}"}
            for p in per_source:
                row[f"{p.source} rank"] = str(p.rank) if p.rank is not None else f"— ({p.note})"
                row[f"{p.source} cosine"] = _cos(p.cosine)
            rows.append(row)
        tables.append(("Rank of the second word among the neighbours of the first", columns, rows))
    if comparison.antonyms:
        columns = ["source", "k", "antonym pairs", "queries", "antonym in top-k", "intrusion rate", "examples"]
        rows = [
            {
                "source": a.source,
                "k": str(a.k),
                "antonym pairs": str(a.pairs),
                "queries": str(a.queries),
                "antonym in top-k": str(a.hits),
                "intrusion rate": f"{a.rate:.3f}",
                "examples": ", ".join(f"{w}→{o} ({r})" for w, o, r in a.intruders[:5]),
            }
            for a in comparison.antonyms
        ]
        tables.append(("WordNet antonym intrusion rate (both directions of each pair)", columns, rows))
    return tables


def _sources_lines(comparison: Comparison) -> list:
    return [
        f"{s.name}: {s.kind}, {s.space} embeddings, {s.vocab_size:,} × {s.dim} ({s.source})" for s in comparison.sources
    ]


def to_markdown(comparison: Comparison) -> str:
    parts = ["# Embedding neighbours", "", "Sources:", ""]
    parts += [f"- {line}" for line in _sources_lines(comparison)]
    parts += ["", _order_note(comparison), ""]
    for title, columns, rows in report_tables(comparison):
        parts += [f"## {title}", "", markdown_table(rows, columns)]
    return "\n".join(parts)


def to_html(comparison: Comparison) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"><title>Embedding neighbours</title>',
        "<style>body{font-family:sans-serif}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #bbb;padding:2px 8px}td.n{text-align:right}</style></head><body>",
        "<h1>Embedding neighbours</h1>",
        "<ul>",
    ]
    parts += [f"<li>{e(line)}</li>" for line in _sources_lines(comparison)]
    parts += ["</ul>", f"<p>{e(_order_note(comparison))}</p>"]
    for title, columns, rows in report_tables(comparison):
        parts.append(f"<h2>{e(title)}</h2><table><tr>" + "".join(f"<th>{e(c)}</th>" for c in columns) + "</tr>")
        for row in rows:
            cells = "".join(
                f'<td class="n">{e(row[c])}</td>' if "cosine" in c or c == "#" else f"<td>{e(row[c])}</td>"
                for c in columns
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _order_note(comparison: Comparison) -> str:
    own = "the query word itself excluded" if comparison.exclude_self else "the query word itself included"
    return (
        f"Exact cosine top-{comparison.k} over all vocabulary rows ({own}); equal cosines are ordered by "
        "lower row index. Ranks are 1-based in the same order. A word that is not a vocabulary row is "
        "the mean of its word pieces, marked [mean of N pieces]."
    )


def _csv(header: list, rows: list) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def neighbours_csv(comparison: Comparison) -> str:
    """``source,query,query_label,status,rank,neighbour,row,cosine``; an unknown word has one row with no neighbour."""
    rows = []
    for per_source in comparison.neighbours:
        for qn in per_source:
            if not qn.neighbours:
                rows.append([qn.source, qn.word, qn.label, qn.status, "", "", "", ""])
            for r, n in enumerate(qn.neighbours, start=1):
                rows.append([qn.source, qn.word, qn.label, qn.status, r, n.word, n.row, repr(n.cosine)])
    return _csv(["source", "query", "query_label", "status", "rank", "neighbour", "row", "cosine"], rows)


def pairs_csv(comparison: Comparison) -> str:
    rows = [
        [
            p.source,
            p.word,
            p.other,
            "" if p.rank is None else p.rank,
            "" if p.cosine is None else repr(p.cosine),
            p.note,
        ]
        for per_source in comparison.pairs
        for p in per_source
    ]
    return _csv(["source", "word", "other", "rank", "cosine", "note"], rows)


def antonyms_csv(comparison: Comparison) -> str:
    rows = [[a.source, a.k, a.pairs, a.queries, a.hits, repr(a.rate)] for a in comparison.antonyms]
    return _csv(["source", "k", "pairs", "queries", "hits", "rate"], rows)


def plot_pair_ranks(comparison: Comparison, path: PathLike) -> Path:
    """Rank of each named pair's second word per source (log-scale rank axis), saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    if not comparison.pairs:
        raise ValueError("no named pairs to plot; pass pairs such as good:bad")
    names = [s.name for s in comparison.sources]
    fig, ax = plt.subplots(figsize=(max(5.5, 1.4 * len(names) + 2), 3.8))
    try:
        for per_source in comparison.pairs:
            xs = [i for i, p in enumerate(per_source) if p.rank is not None]
            ys = [per_source[i].rank for i in xs]
            ax.plot(xs, ys, marker="o", label=f"{per_source[0].word} → {per_source[0].other}")
            for x, y in zip(xs, ys):
                ax.annotate(str(y), (x, y), textcoords="offset points", xytext=(6, 2), fontsize="small")
        ax.set_yscale("log")
        ax.invert_yaxis()  # rank 1 (closest) at the top
        ax.set_xticks(range(len(names)), names, rotation=20 if len(names) > 3 else 0)
        ax.set_xlim(-0.5, len(names) - 0.5)
        ax.set_ylabel("rank (log scale)")
        ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.set_title(f"Rank of OTHER among the neighbours of WORD (dashed: k = {comparison.k})", fontsize="medium")
        ax.axhline(comparison.k, color="grey", linestyle="--", linewidth=0.8)
        ax.grid(True, which="both", axis="y", alpha=0.3)
        ax.legend(fontsize="small")
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=120)
    finally:
        plt.close(fig)
    return Path(path)


def to_json(comparison: Comparison) -> dict:
    return dataclasses.asdict(comparison)


def write_report(comparison: Comparison, output_dir: PathLike) -> dict:
    """Write the report files into ``output_dir``; returns ``{kind: path}``.

    Always ``neighbours.md``, ``neighbours.html``, ``neighbours.csv``, ``neighbours.json``; with named
    pairs also ``pairs.csv`` and ``pair_ranks.png``; with antonym rates ``antonyms.csv``.
    """
    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "markdown": write_text(out / "neighbours.md", to_markdown(comparison)),
        "html": write_text(out / "neighbours.html", to_html(comparison)),
        "csv": write_text(out / "neighbours.csv", neighbours_csv(comparison)),
        "json": write_json(out / "neighbours.json", to_json(comparison)),
    }
    if comparison.pairs:
        written["pairs_csv"] = write_text(out / "pairs.csv", pairs_csv(comparison))
        written["plot"] = plot_pair_ranks(comparison, out / "pair_ranks.png")
    if comparison.antonyms:
        written["antonyms_csv"] = write_text(out / "antonyms.csv", antonyms_csv(comparison))
    return written
