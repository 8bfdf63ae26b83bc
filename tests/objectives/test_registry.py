"""The objective registry: every name builds, with its paper's norm, and answers what it reads."""

import pytest
import torch

from textadv.objectives import NAMES, build_objective, default_norm
from textadv.surfaces import ImageSurface


def image_case():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    batch = {"pixels": torch.rand(4, 1, 4, 4), "labels": torch.tensor([0, 1, 2, 1])}
    unlabeled = {"pixels": torch.rand(6, 1, 4, 4)}
    return model, batch, unlabeled


def build(name, model):
    sources = (ImageSurface(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))),)
    return build_objective(name, eps=0.1, pgd_steps=2, sources=sources if name == "ensemble" else ())


@pytest.mark.parametrize("name", NAMES)
def test_every_name_builds_with_its_papers_norm(name):
    model, *_ = image_case()
    objective = build(name, model)
    assert objective.name == name
    assert default_norm(name) == ("inf" if name in ("fgsm", "pgd", "ensemble") else 2)
    assert all(term.norm == default_norm(name) for term in objective.terms)
    assert (not objective.terms) == (name == "none")


@pytest.mark.parametrize("name", NAMES)
def test_uses_unlabeled_says_whether_an_unlabeled_batch_changes_the_step(name):
    model, batch, unlabeled = image_case()
    objective = build(name, model)
    surface = ImageSurface(model)
    without = objective.step(surface, batch, generator=torch.Generator().manual_seed(0)).loss
    model.zero_grad()
    with_unlabeled = objective.step(
        surface, batch, unlabeled=unlabeled, generator=torch.Generator().manual_seed(0)
    ).loss
    assert objective.uses_unlabeled == (not torch.equal(without, with_unlabeled))
    assert objective.uses_unlabeled == (name in ("vat", "at+vat"))


@pytest.mark.parametrize("kwargs, word", [(dict(xi=0.0), "xi"), (dict(vat_iterations=0), "iterations")])
@pytest.mark.parametrize("name", ["vat", "at+vat"])
def test_vat_settings_are_checked_when_built(name, kwargs, word):
    with pytest.raises(ValueError, match=word):
        build_objective(name, eps=1.0, **kwargs)
    build_objective("at", eps=1.0, **kwargs)  # settings an objective does not read are not its business
