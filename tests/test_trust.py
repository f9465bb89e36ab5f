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
