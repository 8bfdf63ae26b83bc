"""Fixtures shared by the embedding-neighbour tests: the packaged GloVe table and WordNet antonyms, loaded once."""

import pytest


@pytest.fixture(scope="session")
def glove():
    from textadv.analysis.sources import glove_table

    return glove_table()


@pytest.fixture(scope="session")
def adjective_antonyms(tmp_path_factory):
    from textadv.analysis.antonyms import wordnet_antonym_pairs

    return wordnet_antonym_pairs(cache_dir=tmp_path_factory.mktemp("nltk_data"))
