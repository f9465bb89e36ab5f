"""Learned rankers, honestly: cross-validation by whole queries, and the choice between
the learner and the pipeline grid made on the training folds alone.

* :func:`feature_pools` computes every query's pool and features once.
* :func:`cross_validate_learner` fits a learner on K − 1 folds and ranks the held-out one,
  for every fold (:class:`LearnerCV` records each fold's training and test queries).
* :func:`cross_validate_choice` is what ``dualvec tune --folds K`` reports: in each outer
  fold, an inner cross-validation on the training queries alone decides between the
  pipeline grid's best choice (BM25, RM3, expansion, α) and each learner
  (:func:`default_learners`: coordinate ascent, and LambdaMART where LightGBM is installed); the winner is
  then fitted (chosen) on all the training queries and ranks the held-out fold. When the
  learner does not pay on the training folds, the fold falls back to the pipeline.
* :func:`systems` returns a run per system (BM25, RM3, the defaults, ranx fusions, the
  cross-validated learner and choice), for benchmark scripts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DualvecError
from ..text.collections import Qrels
from ..progress import Progress, wants_progress
from ..ranking.features import QueryFeatures, learning_data
from ..ranking.learned import make_learner
from .ir import evaluate
from .tuning import folds

Run = dict[str, dict[str, float]]
#: Fusions of the pool's first-stage and DESM runs through ``ranx.fuse``: name -> (norm, method).
FUSIONS: dict[str, tuple[str, str]] = {"combsum": ("min-max", "sum"), "zscore": ("zmuv", "sum"),
                                       "combmnz": ("min-max", "mnz"), "rrf": ("min-max", "rrf")}
FUSED_FEATURES = ("bm25", "rm3", "desm_in_out")


def default_learners() -> dict[str, Callable[[], Any]]:
    """What ``tune`` tries beside the pipeline grid by default: coordinate ascent, and LightGBM's
    LambdaMART where LightGBM is installed (each kept only where an inner cross-validation says so)."""
    from importlib.util import find_spec

    names = ["coordinate_ascent"] + (["lightgbm"] if find_spec("lightgbm") is not None else [])
    return {name: (lambda name=name: make_learner(name)) for name in names}


def feature_pools(ranker: Any, queries: Mapping[str, str], k: int | None = None,
                  progress: bool | None = None) -> dict[str, QueryFeatures]:
    """Every query's pool and features, computed once (query id -> :class:`QueryFeatures`)."""
    feats = ranker.features(k)
    out: dict[str, QueryFeatures] = {}
    with Progress(wants_progress(progress), unit="queries") as bar:
        bar.task("features", len(queries))
        for n, (qid, text) in enumerate(queries.items(), start=1):
            out[qid] = feats.compute(text, query_id=qid)
            if n % 50 == 0:
                bar.update(n)
        bar.update(len(queries))
    return out


def ranked_run(pools: Sequence[QueryFeatures], scores: Sequence[np.ndarray], depth: int = 100) -> Run:
    """A run from pools and one score array per pool: best first, ties by index row, top ``depth``."""
    run: Run = {}
    for p, s in zip(pools, scores):
        order = np.lexsort((p.rows, -s))[:depth]
        run[p.query_id] = {p.doc_ids[i]: float(s[i]) for i in order}
    return run


def fit_learner(pools: Mapping[str, QueryFeatures], qrels: Qrels, query_ids: Sequence[str], names: Sequence[str],
                make: Callable[[], Any]) -> Any:
    """A new learner fitted on the pools of ``query_ids``."""
    X, y, group, _ = learning_data([pools[q] for q in query_ids if len(pools[q].rows)], qrels)
    return make().fit(X, y, group, feature_names=names)


def predict_run(learner: Any, pools: Mapping[str, QueryFeatures], query_ids: Sequence[str], depth: int = 100) -> Run:
    chosen = [pools[q] for q in query_ids]
    return ranked_run(chosen, [learner.predict(p.X) if len(p.rows) else np.zeros(0) for p in chosen], depth)


@dataclass
class LearnerCV:
    run: Run  # every judged query, ranked by a learner fitted on the other folds
    folds: list[tuple[list[str], list[str]]]  # (training queries, test queries) per fold
    learners: list[Any] = field(repr=False)


def cross_validate_learner(pools: Mapping[str, QueryFeatures], qrels: Qrels, names: Sequence[str], *, k: int = 5,
                           make: Callable[[], Any] | None = None, seed: int = 0, depth: int = 100,
                           query_ids: Sequence[str] | None = None) -> LearnerCV:
    """K-fold cross-validation of a learner over judged queries (whole queries per fold)."""
    make = make or (lambda: make_learner("coordinate_ascent"))
    judged = [q for q in (query_ids if query_ids is not None else pools) if q in qrels]
    run: Run = {}
    record, learners = [], []
    for test in folds(judged, k, seed):
        held = set(test)
        train = [q for q in judged if q not in held]
        learner = fit_learner(pools, qrels, train, names, make)
        run.update(predict_run(learner, pools, test, depth))
        record.append((train, list(test)))
        learners.append(learner)
    return LearnerCV(run, record, learners)


def _per_query(run: Run, qrels: Qrels, query_ids: Sequence[str], measure: str) -> np.ndarray:
    sub = {q: qrels[q] for q in query_ids}
    per = evaluate({q: run.get(q, {}) for q in query_ids}, sub, [measure]).per_query[measure]
    return np.array([per.get(q, 0.0) for q in query_ids])


@dataclass
class FoldChoice:
    kind: str  # "learner" or "pipeline"
    description: str
    inner: dict[str, float]  # inner cross-validated score of each family on the training queries
    learner: Any = field(default=None, repr=False)


@dataclass
class ChoiceCV:
    run: Run
    choices: list[FoldChoice]
    folds: list[tuple[list[str], list[str]]]


def _learners(make: Callable[[], Any] | Mapping[str, Callable[[], Any]] | None) -> dict[str, Callable[[], Any]]:
    """Learner factories by name (one factory is ``{"learner": make}``; none: coordinate ascent)."""
    if make is None:
        return {"coordinate_ascent": lambda: make_learner("coordinate_ascent")}
    return dict(make) if isinstance(make, Mapping) else {"learner": make}


def inner_scores(grid: Any, pools: Mapping[str, QueryFeatures], qrels: Qrels, names: Sequence[str],
                 train: Sequence[str], *, k: int, make: Callable[[], Any] | Mapping[str, Callable[[], Any]],
                 measure: str, seed: int, depth: int = 100) -> dict[str, float]:
    """Each family's cross-validated ``measure`` over ``train`` alone (folds within it): the
    pipeline grid's, and each learner's (``make``: a factory, or factories by name)."""
    makers = _learners(make)
    usable = [q for q in train if q in grid.query_ids]
    k = min(k, len(usable))
    if k < 2:
        return {"pipeline": 0.0, **{name: -1.0 for name in makers}}
    pipe: list[float] = []
    learn: dict[str, list[float]] = {name: [] for name in makers}
    for test in folds(usable, k, seed + 1):
        held = set(test)
        inner_train = [q for q in usable if q not in held]
        choice = grid.best(inner_train)
        p, a = grid.pipelines.index(choice.pipeline), grid.alphas.index(choice.alpha)
        cols = [grid.query_ids.index(q) for q in test]
        pipe.extend(grid.scores[p, a, cols].tolist())
        for name, maker in makers.items():
            try:
                learner = fit_learner(pools, qrels, inner_train, names, maker)
            except DualvecError:  # nothing to learn from (no pool holds a row): the learner cannot compete
                learn[name].extend([-1.0] * len(test))
                continue
            learn[name].extend(_per_query(predict_run(learner, pools, test, depth), qrels, test, measure).tolist())
    return {"pipeline": float(np.mean(pipe)), **{name: float(np.mean(v)) for name, v in learn.items()}}


def best_family(inner: Mapping[str, float]) -> str:
    """The family with the best inner score; ties go to the pipeline grid, then to the earlier learner."""
    return max(inner, key=lambda name: (inner[name], name == "pipeline"))


def cross_validate_choice(ranker: Any, grid: Any, pools: Mapping[str, QueryFeatures], qrels: Qrels, *, k: int = 5,
                          make: Callable[[], Any] | Mapping[str, Callable[[], Any]] | None = None,
                          measure: str = "nDCG@10", seed: int = 0, depth: int = 100) -> ChoiceCV:
    """Outer K-fold cross-validation; in each fold, the pipeline grid or a learner (``make``: a
    factory, or factories by name), chosen by an inner cross-validation on that fold's training
    queries (see the module docstring)."""
    from .tuning import run_from

    makers = _learners(make)
    names = ranker.features().names
    judged = list(grid.query_ids)
    run: Run = {}
    choices, record = [], []
    for test in folds(judged, k, seed):
        held = set(test)
        train = [q for q in judged if q not in held]
        inner = inner_scores(grid, pools, qrels, names, train, k=k, make=makers, measure=measure, seed=seed,
                             depth=depth)
        family = best_family(inner)
        if family != "pipeline":
            learner = fit_learner(pools, qrels, train, names, makers[family])
            run.update(predict_run(learner, pools, test, depth))
            choices.append(FoldChoice("learner", f"learned {learner.name}", inner, learner))
        else:
            choice = grid.best(train)
            p = grid.pipelines.index(choice.pipeline)
            cands = [c for c in grid.candidates[p] if c.query_id in held]
            run.update(run_from(cands, ranker, choice.alpha, depth))
            choices.append(FoldChoice("pipeline", choice.describe(), inner))
        record.append((train, list(test)))
    return ChoiceCV(run, choices, record)


def pipeline_cv_run(ranker: Any, grid: Any, *, k: int = 5, seed: int = 0, depth: int = 100) -> Run:
    """The pipeline grid's K-fold run (as :func:`~.pipelines.cross_validate_pipelines`, from a grid)."""
    from .tuning import run_from

    run: Run = {}
    for test in folds(grid.query_ids, k, seed):
        held = set(test)
        choice = grid.best([q for q in grid.query_ids if q not in held])
        p = grid.pipelines.index(choice.pipeline)
        run.update(run_from([c for c in grid.candidates[p] if c.query_id in held], ranker, choice.alpha, depth))
    return run


def describe_learner(learner: Any) -> str:
    """``coordinate_ascent: bm25 0.31, rm3 0.52, ...`` (a linear learner's non-zero weights)."""
    w = getattr(learner, "weights_", None)
    if w is None:
        return learner.name
    parts = [f"{n} {x:+.2f}" for n, x in zip(learner.feature_names_, w) if abs(x) > 1e-9]
    return f"{learner.name}: " + ", ".join(parts)


def fusion_runs(pools: Mapping[str, QueryFeatures], names: Sequence[str], features: Sequence[str] = FUSED_FEATURES,
                depth: int = 100) -> dict[str, Run]:
    """ranx's fusions of one run per feature over each query's pool (cheap baselines)."""
    try:
        from ranx import Run as RanxRun
        from ranx import fuse
    except ImportError:
        raise DualvecError("fusions need ranx: pip install 'dualvec[ltr]'") from None
    cols = [list(names).index(f) for f in features if f in names]
    runs = []
    for j in cols:
        r = {qid: {d: float(x) for d, x in zip(p.doc_ids, p.X[:, j])} or {"": 0.0} for qid, p in pools.items()}
        runs.append(RanxRun(r))
    out: dict[str, Run] = {}
    for name, (norm, method) in FUSIONS.items():
        fused = fuse(runs=runs, norm=norm, method=method).to_dict()
        out[name] = {q: dict(sorted(((d, s) for d, s in docs.items() if d), key=lambda kv: -kv[1])[:depth])
                     for q, docs in fused.items()}
    return out


def systems(ranker: Any, queries: Mapping[str, str], qrels: Qrels, *, k: int = 5, seed: int = 0,
            lightgbm: bool = False, progress: bool | None = None) -> dict[str, Run]:
    """A run per system on the judged ``queries``, for benchmarks (name -> run):

    ``bm25``, ``rm3`` (Anserini's parameters), ``defaults`` (the index as configured:
    ``dualvec rank``), the fusions of :data:`FUSIONS`, ``cv_learner`` (coordinate ascent,
    K-fold), ``cv_lightgbm`` (if asked), ``cv_pipeline`` (the pipeline grid, K-fold) and
    ``cv_tune`` (what ``dualvec tune --folds K`` writes: learner or pipeline per fold)."""
    from ..ranking import RM3
    from .pipelines import pipeline_grid, score_grid

    judged = {q: t for q, t in queries.items() if q in qrels}
    if not judged:
        raise DualvecError("none of the queries has judgments")
    plain = ranker.with_config(rm3=None, expansion=None, learned=None)
    runs: dict[str, Run] = {
        "bm25": plain.run(judged, k=100, alpha=0.0),
        "rm3": plain.with_config(rm3=RM3()).run(judged, k=100, alpha=0.0),
        "defaults": ranker.run(judged, k=100),
    }
    pools = feature_pools(plain, judged, progress=progress)
    names = plain.features().names
    runs.update(fusion_runs(pools, names))
    runs["cv_learner"] = cross_validate_learner(pools, qrels, names, k=k, seed=seed).run
    if lightgbm:
        runs["cv_lightgbm"] = cross_validate_learner(pools, qrels, names, k=k, seed=seed,
                                                     make=lambda: make_learner("lightgbm")).run
    pipes = pipeline_grid("in-out" if ranker.model.out_vectors is not None else "in-in")
    grid = score_grid(plain, judged, qrels, pipelines=pipes, progress=progress)
    runs["cv_pipeline"] = pipeline_cv_run(plain, grid, k=k, seed=seed)
    runs["cv_tune"] = cross_validate_choice(plain, grid, pools, qrels, k=k, seed=seed,
                                            make=default_learners()).run
    return runs
