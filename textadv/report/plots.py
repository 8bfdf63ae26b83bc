"""Accuracy-versus-ε plots and training curves (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

from .io import PathLike, atomic_path


def plot_accuracy_vs_eps(
    curves: Mapping[str, Mapping[float, float]], path: PathLike, *, title: str = "", xlabel: str = "ε"
) -> Path:
    """One line per curve (``{label: {ε: accuracy}}``, e.g. FGSM and PGD, or several checkpoints).

    Saved as PNG atomically.
    """
    if not curves:
        raise ValueError("curves must hold at least one {eps: accuracy} mapping")
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.5), dpi=120)
    ax = fig.add_subplot()
    for label, points in curves.items():
        eps = sorted(float(e) for e in points)
        ax.plot(eps, [points[e] if e in points else points[str(e)] for e in eps], marker="o", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, ax, path, title)


def plot_grouped_bars(
    groups: Mapping[str, Mapping[str, float]],
    path: PathLike,
    *,
    ylabel: str = "",
    title: str = "",
    ymax: float | None = None,
) -> Path:
    """Grouped bars, one group per key of ``groups`` and one bar per inner key (``{group: {bar: value}}``,
    e.g. ``{"EM": {"original": 71.2, "AddSent": 40.3}, "F1": {...}}``), each bar labelled with its value;
    saved as PNG atomically. Missing values (absent or NaN) leave a gap."""
    if not groups or not any(groups.values()):
        raise ValueError("groups must hold at least one {bar: value} mapping")
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    bars = list(dict.fromkeys(b for inner in groups.values() for b in inner))
    width = 0.8 / len(bars)
    fig = Figure(figsize=(max(5, 1.2 * len(groups) * max(1, len(bars) / 2)), 3.5), dpi=120)
    ax = fig.add_subplot()
    for j, bar in enumerate(bars):
        xs, ys = [], []
        for i, inner in enumerate(groups.values()):
            value = inner.get(bar)
            if value is not None and not math.isnan(value):
                xs.append(i - 0.4 + width * (j + 0.5))
                ys.append(float(value))
        drawn = ax.bar(xs, ys, width, label=bar)
        ax.bar_label(drawn, fmt="%.1f", fontsize=7)
    ax.set_xticks(range(len(groups)), list(groups))
    ax.set_ylabel(ylabel)
    if ymax is not None:
        ax.set_ylim(0, ymax)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, ax, path, title)


def plot_curves(
    curves: Mapping[str, Mapping[float, float]],
    path: PathLike,
    *,
    xlabel: str = "step",
    ylabel: str = "",
    title: str = "",
    log_y: bool = False,
) -> Path:
    """One line per curve (``{label: {x: y}}``, e.g. perplexity against the training step), saved as PNG atomically."""
    if not any(curves.values()):
        raise ValueError("curves must hold at least one {x: y} point")
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.5), dpi=120)
    ax = fig.add_subplot()
    for label, points in curves.items():
        xs = sorted(points)
        ax.plot(xs, [points[x] for x in xs], marker="o" if len(xs) < 30 else None, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, ax, path, title)


def _save(fig, ax, path: PathLike, title: str) -> Path:
    """Title, tight layout and an atomic PNG write: the last steps of every plot here."""
    if title:
        ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)
