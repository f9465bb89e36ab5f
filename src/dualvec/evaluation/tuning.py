"""Tuning BM25's k1, b and the mixture weight α by grid search on a metric.

The candidate lists and both raw scores are computed once per query
(:meth:`Ranker.candidates`); trying another α only re-mixes them. Where a
collection has no training split (Cranfield), :func:`cross_validate` tunes on
k-1 folds of the queries and ranks the held-out fold, so every query is ranked
by parameters chosen without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import DualvecError
from ..ranking.ranker import Candidates, Ranker
from .ir import Qrels, evaluate

ALPHAS = tuple(round(a, 2) for a in np.linspace(0, 1, 21))
K1S = (0.6, 0.9, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
BS = (0.3, 0.4, 0.55, 0.75, 0.9)


@dataclass
class Tuned:
    params: dict[str, float]
    score: float  # the metric on the tuning queries
    grid: list[tuple[dict[str, float], float]] = field(default_factory=list)


def run_from(cands: Sequence[Candidates], ranker: Ranker, alpha: float, k: int = 100) -> dict[str, dict[str, float]]:
    """A run from cached candidates at one α (top ``k`` per query)."""
    ids = ranker.doc_ids
    return {c.query_id: {ids[r]: s for r, s in c.ranked(alpha, ranker.config.normalization, k)} for c in cands}


def collect(ranker: Ranker, queries: Mapping[str, str], mode: str, space: str | None = None) -> list[Candidates]:
    return [ranker.candidates(text, mode=mode, space=space, query_id=qid) for qid, text in queries.items()]


def tune_alpha(ranker: Ranker, cands: Sequence[Candidates], qrels: Qrels, *, alphas: Sequence[float] = ALPHAS,
               measure: str = "nDCG@10") -> Tuned:
    """The α in ``alphas`` with the best mean ``measure`` (ties: the smallest α)."""
    grid = [({"alpha": a}, evaluate(run_from(cands, ranker, a), qrels, [measure]).aggregate[measure])
            for a in alphas]
    best = max(grid, key=lambda g: (g[1], -g[0]["alpha"]))
    return Tuned(best[0], best[1], grid)


def tune_bm25(ranker: Ranker, docs: Mapping[str, str], queries: Mapping[str, str], qrels: Qrels, *,
              k1s: Sequence[float] = K1S, bs: Sequence[float] = BS, measure: str = "nDCG@10") -> Tuned:
    """BM25's (k1, b) with the best ``measure`` for BM25 alone; leaves the ranker set to them."""
    grid = []
    for k1 in k1s:
        for b in bs:
            ranker.reindex_bm25(docs, k1, b)
            run = {qid: dict(ranker.search(text, 100, alpha=0.0)) for qid, text in queries.items()}
            grid.append(({"k1": k1, "b": b}, evaluate(run, qrels, [measure]).aggregate[measure]))
    best = max(grid, key=lambda g: g[1])
    ranker.reindex_bm25(docs, best[0]["k1"], best[0]["b"])
    return Tuned(best[0], best[1], grid)


def folds(query_ids: Sequence[str], k: int, seed: int = 0) -> list[list[str]]:
    if k < 2 or k > len(query_ids):
        raise DualvecError(f"cannot make {k} folds of {len(query_ids)} queries")
    order = np.random.default_rng(seed).permutation(len(query_ids))
    return [[query_ids[i] for i in order[f::k]] for f in range(k)]


@dataclass
class CrossValidated:
    run: dict[str, dict[str, float]]  # every query, ranked with parameters tuned on the other folds
    chosen: list[dict[str, float]]  # per fold


def cross_validate(ranker: Ranker, docs: Mapping[str, str], queries: Mapping[str, str], qrels: Qrels, *,
                   mode: str = "rerank", k: int = 5, tune_bm25_params: bool = True, alpha: float | None = None,
                   space: str | None = None, measure: str = "nDCG@10", seed: int = 0) -> CrossValidated:
    """k-fold cross-validation over queries of (k1, b) and α (or a fixed ``alpha``)."""
    judged = [q for q in queries if q in qrels]
    run: dict[str, dict[str, float]] = {}
    chosen = []
    for test_ids in folds(judged, k, seed):
        test = set(test_ids)
        train_q = {q: queries[q] for q in judged if q not in test}
        params: dict[str, float] = {}
        if tune_bm25_params:
            params.update(tune_bm25(ranker, docs, train_q, qrels, measure=measure).params)
        if alpha is None:
            params.update(tune_alpha(ranker, collect(ranker, train_q, mode, space), qrels, measure=measure).params)
        else:
            params["alpha"] = alpha
        test_cands = collect(ranker, {q: queries[q] for q in test_ids}, mode, space)
        run.update(run_from(test_cands, ranker, params["alpha"]))
        chosen.append(params)
    return CrossValidated(run, chosen)
