"""BM25 first stage, through the ``bm25s`` library.

Variant: bm25s's ``method="lucene"`` (Lucene's BM25: idf = log(1 + (N - df +
0.5) / (df + 0.5)), no (k1 + 1) factor in the numerator), with ``k1`` and ``b``
as given (defaults k1 = 0.9, b = 0.4, Anserini's defaults; tune them with
``dualvec tune``). Terms come from :class:`~dualvec.ranking.analysis.Analyzer`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DualvecError

DEFAULT_K1 = 0.9
DEFAULT_B = 0.4


class BM25:
    """A bm25s index over analysed documents (row i = document i)."""

    def __init__(self, k1: float = DEFAULT_K1, b: float = DEFAULT_B, method: str = "lucene"):
        if k1 < 0 or not 0 <= b <= 1:
            raise DualvecError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1, self.b, self.method = k1, b, method
        self._index = None
        self._vocab: dict[str, int] = {}

    def index(self, doc_terms: list[list[str]]) -> BM25:
        import bm25s

        self._index = bm25s.BM25(k1=self.k1, b=self.b, method=self.method)
        self._index.index(doc_terms, show_progress=False)
        self._vocab = self._index.vocab_dict
        return self

    @property
    def n_docs(self) -> int:
        return 0 if self._index is None else int(self._index.scores["num_docs"])

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """BM25 score of every document (float32); terms unseen in the collection add nothing."""
        if self._index is None:
            raise DualvecError("the BM25 index is empty: index documents first")
        known = [t for t in query_terms if t in self._vocab]
        if not known:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._index.get_scores(known), dtype=np.float32)

    def term_scores(self, query_terms: list[str], doc: int) -> list[tuple[str, float]]:
        """Each query term's share of one document's score (BM25 is a sum over terms)."""
        return [(t, float(self.scores([t])[doc])) for t in query_terms]

    def save(self, path: str | os.PathLike) -> None:
        self._index.save(str(path), allow_pickle=False)

    @classmethod
    def load(cls, path: str | os.PathLike, k1: float, b: float, method: str, mmap: bool = True) -> BM25:
        import bm25s

        self = cls(k1, b, method)
        try:
            self._index = bm25s.BM25.load(str(Path(path)), mmap=mmap, allow_pickle=False)
        except (OSError, ValueError, KeyError) as exc:
            raise DualvecError(f"{path}: the BM25 index is missing or corrupt ({exc})") from None
        self._vocab = self._index.vocab_dict
        return self
