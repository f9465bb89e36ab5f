"""The names gensim users reach for first (``model.wv``, ``model["word"]``, ``syn1neg``,
``key_to_index``, ``train(sentences=...)``), mapped onto dualvec's own without mixing IN and OUT;
checked against gensim itself where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import dualvec
from dualvec.model import NoSuchMatrix


def test_wv_is_the_in_space(small_model):
    model, truth = small_model
    word = model.words[3]
    assert model.wv.vectors is model.in_vectors.vectors
    np.testing.assert_array_equal(model.wv[word], model.in_vectors[word])
    np.testing.assert_array_equal(model[word], model.in_vectors[word])
    assert model.wv.vector_size == model.vector_size
    assert model.wv.key_to_index[word] == 3 and model.wv.index_to_key[3] == word
    assert model.wv.has_index_for(word) and word in model.wv and len(model.wv) == len(model)
    np.testing.assert_array_equal(model.wv.get_normed_vectors(), model.in_vectors.unit)
    # similarities stay inside IN: never the IN-OUT answer
    assert model.wv.most_similar(word, topn=5) == model.most_similar(word, space="in-in", topn=5)
    assert model.wv.most_similar(word, topn=5) != model.most_similar(word, space="in-out", topn=5)
    other = model.words[4]
    assert model.wv.similarity(word, other) == model.similarity(word, other, space="in-in")
    assert model.wv.n_similarity([word], [other]) == pytest.approx(model.similarity(word, other), abs=1e-6)
    assert model.wv.doesnt_match(model.words[:4]) == model.doesnt_match(model.words[:4], space="in-in")
    with pytest.raises(TypeError, match="not iterable"):
        iter(model)  # model[...] takes words: a model is no sequence of rows


def test_syn1neg_and_syn1(small_model):
    model, _ = small_model
    assert model.syn1neg is model.out_vectors.vectors
    assert not hasattr(model, "syn1")  # negative sampling: no inner nodes
    with pytest.raises(dualvec.DualvecError, match="not trained with hierarchical softmax"):
        model.syn1  # noqa: B018
    hs = dualvec.train([["a", "b", "c", "a", "b"]] * 50, hs=1, negative=0, vector_size=4, min_count=1, epochs=1,
                       workers=1, seed=1, progress=False)
    assert hs.syn1 is hs.hs_nodes and hs.syn1.shape == (len(hs) - 1, 4)
    assert not hasattr(hs, "syn1neg")
    with pytest.raises(dualvec.DualvecError, match="no syn1neg: its inner nodes .* model.hs_nodes"):
        hs.syn1neg  # noqa: B018
    in_only = dualvec.DualVectors(model.vocab, np.asarray(model.in_vectors.vectors))
    with pytest.raises(NoSuchMatrix, match="no OUT vectors"):
        in_only.syn1neg  # noqa: B018


def test_same_answers_as_gensim(small_model):
    pytest.importorskip("gensim")
    model, _ = small_model
    g = dualvec.to_gensim(model)
    word = model.words[5]
    assert g.wv.key_to_index == model.wv.key_to_index and g.wv.index_to_key == model.wv.index_to_key
    np.testing.assert_array_equal(g.syn1neg, model.syn1neg)
    np.testing.assert_array_equal(g.wv[word], model[word])
    theirs = g.wv.most_similar(word, topn=5)
    ours = model.wv.most_similar(word, topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


def test_train_takes_gensims_corpus_names(tmp_path):
    sentences = [["alpha", "beta", "gamma", "delta"]] * 40
    a = dualvec.train(sentences=sentences, vector_size=8, min_count=1, epochs=1, workers=1, seed=3, progress=False)
    b = dualvec.train(sentences, vector_size=8, min_count=1, epochs=1, workers=1, seed=3, progress=False)
    np.testing.assert_array_equal(a.in_vectors.vectors, b.in_vectors.vectors)
    path = tmp_path / "corpus.txt"
    path.write_text("alpha beta gamma delta\n" * 40)
    c = dualvec.train(corpus_file=str(path), vector_size=8, min_count=1, epochs=1, workers=1, seed=3,
                      progress=False)
    assert c.words == b.words
    with pytest.raises(dualvec.DualvecError, match="give the corpus once"):
        dualvec.train(sentences, sentences=sentences, vector_size=8, min_count=1, progress=False)
    with pytest.raises(dualvec.DualvecError, match="no corpus"):
        dualvec.train(vector_size=8, progress=False)
