"""Run outputs: atomic JSON/text/safetensors writers, the run-directory convention, plots, Markdown."""
from .io import (
    METRICS_FILE, atomic_path, finish_run, is_complete, prepare_run_dir, read_json, save_safetensors, save_torch,
    write_json, write_text,
)
from .markdown import format_value, metrics_table, table
from .plots import plot_accuracy_vs_eps

__all__ = [
    "METRICS_FILE", "atomic_path", "finish_run", "is_complete", "prepare_run_dir", "read_json", "save_safetensors",
    "save_torch", "write_json", "write_text", "format_value", "metrics_table", "table", "plot_accuracy_vs_eps",
]
