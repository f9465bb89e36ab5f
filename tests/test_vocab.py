import numpy as np
import pytest

from dualvec.errors import DualvecError, UnknownWordError
from dualvec.text.vocab import Vocabulary


def vocab(counts):
    return Vocabulary([f"w{i}" for i in range(len(counts))], np.array(counts))


def test_index_and_unknown_word():
    v = vocab([5, 3])
    assert v.get_index("w1") == 1 and "w0" in v and "x" not in v
    with pytest.raises(UnknownWordError, match="'x'"):
        v.get_index("x")
    with pytest.raises(DualvecError, match="twice"):
        Vocabulary(["a", "a"], np.array([1, 1])).index


def test_huffman_codes_are_prefix_free_and_frequent_words_are_short():
    counts = [1000, 500, 200, 100, 50, 20, 10, 5, 2, 1]
    tree = vocab(counts).huffman_tree()
    codes = ["".join(map(str, tree.path(i)[0])) for i in range(len(counts))]
    for i, a in enumerate(codes):
        for j, b in enumerate(codes):
            assert i == j or not b.startswith(a)
    lengths = [len(c) for c in codes]
    assert lengths == sorted(lengths)
    assert tree.points.min() >= 0 and tree.points.max() == len(counts) - 2
    assert all(tree.path(i)[1][0] == len(counts) - 2 for i in range(len(counts)))  # root first
    # Kraft equality: a full binary tree's code lengths satisfy sum 2^-l = 1.
    assert sum(2.0 ** -n for n in lengths) == pytest.approx(1.0)


def test_alias_table_reproduces_the_noise_distribution_exactly():
    counts = np.array([900, 300, 77, 40, 12, 5, 1])
    thr, alias = vocab(counts).noise_alias(0.75)
    n = len(counts)
    u = thr / 2.0**32
    prob = u / n
    for i in range(n):
        prob[alias[i]] += (1 - u[i]) / n
    expected = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(prob, expected, rtol=1e-6)


def test_keep_thresholds_follow_word2vec_formula():
    counts = np.array([10_000, 100, 1])
    keep = vocab(counts).keep_thresholds(1e-3) / 2.0**32
    t = 1e-3 * counts.sum()
    expected = np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0)
    np.testing.assert_allclose(keep, expected, rtol=1e-6)
    assert (vocab(counts).keep_thresholds(0) == 2**32).all()
