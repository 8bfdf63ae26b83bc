"""Atomic writers, readers of users' text files, and the run-directory convention.

Every file is written to a temporary file in the same directory and moved into place with
``os.replace`` (atomic on POSIX and Windows), so a reader never sees half a file and a killed
process leaves at most a stray ``.tmp-*`` file, never a truncated result. The file gets the mode an
ordinary ``open`` would give it (``0o666`` less the umask), not the ``0o600`` of a temporary file.
A full disk (or quota) is one :class:`DiskFullError` naming the file, after the temporary file is
removed; the file it was to replace is left as it was.

Users' text files (data, vocabularies, JSON) are read in a given encoding; UTF-8 is read as
``utf-8-sig``, so a byte-order mark is not taken as part of the first column. Bytes that do not
decode are one ``ValueError`` naming the file, the line and the byte offset (:func:`decoding`).

A run directory is complete exactly when ``metrics.json``, written last by :func:`finish_run`,
exists (:func:`is_complete`); :mod:`textadv.report.runs` holds the rest of the run-directory contract.
"""

from __future__ import annotations

import bz2
import codecs
import errno
import gzip
import io
import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator, Mapping, Optional, Union

import torch

PathLike = Union[str, os.PathLike]
METRICS_FILE = "metrics.json"
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)  # the errnos of a write that found no room


class DiskFullError(OSError):
    """A write found the disk (or the user's quota) full; its temporary files are already removed."""

    def __init__(self, path: PathLike, cause: OSError):
        super().__init__(cause.errno, cause.strerror or str(cause), str(path))
        self.message = f"disk full while writing {path}: {cause.strerror or cause}; free some space and run again"

    def __str__(self) -> str:
        return self.message


@contextmanager
def disk_full_named(path: PathLike) -> Iterator[None]:
    """Turn an ``OSError`` of a full disk or quota inside the block into a :class:`DiskFullError` naming ``path``."""
    try:
        yield
    except DiskFullError:
        raise
    except OSError as err:
        if err.errno not in DISK_FULL:
            raise
        raise DiskFullError(path, err) from None


def set_default_mode(path: PathLike) -> None:
    """Give ``path`` the mode ``open`` gives a new file (``0o666`` less the umask): writers that build a
    file under a temporary name (``mkstemp``, safetensors) create it ``0o600``, which ``os.replace`` keeps."""
    os.chmod(path, 0o666 & ~_umask())


def _umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux's /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere the only way to read it is to set it, for an instant
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    The file lands with the mode of an ordinary new file (``0o666`` less the umask); a full disk is
    a :class:`DiskFullError` naming ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        with disk_full_named(path):
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
            os.close(fd)
            tmp = Path(name)
            yield tmp
            set_default_mode(tmp)
            os.replace(tmp, path)
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()


def _write_bytes(path: PathLike, data: Union[bytes, memoryview]) -> None:
    """Write all of ``data`` to ``path`` (an ``OSError``, e.g. of a full disk, propagates)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def write_bytes(path: PathLike, data: Union[bytes, memoryview]) -> Path:
    """Write ``data`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        _write_bytes(tmp, data)
    return Path(path)


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
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON atomically (tensors and numpy scalars converted)."""
    return write_text(path, json.dumps(_jsonable(data), indent=2, sort_keys=False) + "\n")


def as_written(value: Any) -> Any:
    """``value`` as :func:`write_json` writes it and :func:`read_json` reads it back (tuples become lists,
    NaN and inf strings), for comparing settings in memory with saved ones."""
    return json.loads(json.dumps(_jsonable(value)))


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
    from safetensors.torch import save

    flat = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    # Serialised in memory and written by write_bytes: safetensors' own writer reports a full disk
    # as a message, not as an errno.
    return write_bytes(path, save(flat, metadata=dict(metadata) if metadata else None))


def save_torch(path: PathLike, obj: Any) -> Path:
    """``torch.save`` atomically (optimiser/scheduler/RNG state: tensors and plain containers only,
    so that ``torch.load(..., weights_only=True)`` reads it back)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)  # in memory: torch's writer turns a full disk into "unexpected pos N vs M"
    return write_bytes(path, buffer.getbuffer())


def is_complete(run_dir: PathLike) -> bool:
    """Whether a run directory holds a finished run (its ``metrics.json`` exists)."""
    return (Path(run_dir) / METRICS_FILE).is_file()


def finish_run(run_dir: PathLike, metrics: Mapping[str, Any]) -> Path:
    """Write ``metrics.json``: the last file of a run, which marks its directory complete."""
    return write_json(Path(run_dir) / METRICS_FILE, metrics)


# ---------------------------------------------------------------------------------------- reading users' files
def text_codec(encoding: str) -> str:
    """The codec that reads text in ``encoding``: UTF-8 as ``utf-8-sig`` (a byte-order mark is skipped).

    An unknown encoding is a ``ValueError`` naming it.
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown text encoding {encoding!r} (e.g. utf-8, latin-1, cp1252)") from None
    return "utf-8-sig" if name == "utf-8" else name


def _open_bytes(path: Path) -> IO[bytes]:
    """``path`` opened for reading bytes, decompressed when it ends in ``.gz`` or ``.bz2``."""
    suffix = path.suffix
    if suffix == ".gz":
        return gzip.open(path, "rb")
    if suffix == ".bz2":
        return bz2.open(path, "rb")
    return open(path, "rb")


def open_text(path: PathLike, encoding: str = "utf-8", *, newline: Optional[str] = None) -> IO[str]:
    """A user's text file (decompressed when it ends in ``.gz``/``.bz2``) opened for reading in ``encoding``.

    Read it inside :func:`decoding`, so bytes that are not in ``encoding`` are one line naming the place.
    """
    return io.TextIOWrapper(_open_bytes(Path(path)), encoding=text_codec(encoding), newline=newline)


def _first_undecodable(path: Path, encoding: str) -> Optional[tuple]:
    """``(line, byte offset, byte)`` of the first byte of ``path`` (decompressed) that does not decode."""
    decoder = codecs.getincrementaldecoder(text_codec(encoding))()
    offset, lines = 0, 0  # bytes and newlines before the current chunk
    with _open_bytes(path) as f:
        while True:
            chunk = f.read(1 << 20)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:
                pending = len(err.object) - len(chunk)  # bytes the decoder held back from the chunk before
                at = offset - pending + err.start
                line = lines + chunk[: max(at - offset, 0)].count(b"\n") + 1
                return line, at, err.object[err.start]
            if not chunk:
                return None
            offset, lines = offset + len(chunk), lines + chunk.count(b"\n")


@contextmanager
def decoding(path: PathLike, encoding: str = "utf-8", hint: str = "") -> Iterator[None]:
    """Turn a ``UnicodeDecodeError`` inside the block into a ``ValueError`` naming ``path``, the line and the
    byte offset of the first byte that is not ``encoding`` text, followed by ``hint`` (how to give another encoding)."""
    try:
        yield
    except UnicodeDecodeError as err:
        where = _first_undecodable(Path(path), encoding)
        place = f"line {where[0]}, byte offset {where[1]}: byte 0x{where[2]:02x}" if where else f"({err.reason})"
        raise ValueError(f"{path}, {place} is not {encoding} text{hint}") from None


def read_json(path: PathLike, what: str = "") -> Any:
    """The JSON value in ``path`` (UTF-8, a byte-order mark allowed); a damaged file is a ``ValueError``
    naming it (``what`` says which file it is, e.g. ``"predictions file "``) and where it breaks."""
    with decoding(path, hint="; JSON files are UTF-8"), open_text(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f"{what}{path} is not valid JSON ({err})") from None
