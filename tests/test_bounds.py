"""Issue 21, hangs and memory, and every field checked: what dualvec reads is bounded in time and
memory by what its bytes justify, and every bad field is one clear error line."""

from __future__ import annotations

import json
import pickle
import struct
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import dualvec
from dualvec import DualvecError
from dualvec.text.tokenize import RegexTokenizer, check_pattern
from test_trust import _cli, _edit_header, _one_line, tiny_model


# -- token patterns ---------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [r"(?:\w|\w\w)*#", r"(?:\w\w?)*#", r"(a|aa)+$", r"(\w+)*#", r"(\w)\1*#",
                                     r"(?:a{1,3}){2,}#"])
def test_patterns_that_backtrack_exponentially_are_refused_everywhere(pattern):
    with pytest.raises(DualvecError, match="exponential time"):
        check_pattern(pattern)
    with pytest.raises(DualvecError):
        check_pattern(pattern, from_file=True)


@pytest.mark.parametrize("pattern", [r"\w+", r"\S+", r"[a-z]+", r"[^\W\d_]++"])
def test_one_class_patterns_are_accepted_from_files(pattern):
    assert check_pattern(pattern, from_file=True).pattern == pattern


def test_a_header_with_an_exponential_pattern_is_one_error_line(tmp_path):
    tiny_model().save(tmp_path / "m")
    _edit_header(tmp_path / "m", tokenizer={"pattern": r"(?:\w|\w\w)*#", "lowercase": True})
    _one_line(_cli("info", str(tmp_path / "m")), "dualvec.json", "exponential")


@pytest.mark.parametrize("pattern", [r"\w+#", r"\w*\w*\w*#", r"[a-z]+(?:'[a-z]+)?", r"\d+|\w+"])
def test_a_header_with_any_other_pattern_loads_with_a_warning_and_the_pattern_never_runs(tmp_path, pattern):
    tiny_model().save(tmp_path / "m")
    _edit_header(tmp_path / "m", tokenizer={"pattern": pattern, "lowercase": True})
    with pytest.warns(UserWarning, match="not one dualvec accepts from a file"):
        model = dualvec.load(tmp_path / "m")
    assert model.tokenizer is None
    # the CLI too: the search over a long run of letters is quick (the pattern from the file is not used)
    start = time.perf_counter()
    r = _cli("info", str(tmp_path / "m"))
    assert r.exit_code == 0 and "warning:" in r.output, r.output
    assert time.perf_counter() - start < 30


def test_cli_token_pattern_refuses_exponential_shapes_in_one_line(tmp_path):
    (tmp_path / "c.txt").write_text("a b c\n")
    _one_line(_cli("train", str(tmp_path / "c.txt"), "-o", str(tmp_path / "o"), "--token-pattern",
                   r"(?:\w|\w\w)*#"), "exponential")


# -- fastText .bin: work bounded by the bytes --------------------------------------------------


def _fasttext_bin(path: Path, words: list[bytes], dim: int, bucket: int, minn: int, maxn: int) -> None:
    b = bytearray(struct.pack("<iiii", 793712314, 12, dim, 5))
    b += struct.pack("<10i", 1, 1, 5, 1, 2, 2, bucket, minn, maxn, 100) + struct.pack("<d", 1e-4)
    b += struct.pack("<iiiqq", len(words), len(words), 0, 100, -1)
    for w in words:
        b += w + b"\0" + struct.pack("<qb", 5, 0)
    b += struct.pack("<?qq", False, len(words) + bucket, dim) + bytes(4 * (len(words) + bucket) * dim)
    b += struct.pack("<?qq", False, len(words), dim) + bytes(4 * len(words) * dim)
    path.write_bytes(bytes(b))


def test_a_small_fasttext_file_with_long_words_large_maxn_and_huge_dim_is_refused_quickly(tmp_path):
    _fasttext_bin(tmp_path / "ft.bin", [b"a" * 60_000 + bytes([48 + i]) for i in range(5)], 50_000, 1, 1, 99)
    start = time.perf_counter()
    _one_line(_cli("info", str(tmp_path / "ft.bin")), "n-grams", "maxn")
    assert time.perf_counter() - start < 20


def test_an_ordinary_small_fasttext_file_still_loads(tmp_path):
    _fasttext_bin(tmp_path / "ok.bin", [b"alpha", b"beta", b"gamma"], 8, 50, 3, 6)
    model = dualvec.import_model(tmp_path / "ok.bin", format="fasttext")
    assert model.words == ["alpha", "beta", "gamma"] and model.in_vectors.vectors.shape == (3, 8)


# -- gensim pickles: each object rebuilt once ----------------------------------------------------


def test_a_pickle_of_shared_nested_tuples_is_quick_and_small(tmp_path):
    import resource

    t: object = ("x",)
    for _ in range(80):
        t = (t, t, [t])
    data = pickle.dumps({"wv": t}, protocol=2)
    assert len(data) < 1000
    (tmp_path / "bomb.model").write_bytes(data)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    _one_line(_cli("info", str(tmp_path / "bomb.model")), "not a gensim model")
    assert time.perf_counter() - start < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # kB


def test_a_pickle_calling_bytes_of_a_huge_count_is_refused(tmp_path):
    (tmp_path / "b.model").write_bytes(b"\x80\x02cbuiltins\nbytes\nJ\x00\x00\x00\x40\x85R.")
    _one_line(_cli("info", str(tmp_path / "b.model")), "bytes(n)")


# -- centroid index: rerank memory, run scores, duplicate ids, long lines, workers, Ctrl-C -------------


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    from dualvec.scale import build_index

    root = tmp_path_factory.mktemp("bounds_idx")
    model = tiny_model(n=40, dim=8)
    rng = np.random.default_rng(1)
    with open(root / "docs.jsonl", "w") as fh:
        for i in range(3000):
            fh.write(json.dumps({"_id": f"d{i}", "text": " ".join(rng.choice(model.words, size=6))}) + "\n")
    model.save(root / "model")
    build_index(model, root / "docs.jsonl", root / "idx", chunk_size=500, progress=False)
    return root


def test_rerank_batches_are_bounded_by_cells_not_by_the_deepest_query():
    from dualvec.scale.index import _batches

    rng = np.random.default_rng(0)
    for trial in range(50):
        depths = rng.integers(1, 50, size=int(rng.integers(1, 300)))
        depths[rng.integers(0, len(depths))] = int(rng.integers(1, 5000))  # one deep query
        run = {f"q{i}": dict.fromkeys(range(d)) for i, d in enumerate(depths)}
        batches = list(_batches(run, 4096, 2000))
        assert [q for b in batches for q in b] == list(run)  # every query, once, in order
        for b in batches:
            deepest = max(len(run[q]) for q in b)
            assert len(b) == 1 or len(b) * deepest <= 2000


def test_one_deep_query_among_thousands_does_not_size_every_row(small_index):
    import tracemalloc

    from dualvec.scale import CentroidIndex

    index = CentroidIndex.load(small_index / "idx")
    run = {f"q{i}": {f"d{i % 3000}": 1.0} for i in range(4000)}
    run["deep"] = {f"d{i}": float(i) for i in range(3000)}
    queries = dict.fromkeys(run, "w1 w2")
    tracemalloc.start()
    out = index.rerank(queries, run)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(out["deep"]) == 3000 and len(out) == 4001
    assert peak < 200e6, peak  # was 4001 x 3000 cells in several float64 arrays: ~0.5 GB


@pytest.mark.parametrize("score", ["nan", "1e400", "-inf", "inf"])
def test_rerank_refuses_a_run_with_a_score_that_is_not_finite(small_index, tmp_path, score):
    (tmp_path / "q.tsv").write_text("q1\tw1 w2\n")
    (tmp_path / "run.txt").write_text(f"q1 Q0 d1 1 3.5 x\nq1 Q0 d2 2 {score} x\n")
    _one_line(_cli("rerank", str(small_index / "idx"), str(tmp_path / "q.tsv"), "--run", str(tmp_path / "run.txt"),
                   "-o", str(tmp_path / "out.txt")), "line 2", "finite")
    assert not (tmp_path / "out.txt").exists()


def test_a_run_listing_a_document_twice_for_a_query_is_refused(tmp_path):
    from dualvec.text.collections import read_run

    (tmp_path / "run.txt").write_text("q1 Q0 d1 1 3.5 x\nq1 Q0 d1 2 2.0 x\n")
    with pytest.raises(DualvecError, match="line 2.*'d1' a second time"):
        read_run(tmp_path / "run.txt")


@pytest.mark.parametrize("name, body", [
    ("docs.jsonl", '{"_id": "a", "text": "w1"}\n{"_id": "b", "text": "w2"}\n{"_id": "a", "text": "w3"}\n'),
    ("docs.tsv", "a\tw1\nb\tw2\na\tw3\n"),
])
def test_duplicate_document_ids_are_refused_by_both_indexes(small_index, tmp_path, name, body):
    (tmp_path / name).write_text(body)
    _one_line(_cli("index", str(small_index / "model"), str(tmp_path / name), "-o", str(tmp_path / "c"),
                   "--engine", "local"), "'a'", "twice")
    _one_line(_cli("index", str(small_index / "model"), str(tmp_path / name), "-o", str(tmp_path / "r")),
              "'a'", "twice")


def test_a_huge_one_line_document_is_refused_without_being_read_whole(small_index, tmp_path, monkeypatch):
    from dualvec.text import collections as irdata

    monkeypatch.setattr(irdata, "MAX_LINE_CHARS", 10_000)
    (tmp_path / "docs.jsonl").write_text('{"_id": "a", "text": "w1"}\n{"_id": "b", "text": "' + "w1 " * 20_000 + '"}\n')
    (tmp_path / "docs.tsv").write_text("a\tw1\nb\t" + "w1 " * 20_000 + "\n")
    for name in ("docs.jsonl", "docs.tsv"):
        _one_line(_cli("index", str(small_index / "model"), str(tmp_path / name), "-o", str(tmp_path / name[-4:]),
                       "--engine", "local"), "line 2", "longer than 10,000 characters")


def test_a_jsonl_line_nested_100000_deep_is_one_error_line(small_index, tmp_path):
    (tmp_path / "docs.jsonl").write_text('{"_id": "a", "text": "w1"}\n' + "[" * 100_000 + "\n")
    _one_line(_cli("index", str(small_index / "model"), str(tmp_path / "docs.jsonl"), "-o", str(tmp_path / "c"),
                   "--engine", "local"), "line 2", "nested too deeply")


def test_dask_workers_are_capped_before_anything_starts(small_index, tmp_path):
    _one_line(_cli("index", str(small_index / "model"), str(small_index / "docs.jsonl"), "-o", str(tmp_path / "c"),
                   "--engine", "dask", "--dask-workers", "1000000"), "--dask-workers 1000000", "per CPU")
    assert not (tmp_path / "c").exists()


def test_ctrl_c_during_a_dask_build_says_interrupted_exits_130_and_the_build_resumes(small_index, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    pytest.importorskip("dask.distributed", reason="dask[distributed] is a dev dependency")
    out = tmp_path / "idx"
    args = [sys.executable, "-m", "dualvec", "index", str(small_index / "model"), str(small_index / "docs.jsonl"),
            "-o", str(out), "--engine", "dask", "--dask-workers", "2", "--chunk-size", "20", "--no-progress"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list((out / "shards").glob("*.ids.json"))) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group, workers too
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert stderr.strip().splitlines() == ["interrupted"], stderr
    assert not (out / "manifest.json").exists()
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    from dualvec.scale import CentroidIndex

    assert len(CentroidIndex.load(out)) == 3000


# -- the explorer: bounded requests, lone surrogates ----------------------------------------------


@pytest.fixture(scope="module")
def explorer():
    pytest.importorskip("fastapi", reason="fastapi is a dependency of dualvec serve")
    pytest.importorskip("httpx", reason="httpx (dev dependency) drives the test client")
    from fastapi.testclient import TestClient

    from dualvec import DualVectors
    from dualvec.serve import create_app
    from dualvec.text.vocab import Vocabulary

    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gam\ud800ma", "delta"]  # a word with a lone surrogate, as a file may hold
    model = DualVectors(Vocabulary(words, np.array([4, 3, 2, 1])), rng.standard_normal((4, 6)).astype(np.float32),
                        rng.standard_normal((4, 6)).astype(np.float32), out_kind="negative-sampling")
    return TestClient(create_app(model), raise_server_exceptions=False)


def test_the_text_endpoint_refuses_oversized_requests_with_a_message(explorer):
    from dualvec.serve.api import MAX_BODY_BYTES, MAX_PASSAGE_CHARS

    huge = explorer.post("/api/text", json={"query": "alpha", "passage": "beta " * ((12 << 20) // 5)})
    assert huge.status_code == 413 and "larger than" in huge.json()["detail"]
    big = "beta " * (MAX_PASSAGE_CHARS // 5 + 1)
    assert len(big) < MAX_BODY_BYTES
    r = explorer.post("/api/text", json={"query": "alpha", "passage": big})
    assert r.status_code == 422 and "100000" in r.text
    ok = explorer.post("/api/text", json={"query": "alpha", "passage": "beta " * (MAX_PASSAGE_CHARS // 5 - 1)})
    assert ok.status_code == 200 and len(ok.content) < 30 * MAX_PASSAGE_CHARS  # bounded answer


def test_a_lone_surrogate_in_a_request_is_a_4xx_and_a_model_word_with_one_is_served(explorer):
    body = b'{"query": "alpha", "passage": "x \\ud800 y"}'
    r = explorer.post("/api/text", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "unicode" in r.text  # pydantic: not a valid string
    r = explorer.get("/api/model")
    assert r.status_code == 200, r.text
    r = explorer.get("/api/complete", params={"prefix": "gam"})
    assert r.status_code == 200 and r.json() == ["gam\ud800ma"]  # sent as a \\ud800 escape, read back


# -- every field checked: one clear line, through main() ------------------------------------------


@pytest.fixture()
def tiny(tmp_path):
    tiny_model().save(tmp_path / "m")
    (tmp_path / "d.tsv").write_text("d1\tw1 w2\nd2\tw3 w4\n")
    (tmp_path / "c.txt").write_text("w1 w2 w3\nw2 w3 w4\n")
    return tmp_path


@pytest.mark.parametrize("option, value, fragment", [
    ("--k1", "nan", "BM25 k1"), ("--k1", "inf", "BM25 k1"), ("--k1", "-1", "BM25 k1"), ("--b", "1.5", "BM25 b"),
    ("--b", "nan", "BM25 b"), ("--desm-weight", "nan", "DESM weight"),
])
def test_index_float_options_must_be_finite_and_in_range(tiny, option, value, fragment):
    _one_line(_cli("index", str(tiny / "m"), str(tiny / "d.tsv"), "-o", str(tiny / "i"), option, value), fragment)


def test_the_library_refuses_non_finite_settings_too():
    from dualvec.ranking import RankerConfig
    from dualvec.training import TrainingParams

    for bad in (dict(k1=float("nan")), dict(b=float("inf")), dict(alpha=float("nan")), dict(first_stage_k=2.5)):
        with pytest.raises(DualvecError, match="must be a"):
            RankerConfig(**bad).validate()
    for bad in (dict(seed=-1), dict(alpha=float("nan")), dict(sample=float("inf")), dict(workers=10**6),
                dict(ns_exponent=float("nan")), dict(window=True)):
        with pytest.raises(DualvecError, match="must be a"):
            TrainingParams(**bad).validate()


@pytest.mark.parametrize("args, fragment", [
    (["train", "{c}", "-o", "{o}", "--seed", "-1", "--min-count", "1"], "seed"),
    (["train", "{c}", "-o", "{o}", "--alpha", "nan", "--min-count", "1"], "alpha"),
    (["train", "{c}", "-o", "{o}", "--workers", "1000000", "--min-count", "1"], "workers"),
    (["index", "{m}", "{d}", "-o", "{o}", "--engine", "dask", "--scheduler", "garbage"], "Dask scheduler"),
])
def test_bad_options_are_a_clear_line_not_unexpected(tiny, args, fragment):
    pytest.importorskip("dask.distributed", reason="dask[distributed] is a dev dependency")
    paths = dict(c=tiny / "c.txt", o=tiny / "o", m=tiny / "m", d=tiny / "d.tsv")
    _one_line(_cli(*[a.format(**paths) for a in args]), fragment)


def _forged_gensim(path: Path, vocab_index) -> None:
    import sys
    import types

    mod = types.ModuleType("gensim.models._dualvec_bounds")
    w2v = type("Word2Vec", (), {"__module__": mod.__name__})
    voc = type("Vocab", (), {"__module__": mod.__name__})
    mod.Word2Vec, mod.Vocab = w2v, voc
    sys.modules[mod.__name__] = mod
    try:
        model = w2v()
        model.syn0, model.sg, model.negative, model.vocab = np.ones((2, 3), np.float32), 1, 5, {}
        for word, index in zip("ab", vocab_index):
            entry = voc()
            entry.index, entry.count = index, 3
            model.vocab[word] = entry
        path.write_bytes(pickle.dumps(model, protocol=2))
    finally:
        del sys.modules[mod.__name__]


@pytest.mark.parametrize("index, fragment", [(("0", 1), "not a whole number"), (("x", "y"), "not a whole number"),
                                             ((0, 0), "'a''s too"), ((0, 7), "out of range")])
def test_a_gensim_vocabulary_with_a_bad_index_is_one_line(tmp_path, index, fragment):
    _forged_gensim(tmp_path / "g.model", index)
    _one_line(_cli("info", str(tmp_path / "g.model")), fragment)


def test_zero_dimensional_vectors_are_refused(tmp_path):
    from test_trust import _gensim_looking_pickle

    _gensim_looking_pickle(tmp_path / "z.model", syn0=np.zeros((2, 0), np.float32), index2word=["a", "b"])
    _one_line(_cli("info", str(tmp_path / "z.model")), "0 dimensions")
    with pytest.raises(DualvecError, match="0 dimensions"):
        dualvec.DualVectors(dualvec.text.vocab.Vocabulary(["a"], np.array([1])), np.zeros((1, 0), np.float32))


def _model_with(words: list[str]):
    from dualvec.text.vocab import Vocabulary

    n = len(words)
    return dualvec.DualVectors(Vocabulary(words, np.arange(n, 0, -1)), np.arange(4 * n, dtype=np.float32).reshape(n, 4),
                               np.ones((n, 4), np.float32), out_kind="negative-sampling")


@pytest.mark.parametrize("args", [["--binary"], ["--text"], ["--format", "projector"]])
def test_export_refuses_a_lone_surrogate_word_in_one_line(tmp_path, args):
    _model_with(["ok", "x\ud800y"]).save(tmp_path / "m")
    _one_line(_cli("export", str(tmp_path / "m"), str(tmp_path / "out"), *args), "lone surrogate")
    assert not (tmp_path / "out").exists()


def test_a_document_id_with_a_lone_surrogate_is_refused(small_index, tmp_path):
    (tmp_path / "d.jsonl").write_text('{"_id": "a\\ud800", "text": "w1"}\n')
    for name, engine in (("centroids", ["--engine", "local"]), ("ranker", [])):
        # each engine its own output: a streaming build that stops part-way leaves an incomplete
        # (resumable) centroid index, which the ranker's save rightly refuses to overwrite
        _one_line(_cli("index", str(small_index / "model"), str(tmp_path / "d.jsonl"), "-o", str(tmp_path / name),
                       *engine), "lone surrogate")


@pytest.mark.parametrize("binary", [True, False])
def test_an_exported_long_word_reads_back_in_dualvec_and_gensim(tmp_path, binary):
    words = ["ok", "é" * 750, "b" * 3000]  # 1,500 and 3,000 bytes: the reader took 1 KiB before
    _model_with(words).save(tmp_path / "m")
    r = _cli("export", str(tmp_path / "m"), str(tmp_path / "v.w2v"), *(["--binary"] if binary else []))
    assert r.exit_code == 0, r.output
    back = dualvec.import_model(tmp_path / "v.w2v")
    assert back.words == words
    np.testing.assert_array_equal(back.in_vectors.vectors, np.arange(12, dtype=np.float32).reshape(3, 4))
    from gensim.models import KeyedVectors

    assert KeyedVectors.load_word2vec_format(str(tmp_path / "v.w2v"), binary=binary).index_to_key == words


def test_export_refuses_a_word_longer_than_the_reader_takes(tmp_path):
    from dualvec.formats.word2vec import MAX_WORD_BYTES

    _model_with(["ok", "a" * (MAX_WORD_BYTES + 1)]).save(tmp_path / "m")
    _one_line(_cli("export", str(tmp_path / "m"), str(tmp_path / "v.bin"), "--binary"), "bytes long")


def test_serve_on_a_busy_port_is_one_error_line(tiny):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        _one_line(_cli("serve", str(tiny / "m"), "--port", port), "in use", "--port")
        _one_line(_cli("demo", "--serve", "--port", port), "in use")


def test_a_similarity_file_with_a_score_that_is_not_finite_is_refused(tmp_path):
    from dualvec.evaluation.embeddings import word_similarity

    (tmp_path / "sim.tsv").write_text("w1\tw2\t3.0\nw2\tw3\tnan\n")
    with pytest.raises(DualvecError, match="'nan' is not a finite number"):
        word_similarity(tiny_model(), tmp_path / "sim.tsv")
