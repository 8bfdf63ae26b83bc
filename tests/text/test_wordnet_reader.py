"""textadv.text.wordnet.wordnet_reader answers like nltk.corpus.wordnet over the same WordNet 3.0 files."""

from textadv.text.wordnet import wordnet_reader


def test_reader_agrees_with_nltk_loader(tmp_path):
    fast = wordnet_reader(tmp_path)
    from nltk.corpus import wordnet as reference  # the same files: wordnet_reader registered tmp_path first

    assert fast.get_version() == reference.get_version() == "3.0"
    for word, pos in [("bank", None), ("cold", "a"), ("victory", "n"), ("run", "v"), ("quickly", "r")]:
        assert [s.name() for s in fast.synsets(word, pos)] == [s.name() for s in reference.synsets(word, pos)]
    first = fast.synsets("cold", "a")[0]
    assert [a.name() for lem in first.lemmas() for a in lem.antonyms()] == ["hot"]
    assert (fast.morphy("geese", "n"), fast.morphy("began", "v")) == ("goose", "begin")
