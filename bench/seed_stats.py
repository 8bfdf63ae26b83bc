"""Per-seed test error of objectives against a baseline, from finished ``textadv finetune`` run directories.

Prints one markdown table: each objective's test error (mean ± sample std, per seed) and its difference
to the baseline: paired by seed (mean ± std, seeds below, paired t and p) and unpaired (Welch t and
p); see :mod:`textadv.report.stats`. A pattern holds ``{seed}``; a seed whose run has no metrics.json
(unfinished) is left out and the table says how many seeds each row has.

    python bench/seed_stats.py 'runs/ft10/none-seed{seed}' \\
        at='runs/ft10/at-eps0.3-seed{seed}' vat='runs/ft10/vat-eps1-seed{seed}' --seeds 0 1 2
    # MiniLM (bench/minilm_objectives.sh names every run ADV-epsEPS-seedSEED, none included):
    python bench/seed_stats.py 'runs/minilm/none-eps3-seed{seed}' at='runs/minilm/at-eps3-seed{seed}' \\
        vat='runs/minilm/vat-eps3-seed{seed}' at+vat='runs/minilm/at+vat-eps3-seed{seed}'

``--metric`` picks another number of metrics.json (dotted path, lower is better; ``test.clean_error`` by
default, printed in %).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from textadv.report import read_json, table
from textadv.report.stats import compare_seeds, comparison_row


def metric_of(run: Path, path: str) -> float:
    """The number at the dotted ``path`` of ``run/metrics.json`` (``textadv.report.read_json``: a damaged file
    is a ``ValueError`` naming it)."""
    value = read_json(run / "metrics.json")
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise ValueError(f"{run / 'metrics.json'} has no {path!r}")
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{run / 'metrics.json'}: {path!r} is {value!r}, not a number")
    return float(value)


def per_seed(pattern: str, seeds, metric: str, scale: float) -> dict:
    if "{seed}" not in pattern:
        raise ValueError(f"the pattern {pattern!r} has no {{seed}}")
    runs = {s: Path(pattern.format(seed=s)) for s in seeds}
    return {s: scale * metric_of(r, metric) for s, r in runs.items() if (r / "metrics.json").exists()}


def main(argv=None) -> int:
    try:
        return _main(argv)
    except ValueError as error:  # a bad pattern or metrics.json, a non-finite value
        print(f"seed_stats.py: error: {error}", file=sys.stderr)
        return 2


def _main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", help="the baseline's run directories, a pattern with {seed}")
    parser.add_argument("objectives", nargs="+", metavar="NAME=PATTERN", help="each objective's run directories")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--metric", default="test.clean_error", help="dotted key of metrics.json, lower is better")
    parser.add_argument("--scale", type=float, default=100.0, help="multiply the metric (100: a fraction in %%)")
    parser.add_argument("--baseline-name", default="none")
    args = parser.parse_args(argv)
    base = per_seed(args.baseline, args.seeds, args.metric, args.scale)
    if not base:
        raise ValueError(f"no finished baseline run matches {args.baseline!r} for seeds {args.seeds}")
    rows = [_row(args.baseline_name, base, None)]
    for spec in args.objectives:
        name, sep, pattern = spec.partition("=")
        if not sep or not name:
            raise ValueError(f"objectives are NAME=PATTERN, got {spec!r}")
        values = per_seed(pattern, args.seeds, args.metric, args.scale)
        if values:
            rows.append(_row(name, values, compare_seeds(values, base)))
        else:
            print(f"{name}: no finished run", file=sys.stderr)
    columns = list(dict.fromkeys(key for row in rows for key in row))  # the baseline row has no difference
    print(table(rows, columns))
    return 0


def _row(name: str, values: dict, comparison) -> dict:
    mean = statistics.mean(values.values())
    row = {
        "objective": name,
        "mean ± std": f"{mean:.2f} ± {statistics.stdev(values.values()):.2f}" if len(values) > 1 else f"{mean:.2f}",
        "seeds": len(values),
        "per seed": " ".join(f"{values[s]:.2f}" for s in sorted(values)),
    }
    if comparison is not None:
        row.update(comparison_row(comparison))
    return row


if __name__ == "__main__":
    sys.exit(main())
