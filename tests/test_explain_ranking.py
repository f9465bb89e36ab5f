"""Ranker.explain_ranking: the components a ranking's scores add up from (the explorer shows them)."""

from __future__ import annotations

import numpy as np
import pytest

import dualvec
from dualvec.ranking import Ranker
from dualvec.ranking.features import learning_data
from dualvec.ranking.learned import CoordinateAscent
from synthetic import topical_corpus, topical_model_and_docs


@pytest.fixture(scope="module")
def two_models():
    """An index with an in-domain model beside its own, so that DESM is a mean of two models."""
    model, truth, docs = topical_model_and_docs()
    docs = dict(docs)
    for t, ws in enumerate(truth["words"]):  # more documents, so that rerank's pool is not every document
        for i in range(4):
            docs[f"more{t}_{i}"] = " ".join(ws[i:i + 2] + truth["fill"][i:i + 3] + [truth["names"][t]] * (i % 2))
    sents, _ = topical_corpus(n_sentences=600, seed=3)
    other = dualvec.train(sents, sg=True, min_count=1, epochs=2, vector_size=12, workers=1, seed=1, progress=False)
    return Ranker(model, stopwords=None, first_stage_k=12).index(docs, extra_models={"in-domain": other}), truth


def _adds_up(result, bias=0.0):
    return sum(c["contribution"] for c in result["components"]) + bias == pytest.approx(result["score"], abs=1e-9)


@pytest.mark.parametrize("mode", ["rerank", "full"])
def test_the_mixtures_components_add_up_to_its_scores_in_search_order(two_models, mode):
    ranker, truth = two_models
    q = f"{truth['names'][3]} {truth['words'][3][4]}"
    ex = ranker.explain_ranking(q, 6, mode=mode, alpha=0.4)
    assert [(r["doc_id"], r["score"]) for r in ex["results"]] == ranker.search(q, 6, mode=mode, alpha=0.4)
    assert ex["ranker"] == "mixture" and ex["models"] == ["", "in-domain"] and ex["alpha"] == 0.4
    assert ex["pool"] == (12 if mode == "rerank" else len(ranker.doc_ids))
    cand = ranker.candidates(q, mode=mode)
    for r in ex["results"]:
        assert _adds_up(r)
        bm25, desm = r["components"]
        assert (bm25["name"], desm["name"], bm25["weight"], desm["weight"]) == ("bm25", "desm", pytest.approx(0.6), 0.4)
        i = int(np.flatnonzero(cand.rows == ranker.rows([r["doc_id"]])[0])[0])
        assert bm25["raw"] == pytest.approx(cand.bm25[i])
        # DESM is the mean of both models' min-max normalised DESM, normalised again over the pool
        own, dom = desm["models"]
        assert (own["name"], dom["name"]) == ("", "in-domain")
        assert own["raw"] == pytest.approx(ranker.explain(q, r["doc_id"])["desm"], abs=1e-6)
        assert dom["raw"] == pytest.approx(ranker.explain(q, r["doc_id"])["desm_by_model"]["in-domain"], abs=1e-6)
        assert desm["raw"] == pytest.approx((own["normalized"] + dom["normalized"]) / 2)
    # one model only: no parts
    own_only = ranker.with_config(desm_models="own").explain_ranking(q, 3, mode=mode)
    assert own_only["models"] == [""] and all("models" not in c for r in own_only["results"] for c in r["components"])


def test_a_learned_rankers_feature_contributions_add_up_to_its_scores(two_models):
    ranker, truth = two_models
    learner = CoordinateAscent(shrinkage=0.0, n_iter=3)
    feats = ranker.features()
    queries = {f"q{t}": name for t, name in enumerate(truth["names"])}
    qrels = {f"q{t}": {f"about{t}": 1, **{f"more{t}_{i}": 1 for i in range(4)}} for t in range(len(truth["names"]))}
    X, y, group, _ = learning_data([feats.compute(text, query_id=qid) for qid, text in queries.items()], qrels)
    learned = ranker.with_config(learned=learner.fit(X, y, group, feats.names).to_dict())
    q = truth["names"][1]
    ex = learned.explain_ranking(q, 5)
    assert [(r["doc_id"], r["score"]) for r in ex["results"]] == [
        (d, pytest.approx(s)) for d, s in learned.search(q, 5)]
    assert ex["ranker"] == "learned" and ex["features"] == list(feats.names)
    assert "desm_in_out@in-domain" in ex["features"]  # every model the index ranks with
    for r in ex["results"]:
        assert [c["name"] for c in r["components"]] == list(feats.names)
        assert sum(c["contribution"] for c in r["components"]) + ex["bias"] == pytest.approx(r["score"], abs=1e-6)
    assert ex["bias"] == pytest.approx(0.0, abs=1e-9)  # a linear ranker: the weighted features alone
    for c in ex["results"][0]["components"]:
        assert c["contribution"] == pytest.approx(c["weight"] * c["normalized"])


def test_a_model_tuned_for_ranking_is_named_as_the_desm_that_ranks_and_the_fused_first_stage_explained(two_models):
    ranker, truth = two_models
    domain = ranker.extra_models["in-domain"]
    tuned_model = domain.model.tuned_copy(np.asarray(domain.model.in_vectors.unit), np.asarray(domain.model.out_vectors.unit),
                                          {"pooling": "unit-mean"})
    tuned = ranker.with_config(desm_models="tuned", first_stage="fused", alpha=0.6, normalization="zscore")
    tuned.extra_models = {"in-domain": type(domain)(tuned_model, domain.centroids)}
    q = f"{truth['names'][2]} {truth['words'][2][1]}"
    ex = tuned.explain_ranking(q, 5)
    assert [(r["doc_id"], r["score"]) for r in ex["results"]] == tuned.search(q, 5)
    assert ex["models"] == ["in-domain"] and ex["first_stage"] == "fused" and ex["pool"] == 12
    for r in ex["results"]:
        assert _adds_up(r)
        desm = r["components"][1]
        (model,) = desm["models"]  # the tuned model's DESM alone ranks, not the index's own
        assert model["name"] == "in-domain" and model["raw"] == desm["raw"]
        assert desm["raw"] == pytest.approx(tuned.explain(q, r["doc_id"])["desm_by_model"]["in-domain"], abs=1e-6)
