"""RM3 pseudo-relevance feedback (Lavrenko and Croft, 2001; Abdul-Jaleel et
al., 2004), with Anserini's parameterisation and defaults.

The query's top ``fb_docs`` BM25 documents are taken as relevant. Each term t
of theirs gets the relevance-model weight

    RM(t) = Σ_d  tf(t, d) / |d|  ·  score(d)

(|d| the document's length over the terms kept for feedback, score(d) its
BM25 score); the ``fb_terms`` heaviest terms, scaled to sum 1, are mixed with
the query's own unit-L1 term weights, λ = ``original_query_weight``:
q' = λ·q + (1 − λ)·RM. As in Anserini, feedback ignores terms shorter than 2
or longer than 20 characters, terms that are not letters and digits, and
terms in more than 10% of the documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..errors import check_number
from .stages import expand

if TYPE_CHECKING:
    from .analysis import Query
    from .stages import StageIndex

MAX_DF_FRACTION = 0.1


def _feedback_terms(terms: list[str], df: np.ndarray, max_df: float) -> np.ndarray:
    """Which term ids feedback may use (Anserini's filters)."""
    ok = np.array([2 <= len(t) <= 20 and t.isalnum() for t in terms], dtype=bool)
    return ok & (df[: len(terms)] <= max_df)


@dataclass
class RM3:
    """RM3 expansion: ``fb_docs`` feedback documents, ``fb_terms`` terms, λ = ``original_query_weight``."""

    name: ClassVar[str] = "rm3"
    fb_docs: int = 10
    fb_terms: int = 10
    original_query_weight: float = 0.5

    def validate(self) -> RM3:
        check_number("RM3's fb_docs", self.fb_docs, 1, integer=True)
        check_number("RM3's fb_terms", self.fb_terms, 1, integer=True)
        check_number("RM3's original_query_weight", self.original_query_weight, 0, 1)
        return self

    def relevance_model(self, index: StageIndex, query: Query) -> dict[str, float]:
        """RM(t) of the ``fb_terms`` heaviest feedback terms (not yet scaled)."""
        bm25 = index.bm25
        scores = bm25.weighted_scores(query.weights)
        k = min(self.fb_docs, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[scores[top] > 0]
        rm: dict[int, float] = {}
        usable = bm25.cached("rm3-terms", lambda: _feedback_terms(bm25.terms, bm25.doc_freqs(),
                                                                  MAX_DF_FRACTION * bm25.n_docs))
        for d in top:
            ids, counts = bm25.doc_term_counts(int(d))
            keep = usable[ids]
            ids, counts = ids[keep], counts[keep]
            norm = counts.sum()
            if norm == 0:
                continue
            for t, w in zip(ids.tolist(), (counts / norm * float(scores[d])).tolist()):
                rm[t] = rm.get(t, 0.0) + w
        best = sorted(rm.items(), key=lambda kv: (-kv[1], kv[0]))[: self.fb_terms]
        return {bm25.term(t): w for t, w in best}

    def apply(self, index: StageIndex, query: Query) -> Query:
        rm = self.relevance_model(index, query)
        return expand(query, self.name, rm, self.original_query_weight)
