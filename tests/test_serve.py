"""The explorer's JSON API, through FastAPI's test client and through a real server on 127.0.0.1."""

from __future__ import annotations

import concurrent.futures
import time

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="fastapi is a dependency of dualvec serve")
pytest.importorskip("httpx", reason="httpx (dev dependency) drives the test client")

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

import dualvec  # noqa: E402
from dualvec.ranking import Ranker  # noqa: E402
from dualvec.serve import create_app  # noqa: E402
from helpers import running_server  # noqa: E402
from synthetic import saved_topical_index  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    _, truth, _ = saved_topical_index(root)
    ranker = Ranker.load(root / "idx")
    client = TestClient(create_app(ranker.model, ranker), raise_server_exceptions=False)
    return client, ranker, truth, root


def test_neighbours_in_all_four_pairings_are_the_models(served):
    client, ranker, truth, _ = served
    word = truth["names"][1]
    r = client.get("/api/neighbors", params={"positive": word, "topn": 5})
    assert r.status_code == 200
    columns = r.json()["columns"]
    assert list(columns) == list(dualvec.SPACES)
    for space, col in columns.items():
        expected = ranker.model.most_similar(word, space=space, topn=5)
        assert [n["word"] for n in col["neighbors"]] == [w for w, _ in expected]
        assert [n["cos"] for n in col["neighbors"]] == pytest.approx([c for _, c in expected], abs=1e-4)
        assert col["approximate"] is False
    analogy = client.get("/api/neighbors", params={"positive": [word, truth["words"][1][0]],
                                                   "negative": truth["fill"][0], "topn": 3}).json()
    expected = ranker.model.most_similar([word, truth["words"][1][0]], [truth["fill"][0]], space="in-in", topn=3)
    assert [n["word"] for n in analogy["columns"]["in-in"]["neighbors"]] == [w for w, _ in expected]


def test_completion_model_info_map_and_the_page(served):
    client, ranker, truth, _ = served
    done = client.get("/api/complete", params={"prefix": "name"}).json()
    assert set(done) == set(truth["names"])
    assert client.get("/api/complete", params={"prefix": "NAme"}).json() == done  # the model lowercases
    info = client.get("/api/model").json()
    assert info["words"] == len(ranker.model) and info["index"]["documents"] == len(ranker.doc_ids)
    assert [h["loss"] for h in info["history"]] == [h.loss for h in ranker.model.history]
    panels = client.get("/api/map", params={"word": truth["names"][0], "topn": 6}).json()["panels"]
    assert set(panels) == {"in-in", "in-out"} and all(len(p["points"]) == 7 for p in panels.values())
    assert all(-1 <= p["x"] <= 1 and -1 <= p["y"] <= 1 for p in panels["in-out"]["points"])
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text and "cdn" not in page.text.lower()
    assert client.get("/static/app.js").status_code == 200
    assert "/api/neighbors" in client.get("/openapi.json").json()["paths"]


def test_text_view_cosines_and_desm_match_the_model(served):
    client, ranker, truth, _ = served
    m = ranker.model
    q, passage = truth["names"][2], " ".join(truth["words"][2][:3] + truth["fill"][:2]) + ", zzz."
    data = client.post("/api/text", json={"query": q, "passage": passage}).json()
    shaded = [t for t in data["tokens"] if "in-out" in t]
    assert [t["text"] for t in shaded] == passage.replace(",", "").replace(".", "").split()[:5]
    qv = m.in_vectors.unit[m.vocab.index[q]]
    for t in shaded:
        row = m.vocab.index[t["text"]]
        assert t["in-out"] == pytest.approx(float(qv @ m.out_vectors.unit[row]), abs=1e-4)
        assert t["in-in"] == pytest.approx(float(qv @ m.in_vectors.unit[row]), abs=1e-4)
    doc = f"about{2}"
    by_doc = client.post("/api/text", json={"query": q, "doc_id": doc}).json()
    row = ranker.rows([doc])[0]
    assert by_doc["scores"]["desm_in-out"] == pytest.approx(float(ranker.desm("in-out").scores([q], np.array([row]))[0]),
                                                            abs=1e-4)
    assert by_doc["scores"]["bm25"] == pytest.approx(ranker.explain(q, doc)["bm25"], abs=1e-4)


def test_search_equals_the_rankers(served):
    client, ranker, truth, _ = served
    q = f"{truth['names'][3]} {truth['words'][3][0]}"
    data = client.get("/api/search", params={"q": q, "k": 5}).json()
    assert [(r["doc_id"], r["score"]) for r in data["results"]] == [
        (d, pytest.approx(s, abs=1e-4)) for d, s in ranker.search(q, 5)]
    assert data["stages"] == [f"BM25 top 100 ({len(ranker.doc_ids)} documents)", "DESM IN-OUT", "mixture"]
    assert data["formula"].startswith(f"score = {1 - ranker.config.alpha:g} × BM25 + {ranker.config.alpha:g} × DESM")
    for r in data["results"]:  # the components add up to the score
        assert sum(c["contribution"] for c in r["components"]) == pytest.approx(r["score"], abs=1e-4)
    empty = client.get("/api/search", params={"q": "zzzz qqqq"}).json()
    assert empty["results"] == [] and "no query word" in empty["message"]


@pytest.mark.parametrize("method, path, args, status, message", [
    ("get", "/api/neighbors", {"positive": "zzzz"}, 404, "not in vocabulary"),
    ("get", "/api/neighbors", {"positive": "x", "topn": 10**7}, 422, "less than or equal"),
    ("get", "/api/neighbors", {}, 400, "give a word"),
    ("get", "/api/map", {"word": "zzzz"}, 404, "not in vocabulary"),
    ("get", "/api/search", {"q": " "}, 400, "empty"),
    ("get", "/api/document", {"doc_id": "nope"}, 404, "unknown document"),
    ("post", "/api/text", {"query": "", "passage": "x"}, 400, "empty"),
    ("post", "/api/text", {"query": "x", "doc_id": "nope"}, 404, "unknown document"),
    ("post", "/api/text", {"query": "x"}, 400, "passage or a doc_id"),
    ("get", "/api/complete", {"prefix": ""}, 422, "at least 1"),
])
def test_bad_input_is_a_4xx_with_a_message(served, method, path, args, status, message):
    client = served[0]
    r = client.get(path, params=args) if method == "get" else client.post(path, json=args)
    assert r.status_code == status, r.text
    assert message in r.text and "Traceback" not in r.text


def test_a_real_server_on_loopback_serves_concurrent_requests(served):
    _, ranker, truth, root = served
    with running_server(root / "model", root / "idx") as base:
        with httpx.Client(base_url=base, timeout=30) as http:
            assert http.get("/api/model").json()["words"] == len(ranker.model)

            def ask(i: int) -> int:
                word = truth["names"][i % len(truth["names"])]
                return http.get("/api/neighbors", params={"positive": word, "topn": 5}).status_code

            t = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                codes = list(pool.map(ask, range(64)))
            assert codes == [200] * 64 and time.perf_counter() - t < 60
            assert http.get("/api/neighbors", params={"positive": "zzzz"}).status_code == 404


def test_the_map_is_one_projection_for_both_panels_with_outliers_clamped(served):
    client, ranker, truth, _ = served
    word = truth["names"][0]
    data = client.get("/api/map", params={"word": word.upper(), "topn": 10}).json()  # case folded as the model does
    assert data["words"] == [word] and len(data["explained"]) == 2 and 0 < sum(data["explained"]) <= 1
    where = {}
    for space, panel in data["panels"].items():
        assert [p["word"] for p in panel["points"][1:]] == [w for w, _ in ranker.model.most_similar(word, space=space, topn=10)]
        for p in panel["points"]:
            assert -1 <= p["x"] <= 1 and -1 <= p["y"] <= 1
            assert where.setdefault(p["word"], (p["x"], p["y"])) == (p["x"], p["y"])  # same word, same place
    # scaling: a far point is pinned to the edge and flagged, the others keep the range
    from dualvec.serve.api import _robust_scale

    xy = np.vstack([np.random.default_rng(0).normal(size=(30, 2)), [[50.0, 0.0]]])
    scaled, clamped = _robust_scale(xy)
    assert clamped.tolist() == [False] * 30 + [True] and scaled[-1, 0] == 1.0
    assert scaled[:30, 0].max() == pytest.approx(1.0) and scaled[:30, 0].min() == pytest.approx(-1.0)


def test_the_projection_puts_both_spaces_of_the_top_words_in_one_fit_and_caches_it(served):
    client, ranker, truth, _ = served
    m = ranker.model
    data = client.get("/api/projection", params={"n": 20}).json()
    assert data["method"] == "pca" and data["spaces"] == ["in", "out"] and data["n"] == 20
    words = [p["word"] for p in data["points"] if p["space"] == "in"]
    assert words == m.words[:20] and [p["word"] for p in data["points"] if p["space"] == "out"] == words
    assert all(p["count"] == int(m.vocab.counts[m.vocab.index[p["word"]]]) for p in data["points"])
    # the PCA is of the 40 unit rows together, each space centred on its own mean: check the first axis
    # against numpy's own
    rows = np.vstack([m.in_vectors.unit[:20] - m.in_vectors.unit[:20].mean(0),
                      m.out_vectors.unit[:20] - m.out_vectors.unit[:20].mean(0)]).astype(np.float64)
    pc1 = (rows - rows.mean(0)) @ np.linalg.svd(rows - rows.mean(0), full_matrices=False)[2][0]
    x = np.array([p["x"] for p in data["points"]])
    inside = ~np.array([p["clamped"] for p in data["points"]])
    assert abs(np.corrcoef(x[inside], pc1[inside])[0, 1]) > 0.999
    again = client.get("/api/projection", params={"n": 20}).json()
    assert again == data  # computed once, kept
    assert client.get("/api/projection", params={"method": "tsne"}).status_code == 400


def test_the_word_box_splits_and_folds_like_the_model_and_neighbours_have_counts(served):
    client, ranker, truth, _ = served
    a, b = truth["names"][0], truth["words"][0][0]
    r = client.get("/api/neighbors", params={"positive": f"{a.title()}, {b.upper()}", "topn": 4}).json()
    assert r["positive"] == [a, b]
    expected = ranker.model.most_similar([a, b], space="in-out", topn=4)
    assert [n["word"] for n in r["columns"]["in-out"]["neighbors"]] == [w for w, _ in expected]
    assert [n["count"] for n in r["columns"]["in-out"]["neighbors"]] == [
        int(ranker.model.vocab.counts[ranker.model.vocab.index[w]]) for w, _ in expected]
    info = client.get("/api/model").json()
    assert info["suggestions"] and all(w in ranker.model for w in info["suggestions"])
    assert info["index"]["desm_weight"] == ranker.config.alpha and info["model_mismatch"] is None


def test_text_explains_desm_per_query_word_and_says_when_there_is_nothing_to_score(served):
    client, ranker, truth, _ = served
    m = ranker.model
    q = [truth["names"][1], truth["words"][3][0]]
    data = client.post("/api/text", json={"query": " ".join(q), "doc_id": "about1"}).json()
    for space in ("in-out", "in-in"):
        terms = data["desm_terms"][space]
        assert [t["term"] for t in terms] == q
        assert data["scores"][f"desm_{space}"] == pytest.approx(np.mean([t["cos"] for t in terms]), abs=1e-4)
    assert data["scores"]["desm_in-out"] == pytest.approx(ranker.explain(" ".join(q), "about1")["desm"], abs=1e-4)
    empty = client.post("/api/text", json={"query": q[0], "passage": "  "}).json()
    assert "empty" in empty["message"] and empty["scores"]["desm_in-out"] is None
    # without an index, stop words are dropped as a default index drops them, and flagged
    bare = TestClient(create_app(m), raise_server_exceptions=False)
    toks = bare.post("/api/text", json={"query": q[0], "passage": f"the {q[0]} and {truth['fill'][0]}"}).json()["tokens"]
    assert [t["text"] for t in toks if t.get("stop")] == ["the", "and"]
    assert all("in-out" in t for t in toks if t["text"] in (q[0], truth["fill"][0]))


def test_search_takes_k_weight_mode_and_space_and_splits_titles(served):
    client, ranker, truth, _ = served
    q = f"{truth['names'][2]} {truth['words'][2][1]}"
    data = client.get("/api/search", params={"q": q, "k": 3, "desm_weight": 0.7, "mode": "full",
                                             "space": "in-in"}).json()
    assert [(r["doc_id"], r["score"]) for r in data["results"]] == [
        (d, pytest.approx(s, abs=1e-4)) for d, s in ranker.search(q, 3, mode="full", alpha=0.7, space="in-in")]
    assert (data["desm_weight"], data["mode"], data["space"]) == (0.7, "full", "in-in")
    assert client.get("/api/search", params={"q": q, "mode": "fast"}).status_code == 400
    assert client.get("/api/search", params={"q": q, "desm_weight": 2}).status_code == 422
    from dualvec.serve.api import _split_title

    assert _split_title("Insulin in children.. Obese children were studied. More.") == (
        "Insulin in children.", "Obese children were studied. More.")
    assert _split_title("no sentence end here") == (None, "no sentence end here")


def test_docs_are_served_from_the_package(served):
    client = served[0]
    pytest.importorskip("swagger_ui_bundle", reason="swagger-ui-bundle-v2 ships the /docs assets")
    page = client.get("/docs")
    assert page.status_code == 200 and "/swagger/swagger-ui-bundle.js" in page.text and "cdn" not in page.text.lower()
    assert client.get("/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/swagger/swagger-ui.css").status_code == 200


def test_serve_warns_in_one_line_when_the_index_was_built_on_another_model(served, tmp_path):
    import socket
    import subprocess
    import sys

    _, ranker, truth, root = served
    from synthetic import topical_corpus

    sents, _ = topical_corpus(n_sentences=300)
    dualvec.train(sents, sg=True, min_count=1, epochs=1, vector_size=8, workers=1, progress=False).save(tmp_path / "m")
    from dualvec.serve.api import model_mismatch

    assert model_mismatch(dualvec.load(tmp_path / "m"), ranker) is not None
    assert model_mismatch(dualvec.load(root / "model"), ranker) is None  # the same model, loaded again
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "dualvec", "serve", str(tmp_path / "m"), "--index", str(root / "idx"),
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if "explorer on" in line:
                break
        warned = [ln for ln in lines if ln.startswith("warning:")]
        assert len(warned) == 1 and "another model" in warned[0], lines
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_umap_projection_when_umap_learn_is_installed(served):
    """Slow the first time (umap-learn compiles with numba: ~30 s on two cores)."""
    pytest.importorskip("umap", reason="umap-learn (the explore extra) is not installed")
    client, ranker, _, _ = served
    data = client.get("/api/projection", params={"method": "umap", "n": 25}).json()
    assert data["method"] == "umap" and len(data["points"]) == 50 and data["explained"] == []
    xy = np.array([(p["x"], p["y"]) for p in data["points"]])
    assert np.abs(xy).max() <= 1 and len({tuple(r) for r in xy.round(4)}) > 40  # spread out, not collapsed
    assert client.get("/api/model").json()["umap"] is True


def test_search_and_model_explain_an_index_with_an_in_domain_model_and_a_learned_ranker(served):
    _, ranker, truth, _ = served
    from dualvec.ranking.features import learning_data
    from dualvec.ranking.in_domain import IN_DOMAIN
    from dualvec.ranking.learned import CoordinateAscent
    from synthetic import topical_corpus, topical_model_and_docs

    model, _, docs = topical_model_and_docs()
    sents, _ = topical_corpus(n_sentences=600, seed=3)
    domain = dualvec.train(sents, sg=True, min_count=1, epochs=2, vector_size=12, workers=1, seed=1, progress=False)
    both = Ranker(model, stopwords=None).index(docs, extra_models={IN_DOMAIN: domain})
    feats = both.features()
    queries = {f"q{t}": name for t, name in enumerate(truth["names"])}
    X, y, group, _ = learning_data([feats.compute(text, query_id=qid) for qid, text in queries.items()],
                                   {f"q{t}": {f"about{t}": 1} for t in range(len(truth["names"]))})
    learned = both.with_config(learned=CoordinateAscent(shrinkage=0.0, n_iter=2).fit(X, y, group, feats.names).to_dict())
    client = TestClient(create_app(model, learned), raise_server_exceptions=False)
    q = truth["names"][2]
    data = client.get("/api/search", params={"q": q, "k": 4}).json()
    assert data["ranker"] == "learned" and data["learned"] == "coordinate_ascent" and "Σ weight × feature" in data["formula"]
    assert [(r["doc_id"], r["score"]) for r in data["results"]] == [
        (d, pytest.approx(s, abs=1e-4)) for d, s in learned.search(q, 4)]
    for r in data["results"]:
        assert [c["name"] for c in r["components"]] == list(feats.names)  # each model's DESM among them
        assert sum(c["contribution"] for c in r["components"]) == pytest.approx(r["score"], abs=1e-4)
    # with a weight given, the mixture: both models' DESM, named, in the formula and the pipeline
    mixed = client.get("/api/search", params={"q": q, "k": 4, "desm_weight": 0.5}).json()
    assert mixed["ranker"] == "mixture" and [m["name"] for m in mixed["models"]] == ["", IN_DOMAIN]
    assert IN_DOMAIN in mixed["formula"] and IN_DOMAIN in mixed["stages"][1]
    assert [m["label"] for m in mixed["results"][0]["components"][1]["models"]] == ["the index's model", IN_DOMAIN]
    # a model tuned for ranking ranks alone ('tuned') after a fused first stage: both named as they are
    x = both.extra_models[IN_DOMAIN]
    tuned = both.with_config(desm_models="tuned", first_stage="fused")
    tuned.extra_models = {IN_DOMAIN: type(x)(x.model.tuned_copy(np.asarray(x.model.in_vectors.unit), np.asarray(
        x.model.out_vectors.unit), {"pooling": "unit-mean"}), x.centroids)}
    fused = TestClient(create_app(model, tuned)).get("/api/search", params={"q": q, "k": 3}).json()
    assert fused["stages"] == [f"every document ({len(docs)}): BM25 and DESM IN-OUT of {IN_DOMAIN}, mixed",
                               f"top 100 ({len(docs)} documents)", "mixture again over them"]
    assert f"DESM = {IN_DOMAIN}'s" in fused["formula"] and "the first stage retrieved" in fused["formula"]
    tuned_info = TestClient(create_app(model, tuned)).get("/api/model").json()["index"]
    assert (tuned_info["desm_of"], tuned_info["first_stage"]) == ([IN_DOMAIN], "fused")
    assert "pooling unit-mean" in tuned_info["extra_models"][0]["tuning"]
    # the Model page's data: the in-domain model and how it was trained, the tokeniser as one writes it
    info = client.get("/api/model").json()
    assert info["tokenizer"] == "default: \\w+, lowercased"
    (extra,) = info["index"]["extra_models"]
    assert (extra["name"], extra["words"], extra["params"]["epochs"]) == (IN_DOMAIN, len(domain), 2)
    assert info["index"]["learned"]["features"] == list(feats.names)
    assert info["index"]["desm_of"] == ["the index's model", IN_DOMAIN] and info["index"]["first_stage"] == "bm25"


def test_the_text_view_states_the_typical_cosine_of_the_model(served):
    client, ranker, truth, _ = served
    m = ranker.model
    q = truth["names"][1]
    data = client.post("/api/text", json={"query": q, "passage": " ".join(truth["words"][1])}).json()
    counts = m.vocab.counts.astype(np.float64)
    for space, other in (("in-out", m.out_vectors), ("in-in", m.in_vectors)):
        cos = other.unit @ m.in_vectors.unit[m.vocab.index[q]]  # with every word, weighted by its count
        assert data["typical"][space] == pytest.approx(float(counts @ cos / counts.sum()), abs=2e-5)
