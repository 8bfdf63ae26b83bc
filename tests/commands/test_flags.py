"""Flags derived from the settings dataclasses, and the command registry failing loudly."""

import argparse
import dataclasses
from typing import Optional, Tuple

import pytest

from textadv import cli
from textadv.jobs.finetune_settings import RESUMABLE_CHANGES, FinetuneConfig
from textadv.jobs.flags import add_setting_flags, given_settings, resumable_settings, setting
from textadv.jobs.image_settings import ImageSettings


def parser_for(cls) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_setting_flags(parser, cls)
    return parser


@pytest.mark.parametrize("cls", [FinetuneConfig, ImageSettings])
def test_every_setting_is_a_flag_and_unset_flags_stay_out(cls):
    parser = parser_for(cls)
    assert given_settings(parser.parse_args([]), cls) == {}
    flags = {a.dest for a in parser._actions if a.option_strings} - {"help"}
    assert flags == {f.name for f in dataclasses.fields(cls)}
    # The defaults the help shows are the dataclass's own.
    help_text = " ".join(parser.format_help().split())
    for f in dataclasses.fields(cls):
        if f.metadata["default_help"] is None and isinstance(f.default, (int, float, str)):
            assert f"(default {f.default})" in help_text, f.name


def test_given_flags_parse_to_the_field_types():
    parser = parser_for(FinetuneConfig)
    args = parser.parse_args(
        ["--max-steps", "3", "--eval-eps", "1", "2", "--no-progress", "--neighbour-words", "--glove", "--adv", "at"]
    )
    given = given_settings(args, FinetuneConfig)
    assert given == {
        "max_steps": 3,
        "eval_eps": (1.0, 2.0),
        "progress": False,
        "neighbour_words": (),
        "glove": True,
        "adv": "at",
    }
    assert FinetuneConfig(**given).resolved().embedding_dim == 50  # GloVe's size, as before
    with pytest.raises(SystemExit):
        parser.parse_args(["--adv", "pgd"])  # an ℓ∞ image objective is not a text job choice
    image = given_settings(parser_for(ImageSettings).parse_args(["--channels", "4", "8", "--adv", "at"]), ImageSettings)
    assert image == {"channels": (4, 8), "adv": "at"} and ImageSettings(**image).norm == "2"


def test_a_new_setting_is_one_field():
    @dataclasses.dataclass(frozen=True)
    class Settings:
        rate: Optional[float] = setting(None, "a rate", default_help="the family's")
        sizes: Tuple[int, ...] = setting((1, 2), "sizes", resumable=True)

    parser = parser_for(Settings)
    assert given_settings(parser.parse_args(["--rate", "0.5", "--sizes", "3"]), Settings) == {
        "rate": 0.5,
        "sizes": (3,),
    }
    assert "(default the family's)" in parser.format_help() and "(default 1 2)" in parser.format_help()
    assert resumable_settings(Settings) == ("sizes",)


def test_the_resume_allow_list_is_the_budget_and_the_evaluation():
    assert set(RESUMABLE_CHANGES) == {
        "epochs",
        "max_steps",
        "eval_every",
        "save_every",
        "eval_eps",
        "pgd_steps",
        "eval_batch_size",
        "test_limit",
        "neighbour_words",
        "neighbour_k",
        "progress",
    }
    assert not {"adv", "epsilon", "lr", "seed", "batch_size", "model"} & set(resumable_settings(ImageSettings))


def test_a_registered_command_that_does_not_import_fails_loudly(monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "ghost", "textadv.commands.no_such_command")
    with pytest.raises(ModuleNotFoundError, match="no_such_command"):
        cli.build_parser()
