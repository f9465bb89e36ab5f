"""dualvec.pyterrier over an index as `dualvec index MODEL COLL` builds it by default (issue 30):
an in-domain model tuned for ranking, its mixture, and a first stage fused over every document.
The PyTerrier pipelines give `dualvec rank`'s run document for document; the features are the
ones the index's learned ranker reads."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

pt = pytest.importorskip("pyterrier", reason="PyTerrier is not installed (pip install 'dualvec[pyterrier]')")
pd = pytest.importorskip("pandas")

from synthetic import topical_collection, topical_corpus  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import dualvec  # noqa: E402
from dualvec.cli import app  # noqa: E402
from dualvec.ranking import Ranker  # noqa: E402
from dualvec.ranking.in_domain import IN_DOMAIN  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A BEIR collection of 600 topical documents (enough text for an in-domain model) with 12
    queries, a general model, and the index the judges' command builds (tuned by default) and
    one built with --no-tune."""
    root = tmp_path_factory.mktemp("pt-tuned")
    docs, truth = topical_collection(n_docs=600)
    coll = root / "beir"
    (coll / "qrels").mkdir(parents=True)
    (coll / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": d, "title": "", "text": t})
                                                 for d, t in docs.items()))
    rng = random.Random(0)
    words = truth["names"] + sum(truth["words"], [])
    queries = {f"q{i}": " ".join(rng.sample(words, rng.randint(1, 3))) for i in range(12)}
    (coll / "queries.jsonl").write_text("\n".join(json.dumps({"_id": q, "text": t}) for q, t in queries.items()))
    (coll / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"q{i}\t{d}\t1\n" for i in range(12) for d in list(docs)[i::40]))
    sents, _ = topical_corpus(n_sentences=1500, seed=3)
    dualvec.train(sents, sg=True, window=4, sample=0, min_count=1, epochs=2, vector_size=12, workers=1, seed=3,
                  progress=False).save(root / "model")
    for name, extra in (("idx", []), ("untuned.idx", ["--no-tune"])):
        r = runner.invoke(app, ["index", str(root / "model"), str(coll), "-o", str(root / name), "--in-domain-epochs",
                                "2", "--in-domain-dim", "8", "--no-progress", *extra])
        assert r.exit_code == 0, r.output
        r = runner.invoke(app, ["rank", str(root / name), str(coll), "-o", str(root / f"{name}.trec"), "--no-progress"])
        assert r.exit_code == 0, r.output
    return root, coll, docs


def written(path) -> dict[str, list[tuple[str, str]]]:
    """A run file's (document, score as written) per query, in rank order."""
    out: dict[str, list[tuple[int, str, str]]] = {}
    for line in path.read_text().splitlines():
        qid, _, docno, rank, score, _ = line.split()
        out.setdefault(qid, []).append((int(rank), docno, score))
    return {q: [(d, s) for _, d, s in sorted(v)] for q, v in out.items()}


def as_written(res) -> dict[str, list[tuple[str, str]]]:
    """A frame as `dualvec rank` writes it: rank order, scores to 6 decimals."""
    return {q: [(d, f"{s:.6f}") for d, s in zip(g.sort_values("rank").docno, g.sort_values("rank").score)]
            for q, g in res.groupby("qid", sort=False)}


@pytest.mark.parametrize("index", ["idx", "untuned.idx"])
def test_the_index_is_what_the_judges_command_builds(setup, index):
    root = setup[0]
    ranker = Ranker.load(root / index)
    tuned = ranker.extra_models[IN_DOMAIN].model.tuning is not None
    assert tuned == (index == "idx")
    if tuned:  # the mixture chosen for a tuned model: its first stage ranks every document
        assert ranker.config.first_stage == "fused" and ranker.config.desm_models == "tuned"


@pytest.mark.parametrize("index", ["idx", "untuned.idx"])
def test_retriever_then_reranker_is_dualvec_rank(setup, index):
    from dualvec.pyterrier import DESMReranker, DualvecRetriever, topics

    root, coll, _ = setup
    q = topics(coll)
    expected = written(root / f"{index}.trec")
    for pipeline in (DualvecRetriever(root / index) >> DESMReranker(root / index),
                     DualvecRetriever(root / index, alpha=None)):
        res = pipeline(q)
        assert as_written(res) == {qid: expected[qid] for qid in q.qid}, repr(pipeline)


@pytest.mark.parametrize("index", ["idx", "untuned.idx"])
def test_the_reranker_from_the_frames_text_is_dualvec_rank(setup, index):
    """DESM computed from the documents' text (no index rows needed) mixes the same models."""
    from dualvec.pyterrier import DESMReranker, DualvecRetriever, topics

    root, coll, docs = setup
    q = topics(coll)
    first = DualvecRetriever(root / index)(q)
    res = DESMReranker(root / index)(first.assign(text=first.docno.map(docs)))
    expected = written(root / f"{index}.trec")
    for qid, rows in as_written(res).items():
        assert [d for d, _ in rows] == [d for d, _ in expected[qid]], qid
        np.testing.assert_allclose([float(s) for _, s in rows], [float(s) for _, s in expected[qid]], atol=2e-6)


def test_the_first_stage_is_the_indexs_not_bm25s(setup):
    """The retriever's candidates are the index's first stage (fused over every document), so the
    reranker re-orders what `dualvec rank` re-orders: not BM25's top k."""
    from dualvec.pyterrier import DualvecRetriever, topics

    root, coll, _ = setup
    ranker = Ranker.load(root / "idx")
    q = topics(coll)
    res = DualvecRetriever(root / "idx", k=20)(q)
    bm25_pools = {qid: {d for d, _ in ranker.with_config(first_stage="bm25").search(text, 20, alpha=0.0)}
                  for qid, text in zip(q["qid"], q["query"])}
    pools = {qid: set(g.docno) for qid, g in res.groupby("qid")}
    assert pools != bm25_pools  # the fused pool differs somewhere, or the test proves nothing
    for qid, text in zip(q["qid"], q["query"]):  # the index's pool of 20 (k sets first_stage_k)
        assert pools[qid] == {d for d, _ in ranker.with_config(first_stage_k=20).search(text, 20)}


@pytest.mark.parametrize("index", ["idx", "untuned.idx"])
def test_features_are_the_learned_rankers(setup, index):
    from dualvec.pyterrier import DualvecFeatures, DualvecRetriever, topics

    root, coll, _ = setup
    ranker = Ranker.load(root / index)
    feats = DualvecFeatures(root / index)
    assert feats.feature_names == ranker.features().names
    q = topics(coll).head(4)
    res = feats(DualvecRetriever(root / index)(q))
    for qid, text in zip(q["qid"], q["query"]):
        g = res[res.qid == qid]
        want = ranker.features().compute(ranker.analyzer.query(text), list(g.docno)).X
        np.testing.assert_allclose(np.vstack(g.features.to_numpy()), want, atol=1e-9)
