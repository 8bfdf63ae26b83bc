"""Accuracy-versus-ε plots (matplotlib, Agg backend: no display needed)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from .io import PathLike, atomic_path


def plot_accuracy_vs_eps(curves: Mapping[str, Mapping[float, float]], path: PathLike, *, title: str = "", xlabel: str = "ε") -> Path:
    """One line per curve (``{label: {ε: accuracy}}``, e.g. FGSM and PGD, or several checkpoints), saved as PNG atomically."""
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
    if title:
        ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)
