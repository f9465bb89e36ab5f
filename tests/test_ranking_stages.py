"""Ranking stages: stemmed BM25, weighted queries, RM3, embedding expansion,
the pipeline's cross-validation, and the stage seam."""

from __future__ import annotations

import json

import numpy as np
import pytest

import dualvec
from dualvec import DualvecError
from dualvec.evaluation.pipelines import Pipeline, cross_validate_pipelines, pipeline_grid, score_grid
from dualvec.evaluation import pipelines as pipelines_module
from dualvec.ranking import RM3, Expansion, Ranker, RankerConfig
from dualvec.ranking.bm25 import BM25
from synthetic import topical_model_and_docs


@pytest.fixture(scope="module")
def topical():
    model, truth, docs = topical_model_and_docs()
    return model, truth, docs


def test_bm25_is_stemmed_by_default_and_matches_inflections(topical):
    model, _, _ = topical
    docs = {"a": "the runner runs quickly", "b": "swimming in the lake", "c": "nothing related here"}
    stemmed = Ranker(model).index(docs)
    plain = Ranker(model, stemmer=None).index(docs)
    assert stemmed.config.stemmer == "english"
    assert stemmed.search("running", k=1, alpha=0.0)[0][0] == "a"  # run-ning ~ run-s
    assert plain.bm25.scores(plain.analyzer.bm25_terms("running")).max() == 0.0


def test_weighted_bm25_is_the_weighted_sum_of_term_scores():
    bm = BM25().index([["a", "b", "a"], ["b", "c"], ["c", "c", "d"]])
    np.testing.assert_allclose(bm.scores(["a", "b", "a"]), bm._index.get_scores(["a", "b", "a"]), rtol=1e-6)
    w = bm.weighted_scores({"a": 0.25, "c": 2.0, "zzz": 5.0})
    np.testing.assert_allclose(w, 0.25 * bm.scores(["a"]) + 2.0 * bm.scores(["c"]), rtol=1e-6)


def test_rm3_weights_match_a_hand_computation(topical):
    model, _, _ = topical
    # 20 documents so that no feedback term is in more than 10% of them except "common" (filtered).
    docs = {"d1": "alpha alpha beta common", "d2": "alpha gamma gamma gamma common"}
    docs.update({f"x{i}": f"filler{i}x other{i}x common" for i in range(18)})
    ranker = Ranker(model, stopwords=None, stemmer=None).index(docs)
    q = ranker.analyzer.query("alpha")
    scores = ranker.bm25.weighted_scores(q.weights)
    s1, s2 = float(scores[ranker.rows(["d1"])[0]]), float(scores[ranker.rows(["d2"])[0]])
    # df(common) = 20 > 10% of 20: filtered; |d1| = 3 (alpha x2, beta), |d2| = 4 (alpha, gamma x3)
    rm = {"alpha": 2 / 3 * s1 + 1 / 4 * s2, "beta": 1 / 3 * s1, "gamma": 3 / 4 * s2}
    got = RM3(fb_docs=2, fb_terms=10, original_query_weight=0.5).relevance_model(ranker.stage_index(), q)
    assert got.keys() == rm.keys()
    for t in rm:
        assert got[t] == pytest.approx(rm[t], rel=1e-5)
    expanded = RM3(fb_docs=2, fb_terms=2, original_query_weight=0.5).apply(ranker.stage_index(), q)
    total = sum(sorted(rm.values())[-2:])
    top2 = dict(sorted(rm.items(), key=lambda kv: -kv[1])[:2])
    expect = {t: 0.5 * (t == "alpha") + 0.5 * top2.get(t, 0.0) / total for t in {"alpha", *top2}}
    assert expanded.weights == pytest.approx(expect)
    assert sum(expanded.weights.values()) == pytest.approx(1.0)


def test_expansion_finds_a_relevant_document_that_shares_no_word_with_the_query(topical):
    model, truth, docs = topical
    plain = Ranker(model, stopwords=None, alpha=0.0, first_stage_k=1).index(docs)
    expanded = plain.with_config(expansion=Expansion(space="in-out", terms=5, original_query_weight=0.5))
    for t, name in enumerate(truth["names"]):
        assert plain.bm25.scores(plain.analyzer.bm25_terms(name))[plain.rows([f"about{t}"])[0]] == 0.0
        q = expanded.analyze(name)
        added = q.added["expansion"]
        assert set(added) & set(truth["words"][t]), added  # its co-occurring topic words
        ranked = [d for d, _ in expanded.search(name, k=len(docs), mode="full")]
        assert ranked.index(f"about{t}") < min(ranked.index(f"about{u}") for u in range(5) if u != t)


def test_expansion_maps_every_model_word_to_its_collection_term(topical):
    from dualvec.ranking.expansion import stems_in_collection

    sents = [["the", "runners", "ran", "and", "the", "jumpers", "jumped"]] * 30
    model = dualvec.train(sents, sg=True, min_count=1, epochs=2, vector_size=8, workers=1, progress=False)
    ranker = Ranker(model).index({"d": "a runner jumped over the fence"})
    stems = stems_in_collection(ranker.stage_index(), ranker.model.words)
    assert len(stems) == len(model)
    row = dict(zip(model.words, stems))
    assert row["the"] == -1 and row["and"] == -1  # stop words are never expansion terms
    assert ranker.bm25.term(int(row["runners"])) == "runner" and row["ran"] == -1  # "ran" is not in the collection
    assert Expansion(space="in-in", terms=2).apply(ranker.stage_index(), ranker.analyzer.query("jumpers")).added


def test_a_stage_is_one_config_field_saved_with_the_index(topical, tmp_path):
    model, truth, docs = topical
    config = RankerConfig(stopwords=None, rm3=RM3(fb_docs=3), expansion=Expansion(space="in-in", terms=4))
    assert [s.name for s in config.stages()] == ["rm3", "expansion"]
    ranker = Ranker(model, config).index(docs)
    ranker.save(tmp_path / "idx")
    back = Ranker.load(tmp_path / "idx")
    assert back.config == ranker.config and isinstance(back.config.rm3, RM3)
    q = truth["names"][1]
    assert back.search(q, k=5) == ranker.search(q, k=5)
    assert RankerConfig.from_dict(config.to_dict()) == config
    with pytest.raises(DualvecError, match="fb_docs"):
        Ranker(model, rm3=RM3(fb_docs=0))


def test_a_query_with_no_known_word_ranks_nothing(topical):
    model, _, docs = topical
    ranker = Ranker(model, stopwords=None).index(docs)
    assert ranker.search("zzzz qqqq") == [] and ranker.search("") == []
    assert ranker.search("zzzz qqqq", mode="full") == []


def test_cross_validation_never_ranks_a_query_with_a_choice_made_on_it(topical, monkeypatch):
    model, truth, docs = topical
    ranker = Ranker(model, stopwords=None).index(docs)
    queries, qrels = {}, {}
    for t, name in enumerate(truth["names"]):
        for v, w in enumerate(truth["words"][t][4:] + truth["fill"][:3]):
            qid = f"q{t}-{v}"
            queries[qid] = f"{name} {w}"
            qrels[qid] = {f"about{t}": 1}
    chosen_on: list[set[str]] = []
    real_best = pipelines_module.GridScores.best

    def spy(self, query_ids):
        chosen_on.append(set(query_ids))
        return real_best(self, query_ids)

    monkeypatch.setattr(pipelines_module.GridScores, "best", spy)
    pipes = [Pipeline(), Pipeline(rm3=RM3(fb_docs=2)), Pipeline(expansion=Expansion(terms=3))]
    cv = cross_validate_pipelines(ranker, queries, qrels, k=4, pipelines=pipes, progress=False)
    assert set(cv.run) == set(queries) and len(chosen_on) == 4 and len(cv.choices) == 4
    ranked_in_fold = [set(q for q in queries if q not in used) for used in chosen_on]
    for used, held_out in zip(chosen_on, ranked_in_fold):
        assert used.isdisjoint(held_out) and len(held_out) > 0
    assert set().union(*ranked_in_fold) == set(queries)  # every query ranked exactly by the others' choice
    # each held-out query's ranking is the one its fold's choice gives
    grid = score_grid(ranker, queries, qrels, pipelines=pipes, progress=False)
    for used, choice in zip(chosen_on, cv.choices):
        assert real_best(grid, sorted(used)).describe() == choice.describe()


def test_the_default_grid_holds_every_pipeline_simplest_first():
    grid = pipeline_grid()
    assert grid[0] == Pipeline()
    assert any(p.rm3 and not p.expansion for p in grid) and any(p.expansion and not p.rm3 for p in grid)
    assert any(p.rm3 and p.expansion for p in grid)


def test_an_index_from_before_the_forward_view_still_loads_and_says_what_rm3_needs(topical, tmp_path):
    from helpers import data_dir

    model, truth, docs = topical
    Ranker(model, stopwords=None).index(docs).save(tmp_path / "idx")
    for name in ("forward_terms", "forward_counts", "forward_offsets"):
        (data_dir(tmp_path / "idx") / "bm25" / f"{name}.npy").unlink()
    header_path = tmp_path / "idx" / "ranker.json"
    header = json.loads(header_path.read_text())
    header.pop("digests")  # an index from before the forward view is from before digests too
    header_path.write_text(json.dumps(header))
    old = Ranker.load(tmp_path / "idx")
    assert old.search(truth["names"][0], k=3)
    with pytest.raises(DualvecError, match="re-index the collection to use RM3"):
        old.with_config(rm3=RM3()).search(truth["names"][0], k=3)
