import numpy as np
import pytest

import dualvec
from dualvec import DualVectors, DualvecError
from dualvec.formats import read_word2vec_file
from dualvec.text.vocab import Vocabulary

WORDS = ["the", "cat", "ünï", "sat"]


def model():
    rng = np.random.default_rng(1)
    return DualVectors(Vocabulary(WORDS, np.array([9, 5, 3, 1])), rng.standard_normal((4, 5)).astype(np.float32),
                       rng.standard_normal((4, 5)).astype(np.float32), out_kind="negative-sampling")


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("which", ["in", "out"])
def test_round_trip_either_space(tmp_path, binary, which):
    m = model()
    path = tmp_path / "v.w2v"
    dualvec.save_word2vec_format(m, path, which=which, binary=binary)
    back = dualvec.load_word2vec_format(path)  # layout detected
    assert back.words == WORDS and back.out_vectors is None and not back.counts_known
    np.testing.assert_array_equal(back.in_vectors.vectors, m.space(which).vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_our_files_and_we_read_gensims(tmp_path, binary):
    KeyedVectors = pytest.importorskip("gensim.models").KeyedVectors
    m = model()
    dualvec.save_word2vec_format(m, tmp_path / "out.w2v", which="out", binary=binary)
    kv = KeyedVectors.load_word2vec_format(tmp_path / "out.w2v", binary=binary)
    assert list(kv.index_to_key) == WORDS
    np.testing.assert_array_equal(kv.vectors, m.out_vectors.vectors)
    kv.save_word2vec_format(str(tmp_path / "gensim.w2v"), binary=binary)
    back = dualvec.load_word2vec_format(tmp_path / "gensim.w2v", binary=binary)
    np.testing.assert_array_equal(back.in_vectors.vectors, m.out_vectors.vectors)


def test_in_and_out_files_make_a_dual_model(tmp_path):
    m = model()
    dualvec.save_word2vec_format(m, tmp_path / "in.bin", which="in", binary=True)
    dualvec.save_word2vec_format(m, tmp_path / "out.txt", which="out")
    both = dualvec.load_word2vec_format(tmp_path / "in.bin", tmp_path / "out.txt")
    np.testing.assert_array_equal(both.out_vectors.vectors, m.out_vectors.vectors)
    assert both.most_similar("cat", space="in-out", topn=3) == m.most_similar("cat", space="in-out", topn=3)


def test_in_out_files_that_disagree(tmp_path):
    m = model()
    dualvec.save_word2vec_format(m, tmp_path / "in.txt")
    (tmp_path / "out5.txt").write_text("4 3\nthe 1 2 3\ncat 1 2 3\nünï 1 2 3\nsat 1 2 3\n")
    with pytest.raises(DualvecError, match="5 dims but .* has 3"):
        dualvec.load_word2vec_format(tmp_path / "in.txt", tmp_path / "out5.txt")
    other = "4 5\n" + "".join(f"{w} 1 2 3 4 5\n" for w in ["the", "cat", "dog", "sat"])
    (tmp_path / "other.txt").write_text(other)
    with pytest.raises(DualvecError, match="same words"):
        dualvec.load_word2vec_format(tmp_path / "in.txt", tmp_path / "other.txt")


def test_binary_without_newlines_glove_text_and_limit(tmp_path):
    vecs = np.arange(12, dtype=np.float32).reshape(3, 4)
    raw = b"3 4\n" + b"".join(w.encode() + b" " + v.astype("<f4").tobytes() for w, v in zip(["a", "b", "c"], vecs))
    (tmp_path / "nonl.bin").write_bytes(raw)
    words, m = read_word2vec_file(tmp_path / "nonl.bin", binary=True)
    assert words == ["a", "b", "c"]
    np.testing.assert_array_equal(m, vecs)
    (tmp_path / "glove.txt").write_text("a 0.5 1\nb 2 3\n")
    words, m = read_word2vec_file(tmp_path / "glove.txt")
    assert words == ["a", "b"] and m.tolist() == [[0.5, 1.0], [2.0, 3.0]]
    assert read_word2vec_file(tmp_path / "nonl.bin", limit=2)[0] == ["a", "b"]


def test_bad_utf8_truncation_and_garbage(tmp_path):
    (tmp_path / "latin.txt").write_bytes(b"1 2\ncaf\xe9 1 2\n")
    with pytest.raises(DualvecError, match="not valid UTF-8"):
        read_word2vec_file(tmp_path / "latin.txt")
    assert read_word2vec_file(tmp_path / "latin.txt", encoding_errors="replace")[0] == ["caf\ufffd"]
    m = model()
    dualvec.save_word2vec_format(m, tmp_path / "v.bin", binary=True)
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[:-7])
    with pytest.raises(DualvecError, match="truncated"):
        read_word2vec_file(tmp_path / "cut.bin", binary=True)
    (tmp_path / "short.txt").write_text("5 2\na 1 2\n")
    with pytest.raises(DualvecError, match="truncated"):
        read_word2vec_file(tmp_path / "short.txt")
    (tmp_path / "ragged.txt").write_text("2 2\na 1 2\nb 1\n")
    with pytest.raises(DualvecError, match="line 3 has 1 values, expected 2"):
        read_word2vec_file(tmp_path / "ragged.txt")
    (tmp_path / "nan.txt").write_text("1 2\na 1 x\n")
    with pytest.raises(DualvecError, match="not a number"):
        read_word2vec_file(tmp_path / "nan.txt")
    with pytest.raises(DualvecError, match="not found"):
        read_word2vec_file(tmp_path / "missing.txt")


def test_words_the_format_cannot_hold_are_refused(tmp_path):
    m = DualVectors(Vocabulary(["ok", "two words"], np.array([1, 1])), np.zeros((2, 2), np.float32))
    with pytest.raises(DualvecError, match="whitespace"):
        dualvec.save_word2vec_format(m, tmp_path / "x.txt")
    assert not list(tmp_path.iterdir())


def test_fuzzed_binary_files_load_or_raise_our_error(tmp_path):
    m = model()
    dualvec.save_word2vec_format(m, tmp_path / "v.bin", binary=True)
    data = bytearray((tmp_path / "v.bin").read_bytes())
    rng = np.random.default_rng(0)
    for trial in range(200):
        mutated = bytearray(data)
        if trial % 2:
            mutated = mutated[: rng.integers(0, len(mutated))]
        else:
            for _ in range(3):
                mutated[rng.integers(0, len(mutated))] ^= 1 << int(rng.integers(0, 8))
        path = tmp_path / f"f{trial}.bin"
        path.write_bytes(bytes(mutated))
        try:
            words, vecs = read_word2vec_file(path)
            assert len(words) == len(vecs)
        except DualvecError:
            pass
