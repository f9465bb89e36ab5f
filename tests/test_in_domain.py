"""In-domain models (trained at index time on the collection's own text) and the index
that keeps one beside the general model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dualvec import DualvecError
from dualvec.ranking import Ranker, normalize
from dualvec.ranking.in_domain import IN_DOMAIN, IndexedModel, feature_name, train_in_domain
from synthetic import topical_collection, topical_model_and_docs

SMALL = dict(vector_size=16, epochs=5, min_count=1, workers=1, sample=0.0)  # sample: a 50-word vocabulary


@pytest.fixture(scope="module")
def setting():
    general, _, _ = topical_model_and_docs()
    docs, truth = topical_collection()
    docs["odd"] = "zzqonlyherex " * 3 + docs["doc0"]  # a word only the collection has
    domain = train_in_domain(docs.values(), tokenizer=general.tokenizer, **SMALL)
    return general, docs, truth, domain


def test_the_in_domain_model_is_trained_from_the_collection_text_alone(setting):
    general, docs, _, domain = setting
    collection_tokens = {t for text in docs.values() for t in general.tokenizer(text)}
    assert set(domain.words) <= collection_tokens
    assert "zzqonlyherex" in domain and "zzqonlyherex" not in general
    assert repr(domain.tokenizer) == repr(general.tokenizer)
    # Nothing of the general model's vectors goes in: the same text gives the same model.
    again = train_in_domain(docs.values(), tokenizer=general.tokenizer, **SMALL)
    assert again.words == domain.words
    np.testing.assert_array_equal(again.in_vectors.vectors, domain.in_vectors.vectors)
    assert domain.vector_size == 16 != general.vector_size


def test_the_default_in_domain_model_is_the_same_every_time(setting):
    """Without a workers option (what `dualvec index` passes): one thread, a fixed seed, so two
    builds of one collection's index hold the same model and rank alike."""
    general, docs, _, _ = setting
    opts = {k: v for k, v in SMALL.items() if k != "workers"}
    one = train_in_domain(docs.values(), tokenizer=general.tokenizer, **opts)
    two = train_in_domain(docs.values(), tokenizer=general.tokenizer, **opts)
    np.testing.assert_array_equal(one.in_vectors.vectors, two.in_vectors.vectors)
    np.testing.assert_array_equal(one.out_vectors.vectors, two.out_vectors.vectors)


def test_no_text_to_train_on_is_one_error_line():
    with pytest.raises(DualvecError, match="no document text"):
        train_in_domain(["", "   "])


def test_an_index_keeps_the_in_domain_model_beside_its_own_and_loads_it_mapped(setting, tmp_path):
    general, docs, truth, domain = setting
    ranker = Ranker(general, stopwords=None).index(docs, extra_models={IN_DOMAIN: domain})
    query = truth["names"][1]
    before = ranker.search(query, 10)
    ranker.save(tmp_path / "idx")
    header = json.loads((tmp_path / "idx" / "ranker.json").read_text())
    assert header["extra_models"][IN_DOMAIN]["fingerprint"] == \
        Ranker.load(tmp_path / "idx").extra_models[IN_DOMAIN].model.fingerprint
    loaded = Ranker.load(tmp_path / "idx")
    assert loaded.search(query, 10) == before
    extra = loaded.extra_models[IN_DOMAIN]
    assert isinstance(extra.centroids["in"], np.memmap)
    assert extra.model.words == domain.words
    np.testing.assert_array_equal(extra.centroids["out"], ranker.extra_models[IN_DOMAIN].centroids["out"])


def test_desm_features_are_named_per_pairing_per_model(setting):
    general, docs, truth, domain = setting
    ranker = Ranker(general, stopwords=None).index(docs, extra_models={IN_DOMAIN: domain})
    cand = ranker.candidates(truth["names"][2])
    feats = ranker.desm_features(cand.query, cand.rows)
    assert set(feats) == {"desm_in_out", "desm_in_in", "desm_in_out@in-domain", "desm_in_in@in-domain"}
    np.testing.assert_allclose(feats[feature_name("", "in-out")],
                               ranker.with_config(desm_models="own").candidates(truth["names"][2]).desm, rtol=1e-6)
    own = IndexedModel.build(domain, [ranker.analyzer.terms(docs[d]) for d in ranker.doc_ids])
    np.testing.assert_allclose(feats["desm_in_in@in-domain"], own.desm("in-in").scores(cand.query.terms, cand.rows),
                               rtol=1e-6)
    # Over every document, the in-domain model puts the query's own topic first.
    every = ranker.desm_features(cand.query, np.arange(len(ranker.doc_ids)))["desm_in_out@in-domain"]
    topic = np.array([d.startswith("doc") and int(d[3:]) % 5 == 2 for d in ranker.doc_ids])
    assert every[topic].min() > every[~topic].max()

def test_an_index_without_an_in_domain_model_still_loads_and_ranks(setting, tmp_path):
    general, docs, truth, _ = setting
    ranker = Ranker(general, stopwords=None).index(docs)
    ranker.save(tmp_path / "plain")
    assert "extra_models" not in json.loads((tmp_path / "plain" / "ranker.json").read_text())
    loaded = Ranker.load(tmp_path / "plain")
    assert loaded.extra_models == {}
    assert loaded.search(truth["names"][0], 5) == ranker.search(truth["names"][0], 5)
    cand = loaded.candidates(truth["names"][0])
    assert set(loaded.desm_features(cand.query, cand.rows)) == {"desm_in_out", "desm_in_in"}


def test_a_replaced_in_domain_model_or_a_bad_entry_is_refused(setting, tmp_path):
    general, docs, _, domain = setting
    Ranker(general, stopwords=None).index(docs, extra_models={IN_DOMAIN: domain}).save(tmp_path / "idx")
    path = tmp_path / "idx" / "ranker.json"
    header = json.loads(path.read_text())
    good = json.dumps(header)
    header["extra_models"][IN_DOMAIN]["fingerprint"] = "0" * 16
    path.write_text(json.dumps(header))
    with pytest.raises(DualvecError, match="in-domain model inside the index is not the one"):
        Ranker.load(tmp_path / "idx")
    header = json.loads(good)
    header["extra_models"][IN_DOMAIN]["files"]["in"] = "../x.npy"
    path.write_text(json.dumps(header))
    with pytest.raises(DualvecError, match="unsafe file"):
        Ranker.load(tmp_path / "idx")
    header = json.loads(good)
    header["extra_models"] = {"Bad Name": header["extra_models"][IN_DOMAIN]}
    path.write_text(json.dumps(header))
    with pytest.raises(DualvecError, match="not a valid name"):
        Ranker.load(tmp_path / "idx")
    with pytest.raises(DualvecError, match="lowercase letters"):
        Ranker(general).index(docs, extra_models={"a/b": domain})


def test_the_learned_rankers_features_include_the_in_domain_models(setting, tmp_path):
    general, docs, truth, domain = setting
    Ranker(general, stopwords=None).index(docs, extra_models={IN_DOMAIN: domain}).save(tmp_path / "idx")
    ranker = Ranker.load(tmp_path / "idx")
    feats = ranker.features()
    assert {"desm_in_out@in-domain", "desm_in_in@in-domain", "desm_in_out", "desm_in_in"} <= set(feats.names)
    pool = feats.compute(truth["names"][4])
    mine = ranker.desm_features(pool.query, pool.rows)
    for name, values in mine.items():
        np.testing.assert_allclose(pool.X[:, feats.names.index(name)], values, rtol=1e-5, atol=1e-6)


def test_the_mixture_uses_both_models_unless_told_own(setting):
    general, docs, truth, domain = setting
    both = Ranker(general, stopwords=None).index(docs, extra_models={IN_DOMAIN: domain})
    own = both.with_config(desm_models="own")
    plain = Ranker(general, stopwords=None).index(docs)
    query = f"{truth['names'][3]} {truth['words'][3][0]}"
    c_both, c_own, c_plain = both.candidates(query), own.candidates(query), plain.candidates(query)
    np.testing.assert_array_equal(c_own.desm, c_plain.desm)
    feats = both.desm_features(c_both.query, c_both.rows)
    expected = (normalize(feats["desm_in_out"]) + normalize(feats["desm_in_out@in-domain"])) / 2
    np.testing.assert_allclose(c_both.desm, expected, rtol=1e-6)
    assert not np.allclose(c_both.desm, normalize(c_own.desm))
    with pytest.raises(DualvecError, match="unknown desm_models"):
        both.with_config(desm_models="some")
