"""The range checks of the jobs' settings: one line naming the flag and the value, the bound itself allowed."""

import math

import pytest

from textadv.jobs.checks import check_at_least, check_finite
from textadv.jobs.finetune_settings import FinetuneConfig
from textadv.jobs.image_settings import ImageSettings
from textadv.jobs.pretrain_lm_settings import PretrainLMConfig


def finetune(**changes):
    return FinetuneConfig(**changes).resolved()


def pretrain_lm(**changes):
    return PretrainLMConfig(**changes).resolved()


@pytest.mark.parametrize(
    "make, changes, message",
    [
        (finetune, {"epsilon": -1.0}, "--epsilon must be a finite number >= 0, got -1.0"),
        (finetune, {"xi": math.nan}, "--xi must be a finite number >= 0, got nan"),
        (finetune, {"adv_weight": math.inf}, "--adv-weight must be a finite number >= 0, got inf"),
        (finetune, {"adv_weight": "1"}, "--adv-weight must be a finite number >= 0, got 1"),
        (finetune, {"vat_iterations": 0}, "--vat-iterations must be >= 1, got 0"),
        (finetune, {"min_count": -3}, "--min-count must be >= 1, got -3"),
        (finetune, {"max_steps": 0}, "--max-steps must be >= 1, got 0"),
        (finetune, {"unlabeled_batch_size": 0}, "--unlabeled-batch-size must be >= 1, got 0"),
        (finetune, {"max_length": 1}, "--max-length must be >= 2, got 1"),
        (
            finetune,
            {"unlabeled_from_rest": True},
            "--unlabeled-from-rest needs --train-limit (the labelled subset whose rest is unlabeled)",
        ),
        (
            pretrain_lm,
            {"unlabeled_from_rest": True},
            "--unlabeled-from-rest needs --train-limit (the labelled subset whose rest is unlabeled)",
        ),
        (ImageSettings, {"eval_examples": 0}, "--eval-examples must be >= 1, got 0"),
        (ImageSettings, {"pgd_restarts": 0}, "--pgd-restarts must be >= 1, got 0"),
        (ImageSettings, {"hidden": -1}, "--hidden must be >= 1, got -1"),
    ],
)
def test_a_setting_out_of_range_is_one_line_naming_its_flag(make, changes, message):
    with pytest.raises(ValueError) as error:
        make(**changes)
    assert str(error.value) == message


@pytest.mark.parametrize(
    "make, changes",
    [
        (finetune, {"epsilon": 0.0, "adv": "at", "vat_iterations": 1, "min_count": 1, "max_length": 2}),
        (finetune, {"max_steps": None, "train_limit": 1, "test_limit": None}),
        (ImageSettings, {"eval_examples": None, "pgd_restarts": 1, "hidden": 1}),
    ],
)
def test_the_bounds_and_unset_optional_settings_pass(make, changes):
    settings = make(**changes)
    assert all(getattr(settings, name) == value for name, value in changes.items())


def test_the_checks_take_their_bound():
    class S:
        lr = 1e-4
        steps = 3
        limit = None

    check_at_least(S, "steps", minimum=3)
    check_at_least(S, "limit", optional=True)
    check_finite(S, "lr", minimum=1e-4)
    check_finite(S, "limit", optional=True)
    with pytest.raises(ValueError, match="^--steps must be >= 4, got 3$"):
        check_at_least(S, "steps", minimum=4)
    with pytest.raises(ValueError, match=r"^--lr must be a finite number >= 0.001, got 0.0001$"):
        check_finite(S, "lr", minimum=1e-3)
    with pytest.raises(ValueError, match="^--limit must be a finite number >= 0, got None$"):
        check_finite(S, "limit")
