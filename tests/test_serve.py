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
    assert data["stages"] == ["bm25", "desm"]
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
