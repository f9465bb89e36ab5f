"""Choosing the ranking pipeline itself, honestly.

No single method wins on every collection (BM25 alone, with RM3, with
embedding expansion, with both; each with or without the DESM mixture), so
the choice is made per collection on judged queries, and reported with
cross-validation: :func:`cross_validate_pipelines` splits the queries into K
folds, chooses pipeline, stage parameters and α on K − 1 folds, ranks the
held-out fold with that choice, and does this for every fold. No query is
ever ranked by parameters chosen on it.

Every pipeline's candidates are computed once for all queries; every α
only re-mixes them, and each fold's choice only averages per-query scores.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import DualvecError
from ..text.collections import Qrels
from ..progress import Progress, wants_progress
from ..ranking import RM3, Expansion, Ranker
from .ir import evaluate
from .tuning import folds, run_from

#: DESM weights tried for every pipeline.
ALPHAS = tuple(round(a, 1) for a in np.linspace(0, 1, 11))
RM3_GRID = [RM3(fb_docs=d, fb_terms=10, original_query_weight=w) for d in (5, 10) for w in (0.5, 0.7)]
EXPANSION_GRID = [Expansion(terms=t, original_query_weight=w) for t in (5, 10) for w in (0.7, 0.85)]


@dataclass(frozen=True)
class Pipeline:
    """One setting of the expansion stages (``None`` = off)."""

    rm3: RM3 | None = None
    expansion: Expansion | None = None

    @property
    def name(self) -> str:
        parts = ["bm25"]
        if self.rm3:
            r = self.rm3
            parts.append(f"rm3(docs={r.fb_docs},terms={r.fb_terms},w={r.original_query_weight})")
        if self.expansion:
            e = self.expansion
            parts.append(f"exp({e.space},terms={e.terms},w={e.original_query_weight})")
        return "+".join(parts)

    def overrides(self) -> dict[str, Any]:
        return {"rm3": self.rm3, "expansion": self.expansion}


def pipeline_grid(expansion_space: str = "in-out") -> list[Pipeline]:
    """BM25 alone, with RM3, with embedding expansion, with both; each over a small parameter grid.

    Simplest first: ties in :meth:`GridScores.best` go to the earlier entry.
    """
    exp = [replace(e, space=expansion_space) for e in EXPANSION_GRID]
    return ([Pipeline()] + [Pipeline(rm3=r) for r in RM3_GRID] + [Pipeline(expansion=e) for e in exp]
            + [Pipeline(rm3=r, expansion=e) for r in RM3_GRID[::3] for e in exp])


@dataclass
class Choice:
    pipeline: Pipeline
    alpha: float
    score: float  # mean measure on the queries it was chosen on

    def describe(self) -> str:
        return f"{self.pipeline.name} + desm(alpha={self.alpha})" if self.alpha > 0 else self.pipeline.name


@dataclass
class GridScores:
    """Per-query scores of every (pipeline, α), and the candidates behind them."""

    pipelines: list[Pipeline]
    alphas: tuple[float, ...]
    query_ids: list[str]
    scores: np.ndarray  # (pipelines, alphas, queries)
    candidates: list[list[Any]] = field(repr=False)  # per pipeline, per query

    def best(self, query_ids: Sequence[str]) -> Choice:
        """The best mean over ``query_ids``; ties go to the simpler pipeline, then the smaller α."""
        cols = [self.query_ids.index(q) for q in query_ids]
        means = self.scores[:, :, cols].mean(axis=2)
        flat = int(np.argmax(means))  # first maximum: grid order is simplest first, α ascending
        p, a = np.unravel_index(flat, means.shape)
        return Choice(self.pipelines[p], self.alphas[a], float(means[p, a]))

    def mean(self) -> np.ndarray:
        return self.scores.mean(axis=2)


def score_grid(ranker: Ranker, queries: Mapping[str, str], qrels: Qrels, *, pipelines: Sequence[Pipeline],
               alphas: Sequence[float] = ALPHAS, mode: str = "rerank", measure: str = "nDCG@10",
               progress: bool | None = None) -> GridScores:
    """Rank every judged query with every pipeline, score every α per query."""
    judged = [q for q in queries if q in qrels]
    if not judged:
        raise DualvecError("none of the queries has judgments")
    scores = np.zeros((len(pipelines), len(alphas), len(judged)))
    cands_all = []
    with Progress(wants_progress(progress), unit="queries") as bar:
        # One step per (pipeline, query), not per pipeline: the pipelines differ in cost (BM25 alone is
        # the quickest, and first), so an estimate made after each pipeline stayed at the first one's.
        bar.task("ranking with every pipeline", len(pipelines) * len(judged))
        for p, pipe in enumerate(pipelines):
            r = ranker.with_config(**pipe.overrides())
            cands = []
            for i, q in enumerate(judged):
                cands.append(r.candidates(queries[q], mode=mode, query_id=q))
                if i % 8 == 7:
                    bar.update(p * len(judged) + i + 1, f"pipeline {p + 1}/{len(pipelines)}")
            cands_all.append(cands)
            for a, alpha in enumerate(alphas):
                per_query = evaluate(run_from(cands, r, alpha), qrels, [measure]).per_query[measure]
                scores[p, a] = [per_query.get(q, 0.0) for q in judged]
            bar.update((p + 1) * len(judged), f"pipeline {p + 1}/{len(pipelines)}")
    return GridScores(list(pipelines), tuple(alphas), judged, scores, cands_all)


@dataclass
class PipelineCV:
    run: dict[str, dict[str, float]]  # every judged query, ranked by the choice of the other folds
    choices: list[Choice]  # per fold
    grid: GridScores
    at_edge: list[str]  # choices at the edge of a parameter grid


def _at_edge(value: float, grid: Sequence[float]) -> bool:
    values = sorted(set(grid))
    return len(values) > 1 and value in (values[0], values[-1])


def _edges(choice: Choice) -> list[str]:
    """Parameters chosen at an end of their grid (the best may lie beyond it)."""
    out = [f"alpha={choice.alpha}"] if choice.alpha == ALPHAS[-1] else []
    checks: list[tuple[str, float, list[float]]] = []
    if (r := choice.pipeline.rm3) is not None:
        checks += [("rm3 fb_docs", r.fb_docs, [g.fb_docs for g in RM3_GRID]),
                   ("rm3 original_query_weight", r.original_query_weight,
                    [g.original_query_weight for g in RM3_GRID])]
    if (e := choice.pipeline.expansion) is not None:
        checks += [("expansion terms", e.terms, [g.terms for g in EXPANSION_GRID]),
                   ("expansion original_query_weight", e.original_query_weight,
                    [g.original_query_weight for g in EXPANSION_GRID])]
    return out + [f"{name}={value}" for name, value, grid in checks if _at_edge(value, grid)]


def cross_validate_pipelines(ranker: Ranker, queries: Mapping[str, str], qrels: Qrels, *, k: int = 5,
                             pipelines: Sequence[Pipeline] | None = None, mode: str = "rerank",
                             measure: str = "nDCG@10", seed: int = 0, depth: int = 100,
                             progress: bool | None = None) -> PipelineCV:
    """K-fold cross-validation of the pipeline choice (see the module docstring)."""
    if pipelines is None:
        pipelines = pipeline_grid("in-out" if ranker.model.out_vectors is not None else "in-in")
    grid = score_grid(ranker, queries, qrels, pipelines=pipelines, mode=mode, measure=measure, progress=progress)
    run: dict[str, dict[str, float]] = {}
    choices, edges = [], []
    for test_ids in folds(grid.query_ids, k, seed):
        test = set(test_ids)
        choice = grid.best([q for q in grid.query_ids if q not in test])
        p = grid.pipelines.index(choice.pipeline)
        cands = [c for c in grid.candidates[p] if c.query_id in test]
        run.update(run_from(cands, ranker, choice.alpha, depth))
        choices.append(choice)
        edges += [e for e in _edges(choice) if e not in edges]
    return PipelineCV(run, choices, grid, edges)


def iter_table(grid: GridScores) -> Iterator[tuple[str, list[float]]]:
    """(pipeline name, mean score at each α) rows, for printing."""
    means = grid.mean()
    for p, pipe in enumerate(grid.pipelines):
        yield pipe.name, [float(x) for x in means[p]]
