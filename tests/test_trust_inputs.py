"""Issue 29, third adversarial pass: memory the explorer does not bound (§4), PyTerrier inputs
that gave silently wrong answers (§6), ids a TREC run cannot hold and measures that are
undefined (§7)."""

from __future__ import annotations

import numpy as np
import pytest

import dualvec
from dualvec.errors import DualvecError
from synthetic import planted_corpus


@pytest.fixture(scope="module")
def small_model():
    sents, _ = planted_corpus(n_sentences=1500)
    return dualvec.train(sents, sg=True, window=3, sample=0, min_count=1, epochs=1, vector_size=8, workers=1,
                         progress=False)


def test_the_projection_cache_stays_at_its_bound_over_many_distinct_n(small_model):
    pytest.importorskip("fastapi", reason="fastapi is a dependency of dualvec serve")
    from dualvec.serve.api import PROJECTIONS_KEPT, Explorer

    ex = Explorer(small_model)
    n_words = len(small_model.words)
    first = ex.projection("pca", n_words, False)
    for n in range(n_words - 1, n_words - 1 - 3 * PROJECTIONS_KEPT, -1):  # the pass's n = 5000, 4999, ...
        assert ex.projection("pca", n, False)["n"] <= n
        assert len(ex._projections) <= PROJECTIONS_KEPT and not ex._fitting
    assert len(ex._projections) == PROJECTIONS_KEPT
    assert ("pca", n_words, False) not in ex._projections  # the oldest went first
    recent = ("pca", n_words - 3 * PROJECTIONS_KEPT, False)
    assert ex.projection(*recent) is ex._projections[recent]  # a kept one is reused, not refitted
    again = ex.projection("pca", n_words, False)  # a dropped one is fitted again, the same
    assert again is not first and {**again, "seconds": 0} == {**first, "seconds": 0}


# -- §6: PyTerrier inputs ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pt_index(small_model, tmp_path_factory):
    pytest.importorskip("pyterrier", reason="PyTerrier is not installed (pip install 'dualvec[pyterrier]')")
    from dualvec.ranking import Ranker

    root = tmp_path_factory.mktemp("pt_inputs")
    docs = {"d1": "g0m0 g0c0 g0c1", "d2": "g1m0 g1c0 t0a", "d3": "t0a t0b f1", "d4": "g0m1 f2 f3"}
    Ranker(small_model, stopwords=None).index(docs).save(root / "idx")
    return root / "idx", docs


def _frame(docs, **columns):
    import pandas as pd

    base = {"qid": ["q1"] * 3, "query": ["g0m0 t0a"] * 3, "docno": ["d1", "d2", "d3"], "score": [3.0, 2.0, 1.0],
            "text": [docs["d1"], docs["d2"], docs["d3"]]}
    return pd.DataFrame({**base, **columns})


@pytest.mark.parametrize("columns, message", [
    ({"score": [3.0, float("nan"), 1.0]}, "query 'q1': the score nan of document 'd2' is not a finite number"),
    ({"score": [3.0, "high", 1.0]}, "query 'q1': the score 'high' of document 'd2' is not a number"),
    ({"text": ["g0m0", None, "t0b"]}, "query 'q1': document 'd2' has no text (a missing value in the 'text' column)"),
    ({"text": ["g0m0", float("nan"), "t0b"]}, "document 'd2' has no text"),
    ({"qid": [1, "1", 1]}, "the qid '1' comes as int and str values: give each query id one qid"),
    ({"qid": ["q 1"] * 3}, "the query id 'q 1' holds whitespace"),
    ({"docno": ["d1", "d 2", "d3"]}, "the document id 'd 2' holds whitespace"),
    ({"qid": ["q1", None, "q1"]}, "a row of the frame has no qid"),
], ids=["nan score", "string score", "None text", "NaN text", "qid 1 and '1'", "qid with a space",
        "docno with a space", "missing qid"])
def test_bad_pyterrier_inputs_are_one_dualvec_error(pt_index, columns, message):
    """Each of the pass's inputs: a NaN score zeroed the query's whole first stage, a missing text
    was scored as the word 'nan', qids 1 and '1' were two queries, a string score a bare ValueError."""
    from dualvec.pyterrier import DESMReranker, DualvecFeatures

    idx, docs = pt_index
    frame = _frame(docs, **columns)
    with pytest.raises(DualvecError) as err:
        DESMReranker(idx, alpha=0.5)(frame)
    assert message in str(err.value) and "\n" not in str(err.value)
    if "score" not in columns:  # the features read the same columns but the score
        with pytest.raises(DualvecError, match="text|qid|whitespace"):
            DualvecFeatures(idx)(frame)


def test_good_pyterrier_inputs_still_rerank(pt_index):
    from dualvec.pyterrier import DESMReranker

    idx, docs = pt_index
    out = DESMReranker(idx, alpha=0.5)(_frame(docs))
    assert sorted(out["docno"]) == ["d1", "d2", "d3"] and np.isfinite(out["score"]).all()
    assert DESMReranker(idx, alpha=0.5)(_frame(docs, qid=[1, 1, 1]))["qid"].nunique() == 1  # ints alone are fine


# -- §7: ids a TREC run cannot hold; measures that are undefined ----------------------------------


def test_ids_with_spaces_are_refused_where_they_enter(small_model, tmp_path):
    import json

    from dualvec.ranking import Ranker
    from dualvec.text.collections import read_collection, read_run, write_run

    coll = tmp_path / "beir"
    coll.mkdir()
    (coll / "corpus.jsonl").write_text(json.dumps({"_id": "doc one", "title": "", "text": "g0m0"}) + "\n")
    (coll / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "g0m0"}) + "\n")
    with pytest.raises(DualvecError, match="the document id 'doc one' holds whitespace"):
        read_collection(coll)
    (coll / "corpus.jsonl").write_text(json.dumps({"_id": "d1", "title": "", "text": "g0m0"}) + "\n")
    (coll / "queries.jsonl").write_text(json.dumps({"_id": "query\tone", "text": "g0m0"}) + "\n")
    with pytest.raises(DualvecError, match=r"'query\\tone' holds whitespace"):
        read_collection(coll)
    tsv = tmp_path / "docs.tsv"
    tsv.write_text("a b\tg0m0 g0c0\n")
    from dualvec.text.collections import read_texts

    with pytest.raises(DualvecError, match="the id 'a b' holds whitespace"):
        read_texts(tsv)
    with pytest.raises(DualvecError, match="the document id 'my doc' holds whitespace"):
        Ranker(small_model, stopwords=None).index({"my doc": "g0m0", "d2": "g1m0"})
    run = tmp_path / "run.trec"
    with pytest.raises(DualvecError, match="the run tag 'my run' holds whitespace"):
        write_run({"q1": {"d1": 1.0}}, run, tag="my run")
    with pytest.raises(DualvecError, match="the query id 'q 1' holds whitespace"):
        write_run({"q 1": {"d1": 1.0}}, run)
    assert not run.exists()
    write_run({"q1": {"d1": 1.0}}, run, tag="my-run")
    assert read_run(run) == {"q1": {"d1": 1.0}}  # what dualvec writes, it reads back


def test_rank_refuses_a_spaced_tag_before_any_work(tmp_path):
    from typer.testing import CliRunner

    from dualvec.cli import app

    r = CliRunner().invoke(app, ["rank", str(tmp_path / "no-index"), str(tmp_path / "no-queries"), "-o",
                                 str(tmp_path / "run.trec"), "--tag", "my run"])
    assert r.exit_code == 1 and "the run tag 'my run' holds whitespace" in r.output, r.output


def test_constant_human_scores_say_undefined_and_why(small_model, tmp_path):
    from typer.testing import CliRunner

    from dualvec.cli import app
    from dualvec.evaluation.embeddings import word_similarity

    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("g0m0\tg0m1\t5\ng0m0\tg1m0\t5\nt0a\tt0b\t5\n")
    res = word_similarity(small_model, pairs)
    assert np.isnan(res.spearman) and res.undefined == ("the human scores of the 3 pairs are all 5, and a "
                                                        "correlation needs them to vary")
    small_model.save(tmp_path / "m")
    r = CliRunner().invoke(app, ["evaluate-words", str(tmp_path / "m"), "--pairs", str(pairs)])
    assert r.exit_code == 0, r.output
    assert "nan" not in r.output.lower()
    assert r.output.count("Spearman rho is undefined: the human scores of the 3 pairs are all 5") == 1, r.output
    pairs.write_text("g0m0\tg0m1\t5\ng0m0\tg1m0\t2\nt0a\tt0b\t1\n")
    assert word_similarity(small_model, pairs).undefined == ""
