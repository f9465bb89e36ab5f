"""Training that diverges (issue 29, §5): batched CBOW on a tiny, repetitive vocabulary blew up to
NaN where the exact kernel did not; what still diverges stops early, naming the cure."""

from __future__ import annotations

import numpy as np
import pytest

import dualvec
from dualvec.errors import DualvecError
from dualvec.training.kernels import STALE_UPDATES, _write_back


@pytest.mark.parametrize("sentence", [[3, 1, 4, 1, 5, 9, 2, 6], [7] * 9, [0, 1, 2, 3, 4], [2, 0, 2, 0, 2, 0, 2, 0, 2, 2],
                                      [5, 5, 5, 5, 1]])
@pytest.mark.parametrize("lo,hi", [(0, None), (1, -1)])
def test_the_block_write_back_caps_a_words_stale_updates(sentence, lo, hi):
    """syn0[r] gets the sum of the block's updates E[j] over the positions j holding r, scaled
    down to STALE_UPDATES times their mean where r is at more positions than that (numpy)."""
    rng = np.random.default_rng(len(sentence))
    sentence = np.array(sentence, dtype=np.int32)
    hi = len(sentence) + (hi or 0)
    D = 5
    E = rng.normal(size=(hi - lo, D)).astype(np.float32)
    syn0 = rng.normal(size=(10, D)).astype(np.float32)
    want = syn0.astype(np.float64)
    for r in set(sentence[lo:hi].tolist()):
        mine = E[sentence[lo:hi] == r]
        want[r] += mine.sum(axis=0) if len(mine) <= STALE_UPDATES else STALE_UPDATES * mine.mean(axis=0)
    keys, counts, slots = np.full(32, -1, np.int64), np.zeros(32, np.int64), np.zeros(hi - lo, np.int64)  # >= 2x
    _write_back(syn0, sentence, lo, hi, E, keys, counts, slots, D)
    np.testing.assert_allclose(syn0, want, rtol=1e-5, atol=1e-6)
    assert (keys == -1).all()  # the table is left empty for the next block


@pytest.mark.parametrize("lines", [1, 20], ids=["one line", "lines of 10,000 words"])
def test_a_four_word_corpus_trains_to_finite_vectors(lines):
    """The pass's corpus, smaller (sub-sampling off, so every word trains): the old batched CBOW
    ended with 'the IN vector of 'alpha' holds NaN or infinity' from 50,000 repeats on."""
    words = ["alpha", "beta", "gamma", "delta"]
    sentences = [words * (200_000 // lines)] * lines
    model = dualvec.train(sentences, min_count=1, epochs=1, vector_size=16, workers=1, sample=0, seed=1,
                          progress=False)
    for space in ("in", "out"):
        v = model.space(space).vectors
        assert np.isfinite(v).all() and np.abs(v).max() < 100


def test_training_that_still_diverges_stops_early_naming_the_cure():
    from synthetic import planted_corpus

    sents, _ = planted_corpus(n_sentences=20000)  # about 110,000 words an epoch
    with pytest.raises(DualvecError, match=r"^training diverged \(NaN or infinite vectors in epoch 1, after "
                                           r"[\d,]+ words\): train with the exact updates \(--exact, batch=False\), "
                                           r"or a lower --alpha \(it is 50\)$") as err:
        dualvec.train(sents, min_count=1, epochs=2, vector_size=16, workers=1, alpha=50.0, seed=1, progress=False)
    words = int(str(err.value).split("after ")[1].split(" words")[0].replace(",", ""))
    assert words < sum(map(len, sents)) / 4  # stopped within the first chunks, not after the work
