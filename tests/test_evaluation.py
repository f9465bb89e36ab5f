import numpy as np
import pytest

from dualvec import DualVectors, DualvecError
from dualvec.evaluation import analogy_accuracy, spearman, word_similarity
from dualvec.text.vocab import Vocabulary


def test_spearman_matches_scipy_with_ties():
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, 50).astype(float)
    b = a + rng.normal(0, 2, 50)
    assert spearman(a, b) == pytest.approx(scipy_stats.spearmanr(a, b)[0])


def geometry_model():
    # man->woman is the same offset as king->queen; "apple" is far away.
    words = ["man", "woman", "king", "queen", "apple", "rare"]
    v = np.array([[1, 0, 0], [1, 1, 0], [3, 0, 0.2], [3, 3, 0.2], [0, 0, 5], [0, 1, 0]], dtype=np.float32)
    return DualVectors(Vocabulary(words, np.arange(6, 0, -1)), v, v.copy(), out_kind="imported")


def test_analogy_accuracy_and_restrict_vocab(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text(": royal\nMan Woman King Queen\nman woman apple queen\n: other\nman rare king queen\n")
    res = analogy_accuracy(geometry_model(), path)
    assert (res.correct, res.evaluated, res.skipped) == (2, 3, 0)
    assert res.sections == {"royal": (1, 2), "other": (1, 1)}
    res = analogy_accuracy(geometry_model(), path, restrict_vocab=5)  # "rare" drops out
    assert (res.evaluated, res.skipped) == (2, 1)


def test_word_similarity_skips_unknown_pairs(tmp_path):
    path = tmp_path / "ws.tsv"
    path.write_text("# header\nman\twoman\t8\nman\tapple\t1\nking\tqueen\t9\nman\tzebra\t5\n")
    res = word_similarity(geometry_model(), path)
    assert (res.pairs, res.skipped) == (3, 1)
    assert res.spearman == pytest.approx(1.0)
    path.write_text("man woman\n")
    with pytest.raises(DualvecError, match="expected"):
        word_similarity(geometry_model(), path)
