"""Scale-out: streaming readers, the sharded centroid index on one process and on a Dask
LocalCluster, crash safety, re-ranking other engines' runs, FAISS."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from dualvec import DualvecError
from dualvec.cli import app
from dualvec.ranking import Ranker, normalize
from dualvec.scale import CentroidIndex, build_index, iter_chunks
from synthetic import topical_model_and_docs


@pytest.fixture(scope="module")
def coll(tmp_path_factory):
    model, truth, docs = topical_model_and_docs()
    root = tmp_path_factory.mktemp("scale")
    # more documents than the topical set: every topic word mix, so there are several shards
    rng = np.random.default_rng(0)
    words = sum(truth["words"], []) + truth["names"] + truth["fill"]
    for i in range(300):
        docs[f"d{i}"] = " ".join(rng.choice(words, size=8))
    (root / "docs.jsonl").write_text("\n".join(json.dumps({"_id": k, "title": "", "text": v}) for k, v in docs.items()))
    model.save(root / "model")
    return model, truth, docs, root


def test_readers_stream_jsonl_tsv_gzip_and_parquet_in_the_same_chunks(tmp_path, coll):
    _, _, docs, _ = coll
    items = list(docs.items())[:25]
    (tmp_path / "a.tsv").write_text("id\ttext\n" + "".join(f"{k}\t{v}\n" for k, v in items))
    with gzip.open(tmp_path / "a.jsonl.gz", "wt") as fh:
        fh.write("\n".join(json.dumps({"id": k, "contents": v}) for k, v in items))
    readers = [tmp_path / "a.tsv", tmp_path / "a.jsonl.gz"]
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"docid": [k for k, _ in items], "text": [v for _, v in items]}),
                       tmp_path / "a.parquet", row_group_size=7)
        readers.append(tmp_path / "a.parquet")
    except ImportError:
        pass
    for path in readers:
        chunks = list(iter_chunks(path, 10))
        assert [len(c) for c in chunks] == [10, 10, 5]
        assert [d for c in chunks for d in c] == items, path.name
    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": k, "title": "", "text": v}) for k, v in items))
    (beir / "queries.jsonl").write_text('{"_id": "q1", "text": "not a document"}')
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    assert [d for c in iter_chunks(beir, 100) for d in c] == items
    (tmp_path / "bad.jsonl").write_text('{"_id": "a", "text": "x"}\nnot json\n')
    with pytest.raises(DualvecError, match="line 2 is not JSON"):
        list(iter_chunks(tmp_path / "bad.jsonl", 10))


def test_a_dask_cluster_builds_the_same_index_as_one_process(coll, tmp_path):
    pytest.importorskip("dask.distributed", reason="dask[distributed] is a dev dependency")
    model, _, _, root = coll
    one = build_index(model, root / "docs.jsonl", tmp_path / "one", chunk_size=40, progress=False)
    many = build_index(model, root / "docs.jsonl", tmp_path / "many", chunk_size=40, engine="dask", workers=2,
                       progress=False)
    assert len(one.offsets) - 1 == 8 and one.doc_ids == many.doc_ids
    for space in ("in", "out"):
        for a, b in zip(one.centroids[space], many.centroids[space]):
            np.testing.assert_array_equal(a, b)
    # and the same as the in-memory ranker's centroids
    ranker = Ranker(model).index(coll[2])
    np.testing.assert_array_equal(np.vstack(one.centroids["out"]), ranker.centroids["out"])


_BUILD = """
import sys, time
import dualvec
from dualvec.scale import index as ix
real = ix.build_shard
def slow(*args):
    n = real(*args)
    time.sleep(0.4)
    return n
ix.build_shard = slow
ix.build_index(dualvec.load(sys.argv[1]), sys.argv[2], sys.argv[3], chunk_size=40, progress=False)
"""


def test_a_killed_build_leaves_no_manifest_and_a_rerun_completes_it(coll, tmp_path):
    model, _, _, root = coll
    out = tmp_path / "idx"
    proc = subprocess.Popen([sys.executable, "-c", _BUILD, str(root / "model"), str(root / "docs.jsonl"), str(out)])
    deadline = time.monotonic() + 60
    while len(list((out / "shards").glob("*.ids.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    survivors = {p.name: p.stat().st_mtime_ns for p in (out / "shards").glob("*.ids.json")}
    assert 3 <= len(survivors) < 8 and not (out / "manifest.json").exists()
    with pytest.raises(DualvecError, match="incomplete"):
        CentroidIndex.load(out)
    done = build_index(model, root / "docs.jsonl", out, chunk_size=40, progress=False)
    reference = build_index(model, root / "docs.jsonl", tmp_path / "ref", chunk_size=40, progress=False)
    assert done.doc_ids == reference.doc_ids
    np.testing.assert_array_equal(np.vstack(done.centroids["out"]), np.vstack(reference.centroids["out"]))
    assert all((out / "shards" / n).stat().st_mtime_ns == t for n, t in survivors.items())  # reused, not rebuilt


def test_killing_a_dask_worker_mid_build_still_ends_in_a_complete_index(coll, tmp_path):
    pytest.importorskip("dask.distributed", reason="dask[distributed] is a dev dependency")
    from dask.distributed import LocalCluster

    model, _, _, root = coll
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        import threading

        errors = []

        def build():
            try:
                build_index(model, root / "docs.jsonl", tmp_path / "idx", chunk_size=10, engine="dask",
                            scheduler=cluster.scheduler_address, progress=False)
            except Exception as exc:  # a failed build is allowed, a silent half index is not
                errors.append(exc)

        t = threading.Thread(target=build)
        t.start()
        while not list((tmp_path / "idx" / "shards").glob("*.ids.json")) and t.is_alive():
            time.sleep(0.02)
        nanny = next(iter(cluster.workers.values()))
        os.kill(nanny.process.process.pid, signal.SIGKILL)
        t.join(120)
    if errors:
        assert not (tmp_path / "idx" / "manifest.json").exists()
    final = build_index(model, root / "docs.jsonl", tmp_path / "idx", chunk_size=10, progress=False)
    reference = build_index(model, root / "docs.jsonl", tmp_path / "ref", chunk_size=10, progress=False)
    np.testing.assert_array_equal(np.vstack(final.centroids["in"]), np.vstack(reference.centroids["in"]))


def test_rerank_mixes_desm_with_the_runs_own_scores(coll, tmp_path):
    model, truth, docs, root = coll
    index = build_index(model, root / "docs.jsonl", tmp_path / "idx", chunk_size=64, progress=False)
    rng = np.random.default_rng(1)
    q = truth["names"][2]
    cands = list(rng.choice(list(docs), size=30, replace=False))
    first = {d: float(s) for d, s in zip(cands, rng.random(30) * 10)}
    out = index.rerank({"q": q}, {"q": first}, alpha=0.4)["q"]
    rows = [index.row_of[d] for d in cands]
    qv = index.query_vectors([q])[0]
    desm = np.array([float(qv @ np.vstack(index.centroids["out"])[r]) for r in rows])
    mixed = 0.4 * normalize(desm) + 0.6 * normalize(np.array([first[d] for d in cands]))
    expect = sorted(zip(cands, mixed), key=lambda x: -x[1])
    assert list(out) == [d for d, _ in expect]
    assert list(out.values()) == pytest.approx([s for _, s in expect], abs=1e-6)
    assert list(index.rerank({"q": q}, {"q": first}, alpha=0.0)["q"]) == sorted(first, key=lambda d: -first[d])


def test_rerank_command_and_its_errors(coll, tmp_path):
    model, truth, docs, root = coll
    build_index(model, root / "docs.jsonl", tmp_path / "idx", chunk_size=64, progress=False)
    (tmp_path / "q.tsv").write_text(f"q1\t{truth['names'][0]}\nq2\t{truth['names'][1]}\n")
    (tmp_path / "first.trec").write_text("".join(f"q1 Q0 {d} {i + 1} {10 - i} bm25\n" for i, d in enumerate(list(docs)[:10])))
    runner = CliRunner()
    r = runner.invoke(app, ["rerank", str(tmp_path / "idx"), "--run", str(tmp_path / "first.trec"),
                            "--queries", str(tmp_path / "q.tsv"), "-o", str(tmp_path / "out.trec"), "--alpha", "1"])
    assert r.exit_code == 0, r.output
    lines = (tmp_path / "out.trec").read_text().split("\n")
    assert lines[0].split()[2] == "about0" and len([x for x in lines if x]) == 10
    (tmp_path / "bad.trec").write_text("q1 Q0 nosuchdoc 1 3.0 x\nq1 Q0 about0 2 2.0 x\n")
    r = runner.invoke(app, ["rerank", str(tmp_path / "idx"), "--run", str(tmp_path / "bad.trec"),
                            "--queries", str(tmp_path / "q.tsv"), "-o", str(tmp_path / "o2.trec")])
    assert r.exit_code == 1 and "not in the index" in r.output and "'nosuchdoc'" in r.output
    r = runner.invoke(app, ["rerank", str(tmp_path / "nope"), "--run", str(tmp_path / "first.trec"),
                            "--queries", str(tmp_path / "q.tsv"), "-o", str(tmp_path / "o3.trec")])
    assert r.exit_code == 1 and "error:" in r.output


def test_faiss_flat_is_exact_and_approximate_indexes_recall_most(coll, tmp_path):
    pytest.importorskip("faiss", reason="faiss-cpu (dev dependency) is not installed")
    model, truth, docs, root = coll
    index = build_index(model, root / "docs.jsonl", tmp_path / "idx", chunk_size=64, progress=False)
    queries = {f"q{i}": w for i, w in enumerate(truth["names"] + sum(truth["words"], [])[:10])}
    exact = index.search(queries, k=20)
    flat = index.search(queries, k=20, faiss_index=index.faiss("flat"))
    for q in queries:
        assert list(flat[q]) == list(exact[q]) or np.allclose(sorted(flat[q].values()), sorted(exact[q].values()),
                                                                atol=1e-5)
    hnsw = index.search(queries, k=20, faiss_index=index.faiss("hnsw"))
    recall = np.mean([len(set(hnsw[q]) & set(exact[q])) / 20 for q in queries])
    assert recall > 0.9


def test_building_into_a_foreign_directory_deletes_nothing(coll, tmp_path):
    model, _, _, root = coll
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "manifest.json").write_text('{"name": "my web app"}')
    with pytest.raises(DualvecError, match="not a dualvec centroid index"):
        build_index(model, root / "docs.jsonl", tmp_path / "proj", chunk_size=64, progress=False)
    assert (tmp_path / "proj" / "manifest.json").read_text() == '{"name": "my web app"}'
