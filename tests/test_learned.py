"""Features over the candidate pool, learned rankers (coordinate ascent, LightGBM), their
cross-validation and their place in the index."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dualvec import DualvecError
from dualvec.evaluation import learning
from dualvec.ranking import Ranker
from dualvec.ranking.features import DualvecFeatures, QueryFeatures, learning_data
from dualvec.ranking.learned import CoordinateAscent, LambdaMART, learner_from_dict, make_learner, ndcg_at
from synthetic import topical_model_and_docs

NAMES = ("bm25", "rm3", "desm_in_out", "desm_in_in", "query_length")


def planted(n_queries=40, pool=30, seed=0, signal="desm_in_out", noise=1.0):
    """Pools whose relevance is a known feature plus noise; bm25 and rm3 are weaker copies."""
    rng = np.random.default_rng(seed)
    pools, qrels = [], {}
    j = NAMES.index(signal)
    for q in range(n_queries):
        X = rng.normal(size=(pool, len(NAMES)))
        X[:, NAMES.index("query_length")] = q % 4 + 1
        truth = X[:, j] + noise * rng.normal(size=pool) * 0.3
        X[:, 0] = 0.3 * truth + rng.normal(size=pool)  # bm25: a weak copy
        X[:, 1] = 0.3 * truth + rng.normal(size=pool)
        docs = [f"q{q}d{i}" for i in range(pool)]
        rel = np.argsort(-truth)[:3]
        qrels[f"q{q}"] = {docs[i]: 2 if r == 0 else 1 for r, i in enumerate(rel)}
        pools.append(QueryFeatures(_query(f"q{q}"), np.arange(pool), docs, X))
    return pools, qrels


def _query(qid):
    from dualvec.ranking import Query

    return Query("", [], {}, qid)


def test_learning_data_groups_rows_by_query_and_labels_unjudged_zero():
    pools, qrels = planted(n_queries=3, pool=5)
    qrels["q1"] = {}
    X, y, group, qids = learning_data(pools, qrels)
    assert qids == ["q0", "q1", "q2"] and group.tolist() == [5, 5, 5] and X.shape == (15, len(NAMES))
    assert y[5:10].tolist() == [0] * 5 and sorted(y[:5].tolist()) == [0, 0, 1, 1, 2]
    with pytest.raises(DualvecError, match="grades"):
        learning_data(pools, {"q0": {"q0d0": 99}})


def test_coordinate_ascent_finds_a_planted_feature_weight():
    pools, qrels = planted(signal="desm_in_in")  # a feature the default prior gives no weight
    X, y, group, _ = learning_data(pools, qrels)
    ca = CoordinateAscent(shrinkage=0.0).fit(X, y, group, feature_names=NAMES)
    w = dict(zip(NAMES, ca.weights_))
    assert max(w, key=lambda n: abs(w[n])) == "desm_in_in" and w["desm_in_in"] > 0.5, w
    assert w["query_length"] == 0.0  # a query feature cannot change a linear ranking
    prior = CoordinateAscent(n_iter=1, restarts=0, shrinkage=1e6).fit(X, y, group, feature_names=NAMES)
    assert dict(zip(NAMES, prior.weights_))["desm_in_in"] == 0.0  # all shrinkage: stays at the prior
    assert ndcg_at(ca.predict(X, group), y, group) > ndcg_at(prior.predict(X, group), y, group) + 0.1


def test_shrinkage_keeps_weights_near_the_prior_when_the_signal_is_noise():
    pools, qrels = planted(n_queries=12, noise=30.0, seed=3)
    X, y, group, _ = learning_data(pools, qrels)
    free = CoordinateAscent(shrinkage=0.0).fit(X, y, group, feature_names=NAMES)
    shrunk = CoordinateAscent(shrinkage=0.05).fit(X, y, group, feature_names=NAMES)
    w0 = np.array([1, 1, 1, 0, 0]) / 3  # default_prior: bm25, rm3 and desm_in_out in equal parts
    assert np.abs(shrunk.weights_ - w0).sum() < np.abs(free.weights_ - w0).sum()


def test_learner_is_an_estimator():
    ca = CoordinateAscent(n_iter=3, random_state=7)
    assert ca.get_params()["n_iter"] == 3 and ca.set_params(n_iter=4).n_iter == 4
    with pytest.raises(DualvecError, match="not fitted"):
        ca.predict(np.zeros((2, 5)))
    with pytest.raises(DualvecError, match="rows"):
        ca.fit(np.zeros((3, 2)), [0, 1], [3])
    with pytest.raises(DualvecError, match="sum to 3"):
        ca.fit(np.zeros((3, 2)), [0, 1, 0], [2])
    with pytest.raises(DualvecError, match="unknown learner 'svm'; use one of coordinate_ascent, lightgbm"):
        make_learner("svm")
    pools, qrels = planted(n_queries=10)
    X, y, group, _ = learning_data(pools, qrels)
    a = CoordinateAscent(random_state=1).fit(X, y, group, NAMES).weights_
    b = CoordinateAscent(random_state=1).fit(X, y, group, NAMES).weights_
    np.testing.assert_array_equal(a, b)
    with pytest.raises(DualvecError, match="fitted on 5 features"):
        CoordinateAscent().fit(X, y, group, NAMES).predict(X[:, :3])


def test_coordinate_ascent_round_trips_through_json():
    pools, qrels = planted(n_queries=10)
    X, y, group, _ = learning_data(pools, qrels)
    ca = CoordinateAscent().fit(X, y, group, NAMES)
    back = learner_from_dict(json.loads(json.dumps(ca.to_dict())))
    assert back.feature_names_ == NAMES
    np.testing.assert_array_equal(back.predict(X, group), ca.predict(X, group))
    with pytest.raises(DualvecError, match="weights"):
        learner_from_dict({**ca.to_dict(), "weights": [1.0]})


def test_lightgbm_round_trips_through_json():
    pytest.importorskip("lightgbm", reason="the lightgbm learner is optional (dualvec[ltr])")
    pools, qrels = planted(n_queries=30)
    X, y, group, _ = learning_data(pools, qrels)
    lm = LambdaMART(n_estimators=30, min_data_in_leaf=5).fit(X, y, group, NAMES)
    d = json.loads(json.dumps(lm.to_dict()))
    assert d["learner"] == "lightgbm" and len(d["trees"]) == 30 and "model" not in d  # dualvec's trees, no LightGBM text
    back = learner_from_dict(d)
    np.testing.assert_allclose(back.predict(X, group), lm.predict(X, group))
    assert ndcg_at(lm.predict(X, group), y, group) > ndcg_at(X[:, 0], y, group)


class SpyLearner(CoordinateAscent):
    """Records the query ids (column query_length holds a unique id here) it is fitted on and ranks."""

    log: list = []

    def fit(self, X, y, group, feature_names=None):
        SpyLearner.log.append(("fit", set(np.asarray(X)[:, -1].tolist())))
        return super().fit(X, y, group, feature_names)

    def predict(self, X, group=None):
        SpyLearner.log.append(("predict", set(np.asarray(X)[:, -1].tolist())))
        return super().predict(X, group)


def test_cross_validation_never_ranks_a_query_with_weights_fitted_on_it():
    pools, qrels = planted(n_queries=20)
    for i, p in enumerate(pools):
        p.X[:, -1] = i  # the query's own id in the last column
    by_id = {p.query_id: p for p in pools}
    SpyLearner.log = []
    cv = learning.cross_validate_learner(by_id, qrels, NAMES, k=4, make=lambda: SpyLearner(n_iter=2))
    assert set(cv.run) == set(by_id)
    fitted = None
    predicted = set()
    for kind, ids in SpyLearner.log:
        if kind == "fit":
            fitted = ids
        else:
            assert not (ids & fitted), "a query was ranked by weights fitted on it"
            predicted |= ids
    assert predicted == set(range(20))
    for train, test in cv.folds:
        assert not set(train) & set(test) and len(train) + len(test) == 20


@pytest.fixture(scope="module")
def topical_ranker():
    model, truth, docs = topical_model_and_docs()
    docs = dict(docs)
    for t, ws in enumerate(truth["words"]):  # more documents per topic, so that pools have some depth
        for i in range(4):
            docs[f"more{t}_{i}"] = " ".join(ws[i:i + 2] + truth["fill"][i:i + 3] + [truth["names"][t]] * (i % 2))
    return Ranker(model, stopwords=None).index(docs), truth


def test_features_are_named_and_computed_over_the_union_of_both_first_stages(topical_ranker):
    ranker, truth = topical_ranker
    feats = DualvecFeatures(ranker, k=3)
    assert feats.names[:4] == ("bm25", "rm3", "desm_in_out", "desm_in_in")
    assert "query_mean_idf" in feats.names
    q = truth["names"][0]
    f = feats.compute(q)
    bm25_all = ranker.bm25.weighted_scores(ranker.analyzer.query(q).weights)
    top3 = set(np.argsort(-bm25_all)[:3][bm25_all[np.argsort(-bm25_all)[:3]] > 0].tolist())
    assert top3 <= set(f.rows.tolist()) and len(f.rows) <= 6
    np.testing.assert_allclose(f.X[:, 0], bm25_all[f.rows])
    np.testing.assert_allclose(f.X[:, 2], ranker.desm("in-out").scores(ranker.analyzer.terms(q), f.rows), rtol=1e-5)
    names, mats = feats.transform({"a": q}, {"a": ["about0", "names1"]})
    assert names == feats.names and mats["a"].doc_ids == ["about0", "names1"] and mats["a"].X.shape == (2, len(names))


def test_a_saved_learned_ranker_reloads_and_ranks_identically(topical_ranker, tmp_path):
    ranker, truth = topical_ranker
    feats = ranker.features()
    queries = {f"q{t}": name for t, name in enumerate(truth["names"])}
    qrels = {f"q{t}": {f"about{t}": 1, **{f"more{t}_{i}": 1 for i in range(4)}} for t in range(len(truth["names"]))}
    pools = [feats.compute(text, query_id=qid) for qid, text in queries.items()]
    X, y, group, _ = learning_data(pools, qrels)
    learner = CoordinateAscent(shrinkage=0.0).fit(X, y, group, feats.names)
    with_learned = ranker.with_config(learned=learner.to_dict())
    with_learned.save(tmp_path / "idx")
    back = Ranker.load(tmp_path / "idx")
    assert back.learned is not None and back.learned.feature_names_ == feats.names
    for q in queries.values():
        got = back.search(q, k=5)
        assert got == with_learned.search(q, k=5)
        ids = [d for d, _ in got]
        whole = back.search(q, k=1000)  # the pool: scores are normalised over the documents scored
        assert [d for d, _ in back.rerank(q, [d for d, _ in whole][::-1])] == [d for d, _ in whole]
        np.testing.assert_allclose(back.score(q, [d for d, _ in whole]), [s for _, s in whole], rtol=1e-5)
    ex = back.explain(queries["q0"], back.search(queries["q0"], k=1)[0][0])
    assert [n for n, *_ in ex["features"]] == list(feats.names)
    assert ex["learned_score"] == pytest.approx(back.search(queries["q0"], k=1)[0][1])
    # an explicit alpha still asks for the mixture
    assert back.search(queries["q0"], k=3, alpha=0.0) == ranker.search(queries["q0"], k=3, alpha=0.0)


def test_empty_pools_are_left_out_and_a_learner_with_nothing_to_learn_cannot_win():
    pools, qrels = planted(n_queries=12)
    by_id = {p.query_id: p for p in pools}
    empty = QueryFeatures(_query("qe"), np.zeros(0, np.int64), [], np.zeros((0, len(NAMES))))
    by_id["qe"], qrels["qe"] = empty, {"somewhere": 1}
    learner = learning.fit_learner(by_id, qrels, list(by_id), NAMES, lambda: CoordinateAscent(n_iter=2))
    assert learner.predict(np.zeros((0, len(NAMES)))).shape == (0,)
    assert learning.predict_run(learner, by_id, ["qe"]) == {"qe": {}}

    class Grid:  # the one pipeline scores 0.5 on every query
        pipelines, alphas, query_ids = ["p"], [0.0], [f"e{i}" for i in range(6)]
        scores = np.full((1, 1, 6), 0.5)

        def best(self, ids):
            from types import SimpleNamespace
            return SimpleNamespace(pipeline="p", alpha=0.0)

    nothing = {f"e{i}": QueryFeatures(_query(f"e{i}"), np.zeros(0, np.int64), [], np.zeros((0, len(NAMES))))
               for i in range(6)}
    inner = learning.inner_scores(Grid(), nothing, {q: {"x": 1} for q in nothing}, NAMES, list(nothing), k=3,
                                  make=lambda: CoordinateAscent(), measure="nDCG@10", seed=0)
    assert learning.best_family(inner) == "pipeline" and inner["learner"] < 0
