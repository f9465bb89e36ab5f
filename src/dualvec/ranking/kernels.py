"""DESM kernel: document centroids of unit word vectors.

``centroids(rows, offsets, unit)``: for document i with vocabulary rows
``rows[offsets[i]:offsets[i+1]]`` (repeats included), the mean of their unit
vectors, D̄ = (1/|D|) Σ_d d/‖d‖ (Mitra et al., 2016, eq. 2), then scaled to
length 1 so that a dot product with a unit query vector is a cosine. A
document with no known word gets a zero row (its DESM score is then 0).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, fastmath=True, cache=True)
def centroids(rows, offsets, unit):
    n = offsets.shape[0] - 1
    dim = unit.shape[1]
    out = np.zeros((n, dim), dtype=np.float32)
    for i in prange(n):
        lo, hi = offsets[i], offsets[i + 1]
        if hi == lo:
            continue
        for p in range(lo, hi):
            r = rows[p]
            for d in range(dim):
                out[i, d] += unit[r, d]
        norm = 0.0
        for d in range(dim):
            norm += out[i, d] * out[i, d]
        if norm > 0:
            inv = np.float32(1.0 / np.sqrt(norm))
            for d in range(dim):
                out[i, d] *= inv
    return out
