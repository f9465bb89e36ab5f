"""One text analysis for documents, queries and the embedding vocabulary.

DESM only works when documents and queries are cut into tokens exactly as the
embedding corpus was, so the :class:`Analyzer` takes its tokeniser from the
model itself and applies it to both sides. Stop-word removal applies to both
scorers; stemming (``stemmer="english"``, Snowball through PyStemmer) applies
to BM25 terms only, since the embeddings were trained on unstemmed words.
A query is analysed once, into a :class:`Query` that every stage reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ..text.tokenize import Tokenizer, default_tokenizer
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


@dataclass
class Query:
    """An analysed query: what every ranking stage reads and extends.

    ``terms`` are the embedding-side words (unstemmed); ``weights`` is the
    BM25 query, term -> weight (the query's own terms weigh their counts;
    expansion stages add terms and reweigh); ``added`` records, per stage,
    the terms it contributed and their weights, for :meth:`Ranker.explain`.
    """

    text: str
    terms: list[str]
    weights: dict[str, float]
    query_id: str = ""
    added: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def bm25_terms(self) -> list[str]:
        return list(self.weights)


class Analyzer:
    """Text -> embedding terms (for DESM) and BM25 terms, from one tokeniser."""

    def __init__(self, tokenizer: Tokenizer | None = None, stopwords: str | None = "english",
                 stemmer: str | None = "english", desm_stopwords: bool = True):
        self.tokenizer = tokenizer or default_tokenizer()
        if stopwords not in (None, "english"):
            raise DualvecError(f"stopwords must be 'english' or None, not {stopwords!r}")
        self._stop = english_stopwords() if stopwords else frozenset()
        self._desm_stop = self._stop if desm_stopwords else frozenset()
        self._stem = _stemmer(stemmer)

    def terms(self, text: str) -> list[str]:
        """Tokens for the embedding side (stop words removed unless ``desm_stopwords=False``; never stemmed)."""
        stop = self._desm_stop
        return [t for t in self.tokenizer(text) if t not in stop]

    def stem(self, words: list[str]) -> list[str]:
        """BM25 terms of words (the words themselves without a stemmer); stop words dropped."""
        words = [w for w in words if w not in self._stop]
        return self._stem(words) if self._stem else words

    def bm25_term_of(self, words: list[str]) -> list[str | None]:
        """Each word's BM25 term, one for one (``None`` for a stop word)."""
        stems = self._stem(list(words)) if self._stem else list(words)
        return [None if w in self._stop else s for w, s in zip(words, stems)]

    def bm25_terms(self, text: str) -> list[str]:
        return self.stem(self.terms(text))

    def query(self, text: str, query_id: str = "") -> Query:
        """Analyse a query once, for every stage."""
        terms = self.terms(text)
        weights = {t: float(c) for t, c in Counter(self.stem(terms)).items()}
        return Query(text, terms, weights, query_id)
