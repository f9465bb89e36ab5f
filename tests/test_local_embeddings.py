"""Locally trained embeddings (Diaz, Mitra and Craswell 2016) as a query-expansion stage."""

from __future__ import annotations

import numpy as np
import pytest

from dualvec import DualvecError
from dualvec.ranking import Ranker, RankerConfig
from dualvec.ranking.local import LocalEmbedding
from synthetic import topical_collection, topical_model_and_docs

FAST = dict(sample_docs=40, epochs=2, vector_size=12, fb_docs=50)


@pytest.fixture(scope="module")
def setting():
    general, _, _ = topical_model_and_docs()
    docs, truth = topical_collection()
    return Ranker(general, stopwords=None, alpha=0.0).index(docs), truth


def test_documents_are_weighted_by_query_likelihood_over_the_bm25_top(setting):
    ranker, truth = setting
    stage = LocalEmbedding(**FAST)
    q = ranker.analyze(f"{truth['names'][3]} {truth['words'][3][0]}")
    rows, p = stage.document_weights(ranker.stage_index(), q)
    bm25 = ranker.bm25.weighted_scores(q.weights)
    assert len(rows) == min(50, int((bm25 > 0).sum())) and set(rows) <= set(np.flatnonzero(bm25 > 0))
    assert p.sum() == pytest.approx(1.0) and (p > 0).all()
    # By hand: Dirichlet-smoothed log-likelihood of the query in each document, softmaxed.
    view = ranker.stage_index()
    counts = [dict(zip(*(a.tolist() for a in view.bm25.doc_term_counts(int(r))))) for r in rows]
    total = sum(sum(c.values()) for c in (dict(zip(*(a.tolist() for a in view.bm25.doc_term_counts(d))))
                                          for d in range(len(ranker.doc_ids))))
    cf = {t: 0 for t in q.weights}
    for d in range(len(ranker.doc_ids)):
        ids, cs = view.bm25.doc_term_counts(d)
        for i, c in zip(ids.tolist(), cs.tolist()):
            if view.bm25.term(i) in cf:
                cf[view.bm25.term(i)] += c
    ll = []
    for c in counts:
        length = sum(c.values())
        ll.append(sum(0.5 * np.log((c.get(view.bm25.term_ids[t], 0) + 1000 * cf[t] / total) / (length + 1000))
                      for t in q.weights))
    expected = np.exp(np.array(ll) - max(ll))
    np.testing.assert_allclose(p, expected / expected.sum(), rtol=1e-6)


@pytest.mark.parametrize("start", ["general", "scratch"])
def test_the_stage_adds_terms_from_the_sampled_top_documents(setting, start):
    ranker, truth = setting
    stage = LocalEmbedding(start=start, **FAST)
    r = ranker.with_config(local=stage)
    text = truth["names"][1]
    q = r.analyze(text)
    added = q.added["local"]
    assert 0 < len(added) <= stage.terms and sum(added.values()) == pytest.approx(1.0)
    view = ranker.stage_index()
    texts, drawn = stage.local_corpus(view, ranker.analyzer.query(text))
    sampled_terms = {t for row in texts for t in ranker.analyzer.bm25_terms(row)}
    assert set(added) <= sampled_terms
    assert not set(added) & set(ranker.analyzer.query(text).weights)
    # The documents drawn are the query's own topic's (the name occurs only there).
    assert all(int(ranker.doc_ids[d][3:]) % 5 == 1 for d in drawn)
    assert r.search(text, 5)  # and ranking through the stage works


def test_the_stage_is_a_saved_config_field(setting, tmp_path):
    ranker, _ = setting
    stage = LocalEmbedding(start="scratch", **FAST)
    ranker.with_config(local=stage).save(tmp_path / "idx")
    loaded = Ranker.load(tmp_path / "idx")
    assert loaded.config.local == stage
    assert [s.name for s in loaded.config.stages()] == ["local"]
    assert RankerConfig.from_dict(RankerConfig(local=stage).to_dict()).local == stage


def test_bad_settings_and_missing_texts_are_one_error_line(setting):
    ranker, truth = setting
    with pytest.raises(DualvecError, match="start from one of general, scratch"):
        LocalEmbedding(start="x").validate()
    with pytest.raises(DualvecError, match="sample_docs must be a whole number at least 1"):
        RankerConfig(local=LocalEmbedding(sample_docs=0)).validate()
    bare = ranker.with_config(local=LocalEmbedding(**FAST))
    bare.texts = None
    with pytest.raises(DualvecError, match="documents' text in the index"):
        bare.analyze(truth["names"][0])
