"""Kernels for re-ranking at scale: plain numba functions over arrays, and the Python that
prepares their inputs (:func:`rerank_batch`).

A batch of b queries with up to k candidates each is re-ranked in two calls:

* :func:`desm_by_shard` computes every candidate's DESM, q̄ · D̂ (the query's mean unit vector
  and the candidate's unit centroid), visiting the shards one at a time, each with the
  candidates that live in it (grouped by shard beforehand, each query's candidates staying
  together so its vector stays in cache), prefetching a few rows ahead: the gathers are bound by
  memory latency;
* :func:`mix_and_sort` normalises DESM and the first stage's scores over each query's
  candidates (0 = min-max, 1 = z-score), mixes them, α·DESM + (1 − α)·first, and sorts each row,
  best first, ties keeping the first stage's order.

An index with several models (the in-domain one beside the general one) computes each model's
DESM with :func:`desm_batch` and averages their per-query normalised values
(:func:`mean_of_normalised`) before the mix, as the in-memory ranker does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..training.kernels import _prefetch_row


#: How many candidates ahead to prefetch: the gathers are bound by memory latency, not arithmetic.
PREFETCH_AHEAD = 4


@njit(cache=True, fastmath=True)
def desm_by_shard(shards, order, starts, local_rows, query_of, query_vecs, out):
    d = query_vecs.shape[1]
    for s in range(len(shards)):
        c = shards[s]
        end = starts[s + 1]
        for p in range(starts[s], end):
            if p + PREFETCH_AHEAD < end:
                _prefetch_row(c, local_rows[order[p + PREFETCH_AHEAD]], d)
            e = order[p]
            r = local_rows[e]
            i = query_of[e]
            acc = np.float32(0.0)  # float32, vectorised: fastmath lets the sum reassociate
            for t in range(d):
                acc += c[r, t] * query_vecs[i, t]
            out[e] = acc


@njit(cache=True, fastmath=True)
def _normalise(x, n, how, out):
    lo, hi, mean = np.inf, -np.inf, 0.0
    for j in range(n):
        lo = min(lo, x[j])
        hi = max(hi, x[j])
        mean += x[j]
    if how == 0:
        span = hi - lo
        for j in range(n):
            out[j] = (x[j] - lo) / span if span > 0 else 0.0
    else:
        mean /= max(n, 1)
        var = 0.0
        for j in range(n):
            var += (x[j] - mean) ** 2
        sd = np.sqrt(var / max(n, 1))
        for j in range(n):
            out[j] = (x[j] - mean) / sd if sd > 0 else 0.0


@njit(cache=True)
def mix_and_sort(desm, first, counts, alpha, how):
    b, k = desm.shape
    nd = np.zeros(k, np.float64)
    nf = np.zeros(k, np.float64)
    mixed = np.full((b, k), -np.inf, np.float64)
    order = np.full((b, k), -1, np.int64)
    for i in range(b):
        n = counts[i]
        _normalise(desm[i], n, how, nd)
        _normalise(first[i], n, how, nf)
        for j in range(n):
            mixed[i, j] = alpha * nd[j] + (1.0 - alpha) * nf[j]
        idx = np.argsort(-mixed[i, :n], kind="mergesort")  # stable: ties keep the first stage's order
        order[i, :n] = idx
    return order, mixed


@njit(cache=True)
def mean_of_normalised(desms, counts, how):
    """(m, b, k) raw DESM of m models -> (b, k): each query's mean over the models of each
    model's DESM normalised over that query's candidates."""
    m, b, k = desms.shape
    out = np.zeros((b, k), np.float64)
    nd = np.zeros(k, np.float64)
    for i in range(b):
        n = counts[i]
        for j in range(m):
            _normalise(desms[j, i], n, how, nd)
            for t in range(n):
                out[i, t] += nd[t] / m
    return out


def desm_batch(shards, offsets: np.ndarray, query_vecs: np.ndarray, rows: np.ndarray,
               counts: np.ndarray) -> np.ndarray:
    """Raw DESM (b, k) of b queries' candidates: ``rows`` (b, k) global document rows, the
    first ``counts[i]`` of row i valid (the rest 0)."""
    b, k = rows.shape
    valid = np.arange(k)[None, :] < counts[:, None]
    flat = np.flatnonzero(valid.ravel())
    g = rows.ravel()[flat]
    shard = np.searchsorted(offsets, g, side="right") - 1
    by_shard = np.argsort(shard, kind="stable")  # shard by shard, each query's candidates together
    starts = np.searchsorted(shard[by_shard], np.arange(len(offsets)))
    desm_flat = np.zeros(len(flat), np.float32)
    desm_by_shard(shards, by_shard, starts.astype(np.int64), (g - offsets[shard]).astype(np.int64),
                  (flat // k).astype(np.int64), query_vecs, desm_flat)
    desm = np.zeros((b, k), np.float64)
    desm.ravel()[flat] = desm_flat
    return desm


def rerank_batch(shards, offsets: np.ndarray, query_vecs: np.ndarray, rows: np.ndarray, first: np.ndarray,
                 counts: np.ndarray, alpha: float, how: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Re-rank b queries: ``rows`` (b, k) global document rows, the first ``counts[i]`` of row i
    valid; ``first`` (b, k) the first stage's scores. Returns (order, mixed, desm)."""
    desm = desm_batch(shards, offsets, query_vecs, rows, counts)
    order, mixed = mix_and_sort(desm, first, counts.astype(np.int64), float(alpha), int(how))
    return order, mixed, desm

