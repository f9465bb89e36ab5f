"""Contrastive tuning kernels: one InfoNCE step over a batch of (query, document) bags.

Plain numba functions over arrays; :mod:`.contrastive` prepares them and drives them.

The encoder is DESM's, as ranking computes it for a tuned model: a query is the sum of
its words' IN vectors, a document the sum of its words' OUT vectors (repeats kept),
and they are scored by the cosine of the two sums. The raw vectors are summed, not
their unit vectors, so a word's norm is its pooling weight, and training learns it
(:mod:`.contrastive` starts the norms at IDF).

A batch holds B pairs; query i's positive is document i and the other B - 1 documents
are its negatives (in-batch negatives). The loss is the mean over queries of
``-log softmax_j(cos(q_i, d_j) / temperature)[i]`` (InfoNCE). The gradient reaches only
the rows the batch touched; each is updated by row-wise Adagrad (one accumulator per
row: the sum of its squared gradients' mean).

Arrays (V = vocabulary size, D = dimension, B = pairs in the batch):

* ``q_rows``/``q_offsets`` int32/int64: the queries' word rows, query i is
  ``q_rows[q_offsets[i]:q_offsets[i+1]]``; ``d_rows``/``d_offsets`` the documents';
* ``in_vectors``, ``out_vectors`` (V, D) float32, updated in place;
* ``in_acc``, ``out_acc`` (V,) float32: the Adagrad accumulators, updated in place;
* ``grad_in``, ``grad_out`` (V, D) float32 and ``seen_in``, ``seen_out`` (V,) uint8:
  scratch, all zero between calls (each call leaves them so);
* ``touched`` (V,) int64: scratch.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Added to an Adagrad accumulator before its square root.
ADAGRAD_EPS = 1e-8


@njit(cache=True, nogil=True)
def pool(rows, offsets, matrix, out, norms):
    """``out[i]`` = the unit vector of the sum of ``matrix``'s rows of bag i, ``norms[i]`` the
    sum's norm (an empty bag, or one summing to zero, gives a zero vector and norm 0)."""
    dim = matrix.shape[1]
    for i in range(len(offsets) - 1):
        for k in range(dim):
            out[i, k] = 0.0
        for p in range(offsets[i], offsets[i + 1]):
            r = rows[p]
            for k in range(dim):
                out[i, k] += matrix[r, k]
        s = 0.0
        for k in range(dim):
            s += out[i, k] * out[i, k]
        n = np.sqrt(s)
        norms[i] = n
        if n > 0:
            for k in range(dim):
                out[i, k] /= n


@njit(cache=True, nogil=True)
def _scatter(rows, offsets, g, grad, seen, touched, n_touched):
    """Add bag i's gradient ``g[i]`` to each of its rows; return the new count of touched rows."""
    dim = grad.shape[1]
    for i in range(len(offsets) - 1):
        for p in range(offsets[i], offsets[i + 1]):
            r = rows[p]
            if seen[r] == 0:
                seen[r] = 1
                touched[n_touched] = r
                n_touched += 1
            for k in range(dim):
                grad[r, k] += g[i, k]
    return n_touched


@njit(cache=True, nogil=True)
def _adagrad(matrix, acc, grad, seen, touched, n_touched, lr):
    """Row-wise Adagrad on the touched rows; clears their gradient and mark."""
    dim = matrix.shape[1]
    for t in range(n_touched):
        r = touched[t]
        s = 0.0
        for k in range(dim):
            s += grad[r, k] * grad[r, k]
        acc[r] += s / dim
        step = lr / np.sqrt(acc[r] + ADAGRAD_EPS)
        for k in range(dim):
            matrix[r, k] -= step * grad[r, k]
            grad[r, k] = 0.0
        seen[r] = 0


@njit(cache=True, nogil=True)
def _bag_grad(unit, norms, g_unit, out):
    """Through the normalisation: d loss / d sum = (g - (g · u) u) / ‖sum‖."""
    for i in range(unit.shape[0]):
        if norms[i] == 0:
            for k in range(unit.shape[1]):
                out[i, k] = 0.0
            continue
        dot = 0.0
        for k in range(unit.shape[1]):
            dot += g_unit[i, k] * unit[i, k]
        for k in range(unit.shape[1]):
            out[i, k] = (g_unit[i, k] - dot * unit[i, k]) / norms[i]


@njit(cache=True, nogil=True)
def info_nce_step(q_rows, q_offsets, d_rows, d_offsets, in_vectors, out_vectors, in_acc, out_acc,
                  grad_in, grad_out, seen_in, seen_out, touched, inv_temperature, lr):
    """One InfoNCE step on a batch (see the module docstring); returns the batch's mean loss."""
    b = len(q_offsets) - 1
    dim = in_vectors.shape[1]
    q = np.empty((b, dim), np.float32)
    d = np.empty((b, dim), np.float32)
    qn = np.empty(b, np.float32)
    dn = np.empty(b, np.float32)
    pool(q_rows, q_offsets, in_vectors, q, qn)
    pool(d_rows, d_offsets, out_vectors, d, dn)
    logits = (q @ d.T).astype(np.float64) * inv_temperature
    loss = 0.0
    g = np.empty((b, b), np.float32)  # d loss / d cos(q_i, d_j)
    for i in range(b):
        m = logits[i, 0]
        for j in range(1, b):
            if logits[i, j] > m:
                m = logits[i, j]
        z = 0.0
        for j in range(b):
            z += np.exp(logits[i, j] - m)
        loss += m + np.log(z) - logits[i, i]
        for j in range(b):
            g[i, j] = np.exp(logits[i, j] - m) / z * inv_temperature / b
        g[i, i] -= inv_temperature / b
    loss /= b
    gq_unit = g @ d
    gd_unit = g.T @ q
    gq = np.empty((b, dim), np.float32)
    gd = np.empty((b, dim), np.float32)
    _bag_grad(q, qn, gq_unit, gq)
    _bag_grad(d, dn, gd_unit, gd)
    n = _scatter(q_rows, q_offsets, gq, grad_in, seen_in, touched, 0)
    _adagrad(in_vectors, in_acc, grad_in, seen_in, touched, n, lr)
    n = _scatter(d_rows, d_offsets, gd, grad_out, seen_out, touched, 0)
    _adagrad(out_vectors, out_acc, grad_out, seen_out, touched, n, lr)
    return loss
