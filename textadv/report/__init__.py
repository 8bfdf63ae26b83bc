"""Run outputs: atomic JSON/text/safetensors writers, the run-directory contract, plots, Markdown."""

from .io import (
    METRICS_FILE,
    atomic_path,
    finish_run,
    is_complete,
    read_json,
    save_safetensors,
    save_torch,
    write_json,
    write_text,
)
from .markdown import format_value, metrics_table, table
from .plots import plot_accuracy_vs_eps
from .runs import CONFIG_FILE, REPORT_FILE, RunDir, open_run, resumed_settings, run_job

__all__ = [
    "CONFIG_FILE",
    "METRICS_FILE",
    "REPORT_FILE",
    "RunDir",
    "open_run",
    "resumed_settings",
    "run_job",
    "atomic_path",
    "finish_run",
    "is_complete",
    "read_json",
    "save_safetensors",
    "save_torch",
    "write_json",
    "write_text",
    "format_value",
    "metrics_table",
    "table",
    "plot_accuracy_vs_eps",
]
