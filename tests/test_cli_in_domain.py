"""`dualvec index` with an in-domain model: beside MODEL by default, alone without MODEL."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import dualvec
from dualvec.cli import app
from dualvec.ranking import Ranker
from dualvec.ranking.in_domain import IN_DOMAIN, IN_DOMAIN_OPTIONS, MIN_TOKENS, count_tokens
from synthetic import topical_collection, topical_corpus

runner = CliRunner()
FAST = ["--in-domain-epochs", "2", "--in-domain-dim", "8", "--no-progress", "--stopwords", "none"]


def _model(seed: int):
    sents, _ = topical_corpus(n_sentences=1500, seed=seed)
    return dualvec.train(sents, sg=True, window=4, sample=0, min_count=1, epochs=2, vector_size=12, workers=1,
                         seed=seed, progress=False)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("in-domain")
    docs, truth = topical_collection(n_docs=600)
    assert count_tokens(docs.values()) >= MIN_TOKENS
    coll = root / "beir"
    (coll / "qrels").mkdir(parents=True)
    (coll / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": d, "title": "", "text": t})
                                                 for d, t in docs.items()))
    (coll / "queries.jsonl").write_text("\n".join(json.dumps({"_id": f"q{t}", "text": name})
                                                  for t, name in enumerate(truth["names"])))
    qrels = ["query-id\tcorpus-id\tscore"] + [f"q{int(d[3:]) % 5}\t{d}\t1" for d in docs]
    (coll / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n")
    for seed in (1, 2):
        _model(seed).save(root / f"model{seed}")
    return root, coll, docs


def _index(args):
    r = runner.invoke(app, ["index", *map(str, args), *FAST])
    assert r.exit_code == 0, r.output
    return r.output


def test_index_model_collection_keeps_an_in_domain_model_trained_on_the_collection_alone(setup, monkeypatch):
    root, coll, docs = setup
    assert IN_DOMAIN_OPTIONS["workers"] == 1  # the default: one thread, so the same text gives the same vectors
    out = _index([root / "model1", coll, "-o", root / "idx1"])
    assert "in-domain model" in out
    _index([root / "model2", coll, "-o", root / "idx2"])
    one, two = Ranker.load(root / "idx1"), Ranker.load(root / "idx2")
    d1, d2 = one.extra_models[IN_DOMAIN].model, two.extra_models[IN_DOMAIN].model
    tokens = {t for text in docs.values() for t in one.model.tokenizer(text)}
    assert set(d1.words) <= tokens and d1.vector_size == 8
    # Two general models with different vectors: the in-domain models are the same.
    assert not np.array_equal(one.model.in_vectors.vectors, two.model.in_vectors.vectors)
    assert d1.words == d2.words
    np.testing.assert_array_equal(d1.in_vectors.vectors, d2.in_vectors.vectors)
    r = runner.invoke(app, ["rank", str(root / "idx1"), str(coll), "-o", str(root / "run.trec"), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert (root / "run.trec").read_text().count("\n") > 0


def test_no_in_domain_and_a_collection_alone(setup):
    root, coll, docs = setup
    _index([root / "model1", coll, "-o", root / "plain", "--no-in-domain"])
    assert Ranker.load(root / "plain").extra_models == {}
    out = _index([coll, "-o", root / "alone"])
    assert "in-domain model" in out
    alone = Ranker.load(root / "alone")
    assert alone.extra_models == {} and alone.model.vector_size == 8
    assert set(alone.model.words) <= {t for text in docs.values() for t in alone.model.tokenizer(text)}
    r = runner.invoke(app, ["search", str(root / "alone"), "nameax", "-k", "3"])
    assert r.exit_code == 0 and "doc" in r.output
    r = runner.invoke(app, ["index", str(coll), "-o", str(root / "x"), "--engine", "local"])
    assert r.exit_code == 1 and "--engine needs a MODEL" in r.output


def test_a_collection_too_small_for_an_in_domain_model_is_indexed_without_one(setup, tmp_path):
    root, _, _ = setup
    docs = tmp_path / "docs.tsv"
    docs.write_text("d1\tnameax topicawax\nd2\tnamebx topicbwax\n")
    out = _index([root / "model1", docs, "-o", tmp_path / "idx"])
    assert "too little text" in out
    assert Ranker.load(tmp_path / "idx").extra_models == {}


def test_rerank_of_an_in_domain_index_mixes_both_models_as_rank_does(setup, tmp_path):
    """`dualvec rerank` on a ranker index with an in-domain model: the run's scores are the first
    stage and DESM is the index's own mixture of its two models (not the general model's alone)."""
    from dualvec.text.collections import read_run, write_run
    from dualvec.ranking.ranker import normalize

    root, coll, docs = setup
    if not (root / "idx1").exists():
        _index([root / "model1", coll, "-o", root / "idx1"])
    ranker = Ranker.load(root / "idx1")
    assert ranker.extra_models
    texts = list(docs.values())
    queries = {"q0": " ".join(texts[0].split()[:3]), "q1": " ".join(texts[7].split()[:2])}
    rng = np.random.default_rng(0)
    first = {q: {d: float(s) for d, s in zip(list(docs)[:40], rng.normal(size=40))} for q in queries}
    write_run(first, tmp_path / "first.trec")
    (tmp_path / "q.tsv").write_text("".join(f"{q}\t{t}\n" for q, t in queries.items()))
    r = runner.invoke(app, ["rerank", str(root / "idx1"), str(tmp_path / "q.tsv"), "--run", str(tmp_path / "first.trec"),
                            "-o", str(tmp_path / "out.trec"), "--desm-weight", "0.5"])
    assert r.exit_code == 0, r.output
    got = read_run(tmp_path / "out.trec")
    for q, text in queries.items():
        cand = ranker.candidates(text, doc_ids=list(first[q]))
        how = ranker.config.normalization  # rerank normalises as the index does (zscore for a tuned index)
        mixed = 0.5 * normalize(cand.desm, how) + 0.5 * normalize(np.array(list(first[q].values())), how)
        want = {d: s for d, s in zip(first[q], mixed)}
        assert set(got[q]) == set(want)
        for d, s in got[q].items():
            assert abs(s - want[d]) < 1e-5, (q, d)
        # the general model's DESM alone (what rerank read before) orders these documents differently
        own = Ranker.load(root / "idx1", desm_models="own").candidates(text, doc_ids=list(first[q])).desm
        assert not np.allclose(normalize(own), normalize(cand.desm), atol=1e-3)


def test_explain_and_search_show_the_raw_desm_and_the_weight_asked_for(setup):
    """With an in-domain model, the mixture's DESM is normalised over the ranked documents (0 for
    one document alone); explain gives each model's raw DESM instead, and search's title the weight used."""
    root, coll, docs = setup
    if not (root / "idx1").exists():
        _index([root / "model1", coll, "-o", root / "idx1"])
    ranker = Ranker.load(root / "idx1")
    text = " ".join(list(docs.values())[3].split()[:3])
    doc = ranker.search(text, 1)[0][0]
    ex = ranker.explain(text, doc)
    q = ranker.analyze(text)
    row = ranker.rows([doc])
    assert ex["desm"] == pytest.approx(float(ranker.desm(None).scores(q.terms, row)[0])) and ex["desm"] != 0
    assert ex["desm_by_model"][IN_DOMAIN] == pytest.approx(
        float(ranker.extra_models[IN_DOMAIN].desm(ranker.config.space).scores(q.terms, row)[0]))
    r = runner.invoke(app, ["search", str(root / "idx1"), text, "--desm-weight", "1", "-k", "3"])
    assert r.exit_code == 0, r.output
    assert "DESM weight 1.0" in r.output
