import numpy as np
import pytest

import dualvec
from dualvec import DualVectors, DualvecError, UnknownWordError
from dualvec.text.vocab import Vocabulary


def tiny(out=True):
    vocab = Vocabulary(["a", "b", "c", "d"], np.array([4, 3, 2, 1]))
    vin = np.array([[1, 0], [0.9, 0.1], [0, 1], [-1, 0]], dtype=np.float32)
    vout = np.array([[0, 2], [0, 0], [3, 0], [1, 1]], dtype=np.float32)  # b never trained: zero
    return DualVectors(vocab, vin, vout if out else None, out_kind="negative-sampling")


def test_spaces_pair_query_and_candidate_matrices():
    m = tiny()
    assert [w for w, _ in m.most_similar("a", space="in-in", topn=3)] == ["b", "c", "d"]
    top = m.most_similar("a", space="in-out", topn=4, exclude_query=False)
    assert top[0] == ("c", pytest.approx(1.0))
    assert m.similarity("a", "c", space="in-out") == pytest.approx(1.0)
    assert m.similarity("c", "a", space="out-in") == pytest.approx(1.0)
    assert m.similarity("a", "d", space="out-out") == pytest.approx(np.sqrt(0.5))


def test_zero_out_rows_give_zero_cosine_not_nan():
    m = tiny()
    assert m.similarity("a", "b", space="in-out") == 0.0
    scores = dict(m.most_similar("a", space="in-out", topn=4, exclude_query=False))
    assert scores["b"] == 0.0 and all(np.isfinite(list(scores.values())))
    assert not np.isnan(m.out_vectors.unit).any()


def test_query_word_excluded_by_default_and_vectors_as_queries():
    m = tiny()
    assert "a" not in [w for w, _ in m.most_similar("a", space="in-out", topn=4)]
    by_vec = m.most_similar(np.array([1.0, 0.0]), space="in-in", topn=2)
    assert by_vec[0][0] == "a"
    pos_neg = m.most_similar(positive=["b"], negative=["c"], space="in-in", topn=1)
    assert pos_neg[0][0] == "a"
    with pytest.raises(DualvecError, match="dims"):
        m.most_similar(np.ones(3), space="in-in")


def test_batch_equals_single_queries():
    m = tiny()
    single = [m.most_similar(w, space="in-out", topn=2) for w in ["a", "c", "d"]]
    assert m.most_similar_batch(["a", "c", "d"], space="in-out", topn=2) == single


def test_errors_name_the_problem():
    m = tiny(out=False)
    with pytest.raises(UnknownWordError, match="'zz'"):
        m.most_similar("zz")
    with pytest.raises(DualvecError, match="unknown space 'in-up'"):
        m.most_similar("a", space="in-up")
    with pytest.raises(DualvecError, match="no OUT vectors"):
        m.most_similar("a", space="in-out")


def test_unit_rows_are_cached_and_never_clobber_raw_vectors():
    m = tiny()
    raw = m.in_vectors.vectors.copy()
    unit = m.in_vectors.unit
    assert m.in_vectors.unit is unit
    np.testing.assert_array_equal(m.in_vectors.vectors, raw)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-6)
    before = m.most_similar("a", space="in-out", topn=3)
    m.discard_raw_vectors()
    assert m.in_vectors.vectors is m.in_vectors.unit and m.in_vectors.is_unit
    assert m.most_similar("a", space="in-out", topn=3) == before


def test_string_keyed_access(small_model):
    model, _ = small_model
    w = model.words[3]
    assert len(model.in_vectors) == len(model.out_vectors) == len(model)
    assert model.in_vectors.words == model.out_vectors.words
    np.testing.assert_array_equal(model.in_vectors[w], model.in_vectors.vectors[3])
    np.testing.assert_array_equal(model.out_vectors[[w]], model.out_vectors.vectors[[3]])
    assert w in model.in_vectors and model.in_vectors.get_index(w) == 3
    assert model.vocab.counts[3] > 0
    assert isinstance(dualvec.SPACES, tuple)
