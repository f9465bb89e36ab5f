"""fastText word vectors from a model's input matrix.

fastText represents word w by the mean of its own input row and the rows of
its character n-grams: the n-grams (minn..maxn characters, UTF-8 aware) of
``"<" + w + ">"``, each hashed with 32-bit FNV-1a into ``bucket`` rows placed
after the ``nwords`` word rows (Bojanowski et al., 2017; fastText's
dictionary.cc). fastText's hash XORs each byte *as a signed char*, so bytes
>= 0x80 are sign-extended first; reproducing that quirk is what makes non-ASCII
words come out right.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _fnv1a(buf, lo, hi):
    h = np.uint64(2166136261)
    for p in range(lo, hi):
        b = np.int64(buf[p])
        if b >= 128:
            b -= 256  # fastText hashes int8_t(byte): sign-extend
        h = ((h ^ np.uint64(b & 0xFFFFFFFF)) * np.uint64(16777619)) & np.uint64(0xFFFFFFFF)
    return h


@njit(cache=True)
def word_vectors(words_utf8, offsets, nwords, bucket, minn, maxn, input_matrix):
    """(V, dim) float32: for word i (``words_utf8[offsets[i]:offsets[i+1]]`` holds
    ``<word>`` in UTF-8), the mean of its row and its n-gram rows."""
    n = offsets.shape[0] - 1
    dim = input_matrix.shape[1]
    out = np.zeros((n, dim), dtype=np.float32)
    acc = np.zeros(dim, dtype=np.float64)
    for w in range(n):
        lo, hi = offsets[w], offsets[w + 1]
        for d in range(dim):
            acc[d] = input_matrix[w, d]
        count = 1
        if maxn > 0 and bucket > 0:
            for i in range(lo, hi):
                if (words_utf8[i] & 0xC0) == 0x80:
                    continue  # not the start of a character
                j = i
                length = 0
                while j < hi and length < maxn:
                    j += 1
                    while j < hi and (words_utf8[j] & 0xC0) == 0x80:
                        j += 1
                    length += 1
                    # fastText skips the lone "<" and ">" 1-grams
                    if length >= minn and not (length == 1 and (i == lo or j == hi)):
                        row = nwords + np.int64(_fnv1a(words_utf8, i, j) % np.uint64(bucket))
                        for d in range(dim):
                            acc[d] += input_matrix[row, d]
                        count += 1
        for d in range(dim):
            out[w, d] = acc[d] / count
    return out
