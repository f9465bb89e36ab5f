"""dualvec.pyterrier: PyTerrier transformers over dualvec indexes, checked against the CLI and
the Ranker on a synthetic collection, with no Java started at any point."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

pt = pytest.importorskip("pyterrier", reason="PyTerrier is not installed (pip install 'dualvec[pyterrier]')")
pd = pytest.importorskip("pandas")

from synthetic import topical_corpus  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import dualvec  # noqa: E402
from dualvec.cli import app  # noqa: E402

runner = CliRunner()
MEASURES = ["nDCG@10", "AP", "RR@10", "R@100"]


@pytest.fixture(autouse=True)
def no_java():
    assert not pt.java.started()
    yield
    assert not pt.java.started(), "a dualvec transformer started the JVM"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A BEIR collection of 80 noisy topical documents and 10 graded queries, a model, and two
    indexes built by the real CLI: the default one and one with RM3."""
    root = tmp_path_factory.mktemp("pt")
    sents, truth = topical_corpus(n_sentences=2500)
    model = dualvec.train(sents, sg=True, window=4, sample=0, min_count=1, epochs=5, vector_size=16, workers=1,
                          seed=1, progress=False)
    model.save(root / "model")
    rng = random.Random(3)
    names, words, fill = truth["names"], truth["words"], truth["fill"]
    coll = root / "beir"
    (coll / "qrels").mkdir(parents=True)
    docs, queries, qrels = [], [], ["query-id\tcorpus-id\tscore"]
    for n in range(80):
        t = rng.randrange(len(names))
        body = rng.sample(words[t], rng.randint(1, 4)) + rng.sample(fill, rng.randint(1, 6))
        if rng.random() < 0.4:
            body.append(names[t])
        if rng.random() < 0.3:  # a word of another topic
            body.append(rng.choice(words[(t + 1) % len(names)]))
        rng.shuffle(body)
        docs.append({"_id": f"d{n}", "title": "", "text": " ".join(body)})
        docs[-1]["topic"] = t
    for q in range(10):
        t = q % len(names)
        queries.append({"_id": f"q{q}", "text": f"{names[t]} {rng.choice(words[t])}"})
        for d in docs:
            if d["topic"] == t and rng.random() < 0.7:
                qrels.append(f"q{q}\t{d['_id']}\t{rng.choice([1, 2])}")
    (coll / "corpus.jsonl").write_text("\n".join(json.dumps({k: d[k] for k in ("_id", "title", "text")})
                                                 for d in docs))
    (coll / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries))
    (coll / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n")
    for name, extra in [("idx", []), ("rm3.idx", ["--rm3"])]:
        r = runner.invoke(app, ["index", str(root / "model"), str(coll), "-o", str(root / name),
                                "--stopwords", "none", "--no-progress", *extra])
        assert r.exit_code == 0, r.output
    return root, coll


def cli(*args):
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r.output


def run_frame(path) -> dict[str, list[str]]:
    """A TREC run file's documents per query, in rank order."""
    out: dict[str, list[tuple[int, str]]] = {}
    for line in path.read_text().splitlines():
        qid, _, docno, rank, _, _ = line.split()
        out.setdefault(qid, []).append((int(rank), docno))
    return {q: [d for _, d in sorted(v)] for q, v in out.items()}


def frame_docs(res) -> dict[str, list[str]]:
    return {q: g.sort_values("rank")["docno"].tolist() for q, g in res.groupby("qid", sort=False)}


def as_written(res, normalise: bool = False) -> dict[str, list[tuple[str, str]]]:
    """A frame as `dualvec rank` writes a run (dualvec.irdata.write_run): scores to 6 decimals,
    ties by document id; ``normalise``: min-max per query first (a first stage's raw BM25)."""
    from dualvec.ranking import normalize

    out = {}
    for q, g in res.groupby("qid", sort=False):
        scores = normalize(g.score.to_numpy()) if normalise else g.score.to_numpy()
        ranked = sorted(zip(g.docno, scores), key=lambda kv: (-kv[1], kv[0]))
        out[q] = [(d, f"{s:.6f}") for d, s in ranked]
    return out


def written(path) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for line in path.read_text().splitlines():
        qid, _, docno, _, score, _ = line.split()
        out.setdefault(qid, []).append((docno, score))
    return out


def test_the_module_is_not_imported_by_dualvec():
    import subprocess
    import sys

    code = "import sys, dualvec; print('dualvec.pyterrier' in sys.modules, 'pyterrier' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_without_pyterrier_the_import_says_what_to_install():
    import subprocess
    import sys

    code = ("import sys; sys.modules['pyterrier'] = None\n"
            "try:\n    import dualvec.pyterrier\n"
            "except ImportError as e:\n    import dualvec; print(isinstance(e, dualvec.DualvecError), e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("True ") and "pip install 'dualvec[pyterrier]'" in out


@pytest.mark.parametrize("index", ["idx", "rm3.idx"])
def test_retriever_then_reranker_is_dualvec_rank(setup, index):
    from dualvec.pyterrier import DESMReranker, DualvecRetriever, topics

    root, coll = setup
    idx = root / index
    cli("rank", idx, coll, "-o", root / f"{index}.mix.trec", "--no-progress")
    cli("rank", idx, coll, "-o", root / f"{index}.bm25.trec", "--alpha", "0", "--no-progress")
    q = topics(coll)
    mixed = (DualvecRetriever(idx) >> DESMReranker(idx))(q)
    first = DualvecRetriever(idx)(q)
    assert frame_docs(mixed) == run_frame(root / f"{index}.mix.trec")
    assert as_written(mixed) == written(root / f"{index}.mix.trec")  # documents and scores
    # BM25 ties are common: the run file breaks them by document id, the frame by index row
    assert as_written(first, normalise=True) == written(root / f"{index}.bm25.trec")
    assert frame_docs(mixed) != frame_docs(first)  # DESM changed something, or the test proves nothing
    # the same scores as the Ranker's, not only the same order
    from dualvec.ranking import Ranker

    ranker = Ranker.load(idx)
    for qid, text in zip(q["qid"], q["query"]):
        want = ranker.search(text, 100)
        got = mixed[mixed.qid == qid].sort_values("rank")
        assert list(got.docno) == [d for d, _ in want]
        np.testing.assert_array_equal(got.score.to_numpy(), [s for _, s in want])


def test_retriever_with_alpha_none_is_the_whole_ranking(setup):
    from dualvec.pyterrier import DualvecRetriever, topics

    root, coll = setup
    cli("rank", root / "idx", coll, "-o", root / "whole.trec", "-k", "20", "--no-progress")
    res = DualvecRetriever(root / "idx", k=20, alpha=None)(topics(coll))
    assert frame_docs(res) == run_frame(root / "whole.trec")
    assert res.groupby("qid").size().max() == 20


def test_experiment_equals_dualvec_evaluate(setup):
    from dualvec.evaluation import evaluate
    from dualvec.text.collections import read_qrels, read_run
    from dualvec.pyterrier import DESMReranker, DualvecRetriever, qrels, topics

    root, coll = setup
    idx = root / "idx"
    cli("rank", idx, coll, "-o", root / "e.bm25.trec", "--alpha", "0", "--no-progress")
    cli("rank", idx, coll, "-o", root / "e.mix.trec", "--no-progress")
    import ir_measures

    table = pt.Experiment([DualvecRetriever(idx), DualvecRetriever(idx) >> DESMReranker(idx)],
                          topics(coll), qrels(coll), eval_metrics=[ir_measures.parse_measure(m) for m in MEASURES],
                          names=["bm25", "desm"])
    judged = read_qrels(coll / "qrels" / "test.tsv")
    printed = cli("evaluate", root / "e.bm25.trec", root / "e.mix.trec", "-q", coll, "--measures", ",".join(MEASURES))
    for name, path in [("bm25", "e.bm25.trec"), ("desm", "e.mix.trec")]:
        ours = evaluate(read_run(root / path), judged, MEASURES).aggregate
        row = table[table.name == name].iloc[0]
        for m in MEASURES:
            assert row[m] == pytest.approx(ours[m], abs=1e-12), (name, m)
            assert f"{ours[m]:.4f}" in printed  # the table `dualvec evaluate` printed
    assert table.loc[table.name == "bm25", "nDCG@10"].iloc[0] != table.loc[table.name == "desm", "nDCG@10"].iloc[0]


def test_reranker_over_another_retrievers_frame_equals_ranker_rerank(setup):
    """A foreign first stage (here BM25 on another scale, in shuffled rows, with text): the
    mixture normalises its score per query, so it equals Ranker.rerank's numbers."""
    from dualvec.pyterrier import DESMReranker, topics
    from dualvec.ranking import Ranker

    root, coll = setup
    ranker = Ranker.load(root / "idx", alpha=0.4)
    rows_of_corpus = map(json.loads, (coll / "corpus.jsonl").read_text().splitlines())
    texts = {d["_id"]: d["text"] for d in rows_of_corpus}
    rng = np.random.default_rng(0)
    rows = []
    for qid, text in zip(topics(coll)["qid"], topics(coll)["query"]):
        cand = ranker.candidates(text)
        for r, s in zip(cand.rows, cand.bm25):
            docno = ranker.doc_ids[int(r)]
            rows.append({"qid": qid, "query": text, "docno": docno, "score": 3.0 * s + 7.0, "text": texts[docno]})
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)
    frame["rank"] = rng.permutation(len(frame))  # nonsense ranks: the scores are what counts
    for reranker, inp in [(DESMReranker(root / "idx", alpha=0.4), frame),  # text from the frame
                          (DESMReranker(root / "idx", alpha=0.4), frame.drop(columns="text")),  # from the index
                          (DESMReranker(ranker.model, alpha=0.4), frame)]:  # a bare model
        out = reranker(inp)
        for qid, group in out.groupby("qid", sort=False):
            group = group.sort_values("rank")
            want = ranker.rerank(group["query"].iloc[0], list(frame[frame.qid == qid].docno))
            assert list(group.docno) == [d for d, _ in want], reranker
            np.testing.assert_allclose(group.score.to_numpy(), [s for _, s in want], rtol=0, atol=1e-6)
    # without a score column, the index's own BM25 is the lexical side: Ranker.rerank exactly
    out = DESMReranker(root / "idx", alpha=0.4)(frame.drop(columns=["score", "rank", "text"]))
    for qid, group in out.groupby("qid", sort=False):
        want = ranker.rerank(group["query"].iloc[0], list(group.docno))
        assert list(group.sort_values("rank").docno) == [d for d, _ in want]


def test_reranker_equals_dualvec_rerank_of_a_written_run(setup):
    """A TREC run written by pt.io and read back (as from Pyserini): DESMReranker and
    `dualvec rerank` give the same order."""
    from dualvec.pyterrier import DESMReranker, DualvecRetriever, topics

    root, coll = setup
    q = topics(coll)
    first = DualvecRetriever(root / "idx")(q)
    first = first.assign(score=first.score * 2 + 1)  # another engine's scale
    pt.io.write_results(first, str(root / "first.trec"))
    cli("rerank", root / "idx", "--run", root / "first.trec", "--queries", coll, "-o", root / "second.trec",
        "--alpha", "0.3")
    res = DESMReranker(root / "idx", alpha=0.3)(pt.io.read_results(str(root / "first.trec"), topics=q))
    assert frame_docs(res) == run_frame(root / "second.trec")


def test_conventions(setup):
    from dualvec.pyterrier import DESMReranker, DualvecFeatures, DualvecRetriever, topics

    root, coll = setup
    q = topics(coll).assign(extra="kept")
    for pipe in [DualvecRetriever(root / "idx", k=7), DualvecRetriever(root / "idx", k=7) >> DESMReranker(root / "idx"),
                 DualvecRetriever(root / "idx", k=7) >> DualvecFeatures(root / "idx")]:
        res = pipe(q)
        assert {"qid", "query", "docno", "score", "rank", "extra"} <= set(res.columns)
        assert res.qid.drop_duplicates().tolist() == q.qid.tolist()  # queries in the input's order
        for _, g in res.groupby("qid", sort=False):
            assert g["rank"].tolist() == list(range(len(g)))  # 0-based, rows in rank order
            assert (np.diff(g.score.to_numpy()) <= 0).all()
            assert len(g) <= 7
        assert res["rank"].dtype == np.int64 and res.docno.map(type).eq(str).all()
    full = DualvecRetriever(root / "idx")(q)
    assert (DualvecRetriever(root / "idx") % 5).compile() == DualvecRetriever(root / "idx", k=5, first_stage_k=100)
    for cut in [DualvecRetriever(root / "idx") % 5, (DualvecRetriever(root / "idx") % 5).compile()]:
        res = cut(q)
        assert frame_docs(res) == {k: v[:5] for k, v in frame_docs(full).items()}


def test_empty_frames_keep_the_output_columns(setup):
    from dualvec.pyterrier import DESMReranker, DualvecFeatures, DualvecRetriever

    root, _ = setup
    res = DualvecRetriever(root / "idx")(pd.DataFrame(columns=["qid", "query"]))
    assert len(res) == 0 and {"qid", "query", "docno", "score", "rank"} <= set(res.columns)
    empty_r = pd.DataFrame(columns=["qid", "query", "docno", "score", "rank"])
    for stage in [DESMReranker(root / "idx"), DualvecFeatures(root / "idx")]:
        out = stage(empty_r)
        assert len(out) == 0 and {"qid", "docno", "score", "rank"} <= set(out.columns)
    assert "features" in DualvecFeatures(root / "idx")(empty_r).columns
    # a query none of whose words the index knows: no rows, but the columns
    res = DualvecRetriever(root / "idx")(pd.DataFrame({"qid": ["x"], "query": ["zzzz qqqq"]}))
    assert len(res) == 0 and {"docno", "score", "rank"} <= set(res.columns)
    assert list(pt.inspect.transformer_outputs(DualvecRetriever(root / "idx"), ["qid", "query"])) \
        and "score" in pt.inspect.transformer_outputs(DualvecRetriever(root / "idx"), ["qid", "query"])


def test_missing_columns_are_clear_errors(setup):
    from dualvec.pyterrier import DESMReranker, DualvecRetriever

    root, _ = setup
    model = dualvec.load(root / "model")
    frame = pd.DataFrame({"qid": ["1"], "query": ["x"], "docno": ["d1"], "score": [1.0]})
    with pytest.raises(pt.validate.InputValidationError, match="text"):
        DESMReranker(model)(frame)
    with pytest.raises(pt.validate.InputValidationError, match="text"):
        DESMReranker(root / "model")(frame)  # a model directory is a bare model too
    with pytest.raises(pt.validate.InputValidationError, match="query"):
        DualvecRetriever(root / "idx")(pd.DataFrame({"qid": ["1"]}))
    with pytest.raises(dualvec.DualvecError, match="no document 'nope'"):
        DESMReranker(root / "idx")(frame.assign(docno="nope"))
    with pytest.raises(dualvec.DualvecError, match="unknown ranker option"):
        DualvecRetriever(root / "idx", colour="red")
    with pytest.raises(dualvec.DualvecError, match="unknown space"):
        DESMReranker(model, space="up-down")


def test_features_feed_ltr_and_the_feature_union(setup):
    from dualvec.pyterrier import DESMReranker, DualvecFeatures, DualvecRetriever, qrels, topics
    from dualvec.ranking import Ranker

    root, coll = setup
    idx = root / "rm3.idx"
    ranker = Ranker.load(idx)
    feats = DualvecFeatures(idx, spaces=("in-out", "in-in"), models={"": None, "again": root / "model"})
    assert feats.feature_names[:6] == ("bm25", "rm3", "desm_in_out", "desm_in_in", "desm_in_out@again",
                                       "desm_in_in@again")
    assert DualvecFeatures(idx).feature_names == ranker.features().names  # the learned ranker's own features
    res = (DualvecRetriever(idx, k=20) >> feats)(topics(coll))
    X = np.stack(res.features)
    assert X.shape == (len(res), len(feats.feature_names))
    own = np.stack(DualvecFeatures(idx)(res).features)
    for qid, group in res.groupby("qid", sort=False):  # equal to dualvec's own feature computer
        f = ranker.features().compute(group["query"].iloc[0], list(group.docno))
        np.testing.assert_allclose(own[group.index], f.X)
    row = res.iloc[3]
    q = ranker.analyzer.query(row["query"])
    r = ranker.rows([row.docno])
    assert X[3, 0] == pytest.approx(ranker.bm25.weighted_scores(q.weights)[r][0])
    expanded = ranker.analyze(row["query"])  # the index's RM3
    assert X[3, 1] == pytest.approx(ranker.bm25.weighted_scores(expanded.weights)[r][0])
    assert X[3, 2] == pytest.approx(ranker.desm("in-out").scores(q.terms, r)[0], abs=1e-6)
    np.testing.assert_allclose(X[:, 2:4], X[:, 4:6], atol=1e-5)  # the same model, from the stored text
    assert not np.allclose(X[:, 0], X[:, 1])  # RM3 is not plain BM25 here
    # the ** feature union and pt.ltr with LightGBM
    union = DualvecRetriever(idx, k=20) >> (DESMReranker(idx) ** DualvecFeatures(idx, spaces=("in-out",)))
    u = union(topics(coll))
    width = len(DualvecFeatures(idx, spaces=("in-out",)).feature_names)
    assert np.stack(u.features).shape == (len(u), 1 + width)  # the mixture, then bm25, rm3, desm_in_out, ...
    lgb = pytest.importorskip("lightgbm")
    ltr = DualvecRetriever(idx, k=20) >> feats >> pt.ltr.apply_learned_model(
        lgb.LGBMRanker(n_estimators=5, min_child_samples=1, verbose=-1), form="ltr")
    ltr.fit(topics(coll), qrels(coll), topics(coll), qrels(coll))
    out = ltr(topics(coll))
    assert len(out) == len(res) and (out.groupby("qid")["rank"].min() == 0).all()


def test_repr_eq_hash_and_the_factory(setup):
    from dualvec.pyterrier import DESMReranker, DualvecFeatures, DualvecIndex, DualvecRetriever

    root, _ = setup
    idx = DualvecIndex(root / "idx")
    assert DualvecRetriever(root / "idx", k=5) == idx.retriever(k=5)
    assert hash(DualvecRetriever(root / "idx", k=5)) == hash(idx.retriever(k=5))
    assert DualvecRetriever(root / "idx", k=5) != DualvecRetriever(root / "idx", k=6)
    assert DESMReranker(root / "idx", alpha=0.2) == DESMReranker(str(root / "idx"), alpha=0.2)
    assert DESMReranker(root / "idx", alpha=0.2) != DESMReranker(root / "idx", alpha=0.3)
    assert idx.features() == DualvecFeatures(root / "idx")
    want = f"DualvecRetriever({str(root / 'idx')!r}, k=5, alpha=None)"
    assert repr(DualvecRetriever(root / "idx", k=5, alpha=None)) == want
    assert "DESMReranker(" in repr(DESMReranker(root / "idx"))
    assert idx.ranker is DualvecIndex(root / "idx").ranker  # one load per index
    assert DualvecRetriever(root / "idx", k=100).fuse_rank_cutoff(10) == DualvecRetriever(root / "idx", k=10,
                                                                                          first_stage_k=100)


def test_topics_and_qrels_from_dualvec_readers(setup, tmp_path):
    from dualvec.text.collections import read_beir
    from dualvec.pyterrier import qrels, topics

    _, coll = setup
    c = read_beir(coll)
    t, j = topics(coll), qrels(coll, split="test")
    assert t.columns.tolist() == ["qid", "query"] and dict(zip(t["qid"], t["query"])) == c.split_queries("test")
    assert j.columns.tolist() == ["qid", "docno", "label"] and j.label.dtype == np.int64
    assert {(q, d): g for q, d, g in j.itertuples(index=False)} == {
        (q, d): g for q, docs in c.qrels["test"].items() for d, g in docs.items()}
    assert topics(c).equals(t) and qrels(coll / "qrels" / "test.tsv").equals(j)
    (tmp_path / "j.txt").write_text("a 0 d1 1\na 0 d2 0\nb 0 d1 0\n")  # b: no relevant document
    assert qrels(tmp_path / "j.txt").qid.tolist() == ["a", "a"]  # as dualvec evaluate counts queries
    assert qrels(tmp_path / "j.txt", all_queries=True).qid.tolist() == ["a", "a", "b"]
    (tmp_path / "q.tsv").write_text("a\tfirst query\nb\tsecond\n")
    assert topics(tmp_path / "q.tsv").qid.tolist() == ["a", "b"]
    with pytest.raises(dualvec.DualvecError, match="no 'dev' judgments"):
        topics(coll, split="dev")


def test_an_index_with_a_learned_ranker(setup):
    """With a learned ranker in the index, the retriever's candidates are its pool and the
    reranker applies it: the pipeline is still `dualvec rank`, document for document."""
    from dualvec.text.collections import read_qrels
    from dualvec.pyterrier import DESMReranker, DualvecRetriever, topics
    from dualvec.ranking import Ranker

    learned = pytest.importorskip("dualvec.ranking.learned")
    features = pytest.importorskip("dualvec.ranking.features")
    root, coll = setup
    ranker = Ranker.load(root / "idx")
    feats = ranker.features()
    q = topics(coll)
    pools = [feats.compute(text, query_id=qid) for qid, text in zip(q["qid"], q["query"])]
    X, y, group, _ = features.learning_data(pools, read_qrels(coll / "qrels" / "test.tsv"))
    learner = learned.CoordinateAscent(shrinkage=0.0).fit(X, y, group, feats.names)
    ranker.with_config(learned=learner.to_dict()).save(root / "learned.idx")
    cli("rank", root / "learned.idx", coll, "-o", root / "learned.trec", "--no-progress")
    res = (DualvecRetriever(root / "learned.idx") >> DESMReranker(root / "learned.idx"))(q)
    assert as_written(res) == written(root / "learned.trec")
    assert frame_docs(res) != frame_docs((DualvecRetriever(root / "idx") >> DESMReranker(root / "idx"))(q))


def test_pt_artifact_load_opens_a_dualvec_index(setup, tmp_path):
    from importlib.metadata import entry_points

    from dualvec.pyterrier import DualvecIndex, artifact_metadata

    root, _ = setup
    assert artifact_metadata(str(root / "idx"), ["ranker.json"])["type"] == "dualvec_index"
    assert artifact_metadata(str(tmp_path), []) is None
    (tmp_path / "ranker.json").write_text('{"format": "someone-else"}')
    assert artifact_metadata(str(tmp_path), ["ranker.json"]) is None  # only our own header
    if not any(e.name == "dualvec_index.ranker" for e in entry_points(group="pyterrier.artifact")):
        pytest.skip("dualvec's entry points are not installed: pip install -e '.[dev]' again")
    index = pt.Artifact.load(str(root / "idx"))
    assert isinstance(index, DualvecIndex) and index == DualvecIndex(root / "idx")
    assert len(index.retriever(k=3)(pd.DataFrame({"qid": ["1"], "query": ["nameax"]}))) == 3


def test_an_index_with_two_models(setup):
    """An index holding an in-domain model beside its own mixes both models' DESM; the
    reranker does the same, from the index and from the frame's text."""
    import inspect

    from dualvec.text.collections import read_beir
    from dualvec.pyterrier import DESMReranker, DualvecRetriever, topics
    from dualvec.ranking import Ranker

    if "extra_models" not in inspect.signature(Ranker.index).parameters:
        pytest.skip("this dualvec's Ranker holds one model")
    root, coll = setup
    sents, _ = topical_corpus(n_sentences=1500, seed=5)
    other = dualvec.train(sents, sg=True, window=2, sample=0, min_count=1, epochs=3, vector_size=12, workers=1,
                          seed=2, progress=False)
    docs = read_beir(coll).docs
    Ranker(dualvec.load(root / "model"), stopwords=None).index(docs, extra_models={"in-domain": other}).save(
        root / "two.idx")
    ranker = Ranker.load(root / "two.idx")
    q = topics(coll)
    res = (DualvecRetriever(root / "two.idx") >> DESMReranker(root / "two.idx"))(q)
    with_text = DualvecRetriever(root / "two.idx")(q)
    with_text = DESMReranker(root / "two.idx")(with_text.assign(text=with_text.docno.map(docs)))
    for qid, text in zip(q["qid"], q["query"]):
        want = ranker.search(text, 100)
        for frame in (res, with_text):
            got = frame[frame.qid == qid].sort_values("rank")
            assert list(got.docno) == [d for d, _ in want]
            np.testing.assert_allclose(got.score.to_numpy(), [s for _, s in want], atol=1e-6)
    one_model = (DualvecRetriever(root / "idx") >> DESMReranker(root / "idx"))(q)  # same documents, own model only
    assert frame_docs(res) != frame_docs(one_model)  # the second model counts
