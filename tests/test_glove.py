"""Stanford GloVe with both spaces: ``-model 0`` text and ``vectors.bin`` + ``vocab.txt`` against
hand-written rows (IN = W, OUT = W̃, biases aside), and the bad inputs, each one DualvecError line."""

from __future__ import annotations

import math
import os
import struct

import numpy as np
import pytest
from typer.testing import CliRunner

import dualvec
from dualvec import DualvecError
from dualvec.cli import app
from dualvec.formats import FORMATS, detect_format, import_model
from dualvec.formats.glove import load_glove, read_glove

# -model 0, d = 2: word, W (2 values), W's bias, W̃ (2 values), W̃'s bias; GloVe ends with <unk>
TEXT = ("the 0.1 0.2 0.5 1.0 -1.0 0.25\n"
        "cat 0.3 -0.4 0.0 2.0 0.5 -0.5\n"
        "<unk> 0.2 -0.1 0.25 1.5 -0.25 -0.125\n")

# vectors.bin, V = 2, d = 3: rows of W (3 values + bias), then rows of W̃, float64 little-endian
W = [[1.0, 2.0, 3.0, 0.5], [4.0, 5.0, 6.0, -1.0]]
WC = [[7.0, 8.0, 9.0, 0.25], [-1.0, 0.0, 1.0, 2.0]]
VOCAB = "king 120\nqueen 80\n"


def write_binary(folder, rows=W + WC, vocab=VOCAB, name="vectors.bin"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"".join(struct.pack("<" + "d" * len(r), *r) for r in rows))
    (folder / "vocab.txt").write_bytes(vocab.encode() if isinstance(vocab, str) else vocab)
    return folder / name


def test_model0_text_rows_are_w_and_context(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text(TEXT)
    model = import_model(path, format="glove")
    assert model.words == ["the", "cat", "<unk>"] and not model.counts_known
    np.testing.assert_allclose(model.in_vectors["the"], [0.1, 0.2], rtol=1e-6)
    np.testing.assert_allclose(model.out_vectors["the"], [1.0, -1.0], rtol=1e-6)
    np.testing.assert_allclose(model.in_vectors["cat"], [0.3, -0.4], rtol=1e-6)
    np.testing.assert_allclose(model.out_vectors["cat"], [2.0, 0.5], rtol=1e-6)
    # IN-OUT: the's W against cat's W̃, by hand: (0.1·2 + 0.2·0.5) / (|(0.1, 0.2)| · |(2, 0.5)|)
    expected = 0.3 / (math.sqrt(0.05) * math.sqrt(4.25))
    assert model.similarity("the", "cat", space="in-out") == pytest.approx(expected, rel=1e-5)
    parts = read_glove(path)
    np.testing.assert_allclose(parts.word_biases, [0.5, 0.0, 0.25], rtol=1e-6)
    np.testing.assert_allclose(parts.context_biases, [0.25, -0.5, -0.125], rtol=1e-6)


def test_model0_text_with_header(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("2 2\n" + TEXT)  # -write-header 1: vocab_size vector_size, then <unk> after them
    model = load_glove(path)
    assert model.words == ["the", "cat"] and model.vector_size == 2
    np.testing.assert_allclose(model.out_vectors["cat"], [2.0, 0.5], rtol=1e-6)
    path.write_text("2 3\n" + TEXT)  # a header whose d does not fit the lines
    with pytest.raises(DualvecError, match="line 2 has 6 values, expected 8"):
        load_glove(path)


def test_binary_with_vocab_rows_counts_and_detection(tmp_path):
    path = write_binary(tmp_path / "glove")
    assert detect_format(path) == "glove"
    model = import_model(path)
    assert model.words == ["king", "queen"] and model.counts_known
    assert list(model.vocab.counts) == [120, 80] and model.vector_size == 3
    np.testing.assert_array_equal(model.in_vectors.vectors, [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(model.out_vectors.vectors, [[7, 8, 9], [-1, 0, 1]])
    expected = (1 * -1 + 2 * 0 + 3 * 1) / (math.sqrt(14) * math.sqrt(2))  # king's W · queen's W̃
    assert model.similarity("king", "queen", space="in-out") == pytest.approx(expected, rel=1e-6)
    parts = read_glove(path)
    np.testing.assert_array_equal(parts.word_biases, [0.5, -1.0])
    np.testing.assert_array_equal(parts.context_biases, [0.25, 2.0])
    # the vocabulary named explicitly, from elsewhere
    os.rename(tmp_path / "glove" / "vocab.txt", tmp_path / "words.txt")
    assert detect_format(path) == "word2vec"  # no vocab.txt beside it: not recognised as GloVe
    model = import_model(path, vocab_path=tmp_path / "words.txt")
    np.testing.assert_array_equal(model.out_vectors["queen"], [-1, 0, 1])
    assert load_glove(path, tmp_path / "words.txt", limit=1).words == ["king"]


def test_cli_import_both_spaces(tmp_path):
    path = write_binary(tmp_path / "glove")
    r = CliRunner().invoke(app, ["import", str(path), "-o", str(tmp_path / "bin.dv")])
    assert r.exit_code == 0, r.output
    back = dualvec.load(tmp_path / "bin.dv")
    np.testing.assert_array_equal(back.out_vectors["king"], [7, 8, 9])
    text = tmp_path / "vectors.txt"
    text.write_text(TEXT)
    r = CliRunner().invoke(app, ["import", str(text), "--format", "glove", "-o", str(tmp_path / "text.dv")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["neighbors", str(tmp_path / "text.dv"), "the", "--space", "in-out"])
    assert r.exit_code == 0 and "cat" in r.output, r.output


def test_plain_glove_text_stays_in_only(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("the 0.1 0.2 0.3\ncat 0.4 0.5 0.6\n")  # -model 2: word + d values
    model = import_model(path)
    assert model.out_vectors is None and model.vector_size == 3


@pytest.mark.parametrize("content, message", [
    ("the 0.1 0.2 0.3\ncat 0.4 0.5 0.6\n", r"lines hold 3 numbers; GloVe's -model 0 text holds 2·\(d\+1\)"),
    ("the 0.1 0.5\ncat 0.3 0.0\n", r"lines hold 2 numbers"),
    ("the 0.1 0.2 0.5 1.0 -1.0 0.25\ncat 0.3 0.5\n", "line 2 has 2 values, expected 6"),
    ("the 0.1 0.2 nan 1.0 -1.0 0.25\n", "GloVe parameters of 'the' hold NaN"),
    ("the 0.1 nan 0.5 1.0 -1.0 0.25\n", "IN vector of 'the' holds NaN"),
    ("the 0.1 0.2 0.5 1.0 1e39 0.25\n", "OUT vector of 'the' holds NaN or infinity"),
    ("the 0.1 0.2 0.5 1.0 x 0.25\n", "not a number"),
    (b"\xff\xfe 0.1 0.2 0.5 1.0 -1.0 0.25\n", "not valid UTF-8"),
    ("the 0.1 0.2 0.5 1.0 -1.0 0.25\nthe 0.1 0.2 0.5 1.0 -1.0 0.25\n", "'the' twice"),
])
def test_bad_text(tmp_path, content, message):
    path = tmp_path / "vectors.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DualvecError, match=message) as exc:
        import_model(path, format="glove")
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("rows, vocab, message", [
    (W + WC[:1] + [WC[1][:3]], VOCAB, r"not 2·V·\(d\+1\)·8 for the V = 2 words"),  # a value short
    ([r[:1] for r in W + WC], VOCAB, r"dimension d of at least 1"),  # d = 0: biases alone
    (W + WC, "king 120\nqueen 80\nace 3\n", r"not 2·V·\(d\+1\)·8 for the V = 3 words"),
    (W + WC, b"k\xffng 120\nqueen 80\n", "not valid UTF-8"),
    (W + WC, "king many\nqueen 80\n", "count 'many' is not a whole number"),
    (W + WC, "king 120 7\nqueen 80\n", "line 1 is not 'word count'"),
    (W + WC, "king -3\nqueen 80\n", "count -3 is negative"),
    (W + WC, "king 120\nking 80\n", "'king' twice"),
    ([W[0], [4, float("nan"), 6, -1]] + WC, VOCAB, "IN vector of 'queen' holds NaN"),
    (W + [WC[0], [-1, 0, 1, float("inf")]], VOCAB, "GloVe parameters of 'queen' hold NaN or infinity"),
    ([W[0], [4, 1e300, 6, -1]] + WC, VOCAB, "IN vector of 'queen' holds NaN or infinity"),
])
def test_bad_binary(tmp_path, rows, vocab, message):
    path = write_binary(tmp_path / "glove", rows, vocab)
    with pytest.raises(DualvecError, match=message) as exc:
        import_model(path, format="glove")
    assert "\n" not in str(exc.value)


def test_missing_and_misplaced_files(tmp_path):
    path = write_binary(tmp_path / "glove")
    with pytest.raises(DualvecError, match="GloVe vocabulary not found"):
        import_model(path, vocab_path=tmp_path / "nope.txt")
    with pytest.raises(DualvecError, match="a vocabulary file goes with glove files, not word2vec"):
        import_model(path, format="word2vec", vocab_path=tmp_path / "glove" / "vocab.txt")
    with pytest.raises(DualvecError, match="not a regular file"):
        import_model(tmp_path, format="glove")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(DualvecError, match="not a regular file"):
            import_model(path, vocab_path=tmp_path / "fifo")
    r = CliRunner().invoke(app, ["import", str(path), "--format", "glove", "--vocab", str(tmp_path / "x.txt"),
                                 "-o", str(tmp_path / "m.dv")])
    assert r.exit_code == 1 and r.output.count("\n") == 1 and "error:" in r.output, r.output


def test_registry_lists_glove():
    assert FORMATS["glove"].separate_vocab and FORMATS["glove"].save is None
