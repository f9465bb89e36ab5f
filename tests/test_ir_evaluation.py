import pytest

import dualvec
from dualvec.evaluation import cross_validate, evaluate, paired_randomization_test, tune_alpha
from dualvec.evaluation.tuning import collect, run_from
from dualvec.ranking import Ranker
from synthetic import topical_corpus

QRELS = {"q1": {"d1": 2, "d2": 1, "d3": 0}, "q2": {"d4": 1}, "q3": {"d9": 0}}  # q3: nothing relevant


def test_perfect_run_scores_one_and_missing_queries_score_zero():
    perfect = {"q1": {"d1": 3.0, "d2": 2.0, "d3": 1.0}, "q2": {"d4": 1.0}}
    res = evaluate(perfect, QRELS)
    assert res.aggregate["nDCG@10"] == pytest.approx(1.0)
    assert res.aggregate["RR@10"] == pytest.approx(1.0)
    assert set(res.per_query["nDCG@10"]) == {"q1", "q2"}  # q3 has no relevant document
    half = evaluate({"q1": perfect["q1"]}, QRELS)
    assert half.per_query["nDCG@10"]["q2"] == 0.0 and half.aggregate["nDCG@10"] == pytest.approx(0.5)


def test_graded_gains_matter():
    swapped = {"q1": {"d2": 3.0, "d1": 2.0}, "q2": {"d4": 1.0}}
    assert evaluate(swapped, QRELS).per_query["nDCG@10"]["q1"] < 1.0


def test_paired_randomization_test():
    a = {f"q{i}": 0.5 + 0.01 * (i % 3) for i in range(40)}
    assert paired_randomization_test(a, a) == pytest.approx(1.0)
    better = {q: v + 0.2 for q, v in a.items()}
    assert paired_randomization_test(better, a, trials=2000) < 0.01


def test_alpha_tuning_and_cross_validation():
    sents, truth = topical_corpus(n_sentences=2000)
    model = dualvec.train(sents, sg=True, window=4, sample=0, min_count=1, epochs=6, vector_size=16, workers=1,
                          progress=False)
    docs, queries, qrels = {}, {}, {}
    for t, name in enumerate(truth["names"]):
        docs[f"about{t}"] = " ".join(truth["words"][t][:4])  # relevant, but shares no word with the query
        docs[f"decoy{t}"] = " ".join([name] + truth["fill"][:4])  # matches the query word, not relevant
        queries[f"q{t}"] = name
        qrels[f"q{t}"] = {f"about{t}": 1, f"decoy{t}": 0}
    ranker = Ranker(model, stopwords=None).index(docs)
    cands = collect(ranker, queries, "full")
    tuned = tune_alpha(ranker, cands, qrels)
    scores = dict((a["alpha"], s) for a, s in tuned.grid)
    assert tuned.score == max(scores.values())
    assert scores[0.0] < tuned.score  # BM25 alone ranks the decoys first
    assert tuned.params["alpha"] > 0.0
    run = run_from(cands, ranker, 1.0, k=1)
    assert all(list(run[f"q{t}"]) == [f"about{t}"] for t in range(len(queries)))
    cv = cross_validate(ranker, docs, queries, qrels, mode="full", k=5, tune_bm25_params=False)
    assert set(cv.run) == set(queries) and len(cv.chosen) == 5
