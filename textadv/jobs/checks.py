"""Range checks of a job's settings dataclass, each failing with one line that names the flag.

The settings classes (:mod:`textadv.jobs.finetune_settings`, :mod:`textadv.jobs.image_settings`)
list the fields that share a rule in one call, so that checking one more setting under a rule is
one more name, and a new rule one more call::

    check_at_least(self, "batch_size", "epochs")                  # --batch-size must be >= 1, got 0
    check_at_least(self, "max_steps", optional=True)              # None (not set) passes
    check_finite(self, "epsilon", "xi")                           # --xi must be a finite number >= 0, got nan
    check_all_finite(self)                                        # --vat-xi must be a finite number, got inf
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .flags import flag_name


def check_at_least(settings: Any, *names: str, minimum: int = 1, optional: bool = False) -> None:
    """``ValueError`` "--name must be >= minimum, got value" for the first named setting below ``minimum``.

    ``optional``: a setting left at ``None`` passes.
    """
    for name in names:
        value = getattr(settings, name)
        if optional and value is None:
            continue
        if value < minimum:
            raise ValueError(f"{flag_name(name)} must be >= {minimum}, got {value}")


def check_finite(settings: Any, *names: str, minimum: float = 0, optional: bool = False) -> None:
    """``ValueError`` "--name must be a finite number >= minimum, got value" for the first named setting
    that is not a number, not finite (NaN, ±inf) or below ``minimum``.

    ``optional``: a setting left at ``None`` passes.
    """
    for name in names:
        value = getattr(settings, name)
        if optional and value is None:
            continue
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= minimum):
            raise ValueError(f"{flag_name(name)} must be a finite number >= {minimum:g}, got {value}")


def check_all_finite(settings: Any) -> None:
    """``ValueError`` "--name must be a finite number, got value" for the first float setting (or float in a
    sequence setting) that is NaN or ±inf.

    Every field is looked at, so a new float setting is covered without a name of its own: an infinite
    step size or ξ would otherwise train on NaN.
    """
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        for item in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(item, float) and not math.isfinite(item):
                shown = " ".join(map(str, value)) if isinstance(value, (tuple, list)) else value
                raise ValueError(f"{flag_name(f.name)} must be a finite number, got {shown}")


def check_data_selection(settings: Any) -> None:
    """The text jobs' shared data flags: ``--unlabeled-from-rest`` needs the ``--train-limit`` it takes the rest of."""
    if settings.unlabeled_from_rest and settings.train_limit is None:
        raise ValueError("--unlabeled-from-rest needs --train-limit (the labelled subset whose rest is unlabeled)")
