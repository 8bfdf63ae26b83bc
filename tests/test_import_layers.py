"""The packages of textadv import only downwards (docs/architecture.md).

Every ``import`` / ``from ... import`` of a textadv package in textadv's source, at module level or
inside a function, is read with ``ast``; a package may import packages of a lower layer, never one
of its own layer or above. ``core`` knows only tensors; ``surfaces`` build on it, ``objectives`` on
surfaces; the loop, evaluation and reports sit above objectives; the domain packages (text, images,
neighbour analysis) above those; the jobs, commands and the command line at the top.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "textadv"

LAYERS = {
    "core": 0,
    "assets": 0,
    "surfaces": 1,
    "objectives": 2,
    "report": 3,
    "train": 4,
    "eval": 4,
    "text": 5,
    "vision": 5,
    "analysis": 6,
    "qa": 6.5,  # the SQuAD domain reuses the neighbour search of analysis
    "jobs": 7,
    "commands": 8,
    "cli": 9,
    "__main__": 9,
}


def imported_packages(path: Path, source=None):
    """``(line, package)`` for every textadv package that the module at ``path`` imports.

    ``source``, when given, is read as the text of that module.
    """
    package = list(path.relative_to(ROOT.parent).with_suffix("").parts)[:-1]  # textadv/text/vocab.py: textadv.text
    source = path.read_text(encoding="utf-8") if source is None else source
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
                names = [target + [alias.name] for alias in node.names] if not node.module else [target]
            else:
                names = [node.module.split(".")]
        elif isinstance(node, ast.Import):
            names = [alias.name.split(".") for alias in node.names]
        else:
            continue
        for name in names:
            if name[0] == "textadv" and len(name) > 1:
                yield node.lineno, name[1]


def modules():
    return sorted(p for p in ROOT.rglob("*.py"))


def layer_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("").parts
    return rel[0]


def test_every_package_has_a_layer():
    missing = {layer_of(p) for p in modules()} - set(LAYERS) - {"__init__"}
    assert not missing, f"packages without a layer in LAYERS: {sorted(missing)}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_downwards(path):
    here = layer_of(path)
    if here == "__init__":
        return  # textadv/__init__.py: the package itself
    upward = [
        f"line {line}: {here} (layer {LAYERS[here]}) imports {there} (layer {LAYERS.get(there)})"
        for line, there in imported_packages(path)
        if there != here and there in LAYERS and LAYERS[there] >= LAYERS[here]
    ]
    assert not upward, "\n".join(upward)


def test_the_checker_sees_relative_absolute_and_lazy_imports():
    # The rule must be able to fail: lazy imports from core up to train, jobs and text are all seen.
    source = (
        "from .threat import Threat\n"
        "def f():\n    from ..train.loop import train\n    from .. import jobs\n    import textadv.text.vocab\n"
    )
    found = list(imported_packages(ROOT / "core" / "probe.py", source))
    assert found == [(1, "core"), (3, "train"), (4, "jobs"), (5, "text")]
