"""One text analysis for documents, queries and the embedding vocabulary.

DESM only works when documents and queries are cut into tokens exactly as the
embedding corpus was, so the :class:`Analyzer` takes its tokeniser from the
model itself and applies it to both sides. Stop-word removal applies to both
scorers; stemming (``stemmer="english"``, needs PyStemmer) applies to BM25
terms only, since the embeddings were trained on unstemmed words.
"""

from __future__ import annotations

from collections.abc import Callable

from ..corpus import Tokenizer, default_tokenizer
from ..errors import DualvecError


def english_stopwords() -> frozenset[str]:
    """bm25s's English stop-word list."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def _stemmer(name: str | None) -> Callable[[list[str]], list[str]] | None:
    if name is None:
        return None
    try:
        import Stemmer  # PyStemmer
    except ImportError:
        raise DualvecError("stemming needs PyStemmer: pip install PyStemmer") from None
    try:
        return Stemmer.Stemmer(name).stemWords
    except KeyError:
        raise DualvecError(f"PyStemmer has no stemmer for {name!r}") from None


class Analyzer:
    """Text -> embedding terms (for DESM) and BM25 terms, from one tokeniser."""

    def __init__(self, tokenizer: Tokenizer | None = None, stopwords: str | None = "english",
                 stemmer: str | None = None):
        self.tokenizer = tokenizer or default_tokenizer()
        if stopwords not in (None, "english"):
            raise DualvecError(f"stopwords must be 'english' or None, not {stopwords!r}")
        self._stop = english_stopwords() if stopwords else frozenset()
        self._stem = _stemmer(stemmer)

    def terms(self, text: str) -> list[str]:
        """Tokens for the embedding side (stop words removed, never stemmed)."""
        stop = self._stop
        return [t for t in self.tokenizer(text) if t not in stop]

    def bm25_terms(self, text: str) -> list[str]:
        terms = self.terms(text)
        return self._stem(terms) if self._stem else terms
