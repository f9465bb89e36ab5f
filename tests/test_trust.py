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
from dualvec.vocab import Vocabulary
from helpers import data_dir

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real ``dualvec`` command in a child process: a crash there cannot take the tests down."""
    return subprocess.run([sys.executable, "-m", "dualvec.cli", *args], capture_output=True, text=True,
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
from dualvec.vocab import Vocabulary
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
    from dualvec.irdata import read_collection

    (tmp_path / "docs.tsv").write_text("d1\tfirst text\nd2\tother\nd1\tsecond text\n")
    with pytest.raises(DualvecError, match="'d1' appears twice"):
        read_collection(tmp_path / "docs.tsv")
