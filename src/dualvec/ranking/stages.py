"""What a query-expansion stage is.

A stage takes an analysed :class:`~dualvec.ranking.analysis.Query` and the
parts of the index it reads (a :class:`StageIndex`: the BM25 index, the
analyser, the model's vectors; never the whole ranker, which imports the
stages and not the reverse), and returns the query with a new BM25 query:
more terms, new weights. Each stage is a
small dataclass of its parameters in a module of its own, and one field of
:class:`~dualvec.ranking.ranker.RankerConfig` (``None`` = off), so that the
index saves it with the rest of the configuration. Stages run in the order
of those fields, before BM25 retrieves the candidates that DESM re-ranks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..model import DualVectors
    from .analysis import Analyzer, Query
    from .bm25 import BM25


@dataclass(frozen=True)
class StageIndex:
    """What a stage may read: the BM25 index, the analyser that cut the documents, the
    embedding model, and the documents' texts (row by row) where the index keeps them."""

    bm25: BM25
    analyzer: Analyzer
    model: DualVectors | None = None
    texts: Any = None


class Stage(Protocol):
    name: str

    def validate(self) -> Stage: ...

    def apply(self, index: StageIndex, query: Query) -> Query: ...


def unit_l1(weights: Mapping[str, float]) -> dict[str, float]:
    """Weights scaled to sum to 1 (an empty or all-zero query stays as it is)."""
    total = sum(abs(w) for w in weights.values())
    return {t: w / total for t, w in weights.items()} if total > 0 else dict(weights)


def expand(query: Query, stage: str, added: Mapping[str, float], original_weight: float) -> Query:
    """``query`` with ``added`` terms mixed in (:func:`interpolate`) and recorded under ``stage``
    in ``Query.added``; unchanged when nothing was added. What every expansion stage returns."""
    if not added:
        return query
    return replace(query, weights=interpolate(query.weights, added, original_weight),
                   added={**query.added, stage: added})


def interpolate(original: Mapping[str, float], added: Mapping[str, float], original_weight: float) -> dict[str, float]:
    """λ·q + (1 − λ)·e over the union of terms, both scaled to unit L1 first
    (Anserini's ``FeatureVector.interpolate``)."""
    q, e = unit_l1(original), unit_l1(added)
    return {t: original_weight * q.get(t, 0.0) + (1 - original_weight) * e.get(t, 0.0) for t in {**q, **e}}
