"""Starting N processes, and what a process learns from its launcher's environment.

One process: ``python script.py``. N processes, on CPU (gloo) or on GPUs (NCCL)::

    accelerate launch --multi_gpu --num_processes N script.py ...
    torchrun --nproc_per_node N script.py ...

``accelerate launch --num_processes N`` without ``--multi_gpu`` (and ``--cpu --num_processes N``)
starts ONE process unless the machine has several GPUs: its simple launcher only exports
``MASTER_ADDR``/``MASTER_PORT`` and runs the script once. That process would train alone on full
batches, so :func:`warn_on_launch_mismatch` (run by :class:`~textadv.train.processes.Processes`,
hence by every training run) warns in one line when the environment shows a request for several
processes but the accelerator has fewer.

Output on the main process only: the launcher's rank variables say which process is the main one
before any accelerator exists (:func:`process_rank`), so the command line prints its result line and
warnings once (:func:`main_process_output`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from typing import Any, Iterator, Mapping, Optional

import torch

#: the variables that carry a process's rank and the world size: torchrun (and accelerate's
#: ``--multi_gpu`` launcher, which is torchrun), then Open MPI, MVAPICH and Intel MPI / MPICH
_RANK_VARIABLES = ("RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK", "PMI_RANK")
_SIZE_VARIABLES = ("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMI_SIZE")

MULTI_PROCESS_COMMANDS = "`accelerate launch --multi_gpu --num_processes N` or `torchrun --nproc_per_node N`"


def _first_int(environ: Mapping[str, str], names) -> Optional[int]:
    for name in names:
        value = environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return None


def process_rank(environ: Optional[Mapping[str, str]] = None) -> int:
    """This process's rank as the launcher set it (0 when not launched as one of several)."""
    rank = _first_int(os.environ if environ is None else environ, _RANK_VARIABLES)
    return rank or 0


def is_main_process(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether this is the main process of the launch (rank 0), from the launcher's environment."""
    return process_rank(environ) == 0


def requested_processes(environ: Optional[Mapping[str, str]] = None) -> Optional[int]:
    """How many processes the launch asked for: the world size it exported; ``2``, meaning "several",
    when ``accelerate launch`` without ``--multi_gpu`` started one process for ``--num_processes N``
    (it exports no count, only the rendezvous address it sets when N > 1); ``None`` when nothing says.
    """
    environ = os.environ if environ is None else environ
    size = _first_int(environ, _SIZE_VARIABLES)
    if size is not None:
        return size
    launched_by_accelerate = "ACCELERATE_DYNAMO_BACKEND" in environ or "ACCELERATE_USE_CPU" in environ
    if launched_by_accelerate and "MASTER_ADDR" in environ and "MASTER_PORT" in environ:
        return 2
    return None


def launch_mismatch(processes: int, environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """One line saying that the launch asked for more processes than the run has, else ``None``."""
    environ = os.environ if environ is None else environ
    requested = requested_processes(environ)
    if requested is None or requested <= processes:
        return None
    if _first_int(environ, _SIZE_VARIABLES) is None:
        asked = (
            "`accelerate launch --num_processes N` without --multi_gpu started 1 process "
            "(it does on a machine without several GPUs), which trains alone"
        )
    else:
        asked = (
            f"the launch asked for {requested} processes but this run has {processes}, each training on full batches"
        )
    return f"{asked}; start N processes with {MULTI_PROCESS_COMMANDS}"


def warn_on_launch_mismatch(accelerator: Any, environ: Optional[Mapping[str, str]] = None) -> None:
    """Warn once, on the main process, when the launch asked for more processes than ``accelerator`` has."""
    message = launch_mismatch(accelerator.num_processes, environ)
    if message is not None and is_main_process(environ):
        warnings.warn(message, stacklevel=3)


def warn_on_main(message: str, stacklevel: int = 2) -> None:
    """``warnings.warn`` on the main process only (every process meets the same data)."""
    if is_main_process():
        warnings.warn(message, stacklevel=stacklevel + 1)


@contextlib.contextmanager
def main_process_output() -> Iterator[None]:
    """Inside: standard output and warnings only on the main process; other processes stay silent.

    Errors are the caller's to print (a process may meet one alone).
    """
    if is_main_process():
        yield
        return
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            sys.stdout.flush()


def leave_process_group() -> None:
    """Leave the process group, if this process joined one, before it exits.

    A gloo process that exits while its peer still tears the group down may abort ("terminate called
    without an active exception"), failing a run that finished; NCCL asks for the same.
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def default_accelerator():
    """An ``Accelerator`` that joins a torchrun / ``accelerate launch`` process group on any machine.

    Without CUDA, accelerate only sets up the gloo group when told it runs on CPU; a plain
    ``Accelerator()`` would leave every process training alone on full batches.
    """
    from accelerate import Accelerator

    return Accelerator(cpu=not torch.cuda.is_available())


__all__ = [
    "MULTI_PROCESS_COMMANDS",
    "default_accelerator",
    "is_main_process",
    "launch_mismatch",
    "leave_process_group",
    "main_process_output",
    "process_rank",
    "requested_processes",
    "warn_on_launch_mismatch",
    "warn_on_main",
]
