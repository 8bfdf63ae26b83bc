"""The ``textadv`` command: thin subcommands that parse arguments and call the library.

Each subcommand lives in ``textadv.commands.<module>`` and exposes ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. Heavy imports (transformers, spaCy) happen
inside ``run`` so that ``textadv --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from typing import Optional, Sequence

COMMANDS = {
    "finetune": "textadv.commands.finetune",
    "image-train": "textadv.commands.image_train",
    "neighbours": "textadv.commands.neighbours",
    "pretrain-lm": "textadv.commands.pretrain_lm",
    "squad-attack": "textadv.commands.squad_attack",
    "squad-eval": "textadv.commands.squad_eval",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="textadv", description="Adversarial robustness for text (and image) models.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)  # a registered command that does not import is a bug: fail
        p = sub.add_parser(
            name, help=module.HELP, description=module.HELP, formatter_class=argparse.ArgumentDefaultsHelpFormatter
        )
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def run_module(module, args: argparse.Namespace, name: str) -> int:
    """Run a subcommand module on parsed arguments, as the ``textadv`` command and the recipes do.

    Bad input (``ValueError``, ``FileNotFoundError``, ``KeyError``), a file the user may not write
    (``PermissionError``) and a full disk or quota (``report.io.DiskFullError``, or any ``OSError``
    with that errno) print one line naming the problem and return 2; warnings about the user's data
    print as one line each. Under a multi-process launch (torchrun, ``accelerate launch``) only the
    main process prints its output and warnings; an error is printed by every process that meets it
    (it may meet it alone).
    """
    from .train.launch import leave_process_group, main_process_output

    def one_line(message, category, filename, lineno, line=None):
        return f"{name}: warning: {message}\n"

    previous, warnings.formatwarning = warnings.formatwarning, one_line
    try:
        with main_process_output():
            code = int(module.run(args) or 0)
        leave_process_group()
        return code
    except (ValueError, FileNotFoundError, KeyError, PermissionError) as err:
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        from .report.io import DISK_FULL  # imported here: the report package loads torch

        if err.errno not in DISK_FULL:
            raise
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = previous


def recipe_main(module, prog: str, argv: Optional[Sequence[str]] = None) -> int:
    """The whole of a ``recipes/`` script: the subcommand's flags, parsed and run by :func:`run_module`."""
    parser = argparse.ArgumentParser(
        prog=prog, description=module.HELP, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    module.add_arguments(parser)
    return run_module(module, parser.parse_args(argv), prog)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    return run_module(args._module, args, f"textadv {args.command}")


if __name__ == "__main__":
    sys.exit(main())
