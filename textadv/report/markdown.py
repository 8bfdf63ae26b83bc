"""Small Markdown renderers for metrics: a key/value table and a table of rows."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence


def format_value(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}g}" if value == value else "n/a"
    return str(value)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: Sequence[Mapping[str, Any]], columns: Optional[Sequence[str]] = None, *, digits: int = 4) -> str:
    """A Markdown table of ``rows`` (dicts); ``columns`` default to the keys of the first row."""
    if not rows:
        raise ValueError("table needs at least one row")
    columns = list(columns or rows[0].keys())
    lines = ["| " + " | ".join(_escape(str(c)) for c in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_escape(format_value(row.get(c, ""), digits)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def metrics_table(metrics: Mapping[str, Any], *, digits: int = 4, prefix: str = "") -> str:
    """A two-column table of a (nested) metrics dict; nested keys are joined with '/'."""
    rows = []

    def walk(d: Mapping[str, Any], path: str) -> None:
        for k, v in d.items():
            key = f"{path}{k}"
            if isinstance(v, Mapping):
                walk(v, key + "/")
            else:
                rows.append({"metric": key, "value": v})

    walk(metrics, prefix)
    return table(rows, ["metric", "value"], digits=digits)
