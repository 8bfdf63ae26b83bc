"""Embedding-neighbour analysis: what training did to a model's word space (Miyato et al. 2017, Table 3).

- :mod:`.neighbours`: exact cosine top-k over ``[V, D]`` (batched, chunked, deterministic ties) and ranks;
- :mod:`.sources`: :class:`EmbeddingTable` from GloVe, ``.npy`` + vocabulary, Hugging Face models, textadv
  checkpoints (raw or Miyato-normalised), with word-piece queries marked;
- :mod:`.antonyms`: WordNet antonym pairs; :mod:`.compare`: side-by-side neighbours, pair ranks, the
  antonym intrusion rate; :mod:`.report`: Markdown/HTML/CSV/JSON and the rank plot.

``transformers`` is imported only when a Hugging Face source is loaded. docs/neighbours.md has the guide.
"""

from .compare import Comparison, compare, intrusion_rate, pair_rank, query_neighbours
from .neighbours import TopK, cosine_topk, normalize_rows, rank_of
from .sources import EmbeddingTable, Query, load_source

__all__ = [
    "Comparison",
    "compare",
    "intrusion_rate",
    "pair_rank",
    "query_neighbours",
    "TopK",
    "cosine_topk",
    "normalize_rows",
    "rank_of",
    "EmbeddingTable",
    "Query",
    "load_source",
]
