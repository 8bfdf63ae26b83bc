"""The run directory: one contract for every job (``finetune``, ``image-train``, ``neighbours``, evaluations).

A job touches its run directory only after every check has passed, in this order:

1. :func:`open_run` checks, writing nothing, that the directory can be this job's run directory:
   writable; missing or empty for a new run; with ``overwrite``, empty or recognisably a textadv run
   (:func:`run_job`); with ``resume``, a run of the same job, whose ``config.json`` it reads
   (:attr:`RunDir.saved`). :func:`resumed_settings` then takes the settings from the saved config and
   applies only the changes on the job's allow-list, refusing every other one.
2. The job checks every other input (data, model sources, its checkpoint) still without writing.
3. :meth:`RunDir.start` (main process only) prepares the directory: clears it on ``overwrite``,
   drops ``metrics.json`` on ``resume`` (the run no longer looks complete), and writes ``config.json``.
4. The job writes its checkpoints, plots and report.
5. :meth:`RunDir.finish` writes ``metrics.json`` last: a directory is a complete run exactly when it exists.

``config.json`` is ``{"job": <name>, "format_version": 1, "settings": {...}, ...}`` plus whatever
the job adds (data sizes, the model's shape). Directories written before this layout are still
recognised: a fine-tuning run by its ``config.json`` holding ``settings`` and ``train_config``, an
image run by its ``model_config.json``, a neighbour report by its ``neighbours.json``.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Mapping, Optional

from .io import METRICS_FILE, PathLike, finish_run, read_json_object, write_json

CONFIG_FILE = "config.json"
REPORT_FILE = "report.md"
FORMAT_VERSION = 1
# Files that mark directories written before config.json carried the job's name.
_LEGACY_IMAGE_CONFIG = "model_config.json"
_LEGACY_NEIGHBOURS = "neighbours.json"


def saved_config(run_dir: PathLike) -> Optional[dict]:
    """The run's configuration as ``{"job": ..., "settings": {...}, ...}``, or ``None`` for a non-run.

    Reads ``config.json`` (or the files of a directory written before it named its job); a file
    that is there but unreadable is a ``ValueError`` naming it.
    """
    run_dir = Path(run_dir)
    config, image, neighbours = run_dir / CONFIG_FILE, run_dir / _LEGACY_IMAGE_CONFIG, run_dir / _LEGACY_NEIGHBOURS
    if config.is_file():
        data = read_json_object(config)
        if isinstance(data.get("job"), str) and isinstance(data.get("settings"), dict):
            return data
        if isinstance(data.get("settings"), dict) and "train_config" in data:  # a fine-tuning run of version 0
            return {"job": "finetune", "format_version": 0, **data}
    if image.is_file():
        data = read_json_object(image)
        if isinstance(data.get("model"), dict) and isinstance(data.get("settings"), dict):
            return {"job": "image-train", "format_version": 0, **data}
    if neighbours.is_file() and not config.exists():
        data = read_json_object(neighbours)
        if "sources" in data and "k" in data:
            return {"job": "neighbours", "format_version": 0, "settings": {}}
    return None


def run_job(run_dir: PathLike) -> Optional[str]:
    """The name of the textadv job that wrote ``run_dir`` (``None``: not recognisably a textadv run)."""
    try:
        config = saved_config(run_dir)
    except ValueError:
        return None
    return None if config is None else config["job"]


def check_writable(path: PathLike) -> None:
    """``ValueError`` unless files can be created in ``path`` (or, when it is missing, its nearest parent).

    Probes with an anonymous temporary file, which leaves no trace, so that read-only file systems
    and immutable directories are caught for every user, root included.
    """
    path = Path(path)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"output directory {path}: {existing} exists and is not a directory")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        raise ValueError(
            f"output directory {path} is not writable: cannot create files in {existing} ({err.strerror or err})"
        ) from None


def setting_changes(saved: Mapping[str, Any], given: Mapping[str, Any]) -> list:
    """``[(name, old, new), ...]``: the settings of ``given`` that ``saved`` holds with another value, in
    ``given``'s order. Lists and tuples compare by their items; names ``saved`` lacks are left out."""
    changes = []
    for key, new in given.items():
        if key not in saved:
            continue
        old = saved[key]
        sequences = isinstance(old, (list, tuple)) and isinstance(new, (list, tuple))
        if not (list(old) == list(new) if sequences else old == new):
            changes.append((key, old, new))
    return changes


def describe_changes(changes) -> str:
    """``"name: old -> new; ..."`` for :func:`setting_changes`' list."""
    return "; ".join(f"{key}: {old!r} -> {new!r}" for key, old, new in changes)


def resumed_settings(saved: Mapping[str, Any], given: Optional[Mapping[str, Any]], resumable: Collection[str]) -> dict:
    """The saved settings with the changes in ``given`` that ``resumable`` allows; others are refused.

    ``given`` holds the settings the user gave again; equal values are not changes. Lists and
    tuples compare by their items. Unknown names and every change outside ``resumable`` raise one
    ``ValueError`` naming them all.
    """
    given = dict(given or {})
    for key in given:
        if key not in saved:
            raise ValueError(f"unknown setting {key!r} for this run (known: {', '.join(sorted(saved))})")
    settings = dict(saved)
    refused = []
    for key, old, new in setting_changes(saved, given):
        if key in resumable:
            settings[key] = new
        else:
            refused.append((key, old, new))
    if refused:
        raise ValueError(
            "cannot resume with different settings (" + describe_changes(refused) + "); only "
            f"{', '.join(sorted(resumable))} may change on resume"
        )
    return settings


@dataclass(frozen=True)
class RunDir:
    """A checked run directory (:func:`open_run`); nothing is written until :meth:`start`."""

    path: Path
    job: str
    resume: bool = False
    overwrite: bool = False
    saved: Optional[dict] = field(default=None, repr=False)  # config.json of the run being resumed

    def resumed(self, cls: type, overrides: Optional[Mapping[str, Any]], resumable: Collection[str]) -> Any:
        """The settings (``cls``, with ``from_dict``/``to_dict``) this resumed run continues with: its saved
        ones, with the changes in ``overrides`` that ``resumable`` allows (:func:`resumed_settings`)."""
        saved = cls.from_dict(self.saved["settings"]).to_dict()
        return cls.from_dict(resumed_settings(saved, overrides, resumable))

    def start_on_main(self, accelerator: Any, config: Mapping[str, Any]) -> Path:
        """:meth:`start` on the main process, with the number of ``processes``; every process waits for it."""
        if accelerator.is_main_process:
            self.start({**config, "processes": accelerator.num_processes})
        accelerator.wait_for_everyone()
        return self.path

    def start(self, config: Mapping[str, Any]) -> Path:
        """Prepare the directory and write ``config.json`` (``{"job", "format_version", **config}``).

        Call on the main process only, after every check. ``config`` must hold ``settings``.
        """
        if "settings" not in config:
            raise ValueError("a run's config needs its 'settings'")
        if self.overwrite and self.path.is_dir():
            for child in self.path.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        if self.resume:
            (self.path / METRICS_FILE).unlink(missing_ok=True)
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.path / CONFIG_FILE, {"job": self.job, "format_version": FORMAT_VERSION, **config})
        return self.path

    def finish(self, metrics: Mapping[str, Any]) -> Path:
        """Write ``metrics.json``, the last file of a run (main process only)."""
        return finish_run(self.path, metrics)


def open_run(
    path: Optional[PathLike], job: str, *, resume: bool = False, overwrite: bool = False, flag: str = "--output-dir"
) -> RunDir:
    """Check that ``path`` can be ``job``'s run directory; writes nothing.

    - new run: ``path`` missing or empty;
    - ``overwrite``: ``path`` missing, empty, or a textadv run (of any job); its contents are replaced;
    - ``resume``: ``path`` is a run of ``job``; :attr:`RunDir.saved` is its configuration.

    ``path`` must be writable in every case. Errors are ``ValueError`` naming the directory and the fix;
    ``flag`` is the option that names the directory on the command line.
    """
    if path is None or str(path) == "":
        raise ValueError(f"an output directory is required ({flag} DIR)")
    if resume and overwrite:
        raise ValueError("choose at most one of --resume and --overwrite")
    run_dir = Path(path)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"output directory {run_dir} exists and is not a directory")
    non_empty = run_dir.is_dir() and any(run_dir.iterdir())
    saved = None
    if resume:
        if not non_empty:
            raise ValueError(f"nothing to resume: {run_dir} is missing or empty")
        saved = saved_config(run_dir)
        if saved is None:
            raise ValueError(
                f"nothing to resume: {run_dir / CONFIG_FILE} not found (was {run_dir} written by textadv {job}?)"
            )
        if saved["job"] != job:
            raise ValueError(f"cannot resume {run_dir} with textadv {job}: it is a textadv {saved['job']} run")
    elif non_empty:
        if not overwrite:
            raise ValueError(
                f"output directory {run_dir} is not empty; pass --resume to continue the run in it, "
                f"--overwrite to replace it, or choose another {flag}"
            )
        if run_job(run_dir) is None:
            raise ValueError(
                f"refusing to overwrite {run_dir}: it is not empty and not a textadv run directory "
                f"(no {CONFIG_FILE}); choose another {flag} or empty it yourself"
            )
    check_writable(run_dir)
    return RunDir(run_dir, job, resume=resume, overwrite=overwrite, saved=saved)


def on_main(accelerator: Any, compute):
    """``compute()`` on the main process, its (picklable) result returned on every process.

    For work every process needs the answer of but only one should do (evaluation under attack).
    """
    if accelerator is None or accelerator.num_processes == 1:
        return compute()
    from accelerate.utils import broadcast_object_list

    box = [compute() if accelerator.is_main_process else None]
    broadcast_object_list(box, from_process=0)
    return box[0]


__all__ = [
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "METRICS_FILE",
    "REPORT_FILE",
    "RunDir",
    "check_writable",
    "describe_changes",
    "on_main",
    "open_run",
    "resumed_settings",
    "run_job",
    "saved_config",
    "setting_changes",
]
