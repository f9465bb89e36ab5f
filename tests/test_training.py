import warnings

import numpy as np
import pytest

import dualvec
from dualvec import DualvecError
from synthetic import planted_corpus

SENTS, TRUTH = planted_corpus(n_sentences=2000)
OPTS = dict(window=3, sample=0, min_count=1, vector_size=16, epochs=3, progress=False)


@pytest.mark.parametrize("sg,batch", [(True, True), (True, False), (False, False)])
def test_one_worker_with_a_seed_is_bit_for_bit_reproducible(sg, batch):
    a = dualvec.train(SENTS, sg=sg, hs=True, batch=batch, workers=1, seed=7, **OPTS)
    b = dualvec.train(SENTS, sg=sg, hs=True, batch=batch, workers=1, seed=7, **OPTS)
    c = dualvec.train(SENTS, sg=sg, hs=True, batch=batch, workers=1, seed=8, **OPTS)
    assert np.array_equal(a.in_vectors.vectors, b.in_vectors.vectors)
    assert np.array_equal(a.out_vectors.vectors, b.out_vectors.vectors)
    assert not np.array_equal(a.in_vectors.vectors, c.in_vectors.vectors)


def test_loss_is_reported_per_epoch_and_falls():
    m = dualvec.train(SENTS, sg=True, workers=2, **dict(OPTS, epochs=4))
    losses = [h.loss for h in m.history]
    assert len(losses) == 4 and all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    assert all(h.words == sum(map(len, SENTS)) for h in m.history)


def test_several_workers_train_as_well_as_one():
    m = dualvec.train(SENTS, sg=True, workers=3, **dict(OPTS, epochs=6))
    group = TRUTH["groups"][0]
    top = {w for w, _ in m.most_similar(group[0], space="in-in", topn=len(group) - 1)}
    assert top == set(group[1:])


def test_vocabulary_options():
    sents = [["a"] * 5 + ["b"] * 3 + ["c"]] * 2
    m = dualvec.train(sents, min_count=3, **{k: v for k, v in OPTS.items() if k != "min_count"})
    assert m.words == ["a", "b"] and m.vocab.counts.tolist() == [10, 6]
    m = dualvec.train(sents, max_final_vocab=1, **OPTS)
    assert m.words == ["a"]


def test_continued_training_grows_the_vocabulary():
    first = [s for s in SENTS if not any(w.startswith("t") for w in s)]
    later = [s for s in SENTS if any(w.startswith("t") for w in s)]
    m = dualvec.train(first, sg=True, workers=1, **OPTS)
    n_before, counts_before = len(m), dict(zip(m.words, m.vocab.counts.tolist()))
    old_in = m.in_vectors.vectors.copy()
    assert "t0a" not in m
    m.train_more(later, epochs=6)
    assert "t0a" in m and len(m) > n_before
    assert m.words[:n_before] == list(counts_before)  # old rows keep their place
    assert m.vocab.counts[m.in_vectors.get_index("f0")] > counts_before["f0"]
    assert not np.array_equal(m.in_vectors.vectors[:n_before], old_in)
    assert np.abs(m.out_vectors["t0b"]).sum() > 0  # new OUT rows were trained
    assert m.most_similar("t0a", space="in-out", topn=1)[0][0] == "t0b"
    assert len(m.history) == OPTS["epochs"] + 6


def test_continued_training_of_a_loaded_memory_mapped_model(tmp_path):
    m = dualvec.train(SENTS, sg=False, hs=True, negative=0, workers=1, **OPTS)
    m.save(tmp_path / "m")
    loaded = dualvec.load(tmp_path / "m")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no new words: the HS tree stays
        loaded.train_more(SENTS, epochs=1)
    assert loaded.in_vectors.vectors.flags.writeable
    assert np.isfinite(loaded.out_vectors.vectors).all()
    with pytest.warns(UserWarning, match="tree was rebuilt"):
        loaded.train_more([["brand", "new", "words"]] * 3, epochs=1)
    assert "brand" in loaded and loaded.hs_nodes.shape[0] == len(loaded) - 1


def test_hs_only_model_has_an_approximate_out_space():
    m = dualvec.train(SENTS, sg=True, hs=True, negative=0, workers=1, **OPTS)
    assert m.out_kind.startswith("hs-linearised")
    assert np.isfinite(m.out_vectors.vectors).all()
    logp = m.hs_log_prob(m.words[0])
    assert np.exp(logp).sum() == pytest.approx(1.0, rel=1e-4)  # a proper distribution over words


@pytest.mark.parametrize("corpus,message", [
    ([], "empty"),
    ([[], ()], "empty"),
    ([["a", "b"]], "min_count=5"),
])
def test_unusable_corpora(corpus, message):
    with pytest.raises(DualvecError, match=message):
        dualvec.train(corpus, progress=False)


def test_empty_file(tmp_path):
    (tmp_path / "empty.txt").write_text("\n\n!!\n")
    with pytest.raises(DualvecError, match="empty"):
        dualvec.train(tmp_path / "empty.txt", progress=False)


@pytest.mark.parametrize("options,message", [
    (dict(negative=0, hs=False), "nothing to train"),
    (dict(window=0), "window"),
    (dict(vector_size=0), "vector_size"),
    (dict(min_alpha=1.0), "min_alpha"),
    (dict(sizee=10), "unknown training option"),
])
def test_bad_options(options, message):
    with pytest.raises(DualvecError, match=message):
        dualvec.train(SENTS, progress=False, **options)


def test_batched_cbow_runs_on_long_sentences_and_falls_back_to_exact_on_short_ones():
    opts = dict(OPTS, sg=False, workers=1, seed=3)
    short_batch, short_exact = (dualvec.train(SENTS, batch=b, **opts) for b in (True, False))
    # Too short to hold a group of centres a window apart: the exact kernel runs either way.
    assert np.array_equal(short_batch.in_vectors.vectors, short_exact.in_vectors.vectors)
    joined = [sum(SENTS[i:i + 40], []) for i in range(0, len(SENTS), 40)]
    long_batch, long_exact = (dualvec.train(joined, batch=b, **opts) for b in (True, False))
    assert not np.array_equal(long_batch.in_vectors.vectors, long_exact.in_vectors.vectors)
    assert np.array_equal(long_batch.in_vectors.vectors, dualvec.train(joined, batch=True, **opts).in_vectors.vectors)
    assert np.isfinite(long_batch.in_vectors.vectors).all()
    assert long_batch.history[-1].loss < long_batch.history[0].loss
    assert abs(long_batch.history[-1].loss - long_exact.history[-1].loss) < 0.1 * long_exact.history[-1].loss
