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
    monkeypatch.setitem(IN_DOMAIN_OPTIONS, "workers", 1)  # one thread: the same text gives the same vectors
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
