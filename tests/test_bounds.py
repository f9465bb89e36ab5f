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
from dualvec.corpus import RegexTokenizer, check_pattern
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


@pytest.mark.parametrize("pattern", [r"\w+#", r"(?:\w|\w\w)*#", r"\w*\w*\w*#", r"[a-z]+(?:'[a-z]+)?"])
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
