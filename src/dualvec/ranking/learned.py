"""Learned rankers over :mod:`.features`: estimators in scikit-learn's manner.

``__init__`` stores hyperparameters only; ``fit(X, y, group, feature_names)`` validates,
learns and returns ``self``; the fitted state ends in ``_`` (``weights_`` or ``trees_``,
``feature_names_``); ``predict(X, group)`` before ``fit`` is a :class:`DualvecError`.
Rows come grouped by query (``group`` = rows per query, LightGBM's layout). Features are
normalised per query (z-score over the query's pool) before the model sees them, except
the query features (``query_*``), which are constant within a query.

Backends, by name in :data:`LEARNERS`:

* ``"coordinate_ascent"``: a linear model fitted by coordinate ascent on nDCG@10
  (Metzler and Croft, 2007), in numpy. Regularised so that it holds on a few dozen
  queries: only the document features (query features cannot change a linear
  ranking), weights kept to unit L1 norm, and an L1 penalty ``shrinkage`` on the
  distance from a prior weight vector (:func:`default_prior`: a z-score fusion of BM25,
  RM3 and DESM IN-OUT), so that a weight
  moves away from the prior only when that pays on the training queries by more
  than the penalty. Restarts perturb the prior, seeded by ``random_state``.
* ``"lightgbm"``: LambdaMART (LightGBM's ``lambdarank``), optional
  (``pip install 'dualvec[ltr]'``) to fit; its trees are then copied into dualvec's own
  :class:`~.trees.Forest` (``trees_``), which predicts, explains (SHAP), is saved as JSON and is
  checked completely on load, so that a saved ranker never reaches LightGBM's parser (which
  crashes or hangs on edited text). Format 1 files held LightGBM's model text: dualvec parses
  and checks it and uses the trees the same way, so old indexes keep ranking without LightGBM.

A fitted learner is saved as JSON (:meth:`to_dict`, :func:`learner_from_dict`), never pickled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import DualvecError
from .trees import Forest

__all__ = ["LEARNERS", "CoordinateAscent", "LambdaMART", "make_learner", "learner_from_dict",
           "default_prior", "ndcg_at", "per_query_normalize"]

LEARNED_FORMAT = "dualvec-learned-ranker"
#: 2: LightGBM rankers hold dualvec's trees, not LightGBM's model text (format 1, still read).
LEARNED_VERSION = 2
#: The cut-off both learners optimise (the measure ``dualvec tune`` reports).
NDCG_CUTOFF = 10


def per_query_normalize(X: np.ndarray, group: Sequence[int], columns: np.ndarray | None = None) -> np.ndarray:
    """z-score of each column within each query's rows (a constant column becomes 0);
    ``columns`` (a boolean mask) limits it to some columns, the others are copied."""
    X = np.asarray(X, dtype=np.float64)
    out = X.copy()
    cols = np.ones(X.shape[1], bool) if columns is None else np.asarray(columns, bool)
    start = 0
    for n in group:
        block = X[start:start + n][:, cols]
        if n:
            sd = block.std(axis=0)
            z = np.divide(block - block.mean(axis=0), sd, out=np.zeros_like(block), where=sd > 1e-12)
            out[start:start + n, cols] = z
        start += n
    return out


def _check_group(X: np.ndarray, group: Sequence[int] | None) -> np.ndarray:
    g = np.array([len(X)] if group is None else group, dtype=np.int64)
    if g.ndim != 1 or np.any(g < 0) or int(g.sum()) != len(X):
        raise DualvecError(f"group must count the rows of each query and sum to {len(X)}, not {int(g.sum())}")
    return g


class _Dense:
    """Groups padded into (queries, rows) arrays, for nDCG of many weight vectors at once."""

    def __init__(self, X: np.ndarray, y: np.ndarray, group: np.ndarray, k: int):
        width = int(group.max()) if len(group) else 0
        nq, F = len(group), X.shape[1]
        self.X = np.zeros((nq, width, F))
        self.gain = np.zeros((nq, width))
        self.mask = np.zeros((nq, width), bool)
        start = 0
        for i, n in enumerate(group):
            self.X[i, :n], self.gain[i, :n], self.mask[i, :n] = X[start:start + n], y[start:start + n], True
            start += n
        self.k = min(k, width)
        self.discount = 1.0 / np.log2(np.arange(2, self.k + 2))
        ideal = -np.sort(-self.gain, axis=1)[:, : self.k]
        self.idcg = ideal @ self.discount
        self.useful = self.idcg > 0  # a query without relevant pool documents cannot be ordered better

    def ndcg(self, W: np.ndarray) -> np.ndarray:
        """Mean nDCG@k over the useful queries, for each weight vector (row of W)."""
        if not self.useful.any() or self.k == 0:
            return np.zeros(len(W))
        X, gain, mask = self.X[self.useful], self.gain[self.useful], self.mask[self.useful]
        S = np.einsum("qpf,bf->bqp", X, W)
        S = np.where(mask[None], S, -np.inf)
        k = self.k
        top = np.argpartition(-S, k - 1, axis=-1)[..., :k] if k < S.shape[-1] else np.argsort(-S, axis=-1)
        top_s = np.take_along_axis(S, top, axis=-1)
        order = np.argsort(-top_s, axis=-1, kind="stable")
        top = np.take_along_axis(top, order, axis=-1)[..., :k]
        g = np.take_along_axis(np.broadcast_to(gain, S.shape), top, axis=-1)
        return ((g @ self.discount) / self.idcg[self.useful]).mean(axis=1)


def ndcg_at(scores: np.ndarray, y: np.ndarray, group: Sequence[int], k: int = NDCG_CUTOFF) -> float:
    """Mean nDCG@k (linear gains, as trec_eval) over the queries with a relevant row."""
    g = _check_group(scores.reshape(-1, 1), group)
    return float(_Dense(np.asarray(scores, float).reshape(-1, 1), np.asarray(y, float), g, k).ndcg(np.ones((1, 1)))[0])


class _Learner:
    """What both backends share: parameters, validation, normalisation, JSON."""

    name: ClassVar[str] = ""
    _params: ClassVar[tuple[str, ...]] = ()
    #: The format version its saves need (older dualvecs still read coordinate ascent's, format 1).
    format_version: ClassVar[int] = 1

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {p: getattr(self, p) for p in self._params}

    def set_params(self, **params) -> _Learner:
        unknown = set(params) - set(self._params)
        if unknown:
            raise DualvecError(f"unknown {self.name} parameter(s): {', '.join(sorted(unknown))}; "
                               f"use {', '.join(self._params)}")
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    def _validate(self, X, y, group, feature_names) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise DualvecError(f"X must be a matrix (rows x features), not of shape {X.shape}")
        y = np.asarray(y)
        if len(y) != len(X):
            raise DualvecError(f"X has {len(X)} rows but y has {len(y)} labels")
        if len(X) == 0:
            raise DualvecError("nothing to fit: no rows")
        if not np.all(np.isfinite(X)):
            raise DualvecError("X holds NaN or infinite values")
        g = _check_group(X, group)
        names = tuple(feature_names) if feature_names is not None else tuple(f"f{i}" for i in range(X.shape[1]))
        if len(names) != X.shape[1]:
            raise DualvecError(f"{len(names)} feature names for {X.shape[1]} columns")
        return X, y.astype(np.float64), g, names

    def _require_fitted(self) -> None:
        if not hasattr(self, "feature_names_"):
            raise DualvecError(f"this {self.name} ranker is not fitted: call fit() first")

    def _doc_columns(self, names: Sequence[str]) -> np.ndarray:
        return np.array([not n.startswith("query_") for n in names], bool)

    def _prepare(self, X, group) -> tuple[np.ndarray, np.ndarray]:
        self._require_fitted()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names_):
            raise DualvecError(f"the ranker was fitted on {len(self.feature_names_)} features "
                               f"({', '.join(self.feature_names_)}), not {X.shape[-1] if X.ndim else 0}")
        g = _check_group(X, group)
        return per_query_normalize(X, g, self._doc_columns(self.feature_names_)), g

    def normalized(self, X, group: Sequence[int] | None = None) -> np.ndarray:
        """The features as the ranker reads them: each document feature z-scored within its query."""
        return self._prepare(X, group)[0]

    def to_dict(self) -> dict[str, Any]:
        self._require_fitted()
        return {"format": LEARNED_FORMAT, "format_version": self.format_version, "learner": self.name,
                "params": self.get_params(), "feature_names": list(self.feature_names_), **self._state()}


class CoordinateAscent(_Learner):
    """Linear ranker by coordinate ascent on nDCG@10, shrunk towards ``prior`` (see the module docstring).

    ``features``: the feature names it may use (default: every document feature);
    ``prior``: feature -> weight it starts from and is shrunk towards (features it names
    that ``fit`` is not given are dropped; an empty prior is uniform over the features);
    ``shrinkage``: nDCG@10 a unit of L1 distance from the prior must earn;
    ``n_iter``: passes over the coordinates; ``restarts``: extra starts near the prior.
    """

    name: ClassVar[str] = "coordinate_ascent"
    _params: ClassVar[tuple[str, ...]] = ("features", "prior", "shrinkage", "n_iter", "restarts", "random_state")
    STEPS: ClassVar[tuple[float, ...]] = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6)

    def __init__(self, *, features: Sequence[str] | None = None, prior: Mapping[str, float] | None = None,
                 shrinkage: float = 0.05, n_iter: int = 10, restarts: int = 2, random_state: int = 0):
        self.features = features
        self.prior = prior
        self.shrinkage = shrinkage
        self.n_iter = n_iter
        self.restarts = restarts
        self.random_state = random_state

    def _used(self, names: tuple[str, ...]) -> list[int]:
        doc = self._doc_columns(names)
        if self.features is None:
            return [i for i, n in enumerate(names) if doc[i]]
        missing = [f for f in self.features if f not in names]
        if missing:
            raise DualvecError(f"unknown feature {missing[0]!r}; the data has {', '.join(names)}")
        return [names.index(f) for f in self.features]

    def _prior(self, names: Sequence[str]) -> np.ndarray:
        prior = default_prior(names) if self.prior is None else self.prior
        w = np.array([float(prior.get(n, 0.0)) for n in names])
        if not np.abs(w).sum():
            w = np.ones(len(names))
        return w / np.abs(w).sum()

    def fit(self, X, y, group, feature_names: Sequence[str] | None = None) -> CoordinateAscent:
        X, y, g, names = self._validate(X, y, group, feature_names)
        if self.shrinkage < 0 or self.n_iter < 1 or self.restarts < 0:
            raise DualvecError("coordinate ascent needs shrinkage >= 0, n_iter >= 1 and restarts >= 0, not "
                               f"{self.shrinkage}, {self.n_iter} and {self.restarts}")
        used = self._used(names)
        if not used:
            raise DualvecError("coordinate ascent has no document feature to weigh")
        Xn = per_query_normalize(X[:, used], g)
        dense = _Dense(Xn, y, g, NDCG_CUTOFF)
        w0 = self._prior([names[i] for i in used])
        rng = np.random.default_rng(self.random_state)

        def objective(W: np.ndarray) -> np.ndarray:
            W = W / np.maximum(np.abs(W).sum(axis=1, keepdims=True), 1e-12)
            return dense.ndcg(W) - self.shrinkage * np.abs(W - w0).sum(axis=1)

        best_w, best_f = w0, float(objective(w0[None])[0])
        starts = [w0] + [w0 + rng.normal(0, 0.3, len(w0)) for _ in range(self.restarts)]
        steps = np.array(self.STEPS)
        for start in starts:
            w = start / max(np.abs(start).sum(), 1e-12)
            f = float(objective(w[None])[0])
            for _ in range(self.n_iter):
                improved = False
                for j in rng.permutation(len(w)):
                    cands = np.repeat(w[None], 2 * len(steps) + 1, axis=0)
                    cands[1:, j] += np.concatenate([steps, -steps])
                    vals = objective(cands)
                    i = int(np.argmax(vals))
                    if vals[i] > f + 1e-9:
                        w = cands[i] / max(np.abs(cands[i]).sum(), 1e-12)
                        f = float(vals[i])
                        improved = True
                if not improved:
                    break
            if f > best_f + 1e-9:
                best_w, best_f = w, f
        weights = np.zeros(len(names))
        weights[used] = best_w
        self.weights_ = weights
        self.feature_names_ = names
        self.objective_ = best_f
        return self

    def predict(self, X, group: Sequence[int] | None = None) -> np.ndarray:
        """Scores of the rows (higher is better); ``group`` as in fit (default: one query)."""
        Xn, _ = self._prepare(X, group)
        return Xn @ self.weights_

    def contributions(self, X, group: Sequence[int] | None = None) -> np.ndarray:
        """Each feature's share of each row's score: weight x normalised value (rows x features)."""
        Xn, _ = self._prepare(X, group)
        return Xn * self.weights_

    def _state(self) -> dict[str, Any]:
        return {"weights": [float(w) for w in self.weights_]}

    def _load_state(self, d: Mapping[str, Any]) -> None:
        w = d.get("weights")
        if not isinstance(w, list) or len(w) != len(self.feature_names_) or not all(
                isinstance(x, (int, float)) and np.isfinite(x) for x in w):
            raise DualvecError("the saved ranker's weights are corrupt")
        self.weights_ = np.array(w, dtype=np.float64)


def default_prior(names: Sequence[str]) -> dict[str, float]:
    """Where coordinate ascent starts and what it is shrunk towards: a z-score CombSUM of the two
    first stages (BM25 and RM3, weight 1 each) and DESM IN-OUT (weight 1, shared by the models
    the index holds: 1/2 each for the general and the in-domain model)."""
    desm = [n for n in names if n.split("@")[0] == "desm_in_out"]
    return {**{n: 1.0 for n in ("bm25", "rm3") if n in names}, **{n: 1.0 / len(desm) for n in desm}}


def _lightgbm():
    try:
        import lightgbm
    except ImportError:
        raise DualvecError("the lightgbm learner needs LightGBM: pip install 'dualvec[ltr]'") from None
    return lightgbm


class LambdaMART(_Learner):
    """LambdaMART through LightGBM's ``lambdarank`` (optional: ``pip install 'dualvec[ltr]'``)."""

    name: ClassVar[str] = "lightgbm"
    format_version: ClassVar[int] = 2
    _params: ClassVar[tuple[str, ...]] = ("n_estimators", "learning_rate", "num_leaves", "min_data_in_leaf",
                                          "random_state", "n_jobs")

    def __init__(self, *, n_estimators: int = 100, learning_rate: float = 0.05, num_leaves: int = 7,
                 min_data_in_leaf: int = 20, random_state: int = 0, n_jobs: int = 1):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_data_in_leaf = min_data_in_leaf
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y, group, feature_names: Sequence[str] | None = None) -> LambdaMART:
        lgb = _lightgbm()
        X, y, g, names = self._validate(X, y, group, feature_names)
        from .features import MAX_GRADE

        if np.any(y < 0) or np.any(y > MAX_GRADE) or np.any(y != np.round(y)):
            raise DualvecError(f"lambdarank needs whole grades from 0 to {MAX_GRADE}")
        self.feature_names_ = names
        Xn = per_query_normalize(X, g, self._doc_columns(names))
        params = {"objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": [NDCG_CUTOFF],
                  "label_gain": list(range(MAX_GRADE + 1)), "learning_rate": self.learning_rate,
                  "num_leaves": self.num_leaves, "min_data_in_leaf": self.min_data_in_leaf,
                  "seed": self.random_state, "deterministic": True, "num_threads": self.n_jobs, "verbose": -1}
        data = lgb.Dataset(Xn, label=y.astype(np.int64), group=g, feature_name=[_safe(n) for n in names])
        booster = lgb.train(params, data, num_boost_round=self.n_estimators)
        # LightGBM only fits: the trees are copied into dualvec's own form, which predicts and is saved
        self.trees_ = Forest.from_lightgbm(booster.model_to_string(), len(names))
        return self

    def predict(self, X, group: Sequence[int] | None = None) -> np.ndarray:
        Xn, _ = self._prepare(X, group)
        return self.trees_.predict(Xn)

    def contributions(self, X, group: Sequence[int] | None = None) -> np.ndarray:
        """Each feature's share of each row's score (rows x features): the trees' SHAP values
        (LightGBM's ``pred_contrib``); with the trees' constant expected value they sum to :meth:`predict`."""
        Xn, _ = self._prepare(X, group)
        return self.trees_.contributions(Xn)[:, :-1]

    def _state(self) -> dict[str, Any]:
        return {"trees": self.trees_.to_json()}

    def _load_state(self, d: Mapping[str, Any]) -> None:
        if "trees" in d:
            self.trees_ = Forest.from_json(d["trees"], len(self.feature_names_))
        elif isinstance(d.get("model"), str):
            # format 1 held LightGBM's model text: parsed and checked here, never given to LightGBM
            self.trees_ = Forest.from_lightgbm(d["model"], len(self.feature_names_))
        else:
            raise DualvecError("the saved LightGBM ranker has no trees")


def _safe(name: str) -> str:
    """LightGBM refuses some characters in feature names."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)


#: Learner backends by name.
LEARNERS: dict[str, type[_Learner]] = {CoordinateAscent.name: CoordinateAscent, LambdaMART.name: LambdaMART}


def make_learner(name: str = "coordinate_ascent", **params) -> _Learner:
    """A learner of backend ``name`` with the given hyperparameters."""
    if name not in LEARNERS:
        raise DualvecError(f"unknown learner {name!r}; use one of {', '.join(LEARNERS)}")
    if name == LambdaMART.name:
        _lightgbm()  # fail when it is chosen, not at first use
    try:
        return LEARNERS[name](**params)
    except TypeError:
        return LEARNERS[name]().set_params(**params)


def learner_from_dict(d: Mapping[str, Any]) -> _Learner:
    """The inverse of ``to_dict``: a fitted learner from its JSON form."""
    if not isinstance(d, Mapping) or d.get("format") != LEARNED_FORMAT:
        raise DualvecError("not a saved dualvec learned ranker")
    if not isinstance(d.get("format_version"), int) or d["format_version"] > LEARNED_VERSION:
        raise DualvecError(f"learned ranker format {d.get('format_version')!r} is newer than this dualvec")
    params = d.get("params") or {}
    if not isinstance(params, Mapping):
        raise DualvecError("the saved ranker's parameters are corrupt")
    name = d.get("learner")
    if name not in LEARNERS:
        raise DualvecError(f"unknown learner {str(name)[:40]!r}; use one of {', '.join(LEARNERS)}")
    learner = LEARNERS[name]().set_params(**params)  # no LightGBM needed: only fitting uses it
    names = d.get("feature_names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not names:
        raise DualvecError("the saved ranker's feature names are corrupt")
    learner.feature_names_ = tuple(names)
    learner._load_state(d)
    return learner
