"""Command-line flags derived from a job's settings dataclass: a new setting is one field.

A field declared with :func:`setting` carries its help text (and optionally ``choices``, the flag
``group``, a ``default_help`` for defaults that depend on other settings, and whether a resumed run
may change it) in ``dataclasses.field`` metadata. :func:`add_setting_flags` turns every field into a
flag (``--max-steps`` for ``max_steps``) whose type comes from the annotation:

- ``bool`` and ``Optional[bool]``: ``--x`` / ``--no-x``;
- ``int``, ``float``, ``str`` (optional or not): one value;
- ``Tuple[T, ...]``: one or more values (``nargs="*"`` with ``allow_empty``); ``Tuple[T, T]``: exactly two.

Flags the user does not give stay out of the namespace (``argparse.SUPPRESS``), so that
:func:`given_settings` returns exactly what was given: a new run fills the rest from the dataclass's
defaults and ``--resume`` from the saved run. The help still shows every real default.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any, Callable, Optional, Sequence, Tuple


def setting(
    default: Any,
    help: str,
    *,
    choices: Optional[Sequence[Any]] = None,
    group: Optional[str] = None,
    default_help: Optional[str] = None,
    resumable: bool = False,
    allow_empty: bool = False,
    metavar: Optional[str] = None,
) -> Any:
    """A settings field with the metadata its flag is built from (see the module docstring).

    ``resumable``: a resumed run may change it (budget, evaluation, logging); every other setting is
    part of the training trajectory and must stay as saved.
    """
    metadata = {
        "help": help,
        "choices": tuple(choices) if choices is not None else None,
        "group": group,
        "default_help": default_help,
        "resumable": resumable,
        "allow_empty": allow_empty,
        "metavar": metavar,
    }
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple as the default of a sequence setting (settings are frozen)")
    return dataclasses.field(default=default, metadata=metadata)


def resumable_settings(cls: type) -> Tuple[str, ...]:
    """The one allow-list of a job: the names of the settings a resumed run may change."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("resumable"))


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _unwrap_optional(tp: Any) -> Any:
    if typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return " ".join(map(str, value)) if value else "none"
    return str(value)


def add_setting_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """One flag per field of the settings dataclass ``cls``, in groups, each absent unless given."""
    hints = typing.get_type_hints(cls)
    groups: dict = {}
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if "help" not in meta:
            raise TypeError(f"{cls.__name__}.{f.name} is not declared with setting(...): it has no help for its flag")
        group_name = meta["group"] or "settings"
        if group_name not in groups:
            groups[group_name] = parser.add_argument_group(group_name)
        group = groups[group_name]
        tp = _unwrap_optional(hints[f.name])
        default = meta["default_help"] if meta["default_help"] is not None else _show(f.default)
        kwargs: dict = {"default": argparse.SUPPRESS, "help": f"{meta['help']} (default {default})"}
        if meta["metavar"]:
            kwargs["metavar"] = meta["metavar"]
        if tp is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
            kwargs.pop("metavar", None)
        elif typing.get_origin(tp) is tuple:
            items = typing.get_args(tp)
            kwargs["type"] = items[0]
            kwargs["nargs"] = ("*" if meta["allow_empty"] else "+") if items[-1] is Ellipsis else len(items)
        else:
            kwargs["type"] = tp
        if meta["choices"] is not None:
            kwargs["choices"] = meta["choices"]
        group.add_argument(flag_name(f.name), dest=f.name, **kwargs)


def given_settings(args: argparse.Namespace, cls: type) -> dict:
    """The settings of ``cls`` that the user gave on the command line (sequences as tuples)."""
    out = {}
    for f in dataclasses.fields(cls):
        if hasattr(args, f.name):
            value = getattr(args, f.name)
            out[f.name] = tuple(value) if isinstance(value, list) else value
    return out


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """``--output-dir``, ``--resume [DIR]`` and ``--overwrite``: the run-directory flags of every training job."""
    g = parser.add_argument_group("run directory")
    g.add_argument("--output-dir", default=None, help="the run directory (must be missing or empty unless --overwrite)")
    g.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=None,
        metavar="DIR",
        help="continue the (killed or finished) run in DIR, or in --output-dir, with its saved settings; "
        "only the budget and the evaluation flags may change",
    )
    g.add_argument(
        "--overwrite",
        action="store_true",
        default=False,
        help="replace the contents of --output-dir (only a textadv run directory, or an empty one)",
    )


def run_dir_of(args: argparse.Namespace) -> Tuple[Optional[str], bool]:
    """``(directory, resume)`` from the flags of :func:`add_run_flags`; ``ValueError`` when they disagree."""
    resume = args.resume
    if resume is None:
        return args.output_dir, False
    if resume is True:
        if not args.output_dir:
            raise ValueError("--resume needs the run directory: --resume DIR or --resume --output-dir DIR")
        return args.output_dir, True
    if args.output_dir and args.output_dir != resume:
        raise ValueError("--resume DIR continues the run in DIR; drop --output-dir or give the same directory")
    return resume, True


def run_job(args: argparse.Namespace, cls: type, job: Callable[..., Any]) -> Any:
    """Run ``job`` with the command line's settings of ``cls``: a new run (``--output-dir``, ``--overwrite``),
    or a resumed one (``--resume``) whose saved settings the given flags may only change where allowed."""
    settings = given_settings(args, cls)
    output_dir, resume = run_dir_of(args)
    if resume:
        return job(output_dir=output_dir, resume=True, overrides=settings)
    return job(cls(**settings), output_dir, overwrite=args.overwrite)
