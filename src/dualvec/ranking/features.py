"""Named per-(query, document) features over one candidate pool, for a learned ranker.

The pool of a query is the union of its first stages' top ``k``: BM25's top k for
the query as analysed, and BM25's top k for its RM3 expansion (documents with a
positive score in either), and where the index's first stage is ``"fused"`` (an index
with a model tuned for ranking) that stage's top k over every document too. Every document of the pool gets one value per feature:

* ``bm25``: BM25 of the query;
* ``rm3``: BM25 of the RM3 query (Anserini's defaults unless the index sets RM3);
* ``desm_in_out``, ``desm_in_in``: DESM in each pairing, for each embedding model the
  ranker holds (the general model unnamed; another model's features end in ``@name``,
  e.g. ``desm_in_out@local``);
* query features, constant within a query (for trees, which can cross them with the
  rest; a linear ranker gains nothing from them): ``query_length`` (BM25 terms),
  ``query_known`` (share of the query's words the general model knows),
  ``query_mean_idf`` and ``query_max_idf``.

The feature names come in one fixed tuple (:meth:`DualvecFeatures.names`), which a
learned ranker saves with its weights. :func:`learning_data` turns the pools of judged
queries into LightGBM's ``(X, y, group)`` arrays, in query order.

The entry point for other tools (PyTerrier transformers) is
:meth:`DualvecFeatures.transform`: queries and candidate documents in, the feature
names and one matrix per query out. The module reads the index's parts (BM25, the
analyser, the embedding sources), never imports the ranker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DualvecError
from ..model import DualVectors, parse_space
from .analysis import Query
from .desm import query_vector
from .rm3 import RM3
from .stages import StageIndex

__all__ = ["DESM_PAIRINGS", "QUERY_FEATURES", "DualvecFeatures", "EmbeddingSource", "QueryFeatures",
           "desm_feature", "embedding_sources", "learning_data"]

#: DESM pairings computed for every model (query space - document space).
DESM_PAIRINGS = ("in-out", "in-in")
FIRST_STAGE_FEATURES = ("bm25", "rm3")
QUERY_FEATURES = ("query_length", "query_known", "query_mean_idf", "query_max_idf")
#: LightGBM's default label_gain has 31 entries; grades must be below it.
MAX_GRADE = 30


def desm_feature(space: str, model_name: str = "") -> str:
    """``desm_in_out`` for the general model, ``desm_in_out@local`` for a model named ``local``."""
    q, d = parse_space(space)
    return f"desm_{q}_{d}" + (f"@{model_name}" if model_name else "")


@dataclass(frozen=True)
class EmbeddingSource:
    """One embedding model and its documents' unit centroids by space (``"in"``, ``"out"``).

    ``name`` is ``""`` for the index's general model; others name their features."""

    name: str
    model: DualVectors
    centroids: Mapping[str, np.ndarray]


@dataclass
class QueryFeatures:
    """One query's pool: index rows, document ids, and the feature matrix (rows x features)."""

    query: Query
    rows: np.ndarray
    doc_ids: list[str]
    X: np.ndarray

    @property
    def query_id(self) -> str:
        return self.query.query_id


def embedding_sources(ranker: Any) -> list[EmbeddingSource]:
    """The ranker's models, its own first (``ranker.models()`` where it holds several)."""
    models = ranker.models() if callable(getattr(ranker, "models", None)) else {}
    if not models:
        return [EmbeddingSource("", ranker.model, ranker.centroids)]
    return [EmbeddingSource(name, m.model, m.centroids) for name, m in models.items()]


class DualvecFeatures:
    """Features of (query, document) pairs over a ranker's index.

    ``DualvecFeatures(ranker)`` reads what it needs from a :class:`~dualvec.ranking.Ranker`
    (its BM25 index, analyser, documents and embedding models); ``k`` is each first
    stage's depth (default: the ranker's ``first_stage_k``), ``rm3`` the feedback stage
    behind the ``rm3`` feature (default: Anserini's parameters, whatever the index's own pipeline).
    """

    def __init__(self, ranker: Any, k: int | None = None, rm3: RM3 | None = None):
        self.index: StageIndex = ranker.stage_index()
        self.doc_ids: list[str] = ranker.doc_ids
        self._rows_of = ranker.rows
        self.sources: list[EmbeddingSource] = embedding_sources(ranker)
        self.k = int(k if k is not None else ranker.config.first_stage_k)
        if self.k < 1:
            raise DualvecError(f"the feature pool's depth k must be at least 1, not {self.k}")
        self.rm3 = (rm3 or RM3()).validate()
        self._analyze = ranker.analyzer.query
        # the index's own first stage where it is not BM25's (the mixture over every document)
        self._fused = ranker.first_stage_scores if ranker.config.first_stage != "bm25" else None
        names = list(FIRST_STAGE_FEATURES)
        self._desm: list[tuple[EmbeddingSource, str, str]] = []
        for src in self.sources:
            for space in DESM_PAIRINGS:
                qs, ds = parse_space(space)
                if ds in src.centroids and (qs == "in" or src.model.out_vectors is not None):
                    names.append(desm_feature(space, src.name))
                    self._desm.append((src, qs, ds))
        self._names = tuple(names) + QUERY_FEATURES

    @property
    def names(self) -> tuple[str, ...]:
        """The feature names, in column order."""
        return self._names

    def query(self, text: str | Query, query_id: str = "") -> Query:
        """The query analysed, without expansion stages (the features add RM3 themselves)."""
        return text if isinstance(text, Query) else self._analyze(text, query_id)

    def pool(self, bm25_all: np.ndarray, rm3_all: np.ndarray, fused_all: np.ndarray | None = None) -> np.ndarray:
        """Index rows of the union of the first stages' top k (BM25 and RM3: positive scores), ascending."""
        k = min(self.k, len(bm25_all))
        parts = []
        for s in (bm25_all, rm3_all):
            top = np.argpartition(-s, k - 1)[:k]
            parts.append(top[s[top] > 0])
        if fused_all is not None:
            parts.append(np.argpartition(-fused_all, k - 1)[:k])
        return np.unique(np.concatenate(parts)).astype(np.int64)

    def compute(self, query: str | Query, doc_ids: Sequence[str] | None = None, query_id: str = "") -> QueryFeatures:
        """One query's features over its pool, or over ``doc_ids`` (in that order) when given."""
        q = self.query(query, query_id)
        bm25 = self.index.bm25
        bm25_all = bm25.weighted_scores(q.weights)
        expanded = self.rm3.apply(self.index, q) if bm25_all.any() else q
        rm3_all = bm25_all if expanded is q else bm25.weighted_scores(expanded.weights)
        if doc_ids is not None:
            rows = self._rows_of(list(doc_ids))
        else:
            known = any(t in src.model.vocab.index for src in self.sources for t in q.terms)
            fused = self._fused(q, None, bm25_all) if self._fused is not None and known else None
            rows = self.pool(bm25_all, rm3_all, fused)
        X = np.zeros((len(rows), len(self._names)), dtype=np.float64)
        X[:, 0], X[:, 1] = bm25_all[rows], rm3_all[rows]
        for j, (src, qs, ds) in enumerate(self._desm, start=len(FIRST_STAGE_FEATURES)):
            if len(rows):
                X[:, j] = src.centroids[ds][rows] @ query_vector(src.model, q.terms, qs)
        X[:, len(self._names) - len(QUERY_FEATURES):] = self._query_features(q)
        return QueryFeatures(q, rows, [self.doc_ids[r] for r in rows], X)

    def _query_features(self, q: Query) -> np.ndarray:
        bm25 = self.index.bm25
        df = bm25.cached("feature-df", bm25.doc_freqs)
        n = bm25.n_docs
        ids = [bm25.term_ids[t] for t in q.weights if t in bm25.term_ids]
        idf = np.log1p((n - df[ids] + 0.5) / (df[ids] + 0.5)) if ids else np.zeros(1)
        model = self.sources[0].model if self.sources else None
        known = (sum(t in model.vocab.index for t in q.terms) / len(q.terms)) if model is not None and q.terms else 0.0
        return np.array([sum(q.weights.values()), known, float(idf.mean()), float(idf.max())])

    def transform(self, queries: Mapping[str, str],
                  candidates: Mapping[str, Sequence[str]] | None = None) -> tuple[tuple[str, ...], dict[str, QueryFeatures]]:
        """``(feature names, {query id: QueryFeatures})``: each query's pool, or its given candidates
        (``candidates[query_id]``, document ids, kept in their order)."""
        if candidates is not None:
            missing = [q for q in queries if q not in candidates]
            if missing:
                raise DualvecError(f"no candidates given for query {missing[0]!r}")
        out = {qid: self.compute(text, None if candidates is None else candidates[qid], qid)
               for qid, text in queries.items()}
        return self._names, out


def learning_data(pools: Sequence[QueryFeatures], qrels: Mapping[str, Mapping[str, int]],
                  max_grade: int = MAX_GRADE) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """``(X, y, group, query_ids)`` from pools, in the order given: rows of one query together,
    ``group`` the rows per query (LightGBM's layout), unjudged documents and negative grades 0."""
    Xs, ys, group, qids = [], [], [], []
    for p in pools:
        judged = qrels.get(p.query_id, {})
        y = np.array([max(0, judged.get(d, 0)) for d in p.doc_ids], dtype=np.float64)
        if np.any(y != np.round(y)) or np.any(y > max_grade):
            raise DualvecError(f"query {p.query_id!r}: grades must be whole numbers from 0 to {max_grade}, "
                               f"got {sorted(set(y.tolist()))[-1]}")
        Xs.append(p.X)
        ys.append(y.astype(np.int64))
        group.append(len(y))
        qids.append(p.query_id)
    width = Xs[0].shape[1] if Xs else 0
    X = np.concatenate(Xs) if Xs else np.zeros((0, width))
    y = np.concatenate(ys) if ys else np.zeros(0, np.int64)
    group_arr = np.array(group, dtype=np.int64)
    if int(group_arr.sum()) != len(X) or len(X) != len(y):
        raise DualvecError(f"the groups hold {int(group_arr.sum())} rows, the feature matrix {len(X)}")
    return X, y, group_arr, qids
