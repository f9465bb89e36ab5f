"""Property-based tests (hypothesis) of every reader of files a user hands dualvec: JSONL, TSV,
TREC runs and qrels, centroid-index manifests, model headers (dualvec.json) and word2vec text and
binary files. For generated input each reader loads, or raises exactly one DualvecError whose
message is one line; never another exception type, and within a deadline."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is a dev dependency")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dualvec import DualvecError  # noqa: E402
from test_trust import tiny_model  # noqa: E402

#: DUALVEC_PROPERTY_EXAMPLES=1000 for a deeper search than the suite's quick one.
EXAMPLES = int(os.environ.get("DUALVEC_PROPERTY_EXAMPLES", "60"))
QUICK = settings(max_examples=EXAMPLES, deadline=3000, derandomize=not os.environ.get("DUALVEC_PROPERTY_RANDOM"),
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def loads_or_one_error(read, *args, **kwargs):
    """``read(*args)``: its result, or ``None`` after exactly one DualvecError of one line."""
    try:
        return read(*args, **kwargs)
    except DualvecError as exc:
        message = str(exc)
        assert message and "\n" not in message and "\r" not in message, repr(message)
        return None


# -- what generated files are made of ---------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
numbers = st.sampled_from(["0", "1", "-1", "2", "3.5", "nan", "-inf", "inf", "1e400", "-1e400", "1e-400",
                           "9" * 30, "0x10", "1_000", "", "x", "١"])
tokens = st.one_of(numbers, st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8),
                   st.sampled_from(["Q0", "q1", "d1", "d2", "tag", "\x00", "\ud800"]))


def _line(parts: list[str], sep: str) -> bytes:
    return sep.join(parts).encode("utf-8", "surrogatepass")


def lines_of(token_lists, sep: str):
    return st.lists(st.one_of(token_lists.map(lambda p: _line(p, sep)), st.binary(max_size=30)), max_size=12).map(
        lambda ls: b"\n".join(ls))


jsonl_lines = st.one_of(
    st.fixed_dictionaries({"_id": st.one_of(st.text(max_size=5), st.integers(), json_values),
                           "text": json_values}, optional={"title": json_values, "contents": json_values}
                          ).map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * (n // 2)),
    st.binary(max_size=40))
jsonl_files = st.lists(jsonl_lines, max_size=10).map(lambda ls: b"\n".join(ls))


ids = st.sampled_from(["q1", "q2", "d1", "d2", "d3", "1", "-", "\ud800"])
run_lines = st.tuples(ids, st.just("Q0"), ids, numbers, numbers, st.just("tag")).map(list)
qrels_lines = st.one_of(st.tuples(ids, st.just("0"), ids, numbers).map(list), st.tuples(ids, ids, numbers).map(list))


def mostly(valid, sep: str):
    """Files whose lines are mostly well-formed (so the reader gets past the first one), some not."""
    line = st.one_of(valid.map(lambda p: _line(p, sep)), valid.map(lambda p: _line(p, sep)),
                     valid.map(lambda p: _line(p, sep)), st.lists(tokens, max_size=7).map(lambda p: _line(p, sep)),
                     st.binary(max_size=20))
    return st.lists(line, max_size=8).map(lambda ls: b"\n".join(ls))


def _write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


# -- collections, runs, judgments -------------------------------------------------------------------


@QUICK
@given(data=jsonl_files)
def test_jsonl_collections_load_or_fail_in_one_line(tmp_path, data):
    from dualvec.text.collections import iter_documents, read_texts

    path = _write(tmp_path, "docs.jsonl", data)
    docs = loads_or_one_error(lambda: list(iter_documents(path)))
    if docs is not None:
        assert all(isinstance(i, str) and isinstance(t, str) for i, t in docs)
        assert len({i for i, _ in docs}) == len(docs) or True  # iter_documents streams; the index checks ids
    texts = loads_or_one_error(read_texts, path)
    if texts is not None:
        assert all(isinstance(k, str) for k in texts)


@QUICK
@given(data=mostly(st.tuples(ids, st.text(max_size=10)).map(list), "\t"))
def test_tsv_collections_load_or_fail_in_one_line(tmp_path, data):
    from dualvec.text.collections import iter_documents, read_tsv
    from dualvec.scale import iter_chunks

    path = _write(tmp_path, "docs.tsv", data)
    loads_or_one_error(lambda: list(iter_documents(path)))
    chunks = loads_or_one_error(lambda: list(iter_chunks(path, 3)))
    if chunks is not None:
        ids = [d for c in chunks for d, _ in c]
        assert len(ids) == len(set(ids)) and all(ids)  # duplicate or empty ids never pass
    loads_or_one_error(read_tsv, path)


@QUICK
@given(data=mostly(run_lines, " "))
def test_trec_runs_load_or_fail_in_one_line(tmp_path, data):
    from dualvec.text.collections import read_run

    run = loads_or_one_error(read_run, _write(tmp_path, "run.txt", data))
    if run is not None:
        scores = [s for docs in run.values() for s in docs.values()]
        assert scores and all(np.isfinite(scores))


@QUICK
@given(data=mostly(qrels_lines, " "))
def test_qrels_load_or_fail_in_one_line(tmp_path, data):
    from dualvec.text.collections import read_qrels

    qrels = loads_or_one_error(read_qrels, _write(tmp_path, "qrels.txt", data))
    if qrels is not None:
        assert all(isinstance(g, int) for docs in qrels.values() for g in docs.values())


# -- a centroid index's manifest, a model's header ----------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from dualvec.scale import build_index

    root = tmp_path_factory.mktemp("props")
    model = tiny_model()
    (root / "docs.tsv").write_text("".join(f"d{i}\tw{i % 6} w{(i + 1) % 6}\n" for i in range(12)))
    build_index(model, root / "docs.tsv", root / "idx", chunk_size=5, progress=False)
    model.save(root / "model")
    return root


manifest_keys = st.sampled_from(["format", "format_version", "model_fingerprint", "vector_size", "spaces",
                                 "chunk_size", "analysis", "documents", "shards", "source"])
header_keys = st.sampled_from(["format", "format_version", "words", "n_words", "vector_size", "dim", "data", "files",
                               "tokenizer", "params", "history", "out_space", "counts_known", "fingerprint",
                               "unit_normalised_only", "created_by", "params_recorded", "arrays"])


def _damaged(original: dict, changes: list, drops: list) -> dict:
    out = dict(original)
    for key, value in changes:
        out[key] = value
    for key in drops:
        out.pop(key, None)
    return out


@QUICK
@given(changes=st.lists(st.tuples(manifest_keys, json_values), max_size=3), drops=st.lists(manifest_keys, max_size=2),
       shard_entry=json_values)
def test_centroid_manifests_load_or_fail_in_one_line(built, tmp_path, changes, drops, shard_entry):
    from dualvec.scale import CentroidIndex

    idx = tmp_path / "idx"
    if idx.exists():
        shutil.rmtree(idx)
    shutil.copytree(built / "idx", idx)
    manifest = json.loads((idx / "manifest.json").read_text())
    if changes and changes[0][0] == "shards":
        changes = [("shards", [*manifest["shards"][:1], shard_entry])] + changes[1:]
    (idx / "manifest.json").write_text(json.dumps(_damaged(manifest, changes, drops)))
    index = loads_or_one_error(CentroidIndex.load, idx)
    if index is not None:
        assert len(index.doc_ids) == int(index.offsets[-1])


@QUICK
@given(changes=st.lists(st.tuples(header_keys, json_values), max_size=3), drops=st.lists(header_keys, max_size=2))
def test_model_headers_load_or_fail_in_one_line(built, tmp_path, changes, drops):
    import warnings

    import dualvec

    model_dir = tmp_path / "m"
    if model_dir.exists():
        shutil.rmtree(model_dir)
    shutil.copytree(built / "model", model_dir)
    header = json.loads((model_dir / "dualvec.json").read_text())
    (model_dir / "dualvec.json").write_text(json.dumps(_damaged(header, changes, drops)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = loads_or_one_error(dualvec.load, model_dir)
    if model is not None:
        assert model.in_vectors.vectors.shape[0] == len(model.words)


# -- word2vec text and binary files -----------------------------------------------------------------

w2v_headers = st.one_of(
    st.tuples(st.integers(-2, 10**13), st.integers(-2, 2**21)).map(lambda t: f"{t[0]} {t[1]}\n".encode()),
    st.sampled_from([b"", b"3 4\n", b"2 2\n", b"1\n", b"x y\n", b"3 4 5\n"]))
w2v_text_rows = st.lists(st.lists(tokens, min_size=1, max_size=6), max_size=5).map(
    lambda rows: b"".join(_line(r, " ") + b"\n" for r in rows))
w2v_binary_rows = st.lists(st.tuples(st.binary(min_size=0, max_size=12), st.binary(min_size=0, max_size=24)),
                           max_size=5).map(lambda rows: b"".join(w + b" " + v + b"\n" for w, v in rows))


@QUICK
@given(header=w2v_headers, body=st.one_of(w2v_text_rows, w2v_binary_rows, st.binary(max_size=200)),
       binary=st.sampled_from([None, True, False]))
def test_word2vec_files_load_or_fail_in_one_line(tmp_path, header, body, binary):
    from dualvec.formats.word2vec import read_word2vec_file

    got = loads_or_one_error(read_word2vec_file, _write(tmp_path, "v.w2v", header + body), binary=binary)
    if got is not None:
        words, vectors = got
        assert vectors.shape[0] == len(words) and vectors.shape[1] > 0


@settings(max_examples=max(10, EXAMPLES // 2), deadline=5000, derandomize=not os.environ.get("DUALVEC_PROPERTY_RANDOM"),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(words=st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Zs", "Cc", "Zl", "Zp"]),
                              min_size=1, max_size=300), min_size=1, max_size=5, unique=True),
       binary=st.booleans())
def test_what_the_word2vec_writer_writes_the_reader_reads(tmp_path, words, binary):
    from dualvec import DualVectors
    from dualvec.formats.word2vec import read_word2vec_file, save_word2vec_format
    from dualvec.text.vocab import Vocabulary

    words = [w for w in words if not any(c.isspace() for c in w)] or ["x"]
    model = DualVectors(Vocabulary(words, np.ones(len(words), np.int64)),
                        np.arange(3 * len(words), dtype=np.float32).reshape(len(words), 3))
    if loads_or_one_error(save_word2vec_format, model, tmp_path / "v.w2v", binary=binary) is None:
        return  # refused in one line: nothing written to read back
    back, vectors = read_word2vec_file(tmp_path / "v.w2v", binary=binary)
    assert back == words
    np.testing.assert_array_equal(vectors, model.in_vectors.vectors)
