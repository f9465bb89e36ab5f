"""Issue 21, files: dualvec deletes only what it can prove it wrote, checks before it touches,
locks before it looks; every file of a model or index directory is opened through one helper
(regular files only, inside the directory, declared sizes checked)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import dualvec
from dualvec import DualVectors, DualvecError
from dualvec.text.vocab import Vocabulary
from helpers import data_dir

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, symlinks and flock are POSIX")

WORDS = [f"w{i}" for i in range(8)]
DOCS = {"d1": "w1 w2 w3", "d2": "w4 w5 w1", "d3": "w6 w7 w2"}


def tiny_model(seed: int = 0, n: int = 8, dim: int = 4) -> DualVectors:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n)]
    return DualVectors(Vocabulary(words, np.arange(n, 0, -1, dtype=np.int64)),
                       rng.standard_normal((n, dim)).astype(np.float32),
                       rng.standard_normal((n, dim)).astype(np.float32), out_kind="negative-sampling")


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real command in a child process, with a timeout: a hang fails the test instead of stalling it."""
    return subprocess.run([sys.executable, "-m", "dualvec", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200"})


def assert_one_error_line(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and "error: unexpected" not in proc.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes): what must survive byte for byte."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def user_folder(path: Path) -> dict[str, bytes]:
    """A user's folder whose name merely looks like a data generation, with files in it."""
    (path / "sub").mkdir(parents=True)
    (path / "results.csv").write_text("run,score\nA,0.42\n")
    (path / "sub" / "notes.md").write_bytes(b"\x00binary\xffnotes")
    return snapshot(path)


def ranker_index(path: Path, **kw):
    from dualvec.ranking import Ranker

    with pytest.warns(UserWarning):  # the tiny model records no tokeniser
        return Ranker(tiny_model(), stopwords=None, **kw).index(DOCS).save(path)


# -- data loss ----------------------------------------------------------------------------


def test_resaving_never_deletes_a_user_folder_named_like_a_generation(tmp_path):
    m = tmp_path / "m"
    tiny_model(1).save(m)
    users = user_folder(m / "data-2024010120241231")
    also = user_folder(m / "data-0123456789abcdef")  # exactly our pattern: still not ours
    for seed in (2, 3, 4):
        tiny_model(seed).save(m)
    assert snapshot(m / "data-2024010120241231") == users
    assert snapshot(m / "data-0123456789abcdef") == also
    np.testing.assert_array_equal(dualvec.load(m).in_vectors.vectors, tiny_model(4).in_vectors.vectors)
    ours = [p for p in m.iterdir() if p.name.startswith("data-") and (p / ".dualvec-generation").exists()]
    assert len(ours) == 1  # our earlier generations are gone


def test_resaving_a_ranker_index_never_deletes_a_user_folder_named_like_a_generation(tmp_path):
    from dualvec.ranking import Ranker

    ranker_index(tmp_path / "idx")
    users = user_folder(tmp_path / "idx" / "data-2024010120241231")
    Ranker.load(tmp_path / "idx").save(tmp_path / "idx")  # as tune --save does
    assert snapshot(tmp_path / "idx" / "data-2024010120241231") == users
    assert Ranker.load(tmp_path / "idx").search("w1", 2)


def test_a_header_naming_a_user_folder_as_its_generation_never_gets_it_deleted(tmp_path):
    m = tmp_path / "m"
    tiny_model(1).save(m)
    users = user_folder(m / "data-0123456789abcdef")
    header = json.loads((m / "dualvec.json").read_text())
    header.update(data="data-0123456789abcdef", data_token="0" * 32)  # forged: the folder holds no mark
    (m / "dualvec.json").write_text(json.dumps(header))
    tiny_model(2).save(m)
    assert snapshot(m / "data-0123456789abcdef") == users


def test_a_directory_holding_only_a_generation_like_user_folder_is_refused_untouched(tmp_path):
    target = tmp_path / "out"
    users = user_folder(target / "data-0123456789abcdef")
    with pytest.raises(DualvecError, match="not a dualvec model"):
        tiny_model().save(target)
    assert sorted(p.name for p in target.iterdir()) == ["data-0123456789abcdef"]  # not even a lock file left
    assert snapshot(target / "data-0123456789abcdef") == users


def test_a_forged_version_1_header_never_makes_import_delete_a_users_file(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "NOTES.md").write_text("my notes\n")
    (out / "vocab.json").write_text('["not", "a", "model"]')
    (out / "counts.npy").write_bytes(b"mine")
    forged = {"format": "dualvec", "format_version": 1, "vocab_size": 3, "vector_size": 3,
              "files": {"x": "NOTES.md", "counts": "counts.npy"}}
    (out / "dualvec.json").write_text(json.dumps(forged))
    before = {k: v for k, v in snapshot(out).items() if k != "dualvec.json"}
    vec = tmp_path / "v.txt"
    vec.write_text("2 3\na 1 2 3\nb 4 5 6\n")
    r = run_cli("import", str(vec), "-o", str(out))
    assert r.returncode == 0, r.stderr
    after = snapshot(out)
    assert {k: after[k] for k in before} == before
    assert dualvec.load(out).words == ["a", "b"]
    with pytest.raises(DualvecError):  # a forged header vouches for nothing on a second save either
        (out / "dualvec.json").write_text(json.dumps(forged))
        dualvec.load(out)
    tiny_model().save(out)
    assert {k: snapshot(out)[k] for k in before} == before


def test_a_genuine_version_1_model_is_migrated_and_its_old_files_removed(tmp_path):
    """The other side of the forged-header case: files dualvec's version 1 really wrote go."""
    from dualvec.store import write_json

    m = tmp_path / "m"
    m.mkdir()
    model = tiny_model()
    arrays = {"counts": np.arange(8, 0, -1, dtype=np.int64), "in_vectors": model.in_vectors.vectors, "out_vectors": model.out_vectors.vectors}
    for stem, arr in arrays.items():
        np.save(m / f"{stem}.npy", arr, allow_pickle=False)
    write_json(m / "vocab.json", model.words)
    (m / "NOTES.md").write_text("kept")
    (m / "dualvec.json").write_text(json.dumps({
        "format": "dualvec", "format_version": 1, "vocab_size": len(model.words), "vector_size": 4,
        "out_space": "negative-sampling", "files": {s: f"{s}.npy" for s in arrays}}))
    assert dualvec.load(m).words == model.words
    tiny_model(5).save(m)
    assert not (m / "vocab.json").exists() and not (m / "counts.npy").exists()
    assert (m / "NOTES.md").read_text() == "kept"
    np.testing.assert_array_equal(dualvec.load(m).in_vectors.vectors, tiny_model(5).in_vectors.vectors)


def _unmark(m: Path) -> Path:
    """Make ``m`` look saved by a dualvec from before generations were marked."""
    header = json.loads((m / "dualvec.json").read_text())
    del header["data_token"]
    (m / "dualvec.json").write_text(json.dumps(header))
    gen = m / header["data"]
    (gen / ".dualvec-generation").unlink()
    (m / ".dualvec.pending").unlink(missing_ok=True)
    return gen


def test_a_generation_saved_before_marks_goes_only_with_its_own_proven_files(tmp_path):
    m = tmp_path / "m"
    tiny_model(1).save(m)
    old = _unmark(m)
    tiny_model(2).save(m)
    assert not old.exists()  # its files load with the fingerprint its header records: ours
    old = _unmark(m)
    (old / "mine.txt").write_text("kept")
    tiny_model(3).save(m)
    assert sorted(p.name for p in old.iterdir()) == ["mine.txt"]  # the user's file and its folder stay
    np.testing.assert_array_equal(dualvec.load(m).in_vectors.vectors, tiny_model(3).in_vectors.vectors)
    old = _unmark(m)
    np.save(old / "counts.npy", np.zeros(8, np.int64))  # content the header's fingerprint does not vouch for
    header = json.loads((m / "dualvec.json").read_text())
    header["fingerprint"] = "0" * 32
    (m / "dualvec.json").write_text(json.dumps(header))
    before = snapshot(old)
    tiny_model(4).save(m)
    assert snapshot(old) == before


_SAVER = textwrap.dedent("""
    import sys, time, numpy as np
    from dualvec import DualVectors
    from dualvec.text.vocab import Vocabulary
    path, value, start = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    words = [f"w{i}" for i in range(500)]
    m = DualVectors(Vocabulary(words, np.ones(500, np.int64)), np.full((500, 16), value, np.float32),
                    np.full((500, 16), value, np.float32), out_kind="negative-sampling")
    time.sleep(max(0.0, start - time.time()))  # every saver starts at once
    m.save(path)
""")


def test_several_processes_saving_to_one_new_path_all_succeed(tmp_path):
    import time

    path = tmp_path / "new" / "deeper" / "m"  # neither it nor its parent exists yet
    start = time.time() + 3.0
    savers = [subprocess.Popen([sys.executable, "-c", _SAVER, str(path), str(v), str(start)],
                               stderr=subprocess.PIPE) for v in range(1, 7)]
    for p in savers:
        _, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr.decode()
    m = dualvec.load(path, mmap=False)
    value = float(m.in_vectors.vectors[0, 0])
    assert value in {1.0, 2.0, 3.0, 4.0, 5.0, 6.0} and (m.out_vectors.vectors == value).all()
    assert len([p for p in path.iterdir() if p.name.startswith("data-")]) == 1


def _centroid_index(tmp_path: Path):
    from dualvec.scale import build_index

    coll = tmp_path / "docs.jsonl"
    coll.write_text("\n".join(json.dumps({"_id": d, "text": t}) for d, t in DOCS.items()))
    model = tiny_model()
    built = build_index(model, coll, tmp_path / "cidx", chunk_size=2, stopwords=None)
    return model, coll, tmp_path / "cidx", built


def test_a_refused_rebuild_leaves_a_complete_centroid_index_complete(tmp_path):
    from dualvec.scale import CentroidIndex, build_index

    model, coll, idx, built = _centroid_index(tmp_path)
    before = snapshot(idx)
    for engine in ("local", "dask"):  # the checks come before the engine starts
        with pytest.raises(DualvecError, match="collection not found"):
            build_index(model, tmp_path / "typo.jsonl", idx, chunk_size=2, engine=engine, stopwords=None)
        with pytest.raises(DualvecError, match="another model"):
            build_index(tiny_model(seed=9), coll, idx, chunk_size=2, engine=engine, stopwords=None)
    assert snapshot(idx) == before
    tiny_model(seed=9).save(tmp_path / "other")
    for engine in ("local", "dask"):
        assert_one_error_line(run_cli("index", str(tmp_path / "model-typo"), str(coll), "-o", str(idx),
                                      "--engine", engine))
        assert_one_error_line(run_cli("index", str(tmp_path / "other"), str(tmp_path / "typo.jsonl"), "-o", str(idx),
                                      "--engine", engine), "collection not found")
        assert_one_error_line(run_cli("index", str(tmp_path / "other"), str(coll), "-o", str(idx),
                                      "--engine", engine, "--chunk-size", "2"), "another model")
    assert snapshot(idx) == before
    assert CentroidIndex.load(idx).doc_ids == built.doc_ids
    # the same build again finds every shard current: the manifest is never taken away
    again = build_index(model, coll, idx, chunk_size=2, stopwords=None)
    assert again.doc_ids == built.doc_ids and snapshot(idx)["manifest.json"] == before["manifest.json"]


def test_building_a_centroid_index_into_a_foreign_directory_touches_nothing(tmp_path):
    from dualvec.scale import build_index

    coll = tmp_path / "docs.jsonl"
    coll.write_text("\n".join(json.dumps({"_id": d, "text": t}) for d, t in DOCS.items()))
    proj = tmp_path / "proj"
    users = user_folder(proj)
    (proj / "manifest.json").write_text('{"name": "my web app"}')
    users["manifest.json"] = (proj / "manifest.json").read_bytes()
    with pytest.raises(DualvecError, match="not a dualvec centroid index"):
        build_index(tiny_model(), coll, proj, chunk_size=2, stopwords=None)
    assert snapshot(proj) == users and not (proj / ".dualvec.lock").exists()


# -- one helper for every file ------------------------------------------------------------


def test_a_fifo_in_bm25_never_hangs_search(tmp_path):
    ranker_index(tmp_path / "idx")
    vocab = data_dir(tmp_path / "idx") / "bm25" / "vocab.index.json"
    vocab.unlink()
    os.mkfifo(vocab)
    assert_one_error_line(run_cli("search", str(tmp_path / "idx"), "w1", timeout=60), "not a regular file")


def test_a_fifo_for_the_document_texts_never_hangs_tune_save(tmp_path):
    coll = tmp_path / "beir"
    (coll / "qrels").mkdir(parents=True)
    (coll / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": d, "text": t}) for d, t in DOCS.items()))
    (coll / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "w1 w2"}))
    (coll / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    ranker_index(tmp_path / "idx")
    texts = data_dir(tmp_path / "idx") / "texts.jsonl"
    texts.unlink()
    os.mkfifo(texts)
    np.save(texts.with_name("texts_offsets.npy"), np.zeros(len(DOCS) + 1, np.int64))  # sizes that claim 0 bytes
    assert_one_error_line(run_cli("tune", str(tmp_path / "idx"), str(coll), "--split", "test", "--save",
                                  "--learner", "none", timeout=120), "not a regular file")


_EXPLORER = textwrap.dedent("""
    import os, sys, warnings
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient
    from dualvec.ranking import Ranker
    from dualvec.serve import create_app
    ranker = Ranker.load(sys.argv[1])
    texts = sys.argv[2]
    os.unlink(texts)
    os.mkfifo(texts)  # replaced after the server opened the index
    r = TestClient(create_app(ranker.model, ranker), raise_server_exceptions=False).get(
        "/api/document", params={"doc_id": "d2"})
    print(r.status_code, r.text)
""")


def test_a_fifo_never_hangs_the_explorers_document_request(tmp_path):
    ranker_index(tmp_path / "idx")
    texts = data_dir(tmp_path / "idx") / "texts.jsonl"
    r = subprocess.run([sys.executable, "-c", _EXPLORER, str(tmp_path / "idx"), str(texts)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    status, body = r.stdout.split(" ", 1)
    assert 400 <= int(status) < 500 and "not a regular file" in body, r.stdout


@pytest.mark.parametrize("where", ["model vocab", "index doc ids", "index centroids", "bm25 params"])
def test_symlinks_out_of_the_directory_are_refused(tmp_path, where):
    ranker_index(tmp_path / "idx")
    data = data_dir(tmp_path / "idx")
    outside = tmp_path / "outside.json"
    target = {"model vocab": data_dir(data / "model") / "vocab.json", "index doc ids": data / "doc_ids.json",
              "index centroids": data / "centroids_in.npy", "bm25 params": data / "bm25" / "params.index.json"}[where]
    shutil.copy(target, outside)
    target.unlink()
    target.symlink_to(outside)  # the same bytes, but outside the index
    assert_one_error_line(run_cli("search", str(tmp_path / "idx"), "w1", timeout=60), "points outside")
    target.unlink()
    target.symlink_to("/dev/zero")
    assert_one_error_line(run_cli("search", str(tmp_path / "idx"), "w1", timeout=60))


def test_a_symlink_that_stays_inside_the_directory_is_fine(tmp_path):
    ranker_index(tmp_path / "idx")
    data = data_dir(tmp_path / "idx")
    (data / "doc_ids.json").rename(data / "ids-real.json")
    (data / "doc_ids.json").symlink_to("ids-real.json")
    r = run_cli("search", str(tmp_path / "idx"), "w1", timeout=60)
    assert r.returncode == 0, r.stderr


def test_a_generation_that_is_a_symlink_out_of_the_model_is_refused(tmp_path):
    tiny_model().save(tmp_path / "m")
    gen = data_dir(tmp_path / "m")
    shutil.move(gen, tmp_path / "elsewhere")
    gen.symlink_to(tmp_path / "elsewhere")
    assert_one_error_line(run_cli("info", str(tmp_path / "m"), timeout=60), "points outside")


def test_document_texts_must_hold_the_bytes_their_offsets_declare(tmp_path):
    ranker_index(tmp_path / "idx")
    texts = data_dir(tmp_path / "idx") / "texts.jsonl"
    texts.write_bytes(texts.read_bytes() + b"x" * 100)
    assert_one_error_line(run_cli("search", str(tmp_path / "idx"), "w1", timeout=60), "declares")


@pytest.mark.parametrize("spaces, fragment", [
    (["x/../../.."], "'spaces' must be a list"),
    (["in/../../../../etc/passwd"], "'spaces' must be a list"),
    (5, "'spaces' must be a list"),
    ("in", "'spaces' must be a list"),
    ([], "'spaces' must be a list"),
])
def test_manifest_spaces_must_be_in_or_out(tmp_path, spaces, fragment):
    _, _, idx, _ = _centroid_index(tmp_path)
    manifest = json.loads((idx / "manifest.json").read_text())
    manifest["spaces"] = spaces
    (idx / "manifest.json").write_text(json.dumps(manifest))
    run = tmp_path / "run.trec"
    run.write_text("q1 Q0 d1 1 3.0 bm25\n")
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tw1 w2\n")
    assert_one_error_line(run_cli("rerank", str(idx), str(queries), "--run", str(run), "-o", str(tmp_path / "o"),
                                  timeout=60), fragment)


def test_a_fifo_manifest_or_shard_never_hangs(tmp_path):
    _, _, idx, _ = _centroid_index(tmp_path)
    run, queries = tmp_path / "run.trec", tmp_path / "q.tsv"
    run.write_text("q1 Q0 d1 1 3.0 bm25\n")
    queries.write_text("q1\tw1 w2\n")
    rerank = ("rerank", str(idx), str(queries), "--run", str(run), "-o", str(tmp_path / "o"))
    shard = idx / "shards" / "shard-000001.out.npy"
    shard.unlink()
    os.mkfifo(shard)
    assert_one_error_line(run_cli(*rerank, timeout=60), "not a regular file")
    (idx / "manifest.json").unlink()
    os.mkfifo(idx / "manifest.json")
    assert_one_error_line(run_cli(*rerank, timeout=60), "not a regular file")


_MANY_SHARDS = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    from dualvec.scale import CentroidIndex
    index = CentroidIndex.load(sys.argv[1])
    queries = {"q1": "w1 w2", "q2": "w3"}
    top = index.search(queries, k=5)
    run = {"q1": {"d0": 1.0, "d599": 2.0, "d300": 0.5}, "q2": {"d5": 1.0}}
    again = index.rerank(queries, run)
    print(len(index.offsets) - 1, len(top["q1"]), sorted(again["q1"]))
""")


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_NOFILE as Linux sets it")
def test_a_600_shard_index_opens_under_a_1024_descriptor_limit(tmp_path):
    from dualvec.scale import build_index

    coll = tmp_path / "docs.tsv"
    coll.write_text("d0\tw1 w2\n")
    idx = tmp_path / "idx"
    build_index(tiny_model(), coll, idx, chunk_size=1, stopwords=None)
    # the same index grown to 600 one-document shards, IN and OUT (written directly: building
    # them one by one would only time 1,800 fsyncs)
    manifest = json.loads((idx / "manifest.json").read_text())
    rng = np.random.default_rng(0)
    for i in range(600):
        for space in ("in", "out"):
            v = rng.standard_normal((1, 4)).astype(np.float32)
            np.save(idx / "shards" / f"shard-{i:06d}.{space}.npy", v / np.linalg.norm(v), allow_pickle=False)
        (idx / "shards" / f"shard-{i:06d}.ids.json").write_text(json.dumps([f"d{i}"]))
    manifest.update(documents=600, shards=[{"name": f"shard-{i:06d}", "documents": 1} for i in range(600)])
    (idx / "manifest.json").write_text(json.dumps(manifest))
    r = subprocess.run([sys.executable, "-c", _MANY_SHARDS, str(tmp_path / "idx")], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split()[:2] == ["600", "5"] and "'d599'" in r.stdout


def test_commands_refuse_a_foreign_output_before_their_work_and_leave_it_untouched(tmp_path):
    tiny_model().save(tmp_path / "m")
    docs = tmp_path / "docs.jsonl"
    docs.write_text("\n".join(json.dumps({"_id": d, "text": t}) for d, t in DOCS.items()))
    proj = tmp_path / "proj"
    users = user_folder(proj)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("w1 w2 w3 w4\n" * 50)
    vec = tmp_path / "v.txt"
    vec.write_text("2 3\na 1 2 3\nb 4 5 6\n")
    for args, kind in ((["index", str(tmp_path / "m"), str(docs), "-o", str(proj), "--no-in-domain"], "index"),
                       (["train", str(corpus), "-o", str(proj), "--min-count", "1", "--epochs", "1"], "model"),
                       (["import", str(vec), "-o", str(proj)], "model")):
        r = run_cli(*args)
        assert_one_error_line(r, f"not a dualvec {kind} directory")
        assert "compiling" not in r.stderr and "saved" not in r.stderr  # refused before the work
        assert snapshot(proj) == users and not (proj / ".dualvec.lock").exists()
