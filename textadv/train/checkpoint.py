"""Resumable checkpoints written atomically, with no pickles.

Layout of ``<output_dir>/checkpoint/``::

    model.safetensors    parameters and buffers (tied weights kept once, as safetensors.torch.save_model does)
    optimizer.pt         optimiser state_dict   } torch.save of tensors and plain containers,
    scheduler.pt         scheduler state_dict   } read back with torch.load(weights_only=True)
    rng-<rank>.pt        torch / CUDA / numpy / random RNG states of process <rank>
    state.json           global step, epoch, position in the epoch, the TrainConfig, the history

A checkpoint is built in ``<output_dir>/.checkpoint.tmp`` and swapped in with two renames
(``checkpoint`` → ``.checkpoint.old``, ``.checkpoint.tmp`` → ``checkpoint``), then the old one is
deleted. A process killed at any point leaves either ``checkpoint`` or ``.checkpoint.old`` complete;
:func:`find_checkpoint` picks whichever is. With several processes the output directory must be on
a file system every process sees (each process writes its own RNG file).
"""

from __future__ import annotations

import json
import random
import shutil
import warnings
from pathlib import Path
from typing import Any, Callable, Optional, Tuple

import numpy as np
import torch

from ..report.io import DiskFullError, disk_full_named, save_safetensors, save_torch, write_json

CHECKPOINT = "checkpoint"
_TMP = ".checkpoint.tmp"
_OLD = ".checkpoint.old"
MODEL_FILE = "model.safetensors"
STATE_FILE = "state.json"

Barrier = Callable[[], None]


def rng_state() -> dict:
    """This process's global RNG states as tensors and plain Python values (``weights_only``-safe)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
        },
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def find_checkpoint(output_dir: Path) -> Optional[Path]:
    """The newest complete checkpoint under ``output_dir`` (``checkpoint/`` or a left-over ``.checkpoint.old/``)."""
    for name in (CHECKPOINT, _OLD):
        path = Path(output_dir) / name
        if (path / STATE_FILE).is_file() and (path / MODEL_FILE).is_file():
            return path
    return None


def _unique_tensors(model: torch.nn.Module) -> Tuple[dict, dict]:
    """The state dict with a tensor held under several names (tied weights) kept once, under its first
    name, and the metadata naming the kept tensor of each dropped name (as ``safetensors.torch.save_model``)."""
    tensors, shared, first = {}, {}, {}
    for name, tensor in model.state_dict().items():
        key = (
            tensor.device,
            tensor.untyped_storage().data_ptr(),
            tensor.storage_offset(),
            tensor.shape,
            tensor.stride(),
        )
        if tensor.numel() and key in first:
            shared[name] = first[key]
        else:
            first.setdefault(key, name)
            tensors[name] = tensor
    return tensors, shared


def save_checkpoint(
    output_dir: Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    state: dict,
    rank: int = 0,
    barrier: Barrier = lambda: None,
) -> Path:
    """Write a checkpoint collectively (every process calls this; only rank 0 writes shared files).

    A full disk is a :class:`~textadv.report.io.DiskFullError` naming the file, raised after the
    temporary directory is removed: the previous checkpoint stays the newest complete one.
    """
    output_dir = Path(output_dir)
    tmp, old, final = output_dir / _TMP, output_dir / _OLD, output_dir / CHECKPOINT
    try:
        with disk_full_named(tmp):
            if rank == 0:
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir(parents=True)
            barrier()
            save_torch(tmp / f"rng-{rank}.pt", rng_state())
            barrier()
            if rank == 0:
                tensors, shared = _unique_tensors(model)
                save_safetensors(tmp / MODEL_FILE, tensors, shared)
                save_torch(tmp / "optimizer.pt", optimizer.state_dict())
                save_torch(tmp / "scheduler.pt", scheduler.state_dict())
                # state.json last inside the temporary directory: find_checkpoint requires it.
                write_json(tmp / STATE_FILE, state)
                if final.exists():
                    shutil.rmtree(old, ignore_errors=True)
                    final.replace(old)
                tmp.replace(final)
                shutil.rmtree(old, ignore_errors=True)
    except DiskFullError as err:
        if rank == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        written = Path(err.filename)  # named as the file it was to become, not the temporary one
        raise DiskFullError(final / written.relative_to(tmp) if tmp in written.parents else final, err) from None
    barrier()
    return final


def load_named(path: Path, reader: Callable[[Path], Any]) -> Any:
    """``reader(path)``, with any failure turned into one line naming the file.

    The reader's own message is left out on purpose: torch's advice for a file that does not load
    with ``weights_only=True`` is to load it unsafely, which a damaged checkpoint must never lead to.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:  # a damaged file's warnings are not the user's business
            warnings.simplefilter("always")
            value = reader(path)
    except Exception as err:  # noqa: BLE001 - every way a file can be damaged ends here
        raise ValueError(
            f"checkpoint file {path} cannot be loaded ({type(err).__name__}): it is truncated or corrupt"
        ) from None
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return value


def _read_state(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        state = json.load(f)
    if not isinstance(state, dict) or not {"global_step", "epoch", "position", "config", "history"} <= set(state):
        raise ValueError("not a checkpoint state")
    return state


def check_checkpoint(output_dir: Path, *, rank: int = 0) -> Optional[dict]:
    """Read every file of the checkpoint in ``output_dir`` without applying it; returns its ``state.json``.

    ``None`` when there is no checkpoint yet. A file that does not load is a ``ValueError`` naming
    it, raised before a resumed run touches its directory.
    """
    from safetensors.torch import load_file

    path = find_checkpoint(output_dir)
    if path is None:
        return None
    load_named(path / MODEL_FILE, lambda p: load_file(str(p)))
    for name in ("optimizer.pt", "scheduler.pt", f"rng-{rank}.pt"):
        if name.startswith("rng-") and not (path / name).is_file():
            continue  # written by a run with fewer processes: that process's RNG starts from the seed
        load_named(path / name, lambda p: torch.load(p, map_location="cpu", weights_only=True))
    return load_named(path / STATE_FILE, _read_state)


def load_checkpoint(
    path: Path,
    *,
    model: torch.nn.Module,
    optimizer: Optional[torch.optim.Optimizer] = None,
    scheduler: Any = None,
    rank: int = 0,
    device: torch.device | str = "cpu",
) -> dict:
    """Restore model (and optimiser, scheduler, this process's RNG states); returns ``state.json``."""
    from safetensors.torch import load_model

    path = Path(path)
    # Not through load_named: a strict-load error (another architecture) says which tensors differ.
    load_model(model, str(path / MODEL_FILE), strict=True, device=str(device))
    if optimizer is not None:
        optimizer.load_state_dict(
            load_named(path / "optimizer.pt", lambda p: torch.load(p, map_location=device, weights_only=True))
        )
    if scheduler is not None:
        scheduler.load_state_dict(load_named(path / "scheduler.pt", lambda p: torch.load(p, weights_only=True)))
    rng_file = path / f"rng-{rank}.pt"
    if optimizer is not None and rng_file.is_file():
        set_rng_state(load_named(rng_file, lambda p: torch.load(p, weights_only=True)))
    return load_named(path / STATE_FILE, _read_state)
