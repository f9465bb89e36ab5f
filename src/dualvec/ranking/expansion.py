"""Query expansion from the embedding spaces (Kuzi, Shtok and Kurland, CIKM 2016).

The candidates for expansion are the words nearest to the query's centroid:
with ``space="in-out"``, the query's mean unit IN vector against every unit
OUT vector, i.e. the words that *occur with* the query's words (DESM's
observation); ``"in-in"`` gives words of the same *type*. Only words whose
BM25 term (after stemming) occurs in the collection, that are not stop words
and not already in the query, are kept; the ``terms`` best, weighted by how
far their cosine clears the best word left out and scaled to sum 1, are mixed
with the query:
q' = λ·q + (1 − λ)·E, λ = ``original_query_weight``. After RM3 this is Kuzi et
al.'s combination of RM3 and embedding terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..errors import DualvecError, check_number
from ..model import parse_space
from .desm import query_vector
from .stages import expand

if TYPE_CHECKING:
    from ..model import DualVectors
    from .analysis import Query
    from .stages import StageIndex


@dataclass
class Expansion:
    """Embedding expansion: ``terms`` words nearest the query in ``space``, weight 1 − λ."""

    name: ClassVar[str] = "expansion"
    space: str = "in-out"
    terms: int = 10
    original_query_weight: float = 0.7

    def validate(self) -> Expansion:
        parse_space(self.space)
        check_number("expansion's terms", self.terms, 1, integer=True)
        check_number("expansion's original_query_weight", self.original_query_weight, 0, 1)
        return self

    def expansion_terms(self, index: StageIndex, query: Query) -> dict[str, float]:
        """BM25 term -> weight (summing to 1) of the ``terms`` nearest usable words."""
        if index.model is None:
            raise DualvecError("embedding expansion needs a model")
        stems = index.bm25.cached("expansion-stems", lambda: stems_in_collection(index, index.model.words))
        return nearest_collection_terms(index, index.model, query, self.space, self.terms, stems)

    def apply(self, index: StageIndex, query: Query) -> Query:
        added = self.expansion_terms(index, query)
        return expand(query, self.name, added, self.original_query_weight)


def stems_in_collection(index: StageIndex, words: list[str]) -> np.ndarray:
    """Word -> BM25 term id of its stem, or -1 (a stop word, or a stem not in the collection)."""
    vocab = index.bm25.term_ids
    return np.array([vocab.get(t, -1) if t is not None else -1 for t in index.analyzer.bm25_term_of(words)],
                    dtype=np.int64)


def nearest_collection_terms(index: StageIndex, model: DualVectors, query: Query, space: str,
                             n_terms: int, stems: np.ndarray | None = None) -> dict[str, float]:
    """BM25 term -> weight (summing to 1) of the ``n_terms`` words of ``model`` nearest the query's
    mean unit vector in ``space`` whose BM25 term occurs in the collection (not a stop word, not
    the query's own); weights are the cosines' margins over the best word left out."""
    qspace, cspace = parse_space(space)
    q = query_vector(model, query.terms, qspace)
    if not q.any():
        return {}
    if stems is None:
        stems = stems_in_collection(index, model.words)
    cos = np.where(stems >= 0, model.space(cspace).unit @ q, -np.inf)
    own, skip = set(query.weights), set(query.terms)
    # A few more candidates than needed (query words and shared stems drop out), best first.
    k = min(len(cos), 4 * n_terms + len(skip) + 8)
    top = np.argpartition(-cos, k - 1)[:k]
    picked: dict[str, float] = {}
    floor = -np.inf
    for row in top[np.argsort(-cos[top], kind="stable")]:
        if not np.isfinite(cos[row]):
            break
        term = index.bm25.term(int(stems[row]))
        if term in own or model.words[row] in skip:
            continue
        if len(picked) == n_terms and term not in picked:
            floor = float(cos[row])  # the best word left out
            break
        picked[term] = max(picked.get(term, -np.inf), float(cos[row]))
    if not picked:
        return {}
    # Raw cosines can be all negative (IN-OUT cosines of a long query sit near 0), so the
    # weights are each term's margin over the best word left out: scale-free, zero at the cut.
    if not np.isfinite(floor):
        floor = min(picked.values()) - 1e-3
    margins = {t: c - floor for t, c in picked.items()}
    total = sum(margins.values())
    return {t: m / total for t, m in margins.items()} if total > 0 else {t: 1.0 / len(picked) for t in picked}
