"""Atomic writers and the run-directory convention.

Every file is written to a temporary file in the same directory and moved into place with
``os.replace`` (atomic on POSIX and Windows), so a reader never sees half a file and a killed
process leaves at most a stray ``.tmp-*`` file, never a truncated result.

A run directory is complete exactly when ``metrics.json``, written last by :func:`finish_run`,
exists (:func:`is_complete`); :mod:`textadv.report.runs` holds the rest of the run-directory contract.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, Union

import torch

PathLike = Union[str, os.PathLike]
METRICS_FILE = "metrics.json"


@contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _jsonable(value: Any) -> Any:
    """Tensors, numpy scalars and non-finite floats made JSON-safe (NaN/inf become strings)."""
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if hasattr(value, "item") and not isinstance(value, (list, dict)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_text(path: PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON atomically (tensors and numpy scalars converted)."""
    return write_text(path, json.dumps(_jsonable(data), indent=2, sort_keys=False) + "\n")


def read_json(path: PathLike) -> Any:
    """The JSON value in ``path``; a damaged file is a ``ValueError`` naming it."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON ({err})") from None


def read_json_object(path: PathLike) -> dict:
    """The JSON object (``{...}``) in ``path``; ``ValueError`` naming the file when it is not one."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


def save_safetensors(
    path: PathLike, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None
) -> Path:
    """Save a flat dict of tensors as safetensors atomically (tensors made contiguous, moved to CPU)."""
    from safetensors.torch import save_file

    flat = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(flat, str(tmp), metadata=dict(metadata) if metadata else None)
    return Path(path)


def save_torch(path: PathLike, obj: Any) -> Path:
    """``torch.save`` atomically (optimiser/scheduler/RNG state: tensors and plain containers only,
    so that ``torch.load(..., weights_only=True)`` reads it back)."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


def is_complete(run_dir: PathLike) -> bool:
    """Whether a run directory holds a finished run (its ``metrics.json`` exists)."""
    return (Path(run_dir) / METRICS_FILE).is_file()


def finish_run(run_dir: PathLike, metrics: Mapping[str, Any]) -> Path:
    """Write ``metrics.json``: the last file of a run, which marks its directory complete."""
    return write_json(Path(run_dir) / METRICS_FILE, metrics)
