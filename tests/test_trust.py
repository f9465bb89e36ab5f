"""Hostile and unusual input: no crash, no lost data, no silent wrong answer (issue 13's cases)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import dualvec
from dualvec import DualVectors, DualvecError
from dualvec.text.vocab import Vocabulary
from helpers import data_dir

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real ``dualvec`` command in a child process: a crash there cannot take the tests down."""
    return subprocess.run([sys.executable, "-m", "dualvec", *args], capture_output=True, text=True,
                          timeout=timeout)


def assert_one_error_line(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for f in fragments:
        assert f in lines[0], lines[0]


def tiny_model(n: int = 6, dim: int = 4, seed: int = 0) -> DualVectors:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n)]
    return DualVectors(Vocabulary(words, np.arange(n, 0, -1, dtype=np.int64)),
                       rng.standard_normal((n, dim)).astype(np.float32),
                       rng.standard_normal((n, dim)).astype(np.float32), out_kind="negative-sampling")


# -- memory safety ---------------------------------------------------------------------


class _ForgedDtype:
    """Pickles as an object dtype whose flags are forced to 0 (numpy would then read pointers)."""

    def __reduce__(self):
        return (np.dtype, ("O8", False, True), (3, "|", None, None, None, -1, -1, 0))


class _ForgedArray:
    def __init__(self, raw: bytes, shape=(2,)):
        self.raw, self.shape = raw, shape

    def __reduce__(self):
        return (_reconstruct, (np.ndarray, (0,), b"b"), (1, self.shape, _ForgedDtype(), False, self.raw))


def _gensim_looking_pickle(path: Path, **attrs) -> Path:
    """A pickle of a class that claims to be gensim's, holding ``attrs``."""
    mod = types.ModuleType("gensim.models._dualvec_forged")
    cls = type("Word2Vec", (), {"__module__": mod.__name__})
    mod.Word2Vec = cls
    sys.modules[mod.__name__] = mod
    try:
        obj = cls()
        obj.__dict__.update(attrs)
        path.write_bytes(pickle.dumps(obj, protocol=2))
    finally:
        del sys.modules[mod.__name__]
    return path


def test_a_forged_object_dtype_in_a_pickle_is_refused_not_dereferenced(tmp_path):
    path = _gensim_looking_pickle(tmp_path / "evil.model", syn0=_ForgedArray(b"\x41" * 16),
                                  index2word=["a", "b"])
    assert path.stat().st_size < 1000
    for cmd in (["info", str(path)], ["neighbors", str(path), "a"], ["import", str(path), "-o", str(tmp_path / "o")]):
        assert_one_error_line(run_cli(*cmd), "refusing")


@pytest.mark.parametrize("shape, raw, message", [
    ((10**9, 10**3), b"\0" * 16, "declares shape"),
    ((4,), b"\0" * 3, "declares shape"),
    ((-1,), b"", "shape"),
])
def test_pickled_arrays_must_hold_the_bytes_they_declare(tmp_path, shape, raw, message):
    class Arr:
        def __reduce__(self):
            return (_reconstruct, (np.ndarray, (0,), b"b"), (1, shape, np.dtype("f4"), False, raw))

    path = _gensim_looking_pickle(tmp_path / "m.model", syn0=Arr(), index2word=["a"])
    with pytest.raises(DualvecError, match=message):
        dualvec.import_model(path)


def test_corrupt_huffman_arrays_are_refused_at_load(tmp_path):
    sents = [["a", "b", "c", "d", "a", "b"]] * 30
    model = dualvec.train(sents, hs=1, negative=0, min_count=1, vector_size=4, epochs=1, workers=1, progress=False)
    model.save(tmp_path / "m")
    data = data_dir(tmp_path / "m")
    offsets = np.load(data / "hs_offsets.npy")
    for bad, what in [(lambda o: o - 4000, "offsets"), (lambda o: o[::-1].copy(), "offsets")]:
        np.save(data / "hs_offsets.npy", bad(offsets).astype(np.int64))
        with pytest.raises(DualvecError, match="Huffman|hierarchical|hs_"):
            dualvec.load(tmp_path / "m")
    np.save(data / "hs_offsets.npy", offsets)
    codes = np.load(data / "hs_codes.npy")
    np.save(data / "hs_codes.npy", (codes + 7).astype(np.uint8))
    with pytest.raises(DualvecError, match="Huffman|hierarchical"):
        dualvec.load(tmp_path / "m")


# -- no lost data ----------------------------------------------------------------------


def test_saving_never_deletes_a_directory_that_merely_has_a_file_named_like_our_header(tmp_path):
    proj = tmp_path / "proj"
    (proj / "src").mkdir(parents=True)
    (proj / "src" / "main.c").write_text("int main(){}")
    (proj / "dualvec.json").write_text('{"theme": "dark"}')
    with pytest.raises(DualvecError, match="not a dualvec model"):
        tiny_model().save(proj)
    assert (proj / "src" / "main.c").read_text() == "int main(){}"
    vec = tmp_path / "v.txt"
    vec.write_text("2 3\na 1 2 3\nb 4 5 6\n")
    assert_one_error_line(run_cli("import", str(vec), "-o", str(proj)), "not a dualvec model")
    assert (proj / "src" / "main.c").exists() and (proj / "dualvec.json").read_text() == '{"theme": "dark"}'


def test_resaving_keeps_the_users_own_files_and_cleans_up_only_ours(tmp_path):
    path = tmp_path / "m"
    tiny_model(seed=1).save(path)
    (path / "NOTES.md").write_text("my notes")
    (path / "experiments").mkdir()
    (path / "experiments" / "run1.txt").write_text("0.42")
    tiny_model(seed=2).save(path)
    tiny_model(seed=3).save(path)
    assert (path / "NOTES.md").read_text() == "my notes"
    assert (path / "experiments" / "run1.txt").read_text() == "0.42"
    data_dirs = [p for p in path.iterdir() if p.name.startswith("data-")]
    assert len(data_dirs) == 1  # earlier generations are gone
    np.testing.assert_array_equal(dualvec.load(path).in_vectors.vectors, tiny_model(seed=3).in_vectors.vectors)


_SAVER = """
import sys, numpy as np
from dualvec import DualVectors
from dualvec.text.vocab import Vocabulary
path, value, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
words = [f"w{i}" for i in range(2000)]
for i in range(n):
    v = value + (i % 2)
    m = DualVectors(Vocabulary(words, np.ones(2000, np.int64)), np.full((2000, 32), v, np.float32),
                    np.full((2000, 32), v, np.float32), out_kind="negative-sampling")
    m.save(path)
"""


def _consistent(path: Path) -> float:
    m = dualvec.load(path, mmap=False)
    i, o = m.in_vectors.vectors, m.out_vectors.vectors
    assert (i == i[0, 0]).all() and (o == i[0, 0]).all(), "IN and OUT from different saves"
    return float(i[0, 0])


def test_readers_see_one_whole_version_while_two_savers_race(tmp_path):
    path = tmp_path / "m"
    subprocess.run([sys.executable, "-c", _SAVER, str(path), "1", "1"], check=True)
    savers = [subprocess.Popen([sys.executable, "-c", _SAVER, str(path), str(v), "25"], stderr=subprocess.PIPE)
              for v in (1, 3)]
    seen = set()
    while any(p.poll() is None for p in savers):
        seen.add(_consistent(path))
    for p in savers:
        assert p.wait() == 0, p.stderr.read().decode()
    seen.add(_consistent(path))
    assert seen <= {1.0, 2.0, 3.0, 4.0} and len(seen) >= 2
    assert len([p for p in path.iterdir() if p.name.startswith("data-")]) == 1


def test_a_killed_save_leaves_a_loadable_model_and_its_leftovers_go_with_the_next_save(tmp_path):
    path = tmp_path / "m"
    subprocess.run([sys.executable, "-c", _SAVER, str(path), "1", "1"], check=True)
    rng = np.random.default_rng(0)
    for _ in range(6):
        p = subprocess.Popen([sys.executable, "-c", _SAVER, str(path), "5", "1000"])
        import time

        time.sleep(0.8 + float(rng.random()))
        p.kill()
        p.wait()
        assert _consistent(path) in {1.0, 5.0, 6.0}
    subprocess.run([sys.executable, "-c", _SAVER, str(path), "7", "1"], check=True)
    assert _consistent(path) == 7.0
    assert len([p for p in path.iterdir() if p.name.startswith("data-")]) == 1
    assert not [p for p in path.iterdir() if ".tmp-" in p.name]


# -- no silent wrong answer --------------------------------------------------------------


def test_nan_or_infinite_vectors_are_refused_naming_the_word(tmp_path):
    m = tiny_model()
    vin = np.array(m.in_vectors.vectors)
    vin[3, 1] = np.nan
    with pytest.raises(DualvecError, match="'w3'.*NaN"):
        DualVectors(m.vocab, vin)
    (tmp_path / "v.txt").write_text("2 2\na 1 2\nb inf 3\n")
    with pytest.raises(DualvecError, match="'b'"):
        dualvec.import_model(tmp_path / "v.txt")


def test_an_index_whose_model_was_swapped_is_refused(tmp_path):
    from dualvec.ranking import Ranker

    docs = {"d1": "w1 w2 w3", "d2": "w4 w5"}
    Ranker(tiny_model(seed=1), stopwords=None).index(docs).save(tmp_path / "idx")
    inner = data_dir(tmp_path / "idx") / "model"
    tiny_model(seed=2).save(inner)  # same words and dimension, other vectors
    with pytest.raises(DualvecError, match="not the one it was built with"):
        Ranker.load(tmp_path / "idx")


def test_a_collection_listing_a_document_twice_is_an_error(tmp_path):
    from dualvec.text.collections import read_collection

    (tmp_path / "docs.tsv").write_text("d1\tfirst text\nd2\tother\nd1\tsecond text\n")
    with pytest.raises(DualvecError, match="'d1' appears twice"):
        read_collection(tmp_path / "docs.tsv")


# -- resource bombs, hangs, and one error line -------------------------------------------


def _cli(*args: str):
    from typer.testing import CliRunner

    from dualvec.cli import app

    return CliRunner().invoke(app, list(args))


def _one_line(r, *fragments: str) -> None:
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error:"), r.output
    assert "Traceback" not in r.output and "error: unexpected" not in r.output, r.output
    for f in fragments:
        assert f in lines[0], lines[0]


def _edit_header(model_dir: Path, **changes) -> None:
    import json

    header = json.loads((model_dir / "dualvec.json").read_text())
    header.update(changes)
    (model_dir / "dualvec.json").write_text(json.dumps(header))


@pytest.mark.parametrize("damage, message", [
    (dict(tokenizer={}), "tokenizer"),
    (dict(tokenizer={"pattern": "(", "lowercase": True}), "not a valid regular expression"),
    (dict(tokenizer={"pattern": "(a+)+$", "lowercase": True}), "nests a repeat"),
    (dict(history=[{"epoch": 1, "loss": "x", "examples": 1, "words": 1, "seconds": 1}]), "history"),
    (dict(params={"vector_size": "big"}), "training parameters"),
    (dict(data="../../etc"), "unsafe"),
])
def test_header_fields_of_the_wrong_type_are_one_error_line(tmp_path, damage, message):
    tiny_model().save(tmp_path / "m")
    _edit_header(tmp_path / "m", **damage)
    _one_line(_cli("info", str(tmp_path / "m")), message)


def test_an_npy_header_declaring_more_than_the_file_holds_is_refused_before_allocating(tmp_path):
    tiny_model().save(tmp_path / "m")
    f = data_dir(tmp_path / "m") / "in_vectors.npy"
    big = np.lib.format.header_data_from_array_1_0(np.zeros((6, 4), np.float32))
    big["shape"] = (10**12, 8)
    with open(f, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, big)
        fh.write(b"\0" * 96)
    _one_line(_cli("info", str(tmp_path / "m")), "declares shape")


def test_a_word2vec_header_claiming_a_trillion_words_is_refused(tmp_path):
    (tmp_path / "v.bin").write_bytes(b"1000000000000 300\n" + b"a " + b"\0" * 1200)
    _one_line(_cli("info", str(tmp_path / "v.bin")), "promises")


def test_format_detection_reads_a_prefix_of_a_compressed_file(tmp_path):
    import gzip

    from dualvec.formats.gensim import is_pickle

    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb", compresslevel=9) as fh:
        for _ in range(64):
            fh.write(b"\0" * (1 << 20))  # 64 MB of zeros in a ~64 KB file
    import tracemalloc

    tracemalloc.start()
    assert not is_pickle(path)
    assert tracemalloc.get_traced_memory()[1] < 8 << 20
    tracemalloc.stop()
    (tmp_path / "broken.gz").write_bytes(gzip.compress(b"\x80\x02" + b"x" * 1000)[:-30])
    _one_line(_cli("info", str(tmp_path / "broken.gz")))


def test_fifos_never_hang(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert_one_error_line(run_cli("info", str(fifo), timeout=60))
    tiny_model().save(tmp_path / "m")
    vocab = data_dir(tmp_path / "m") / "vocab.json"
    vocab.unlink()
    os.mkfifo(vocab)
    assert_one_error_line(run_cli("info", str(tmp_path / "m"), timeout=60), "not a regular file")
    assert_one_error_line(run_cli("info", "/dev/zero", timeout=60))


def test_deeply_nested_pickles_and_foreign_sidecar_paths_are_refused(tmp_path):
    deep = b"\x80\x02" + b"]" * 200_000 + b"."
    (tmp_path / "deep.model").write_bytes(deep)
    _one_line(_cli("info", str(tmp_path / "deep.model")))
    path = _gensim_looking_pickle(tmp_path / "side.model", __numpys=["../../etc/passwd"], index2word=["a"])
    _one_line(_cli("info", str(path)), "beside the model")


def test_huge_topn_is_capped_at_the_vocabulary(tmp_path):
    tiny_model().save(tmp_path / "m")
    r = _cli("neighbors", str(tmp_path / "m"), "w1", "--topn", "1000000", "--space", "all")
    assert r.exit_code == 0 and r.output.count("\n") < 40, r.output


def test_messages_that_used_to_mislead(tmp_path):
    tiny_model().save(tmp_path / "m")
    _one_line(_cli("neighbors", str(tmp_path / "m"), "W1"), "did you mean 'w1'")
    (tmp_path / "random.bin").write_bytes(np.random.default_rng(0).bytes(4096))
    _one_line(_cli("info", str(tmp_path / "random.bin")), "not a model dualvec recognises")
    assert_one_error_line(run_cli("train", "x", "-o", str(tmp_path / "o"), "--epochs", "0"), "--epochs")
    _one_line(_cli("evaluate", "x.trec", "-q", str(tmp_path), "--measures", ""), "names no measure")
    _one_line(_cli("train", str(tmp_path / "nothing.txt"), "-o", str(tmp_path / "o"), "--token-pattern", "("),
              "token pattern")
    with pytest.raises(DualvecError, match="'size' is now 'vector_size'"):
        dualvec.train([["a", "b"]], size=10)
    words = ["a\x1b[31mred", "b"]
    m = DualVectors(Vocabulary(words, np.ones(2, np.int64)), np.ones((2, 3), np.float32),
                    np.ones((2, 3), np.float32), out_kind="negative-sampling")
    m.save(tmp_path / "ctl")
    r = _cli("neighbors", str(tmp_path / "ctl"), "b")
    assert r.exit_code == 0 and "\x1b" not in r.output and "\\x1b" in r.output


def test_info_on_an_imported_model_shows_what_its_source_recorded(tmp_path):
    gensim = pytest.importorskip("gensim")
    theirs = gensim.models.Word2Vec([["a", "b", "c"]] * 20, vector_size=8, min_count=1, workers=1, window=3)
    theirs.save(str(tmp_path / "g.model"))
    model = dualvec.import_model(tmp_path / "g.model")
    info = model.info()["params"]
    assert info["window"] == 3 and info["vector_size"] == 8
    assert info["batch"] == "unknown" and info["workers"] == "unknown"  # gensim records no such thing
    model.save(tmp_path / "m")
    assert dualvec.load(tmp_path / "m").info()["params"] == info
    r = _cli("info", str(tmp_path / "m"))
    assert r.exit_code == 0 and "unknown" in r.output


def test_hierarchical_softmax_out_is_labelled_approximate_and_exact_ranking_has_a_command(tmp_path):
    sents = [["a", "b", "c", "d", "e"], ["b", "c", "a", "e", "d"]] * 40
    model = dualvec.train(sents, sg=1, hs=1, negative=0, min_count=1, vector_size=8, epochs=2, workers=1,
                          progress=False)
    model.save(tmp_path / "hs")
    from dualvec.cli.model import _space_label

    hs = dualvec.load(tmp_path / "hs")
    assert [_space_label(hs, s) for s in dualvec.SPACES] == [
        "IN-IN", "IN-OUT (approx.)", "OUT-IN (approx.)", "OUT-OUT (approx.)"]
    r = _cli("neighbors", str(tmp_path / "hs"), "a", "--space", "all", "--topn", "3", "--format", "json")
    assert r.exit_code == 0 and "exact HS" in r.output, r.output
    r = _cli("probable", str(tmp_path / "hs"), "a", "--topn", "3")
    assert r.exit_code == 0 and model.most_probable("a", topn=1)[0][0] in r.output
    r = _cli("export", str(tmp_path / "hs"), str(tmp_path / "out.txt"), "--which", "out")
    assert r.exit_code == 0 and "warning:" in r.output and "approximation" in r.output


@pytest.mark.parametrize("damage", ["empty bm25", "corrupt bm25", "config types", "files type", "forward ids"])
def test_a_damaged_index_is_one_error_line(tmp_path, damage):
    import json

    from dualvec.ranking import Ranker

    Ranker(tiny_model(), stopwords=None).index({"d1": "w1 w2 w3", "d2": "w4 w5 w1"}).save(tmp_path / "idx")
    data = data_dir(tmp_path / "idx")
    header = json.loads((tmp_path / "idx" / "ranker.json").read_text())
    if damage == "empty bm25":
        for f in (data / "bm25").iterdir():
            f.unlink()
    elif damage == "corrupt bm25":
        for f in (data / "bm25").iterdir():
            f.write_bytes(b"\x00garbage")
    elif damage == "config types":
        header["config"].update(alpha="x", rm3=5)
        (tmp_path / "idx" / "ranker.json").write_text(json.dumps(header))
    elif damage == "files type":
        header["files"] = ["centroids_in.npy"]
        (tmp_path / "idx" / "ranker.json").write_text(json.dumps(header))
    elif damage == "forward ids":
        np.save(data / "bm25" / "forward_terms.npy", np.full(np.load(data / "bm25" / "forward_terms.npy").shape,
                                                            10**6, np.int32))
    _one_line(_cli("search", str(tmp_path / "idx"), "w1"))


def test_a_loaded_index_saves_its_document_texts_again(tmp_path):
    """Re-saving a loaded index (as ``tune --save`` does) keeps every document's text, and a
    corrupt text row is still an error naming the row, not copied along."""
    from dualvec.ranking import Ranker

    texts = {"d1": "w1 w2 w3", "d2": "w4 \u00e9 w1\nsecond line", "d3": "w5"}
    Ranker(tiny_model(), stopwords=None).index(texts).save(tmp_path / "a")
    Ranker.load(tmp_path / "a").save(tmp_path / "b")
    again = Ranker.load(tmp_path / "b")
    assert [again.texts[i] for i in range(len(again.texts))] == list(texts.values())
    path = data_dir(tmp_path / "b") / "texts.jsonl"
    path.write_bytes(path.read_bytes().replace(b'"w5"', b'{"5}'))
    with pytest.raises(DualvecError, match="document 2 is corrupt"):
        Ranker.load(tmp_path / "b").save(tmp_path / "c")


@pytest.mark.parametrize("damage", ["index out of range", "negative index", "pointers out of order"])
def test_a_damaged_bm25_matrix_is_one_error_line_not_an_index_error(tmp_path, damage):
    """A flipped bit in bm25s's CSC arrays (found by the fuzz test on a fresh machine): the
    matrix is checked at load, so search says which part is corrupt instead of failing deep inside."""
    from dualvec.ranking import Ranker

    Ranker(tiny_model(), stopwords=None).index({"d1": "w1 w2 w3", "d2": "w4 w5 w1"}).save(tmp_path / "idx")
    bm25 = next((tmp_path / "idx").glob("data-*/bm25"))
    name = "indptr.csc.index.npy" if damage == "pointers out of order" else "indices.csc.index.npy"
    arr = np.load(bm25 / name)
    arr = arr.copy()
    if damage == "index out of range":
        arr[0] = 65537
    elif damage == "negative index":
        arr[-1] = -1
    else:
        arr[1], arr[2] = arr[2] + 1, arr[1]
    np.save(bm25 / name, arr)  # same dtype and shape: the same size on disk
    assert_one_error_line(run_cli("search", str(tmp_path / "idx"), "w1 w2"), "term-document matrix is corrupt")
