"""Issue 27, section 2: ``dualvec info`` on an index (ranker and sharded), and an index passed where a
model is wanted says what it is and what to pass instead."""

from __future__ import annotations

import json
import os
import socket

import numpy as np
import pytest
from typer.testing import CliRunner

import dualvec
from dualvec.cli import app
from synthetic import topical_corpus

runner = CliRunner()


def _train(sents, **options):
    return dualvec.train(sents, sg=True, sample=0, min_count=1, workers=1, progress=False, **options)


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    """A ranker index with an in-domain model, RM3 and a saved learner; a sharded index of the same
    documents; the model they were built from."""
    from dualvec.ranking import RM3, Ranker
    from dualvec.ranking.learned import CoordinateAscent
    from dualvec.scale import build_index

    root = tmp_path_factory.mktemp("info")
    sents, _ = topical_corpus(n_sentences=600)
    general = _train(sents, vector_size=12, window=4, epochs=2, seed=1)
    own = _train(sents, vector_size=8, window=3, epochs=3, seed=2)
    general.save(root / "model")
    general = dualvec.load(root / "model")
    docs = {f"d{i}": " ".join(s) for i, s in enumerate(sents[:40])}
    ranker = Ranker(general, alpha=0.3, k1=1.1, b=0.6, rm3=RM3())
    ranker.index(docs, extra_models={"in-domain": own})
    learner = CoordinateAscent()
    learner.feature_names_ = tuple(ranker.features().names)
    learner.weights_ = np.linspace(0.5, 0.0, len(learner.feature_names_))
    ranker.config.learned = learner.to_dict()
    ranker.save(root / "idx")
    (root / "docs.jsonl").write_text("\n".join(json.dumps({"_id": d, "text": t}) for d, t in docs.items()))
    build_index(general, root / "docs.jsonl", root / "sharded", chunk_size=15, engine="local",
                extra_models={"in-domain": own}, progress=False)
    return root, general, own, learner


def _info(path) -> dict:
    r = runner.invoke(app, ["info", str(path), "--format", "json"])
    assert r.exit_code == 0, r.output
    (table,) = [json.loads(line) for line in r.stdout.splitlines()]
    assert table["columns"] == ["field", "value"]
    return {row["field"]: row["value"] for row in table["rows"]}


def _bytes_under(path) -> int:
    return sum(os.lstat(os.path.join(d, f)).st_size for d, _, files in os.walk(path) for f in files)


def test_info_on_a_ranker_index(indexes):
    root, general, own, learner = indexes
    info = _info(root / "idx")
    assert info["format"].startswith("dualvec-index version 2")
    assert info["documents"] == 40
    assert info["model: fingerprint"] == general.fingerprint and info["model: vector_size"] == 12
    # the extra model, found from the index's own record, with how it was trained
    loaded = dualvec.ranking.Ranker.load(root / "idx").extra_models["in-domain"].model
    assert info["model 'in-domain': fingerprint"] == loaded.fingerprint
    trained = info["model 'in-domain': trained with"]
    assert "vector_size=8" in trained and "window=3" in trained and "epochs=3" in trained and "seed=2" in trained
    assert (info["BM25 k1"], info["BM25 b"]) == (1.1, 0.6)
    assert (info["DESM weight"], info["DESM space"]) == (0.3, "in-out")
    assert info["stages"] == "bm25 + rm3" and "docs=" in info["stage rm3"]
    assert info["first stage"] == "BM25"
    ranker = dualvec.ranking.Ranker.load(root / "idx")
    ranker.with_config(first_stage="fused").save(root / "fused")
    assert _info(root / "fused")["first stage"] == "the mixture over every document (fused)"
    nonzero = [f"{n} {w:+.2f}" for n, w in zip(learner.feature_names_, learner.weights_) if abs(w) > 1e-9]
    assert info["learned ranker"] == "coordinate_ascent: " + ", ".join(nonzero)
    assert info["size on disk (bytes)"] == _bytes_under(root / "idx")
    assert info["  model 'in-domain' (bytes)"] > 0 and info["  model (bytes)"] > 0 and info["  BM25 (bytes)"] > 0
    parts = [v for k, v in info.items() if k.startswith("  ") and k.endswith("(bytes)")]
    assert sum(parts) <= info["size on disk (bytes)"]


def test_info_on_a_sharded_index(indexes):
    root, general, own, _ = indexes
    info = _info(root / "sharded")
    assert info["format"].startswith("dualvec-centroids version")
    assert (info["documents"], info["shards"], info["documents per shard"]) == (40, 3, 15)
    assert info["model: fingerprint"] == general.fingerprint
    assert "vector_size=8" in info["model 'in-domain': trained with"]
    assert info["size on disk (bytes)"] == _bytes_under(root / "sharded")
    assert info["  shards (bytes)"] > 0 and info["  model 'in-domain' (bytes)"] > 0


def test_info_table_on_an_index(indexes):
    root = indexes[0]
    r = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["info", str(root / "idx"), "--format", "table"])
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert "model 'in-domain': fingerprint" in text and "learned ranker" in text and "DESM weight" in text


def test_an_index_where_a_model_is_wanted_says_what_to_pass(indexes):
    root = indexes[0]
    for idx in (root / "idx", root / "sharded"):
        r = runner.invoke(app, ["neighbors", str(idx), "namebx"])
        assert r.exit_code == 1
        line = " ".join(r.output.split())
        assert f"{idx} is a dualvec index, not a model" in line and "dualvec info" in line
        assert "is a directory but not a dualvec model" not in line
        inner = line.split("the index's own, ")[1].split(" (")[0]
        r = runner.invoke(app, ["neighbors", inner, "namebx", "-k", "2"])  # what it names is a model
        assert r.exit_code == 0, r.output
    with socket.socket() as s:  # a free port: the refusal comes before the port is taken anyway
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = runner.invoke(app, ["serve", str(root / "idx"), "--port", str(port)])
    assert r.exit_code == 1
    line = " ".join(r.output.split())
    assert "is a dualvec index, not a model" in line and f"dualvec serve {root / 'idx'} --index {root / 'idx'}" in line
