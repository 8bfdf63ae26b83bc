"""Seed statistics for results pages: one objective's per-seed metric against a baseline's.

Every comparison in ``docs/results`` is a handful of seeds (3 to 10) of two training objectives on
the same data. :func:`compare_seeds` gives, for a metric where lower is better (test error):

- mean ± sample standard deviation of each side;
- the **paired** difference (same seed: same initialisation, data order and dropout draws), its mean
  ± sample std, the number of seeds where the objective is below the baseline, and the paired
  t-statistic ``mean(d) / (std(d) / √n)`` with ``n − 1`` degrees of freedom;
- **Welch's** t (unequal variances, unpaired), with the Welch–Satterthwaite degrees of freedom;
- the two-sided p-value of each t (Student's t distribution, :mod:`scipy.stats`).

The t-tests assume roughly normal per-seed errors; with 3 seeds they are a rough guide, which is why
the pages also give every per-seed number. t has the sign of the difference objective − baseline:
negative when the objective is *below* the baseline (an improvement for an error), as the paired
difference column reads.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Mapping, Optional


@dataclass(frozen=True)
class SeedComparison:
    """The objective's seeds against the baseline's (see the module docstring); ``None`` where undefined."""

    mean: float
    std: Optional[float]
    baseline_mean: float
    baseline_std: Optional[float]
    seeds: int
    paired_seeds: int
    paired_mean: Optional[float]  # mean of (objective − baseline) over the seeds both have
    paired_std: Optional[float]
    below: int  # paired seeds where the objective is below the baseline
    paired_t: Optional[float]
    paired_p: Optional[float]
    welch_t: Optional[float]
    welch_df: Optional[float]
    welch_p: Optional[float]


def _std(values) -> Optional[float]:
    return statistics.stdev(values) if len(values) > 1 else None


def _two_sided_p(t: float, df: float) -> float:
    from scipy import stats

    return float(2 * stats.t.sf(abs(t), df))


def compare_seeds(objective: Mapping[int, float], baseline: Mapping[int, float]) -> SeedComparison:
    """Compare ``{seed: metric}`` of an objective with the baseline's (lower is better).

    Raises ``ValueError`` when either side is empty or holds a non-finite value.
    """
    for name, values in (("objective", objective), ("baseline", baseline)):
        if not values:
            raise ValueError(f"the {name} has no seeds")
        bad = {s: v for s, v in values.items() if not math.isfinite(v)}
        if bad:
            raise ValueError(f"the {name} has non-finite values at seeds {sorted(bad)}")
    a, b = list(objective.values()), list(baseline.values())
    diffs = [objective[s] - baseline[s] for s in objective if s in baseline]
    paired_std = _std(diffs)
    paired_t = paired_p = None
    if paired_std is not None and paired_std > 0:
        paired_t = statistics.mean(diffs) / (paired_std / math.sqrt(len(diffs)))
        paired_p = _two_sided_p(paired_t, len(diffs) - 1)
    welch_t = welch_df = welch_p = None
    if len(a) > 1 and len(b) > 1:
        va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
        if va + vb > 0:
            welch_t = (statistics.mean(a) - statistics.mean(b)) / math.sqrt(va + vb)
            welch_df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
            welch_p = _two_sided_p(welch_t, welch_df)
    return SeedComparison(
        mean=statistics.mean(a),
        std=_std(a),
        baseline_mean=statistics.mean(b),
        baseline_std=_std(b),
        seeds=len(a),
        paired_seeds=len(diffs),
        paired_mean=statistics.mean(diffs) if diffs else None,
        paired_std=paired_std,
        below=sum(d < 0 for d in diffs),
        paired_t=paired_t,
        paired_p=paired_p,
        welch_t=welch_t,
        welch_df=welch_df,
        welch_p=welch_p,
    )


def signed(value: Optional[float], digits: int = 2) -> str:
    """``+1.20`` / ``−0.35`` (a true minus sign), ``–`` for ``None``."""
    if value is None:
        return "–"
    return f"{value:+.{digits}f}".replace("-", "−")


def comparison_row(comparison: SeedComparison) -> dict:
    """The columns the results pages print for one objective against the baseline."""
    c = comparison

    def number(value: Optional[float], fmt: str) -> str:
        return "–" if value is None else format(value, fmt)

    return {
        "mean − baseline mean": signed(c.mean - c.baseline_mean),
        "paired difference (mean ± std)": f"{signed(c.paired_mean)} ± {number(c.paired_std, '.2f')}",
        "seeds below the baseline": f"{c.below} / {c.paired_seeds}",
        "paired t (df)": f"{signed(c.paired_t, 1)} ({c.paired_seeds - 1})",
        "paired p": number(c.paired_p, ".3f"),
        "Welch t (df)": f"{signed(c.welch_t, 1)} ({number(c.welch_df, '.1f')})",
        "Welch p": number(c.welch_p, ".3f"),
    }
