"""`dualvec search` shows the DESM that ranked: one raw DESM column per model the mixture uses
(the in-domain model's too, not only the index's own), and a title naming the first stage."""

from __future__ import annotations

import json

import dualvec
from dualvec.cli import app
from dualvec.ranking import Ranker
from synthetic import topical_corpus
from typer.testing import CliRunner


def _train(sents, **options):
    return dualvec.train(sents, sg=True, sample=0, min_count=1, workers=1, progress=False, **options)


def test_search_shows_each_ranking_models_desm(tmp_path):
    sents, truth = topical_corpus(n_sentences=600)
    general, own = _train(sents, vector_size=12, epochs=2, seed=1), _train(sents, vector_size=8, epochs=3, seed=2)
    docs = {f"d{i}": " ".join(s) for i, s in enumerate(sents[:40])}
    ranker = Ranker(general, desm_models="all").index(docs, extra_models={"in-domain": own})
    ranker.save(tmp_path / "idx")
    query = sents[0][0]
    r = CliRunner().invoke(app, ["search", str(tmp_path / "idx"), query, "-k", "5", "--format", "json"])
    assert r.exit_code == 0, r.output
    (table,) = [json.loads(line) for line in r.stdout.splitlines()]
    assert "DESM own" in table["columns"] and "DESM in-domain" in table["columns"], table["columns"]
    assert "in-domain" in table["title"] and "BM25 top" in table["title"], table["title"]
    loaded = Ranker.load(tmp_path / "idx")
    for row in table["rows"]:
        ex = loaded.explain(query, row["document"])
        assert abs(row["DESM in-domain"] - ex["desm_by_model"]["in-domain"]) < 1e-3
        assert abs(row["DESM own"] - ex["desm"]) < 1e-3
    # with one model ranking, the per-term breakdown is that model's
    one = loaded.with_config(desm_models="own")
    assert one.explain(query, "d0")["desm_model"] == ""
