"""The kernels against numpy: the scores-first prediction is word2vec.c's sequential update loop
exactly, and the batched step is the batched gradient."""

import numpy as np
import pytest

from dualvec.training.kernels import MAX_EXP, TABLE_SIZE, _dense_step, _predict_word, sigmoid_tables

D = 24
V = 12
ALPHA = 0.05
SIG, LOGSIG = sigmoid_tables()
# Word 2's Huffman path: inner nodes 4, 1, 6 with codes 1, 0, 1; every other word's path is empty.
CODE_OFFSETS = np.array([0, 0, 0, 3] + [3] * (V - 3), dtype=np.int64)
POINTS = np.array([4, 1, 6], dtype=np.int32)
CODES = np.array([1, 0, 1], dtype=np.uint8)


def _sequential(h, targets, out):
    """word2vec.c's loop, one (target, label) at a time: score, error into neu1e, update the row."""
    neu1e = np.zeros(D, dtype=np.float64)
    loss = 0.0
    for row, label in targets:
        f = float(h @ out[row])
        if f >= MAX_EXP:
            s, lp = 1.0, 0.0
        elif f <= -MAX_EXP:
            s, lp = 0.0, f
        else:
            idx = int((f + MAX_EXP) * TABLE_SIZE / (2 * MAX_EXP))
            s, lp = float(SIG[idx]), float(LOGSIG[idx])
        g = ((1.0 - s) if label else -s) * ALPHA
        loss += -lp if label else f - lp
        neu1e += g * out[row]
        out[row] += g * h
    return neu1e, loss


@pytest.mark.parametrize("hs,negs", [
    (False, [5, 7, 9, 3, 11]),  # distinct negatives: scored together
    (False, [5, 7, 5, 3, 5]),  # a repeated negative: must see its own earlier update
    (False, [5, 2, 9, 2, 11]),  # the word itself among its negatives: skipped
    (True, []),  # hierarchical softmax along word 2's path
    (True, [5, 7, 9, 3, 11]),  # both, HS first as in word2vec.c
])
def test_prediction_matches_the_sequential_loop(hs, negs):
    rng = np.random.default_rng(0)
    hidden = rng.normal(0, 1, (1, D)).astype(np.float32)
    syn1neg = rng.normal(0, 0.5, (V, D)).astype(np.float32)
    syn1 = rng.normal(0, 0.5, (V - 1, D)).astype(np.float32)
    word = 2

    targets_hs = [(int(p), 1 - int(c)) for p, c in zip(POINTS, CODES)] if hs else []
    targets_ns = [(word, 1)] + [(t, 0) for t in negs if t != word] if negs else []
    ref1, ref1neg = syn1.astype(np.float64), syn1neg.astype(np.float64)
    e_hs, l_hs = _sequential(hidden[0].astype(np.float64), targets_hs, ref1)
    e_ns, l_ns = _sequential(hidden[0].astype(np.float64), targets_ns, ref1neg)

    n = max(len(negs) + 1, len(POINTS))
    neu1e = np.zeros(D, dtype=np.float32)
    loss = _predict_word(hidden, 0, word, syn1neg, syn1, CODES, POINTS, CODE_OFFSETS, len(negs), hs,
                         np.array([negs or [0]], dtype=np.int32), 0, ALPHA, neu1e,
                         np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.float32), SIG, LOGSIG, D)

    np.testing.assert_allclose(neu1e, e_hs + e_ns, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(syn1neg, ref1neg, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(syn1, ref1, rtol=1e-4, atol=1e-6)
    assert loss == pytest.approx(l_hs + l_ns, rel=1e-4)


@pytest.mark.parametrize("skip_from", [0, 1])
@pytest.mark.parametrize("B,rows", [
    (4, [3, 7, 1, 7, 9]),  # a target drawn twice
    (1, [3]),  # the smallest step
    (3, [3, 7]),  # odd hidden rows, two targets
    (5, [3, 3, 1, 8, 9, 2]),  # a target drawn twice in a row
    (10, [3, 7, 1, 4, 9, 0, 5]),  # skip-gram's largest window, seven targets
    (16, [2, 6, 6, 6, 11]),  # a CBOW group, one target three times
])
def test_dense_step_is_the_batched_gradient(skip_from, B, rows):
    """A batched step (HogBatch's three products, blocked loops over every remainder of rows
    and targets) against the same gradient in numpy: every hidden row scored against every
    target before any update, a target equal to the row's own word (from ``skip_from`` on)
    left out, and targets drawn twice updated twice."""
    rng = np.random.default_rng(B)
    rows = np.array(rows, dtype=np.int64)
    labels = (np.arange(len(rows)) == 0).astype(np.int64)
    skips = rng.choice(rows, B).astype(np.int64)
    hidden = rng.normal(0, 0.5, (B, D)).astype(np.float32)
    out = rng.normal(0, 0.5, (V, D)).astype(np.float32)

    ref = out.astype(np.float64)
    S = hidden.astype(np.float64) @ ref[rows].T
    idx = ((S + MAX_EXP) * TABLE_SIZE / (2 * MAX_EXP)).astype(int).clip(0, TABLE_SIZE - 1)
    sig = np.where(S >= MAX_EXP, 1.0, np.where(S <= -MAX_EXP, 0.0, SIG[idx]))
    G = (labels - sig) * ALPHA
    keep = ~((np.arange(len(rows)) >= skip_from) & (rows[None, :] == skips[:, None]))
    G *= keep
    dI = G @ ref[rows]
    np.add.at(ref, rows, G.T @ hidden)

    n, K = len(rows), len(rows)
    dI_got = np.zeros((B, D), np.float32)
    _dense_step(hidden, B, out, rows, labels, n, skips, skip_from, ALPHA, np.empty((K, D), np.float32),
                np.empty(B * K, np.float32), np.empty(B * K, np.float32), dI_got, SIG, LOGSIG, D)
    if B > 1:
        assert keep.sum() < keep.size  # the case exercises the skip
    np.testing.assert_allclose(dI_got, dI, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-6)
