"""Session fixtures of the SQuAD tests: the spaCy pipeline and the GloVe neighbours load once."""

import pytest


@pytest.fixture(scope="session")
def spacy_nlp():
    """The offline spaCy pipeline of AddSent (skips when it is not installed)."""
    pytest.importorskip("spacy")
    from textadv.qa.spacy_pipeline import load_pipeline

    try:
        return load_pipeline()
    except FileNotFoundError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def glove_nearest():
    """Nearest GloVe words over the 100k most frequent words (skips without the packaged GloVe)."""
    from textadv.qa.mutation import NearestWords

    try:
        return NearestWords.glove(vocab_size=100_000, k=20)
    except FileNotFoundError as err:
        pytest.skip(str(err))
