import numpy as np
import pytest

from dualvec import DualvecError
from dualvec.ranking import Ranker, normalize
from helpers import data_dir
from synthetic import topical_model_and_docs


@pytest.fixture(scope="module")
def topical():
    model, truth, docs = topical_model_and_docs()
    docs["empty"] = "zzz qqq"  # no known word at all
    return model, truth, docs


def test_desm_in_out_ranks_the_topical_document_without_the_query_word(topical):
    model, truth, docs = topical
    ranker = Ranker(model, space="in-out", stopwords=None).index(docs)
    for t, name in enumerate(truth["names"]):
        scores = dict(ranker.search(name, k=len(docs), mode="full", alpha=1.0))
        about = [scores[f"about{u}"] for u in range(len(truth["names"]))]
        assert int(np.argmax(about)) == t
        assert scores[f"about{t}"] > max(v for d, v in scores.items() if d.startswith("about") and d != f"about{t}")


def test_bm25_part_ranks_exact_matches_first(topical):
    model, truth, docs = topical
    ranker = Ranker(model, stopwords=None).index(docs)
    for t, name in enumerate(truth["names"]):
        top = ranker.search(name, k=1, alpha=0.0)
        assert top[0][0] == f"names{t}"
        raw = ranker.bm25.scores([name])
        assert raw[ranker.rows([f"about{t}"])[0]] == 0.0  # the topical document never matches


def test_mixture_endpoints_and_score_normalisation(topical):
    model, truth, docs = topical
    ranker = Ranker(model, stopwords=None).index(docs)
    q = truth["names"][0] + " " + truth["words"][0][0]
    cands = ranker.candidates(q, mode="full")
    by_bm25 = [d for d, _ in ranker.search(q, k=len(docs), mode="full", alpha=0.0)]
    assert by_bm25 == [ranker.doc_ids[r] for r in cands.rows[np.lexsort((cands.rows, -cands.bm25))]]
    by_desm = [d for d, _ in ranker.search(q, k=len(docs), mode="full", alpha=1.0)]
    assert by_desm == [ranker.doc_ids[r] for r in cands.rows[np.lexsort((cands.rows, -cands.desm))]]
    mixed = ranker.score(q, list(docs), alpha=0.4)
    assert mixed.min() >= 0.0 and mixed.max() <= 1.0 and np.isfinite(mixed).all()
    np.testing.assert_allclose(normalize(np.array([2.0, 4.0, 3.0])), [0.0, 1.0, 0.5])
    np.testing.assert_allclose(normalize(np.array([5.0, 5.0])), [0.0, 0.0])
    z = normalize(np.array([1.0, 2.0, 3.0]), "zscore")
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0)


def test_unknown_words_give_zero_not_nan(topical):
    model, _, docs = topical
    ranker = Ranker(model, stopwords=None).index(docs)
    assert np.all(ranker.desm().scores(["nothing", "known"]) == 0.0)
    row = ranker.rows(["empty"])[0]
    assert ranker.desm().scores([model.words[0]])[row] == 0.0
    assert np.isfinite(ranker.score("unknownword", list(docs), alpha=0.5)).all()


def test_explain_splits_scores_by_term(topical):
    model, truth, docs = topical
    ranker = Ranker(model, stopwords=None).index(docs)
    q = f"{truth['names'][1]} {truth['words'][1][0]} nosuchword"
    ex = ranker.explain(q, "about1")
    assert sum(s for _, s in ex["desm_terms"]) == pytest.approx(ex["desm"], abs=1e-5)
    assert sum(s for _, s in ex["bm25_terms"]) == pytest.approx(ex["bm25"], rel=1e-4)
    assert ex["unknown_terms"] == ["nosuchword"]


def test_rerank_only_reorders_the_given_candidates(topical):
    model, truth, docs = topical
    ranker = Ranker(model, stopwords=None).index(docs)
    subset = ["names2", "about2", "about3"]
    out = ranker.rerank(truth["names"][2], subset, alpha=1.0)
    assert sorted(d for d, _ in out) == sorted(subset) and out[0][0] == "about2"
    with pytest.raises(DualvecError, match="unknown document"):
        ranker.rerank("x", ["nope"])


def test_rerank_mode_takes_bm25s_top_k(topical):
    model, truth, docs = topical
    ranker = Ranker(model, stopwords=None, first_stage_k=3).index(docs)
    res = ranker.search(truth["names"][0], k=10, alpha=0.5)
    assert len(res) == 3


def test_index_round_trip_and_bad_options(topical, tmp_path):
    model, truth, docs = topical
    ranker = Ranker(model, space="in-in", alpha=0.25, stopwords=None).index(docs)
    ranker.save(tmp_path / "idx")
    back = Ranker.load(tmp_path / "idx")
    assert back.config == ranker.config and back.doc_ids == ranker.doc_ids
    q = truth["names"][3] + " " + truth["words"][3][1]
    assert back.search(q, k=5) == ranker.search(q, k=5)
    assert isinstance(back.centroids["out"], np.memmap)
    assert Ranker.load(tmp_path / "idx", space="in-out").config.space == "in-out"
    with pytest.raises(DualvecError, match="fixed when the index is built"):
        Ranker.load(tmp_path / "idx", k1=2.0)
    with pytest.raises(DualvecError, match="not a dualvec index"):
        Ranker.load(tmp_path)
    with pytest.raises(DualvecError, match="alpha"):
        Ranker(model, alpha=1.5)
    with pytest.raises(DualvecError, match="unknown space"):
        Ranker(model, space="in-up")
    with pytest.raises(DualvecError, match="missing from the texts"):
        back.reindex_bm25({"about0": "x"}, 1.2, 0.75)
    (data_dir(tmp_path / "idx") / "centroids_in.npy").write_bytes(b"garbage")
    with pytest.raises(DualvecError, match="corrupt or truncated"):
        Ranker.load(tmp_path / "idx")
