"""word2vec training kernels: skip-gram and CBOW, negative sampling and/or
hierarchical softmax; each both with the classic updates of word2vec.c and
batched (HogBatch): skip-gram trains each context window as one batch, CBOW
shares one draw of negatives among a group of centre words.

Plain numba functions over arrays. Each call trains one chunk of sentences
with one thread's buffers and random state; they release the GIL, so the
driver in :mod:`dualvec.training` runs several at once on disjoint slices of
the corpus and lets them update the shared matrices without locks (Hogwild,
as word2vec.c and gensim do).

Arrays (V = vocabulary size, D = dimension):

* ``tokens`` int32, ``offsets`` int64: the encoded corpus, sentence ``s`` is
  ``tokens[offsets[s]:offsets[s+1]]``;
* ``syn0`` (V, D) float32: IN vectors; ``syn1neg`` (V, D): OUT vectors for
  negative sampling; ``syn1`` (V-1, D): hierarchical-softmax inner nodes;
* ``codes``/``points``/``code_offsets``: Huffman paths (see ``vocab.HuffmanTree``);
* ``keep`` int64: sub-sampling thresholds against a 32-bit uniform;
* ``noise_threshold``/``noise_alias``: Walker alias table for negatives;
* ``sig``/``logsig``: tables of σ(x) and log σ(x) on [-MAX_EXP, MAX_EXP];
* ``state`` uint64[1]: the thread's xorshift64* state;
* ``sentence``, ``neu1`` (1, D), ``neu1e`` (D,): the thread's scratch buffers.

Each returns ``(loss, examples)``: the summed negative log-likelihood of all
predictions in float64 and the number of (context, target) examples.

The kernels are compiled once per vector dimension (:func:`kernels_for`): with
the dimension a compile-time constant, every loop over it becomes straight
vector code with a known tail instead of a scalar remainder loop (the
measurements are in benchmarks/RESULTS.md). numba caches each dimension's
machine code on disk.

Under negative sampling, a sentence's negatives are drawn right after its
sub-sampling, so that each centre can prefetch the next centre's rows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from llvmlite import binding as llvm
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

MAX_EXP = 6.0
TABLE_SIZE = 2048
_SCALE = TABLE_SIZE / (2.0 * MAX_EXP)
_MASK32 = np.int64(0xFFFFFFFF)
_ALWAYS = np.int64(1) << np.int64(32)
# The prefetch intrinsic is mangled by pointer type: typed i8* before LLVM 15, opaque ``ptr`` since.
_PREFETCH = "llvm.prefetch.p0" if llvm.llvm_version_info >= (15,) else "llvm.prefetch.p0i8"


def sigmoid_tables() -> tuple[np.ndarray, np.ndarray]:
    """σ(x) (float32) and log σ(x) (float64) sampled at table-cell centres."""
    x = ((np.arange(TABLE_SIZE) + 0.5) / _SCALE) - MAX_EXP
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32), -np.log1p(np.exp(-x))


@njit(inline="always")
def _rand(state):
    """xorshift64*; returns 63 random bits as a non-negative int64."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return np.int64((x * np.uint64(2685821657736338717)) >> np.uint64(1))


@njit(inline="always")
def _draw_negative(state, noise_threshold, noise_alias):
    r = _rand(state)
    # High 31 bits pick a slot by multiply-shift, low 32 bits are the uniform.
    slot = ((r >> 32) * noise_threshold.shape[0]) >> 31
    if (r & _MASK32) < noise_threshold[slot]:
        return slot
    return np.int64(noise_alias[slot])


@njit(inline="always")
def _draw_negatives(state, noise_threshold, noise_alias, negs, n, negative):
    """Fill negs[:n, :negative] with noise words: a sentence's negatives, drawn before they are
    needed so that their rows can be prefetched one centre ahead."""
    for i in range(n):
        for k in range(negative):
            negs[i, k] = _draw_negative(state, noise_threshold, noise_alias)


@intrinsic
def _prefetch(typingctx, mat, row, col):
    """Hint the CPU to load the cache line holding mat[row, col] (LLVM's prefetch intrinsic)."""

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = [context.cast(builder, v, t, types.intp) for v, t in zip(args[1:], signature.args[1:])]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
        ptr = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32]), _PREFETCH
        )
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # read, keep in all cache levels, data
        return context.get_dummy_value()

    return types.void(mat, row, col), codegen


@njit(inline="always")
def _prefetch_row(mat, row, D):
    """Prefetch every cache line of mat[row] (16 floats a line; rows need not start on one)."""
    for col in range(0, D, 16):
        _prefetch(mat, row, col)
    _prefetch(mat, row, D - 1)


@njit(inline="always")
def _prefetch_centre(syn0, syn1neg, sentence, negs, i, n, window, negative, D):
    """Prefetch the rows that centre ``i`` will read first: the IN row of the word entering the
    window and, under negative sampling, the OUT rows of the centre word and its negatives.

    Issued one centre ahead. Rare words' rows are rarely cached (the two matrices outgrow the
    L3 cache from d = 100 on), and without this every centre waited for several memory loads.
    """
    if i >= n:
        return
    _prefetch_row(syn0, sentence[min(i + window, n - 1)], D)
    if negative > 0:
        _prefetch_row(syn1neg, sentence[i], D)
        for k in range(negative):
            _prefetch_row(syn1neg, negs[i, k], D)


#: Centre words sharing one draw of negatives in batched CBOW: 16 was faster than 8 on two threads
#: at the same quality (benchmarks/RESULTS.md).
CBOW_GROUP = 16
#: Sentence positions whose IN rows batched CBOW updates together: the error a centre sends to its
#: context waits in a buffer until its block of the sentence is done (nearly every paragraph fits
#: in one after sub-sampling).
CBOW_BLOCK = 256

#: The most stale updates batched CBOW adds to one IN row at once (:func:`_write_back`).
STALE_UPDATES = 4

_PAD = 32  # elements either side of a private buffer: >= 128 bytes, two cache lines


@njit(inline="always")
def _private(n, dtype):
    """An uninitialised buffer of ``n`` elements that shares no cache line with any other
    allocation, so with nothing another thread writes.

    The kernels' small scratch arrays (a pair's gradients, its target rows) are written on
    every prediction; allocated plainly, two threads' arrays can share a cache line. This is
    the rule ``training.tables.scratch`` applies to the buffers the driver passes in; here it
    is a safeguard rather than a measured gain.
    """
    return np.empty(n + 2 * _PAD, dtype)[_PAD:_PAD + n]


@njit(inline="always")
def _private2(n, m, dtype):
    """An (n, m) :func:`_private` buffer."""
    return _private(n * m, dtype).reshape((n, m))


@njit(inline="always")
def _gradient(f, label, sig, logsig):
    """(label - σ(f), -log-likelihood of the label) with σ from the table."""
    if f >= MAX_EXP:
        s = 1.0
        lp = 0.0
    elif f <= -MAX_EXP:
        s = 0.0
        lp = f
    else:
        # Clamped: a NaN score (a diverging run, before the driver's check sees it) passes both
        # comparisons above under fastmath, and int(NaN) is undefined; never read outside the table.
        idx = min(max(int((f + MAX_EXP) * _SCALE), 0), sig.shape[0] - 1)
        s = sig[idx]
        lp = logsig[idx]
    if label == 1:
        return 1.0 - s, -lp
    return -s, f - lp  # -log σ(-f) = f - log σ(f)


@njit(inline="always")
def _window(state, i, n, window):
    """word2vec.c's random window shrinking: context positions [lo, hi) around i."""
    b = _rand(state) % window
    return max(0, i - window + b), min(n, i + window + 1 - b)


@njit(inline="always")
def _context(sentence, i, lo, hi, ctxs):
    """Copy the words of window [lo, hi) around centre i, the centre left out, into ``ctxs``;
    return how many."""
    c = 0
    for j in range(lo, hi):
        if j != i:
            ctxs[c] = sentence[j]
            c += 1
    return c


@njit(inline="always")
def _context_sum(syn0, ctxs, cw, h, m, mean, D):
    """h[m] = the sum of the IN rows ``syn0[ctxs[:cw]]``, or their mean under ``mean``.

    Four rows per pass over h[m]: h[m] is loaded once for four rows."""
    for d in range(D):
        h[m, d] = 0.0
    c = 0
    while c + 3 < cw:
        r0 = ctxs[c]
        r1 = ctxs[c + 1]
        r2 = ctxs[c + 2]
        r3 = ctxs[c + 3]
        for d in range(D):
            h[m, d] += (syn0[r0, d] + syn0[r1, d]) + (syn0[r2, d] + syn0[r3, d])
        c += 4
    while c < cw:
        r0 = ctxs[c]
        for d in range(D):
            h[m, d] += syn0[r0, d]
        c += 1
    if mean:
        inv = np.float32(1.0 / cw)
        for d in range(D):
            h[m, d] *= inv


@njit(inline="always")
def _context_update(syn0, ctxs, cw, err, D):
    """Add the error row ``err`` to every IN row ``syn0[ctxs[:cw]]``.

    Two rows per pass (four gained nothing more; benchmarks/RESULTS.md)."""
    c = 0
    while c + 1 < cw:
        r0 = ctxs[c]
        r1 = ctxs[c + 1]
        for d in range(D):
            e = err[d]
            syn0[r0, d] += e
            syn0[r1, d] += e
        c += 2
    if c < cw:
        r0 = ctxs[c]
        for d in range(D):
            syn0[r0, d] += err[d]


@njit(inline="always")
def _alpha(alpha_start, alpha_end, offsets, s, s_lo, s_hi):
    """The learning rate at sentence s: linear across the chunk [s_lo, s_hi)."""
    total = max(offsets[s_hi] - offsets[s_lo], 1)
    return alpha_start + (alpha_end - alpha_start) * ((offsets[s] - offsets[s_lo]) / total)


@njit(inline="always")
def _subsample(tokens, lo, hi, keep, state, sentence):
    """Copy the kept words of tokens[lo:hi] into ``sentence``; return how many."""
    n = 0
    for p in range(lo, hi):
        w = tokens[p]
        t = keep[w]
        if t < _ALWAYS and (_rand(state) & _MASK32) >= t:
            continue
        sentence[n] = w
        n += 1
    return n


@njit(inline="always")
def _predict(hs_mat, h, target, label, out, alpha, neu1e, sig, logsig, D):
    """One logistic prediction of ``target`` (row of ``out``) from hidden row ``hs_mat[h]``.

    Accumulates the gradient for the hidden vector into ``neu1e``, updates
    ``out[target]`` in place and returns the example's negative log-likelihood.
    Rows are addressed by index, never sliced: a slice of a shared matrix
    would touch its reference count atomically from every thread, and that
    one contended cache line halved two-thread skip-gram throughput.
    """
    f = np.float32(0.0)
    for d in range(D):
        f += hs_mat[h, d] * out[target, d]
    g, loss = _gradient(f, label, sig, logsig)
    g = np.float32(g * alpha)
    for d in range(D):
        neu1e[d] += g * out[target, d]
        out[target, d] += g * hs_mat[h, d]
    return loss


@njit(inline="always")
def _grad(f, label, alpha, sig, logsig, grad, k):
    """Store the scaled gradient of score ``f`` for target ``k`` in ``grad[k]``; return its loss."""
    g, loss = _gradient(f, label, sig, logsig)
    grad[k] = np.float32(g * alpha)
    return loss


@njit(inline="always")
def _predict_rows(hs_mat, h, out, rows, labels, n, alpha, neu1e, grad, sig, logsig, D):
    """Predict the ``n`` distinct rows ``out[rows[:n]]`` with 0/1 ``labels`` from hidden row
    ``hs_mat[h]``, as :func:`_predict` does one by one, but with every score computed before
    any update.

    The result is word2vec.c's sequential loop exactly: each score reads the hidden row,
    which no update here changes, and its own output row, which only its own update changes,
    as long as the rows are distinct. Independent dot products pipeline where the sequential
    loop waits for each update before the next score.

    Both the scores and the updates take three rows per pass over the dimension, so that the
    hidden row (and ``neu1e``) is loaded once for three rows instead of once per row: at
    d = 300 the kernels are bound by loads and stores to L1. The last one or two rows keep
    their own score and update loops rather than going through :func:`_predict` after the
    others (which would also be exact): scored with the rest, their dot products overlap,
    which matters for HS paths, which often leave such a remainder. The measurements behind
    each choice are in benchmarks/RESULTS.md.
    """
    loss = 0.0
    k = 0
    while k + 2 < n:
        o0 = rows[k]
        o1 = rows[k + 1]
        o2 = rows[k + 2]
        f0 = np.float32(0.0)
        f1 = np.float32(0.0)
        f2 = np.float32(0.0)
        for d in range(D):
            x = hs_mat[h, d]
            f0 += x * out[o0, d]
            f1 += x * out[o1, d]
            f2 += x * out[o2, d]
        loss += _grad(f0, labels[k], alpha, sig, logsig, grad, k)
        loss += _grad(f1, labels[k + 1], alpha, sig, logsig, grad, k + 1)
        loss += _grad(f2, labels[k + 2], alpha, sig, logsig, grad, k + 2)
        k += 3
    while k < n:
        o0 = rows[k]
        f0 = np.float32(0.0)
        for d in range(D):
            f0 += hs_mat[h, d] * out[o0, d]
        loss += _grad(f0, labels[k], alpha, sig, logsig, grad, k)
        k += 1
    k = 0
    while k + 2 < n:
        o0 = rows[k]
        o1 = rows[k + 1]
        o2 = rows[k + 2]
        g0 = grad[k]
        g1 = grad[k + 1]
        g2 = grad[k + 2]
        for d in range(D):
            x = hs_mat[h, d]
            a = out[o0, d]
            b = out[o1, d]
            c = out[o2, d]
            neu1e[d] += (g0 * a + g1 * b) + g2 * c
            out[o0, d] = a + g0 * x
            out[o1, d] = b + g1 * x
            out[o2, d] = c + g2 * x
        k += 3
    while k < n:
        o0 = rows[k]
        g0 = grad[k]
        for d in range(D):
            neu1e[d] += g0 * out[o0, d]
            out[o0, d] += g0 * hs_mat[h, d]
        k += 1
    return loss


@njit(inline="always")
def _huffman_targets(word, codes, points, code_offsets, rows, labels):
    """Put ``word``'s Huffman path in ``rows`` (its inner nodes) and ``labels`` (1 - code, the
    side word2vec.c trains towards); return its length."""
    L = 0
    for k in range(code_offsets[word], code_offsets[word + 1]):
        rows[L] = points[k]
        labels[L] = 1 - codes[k]
        L += 1
    return L


@njit(inline="always")
def _predict_word(hs_mat, h, word, syn1neg, syn1, codes, points, code_offsets, negative, hs,
                  negs, ni, alpha, neu1e, rows, labels, grad, sig, logsig, D):
    """Predict ``word`` from hidden row ``hs_mat[h]`` by HS along its path and/or NS against the
    negatives ``negs[ni, :negative]``; return the loss. ``rows``, ``labels`` and ``grad`` are
    scratch of :func:`_max_targets` length.

    A Huffman path never repeats a node, so HS always goes through :func:`_predict_rows`; so do
    the negatives unless one was drawn twice, when they run one by one as in word2vec.c (the
    second draw sees the first one's update). A negative that is ``word`` itself is skipped,
    as word2vec.c skips it.
    """
    loss = 0.0
    if hs:
        n = _huffman_targets(word, codes, points, code_offsets, rows, labels)
        loss += _predict_rows(hs_mat, h, syn1, rows, labels, n, alpha, neu1e, grad, sig, logsig, D)
    if negative > 0:
        rows[0] = word
        labels[0] = 1
        n = 1
        distinct = True
        for k in range(negative):
            t = negs[ni, k]
            if t == word:
                continue
            for m in range(1, n):
                distinct &= rows[m] != t
            rows[n] = t
            labels[n] = 0
            n += 1
        if distinct:
            loss += _predict_rows(hs_mat, h, syn1neg, rows, labels, n, alpha, neu1e, grad, sig, logsig, D)
        else:
            for k in range(n):
                loss += _predict(hs_mat, h, rows[k], labels[k], syn1neg, alpha, neu1e, sig, logsig, D)
    return loss


@njit(inline="always")
def _max_targets(code_offsets, negative, hs):
    """The most output rows one prediction touches: k + 1 under NS, the longest Huffman path
    under HS (scanned per call; < 1% of a call's time)."""
    n = negative + 1
    if hs:
        for w in range(code_offsets.shape[0] - 1):
            n = max(n, code_offsets[w + 1] - code_offsets[w])
    return n


@njit(inline="always")
def _scores(Ib, B, Ob, n_rows, S, D):
    """S[:B, :n_rows] = Ib[:B]·Ob[:n_rows]ᵀ, two hidden rows by three target rows per pass over
    the dimension: five rows loaded for six dot products."""
    c = 0
    while c < B:
        c1 = min(c + 1, B - 1)  # an odd last row is scored twice, into the same cell
        k = 0
        while k < n_rows:
            k1 = min(k + 1, n_rows - 1)
            k2 = min(k + 2, n_rows - 1)
            f00 = np.float32(0.0)
            f01 = np.float32(0.0)
            f02 = np.float32(0.0)
            f10 = np.float32(0.0)
            f11 = np.float32(0.0)
            f12 = np.float32(0.0)
            for d in range(D):
                x0 = Ib[c, d]
                x1 = Ib[c1, d]
                a = Ob[k, d]
                b = Ob[k1, d]
                e = Ob[k2, d]
                f00 += x0 * a
                f01 += x0 * b
                f02 += x0 * e
                f10 += x1 * a
                f11 += x1 * b
                f12 += x1 * e
            S[c, k] = f00
            S[c, k1] = f01
            S[c, k2] = f02
            S[c1, k] = f10
            S[c1, k1] = f11
            S[c1, k2] = f12
            k += 3
        c += 2


@njit(inline="always")
def _hidden_grads(G, B, Ob, n_rows, dI, D):
    """dI[:B] = G[:B, :n_rows]·Ob[:n_rows]: two hidden rows by three target rows per pass over the
    dimension (missing target rows weigh 0; an odd last hidden row pairs with itself, and
    writes once)."""
    c = 0
    while c < B:
        c1 = min(c + 1, B - 1)
        k = 0
        while k < n_rows:
            k1 = min(k + 1, n_rows - 1)
            k2 = min(k + 2, n_rows - 1)
            w1 = np.float32(1.0) if k + 1 < n_rows else np.float32(0.0)
            w2 = np.float32(1.0) if k + 2 < n_rows else np.float32(0.0)
            g00 = G[c, k]
            g01 = G[c, k1] * w1
            g02 = G[c, k2] * w2
            g10 = G[c1, k]
            g11 = G[c1, k1] * w1
            g12 = G[c1, k2] * w2
            if k == 0:
                for d in range(D):
                    a = Ob[k, d]
                    b = Ob[k1, d]
                    e = Ob[k2, d]
                    dI[c1, d] = (g10 * a + g11 * b) + g12 * e
                    dI[c, d] = (g00 * a + g01 * b) + g02 * e
            elif c1 != c:
                for d in range(D):
                    a = Ob[k, d]
                    b = Ob[k1, d]
                    e = Ob[k2, d]
                    dI[c, d] += (g00 * a + g01 * b) + g02 * e
                    dI[c1, d] += (g10 * a + g11 * b) + g12 * e
            else:
                for d in range(D):
                    dI[c, d] += (g00 * Ob[k, d] + g01 * Ob[k1, d]) + g02 * Ob[k2, d]
            k += 3
        c += 2


@njit(inline="always")
def _target_updates(G, B, Ib, out, rows, n_rows, D):
    """out[rows[k]] += Σ_c G[c, k]·Ib[c] for every target k: two targets by four hidden rows per
    pass (missing hidden rows weigh 0). A row listed twice gets both updates, as ΔO = Gᵀ·I
    gives it: the two targets of a pass are added one after the other."""
    k = 0
    while k < n_rows:
        r0 = rows[k]
        r1 = rows[min(k + 1, n_rows - 1)]
        two = k + 1 < n_rows and r1 != r0
        c = 0
        while c < B:
            c1 = min(c + 1, B - 1)
            c2 = min(c + 2, B - 1)
            c3 = min(c + 3, B - 1)
            w1 = np.float32(1.0) if c + 1 < B else np.float32(0.0)
            w2 = np.float32(1.0) if c + 2 < B else np.float32(0.0)
            w3 = np.float32(1.0) if c + 3 < B else np.float32(0.0)
            g0 = G[c, k]
            g1 = G[c1, k] * w1
            g2 = G[c2, k] * w2
            g3 = G[c3, k] * w3
            if two:
                h0 = G[c, k + 1]
                h1 = G[c1, k + 1] * w1
                h2 = G[c2, k + 1] * w2
                h3 = G[c3, k + 1] * w3
                for d in range(D):
                    x0 = Ib[c, d]
                    x1 = Ib[c1, d]
                    x2 = Ib[c2, d]
                    x3 = Ib[c3, d]
                    out[r0, d] += (g0 * x0 + g1 * x1) + (g2 * x2 + g3 * x3)
                    out[r1, d] += (h0 * x0 + h1 * x1) + (h2 * x2 + h3 * x3)
            else:
                for d in range(D):
                    out[r0, d] += (g0 * Ib[c, d] + g1 * Ib[c1, d]) + (g2 * Ib[c2, d] + g3 * Ib[c3, d])
            c += 4
        k += 2 if two else 1


@njit(inline="always")
def _slot(keys, mask, r):
    """Where word ``r`` is, or goes, in the open-addressing table ``keys`` (-1: empty)."""
    h = (np.int64(r) * np.int64(2654435761)) & mask
    while keys[h] != -1 and keys[h] != r:
        h = (h + 1) & mask
    return h


@njit(inline="always")
def _write_back(syn0, sentence, e_lo, e_hi, E, keys, counts, slots, D):
    """syn0[r] += the sum of E[j - e_lo] over the positions j in [e_lo, e_hi) that hold word r,
    scaled to STALE_UPDATES times their mean where r is at more than STALE_UPDATES positions.

    A block's updates all come from the rows as they were before it; a word at m positions of
    the block gets m such stale updates at once, and in a small vocabulary (a four-word corpus:
    m ≈ 64) that overshoots and diverges to NaN, where the exact kernel, updating as it goes,
    does not (issue 29). Capping m keeps ordinary text as it was: there nearly every word of a
    block is at a few positions at most, and those rows get exactly the old updates (enwiki's
    training loss moved by 0.003; the mean, m = 1, cost 0.04). Each word's m is counted in
    ``keys``/``counts``, a hash table of at least twice the block's positions, all -1 in
    ``keys`` on entry and on return (``slots`` remembers which to empty).
    """
    mask = keys.shape[0] - 1
    for j in range(e_lo, e_hi):
        r = sentence[j]
        h = _slot(keys, mask, r)
        if keys[h] == -1:
            keys[h] = r
            counts[h] = 0
        counts[h] += 1
        slots[j - e_lo] = h
    for j in range(e_lo, e_hi):
        r = sentence[j]
        m = counts[slots[j - e_lo]]
        if m <= STALE_UPDATES:
            for d in range(D):
                syn0[r, d] += E[j - e_lo, d]
        else:
            scale = np.float32(STALE_UPDATES / m)
            for d in range(D):
                syn0[r, d] += E[j - e_lo, d] * scale
    for j in range(e_hi - e_lo):
        keys[slots[j]] = -1


@njit(inline="always")
def _dense_step(Ib, B, out, rows, labels, n_rows, skips, skip_from, alpha, obuf, s_flat, g_flat, dI,
                sig, logsig, D):
    """One batched step: the B hidden rows ``Ib[:B]`` (I) against the rows ``out[rows[:n_rows]]``
    (O) with 0/1 ``labels``. S = I·Oᵀ, G = (labels − σ(S))·α, ΔI = G·O, ΔO = Gᵀ·I, all from the
    rows as they were before the step. ΔO is added to ``out`` here; ΔI is left in ``dI[:B]`` for
    the caller. Target k ≥ ``skip_from`` that equals ``skips[c]`` gives hidden row c no gradient
    (a negative that is the word being predicted, which word2vec.c skips). Returns the loss.

    The three products are small (B ≤ 2·window or CBOW_GROUP rows, n_rows ≈ k + 1) and are
    register-blocked loops here rather than BLAS calls: BLAS's speed for such sizes depends on
    which kernel it dispatches to (OPENBLAS_CORETYPE made them 3-4× slower), these loops do not.
    """
    for k in range(n_rows):
        r = rows[k]
        for d in range(D):
            obuf[k, d] = out[r, d]
    S = s_flat[: B * n_rows].reshape((B, n_rows))
    G = g_flat[: B * n_rows].reshape((B, n_rows))
    _scores(Ib, B, obuf, n_rows, S, D)
    loss = 0.0
    for c in range(B):
        for k in range(n_rows):
            if k >= skip_from and rows[k] == skips[c]:
                G[c, k] = 0.0
                continue
            g, l = _gradient(S[c, k], labels[k], sig, logsig)
            G[c, k] = np.float32(g * alpha)
            loss += l
    _hidden_grads(G, B, obuf, n_rows, dI, D)
    _target_updates(G, B, Ib, out, rows, n_rows, D)
    return loss


@njit(inline="always")
def _batch_step(syn0, ctxs, B, out, rows, labels, n_rows, skips, skip_from, alpha, ibuf, obuf, s_flat, g_flat,
                dI, sig, logsig, D):
    """One HogBatch step for a skip-gram centre word: the IN rows of its B context words
    against ``out[rows[:n_rows]]`` as a :func:`_dense_step`, with ΔI added to those IN rows."""
    for c in range(B):
        r = ctxs[c]
        for d in range(D):
            ibuf[c, d] = syn0[r, d]
    loss = _dense_step(ibuf, B, out, rows, labels, n_rows, skips, skip_from, alpha, obuf, s_flat, g_flat,
                       dI, sig, logsig, D)
    for c in range(B):
        r = ctxs[c]
        for d in range(D):
            syn0[r, d] += dI[c, d]
    return loss


class Kernels(NamedTuple):
    """The training kernels compiled for one dimension."""

    sg: Callable  #: skip-gram, per-pair updates (word2vec.c, gensim)
    sg_batch: Callable  #: skip-gram, each context window as one batch (HogBatch)
    cbow: Callable  #: CBOW, per-centre updates (word2vec.c, gensim)
    cbow_batch: Callable  #: CBOW, negatives shared by a group of centre words


@functools.cache
def kernels_for(dim: int) -> Kernels:
    """The kernels for vectors of ``dim`` floats, compiled (or loaded from numba's cache) on first use.

    ``D`` below is a closure constant, so LLVM sees every loop's trip count.
    One more rule keeps those loops vectorised: a row index is read into a
    local before the loop over ``d`` (``r = ctxs[c]``), never as ``m[ctxs[c], d]``
    inside it, because LLVM cannot prove that the loop's stores leave
    ``ctxs`` unchanged and falls back to scalar code.
    """
    D = int(dim)

    @njit(nogil=True, fastmath=True, cache=True)
    def train_sg(tokens, offsets, s_lo, s_hi, syn0, syn1neg, syn1, codes, points, code_offsets,
                 keep, noise_threshold, noise_alias, window, negative, hs, alpha_start, alpha_end,
                 state, sig, logsig, sentence, neu1e):
        """Skip-gram over sentences [s_lo, s_hi): each context word's IN vector
        predicts the centre word (word2vec.c's loop order)."""
        # Two rows of negatives: this pair's, and the next pair's, drawn early so that their rows
        # are prefetched while this pair trains (1.3x at d = 100).
        pair_negs = _private2(2, max(negative, 1), np.int32)
        n_out = _max_targets(code_offsets, negative, hs)
        rows = _private(n_out, np.int64)
        labels = _private(n_out, np.int64)
        grad = _private(n_out, np.float32)
        _draw_negatives(state, noise_threshold, noise_alias, pair_negs, 1, negative)
        cur = 0
        loss = 0.0
        examples = 0
        for s in range(s_lo, s_hi):
            alpha = _alpha(alpha_start, alpha_end, offsets, s, s_lo, s_hi)
            n = _subsample(tokens, offsets[s], offsets[s + 1], keep, state, sentence)
            for i in range(n):
                word = sentence[i]
                lo, hi = _window(state, i, n, window)
                for j in range(lo, hi):
                    if j == i:
                        continue
                    ctx = sentence[j]
                    for d in range(D):
                        neu1e[d] = 0.0
                    nxt = 1 - cur
                    for k in range(negative):
                        t = _draw_negative(state, noise_threshold, noise_alias)
                        pair_negs[nxt, k] = t
                        _prefetch_row(syn1neg, t, D)
                    loss += _predict_word(syn0, ctx, word, syn1neg, syn1, codes, points, code_offsets,
                                          negative, hs, pair_negs, cur, alpha, neu1e, rows, labels, grad,
                                          sig, logsig, D)
                    cur = nxt
                    for d in range(D):
                        syn0[ctx, d] += neu1e[d]
                    examples += 1
        return loss, examples

    @njit(nogil=True, fastmath=True, cache=True)
    def train_cbow(tokens, offsets, s_lo, s_hi, syn0, syn1neg, syn1, codes, points, code_offsets,
                   keep, noise_threshold, noise_alias, window, negative, hs, cbow_mean,
                   alpha_start, alpha_end, state, sig, logsig, sentence, neu1, neu1e):
        """CBOW over sentences [s_lo, s_hi): the mean (or sum) of the context's IN
        vectors predicts the centre word, and the error goes back to every context
        word whole under ``cbow_mean`` (as word2vec.c does), divided by the
        context size when summing (as gensim does)."""
        negs = _private2(sentence.shape[0], max(negative, 1), np.int32)
        n_out = _max_targets(code_offsets, negative, hs)
        rows = _private(n_out, np.int64)
        labels = _private(n_out, np.int64)
        grad = _private(n_out, np.float32)
        ctxs = _private(2 * window, np.int64)
        loss = 0.0
        examples = 0
        for s in range(s_lo, s_hi):
            alpha = _alpha(alpha_start, alpha_end, offsets, s, s_lo, s_hi)
            n = _subsample(tokens, offsets[s], offsets[s + 1], keep, state, sentence)
            _draw_negatives(state, noise_threshold, noise_alias, negs, n, negative)
            for i in range(n):
                _prefetch_centre(syn0, syn1neg, sentence, negs, i + 1, n, window, negative, D)
                word = sentence[i]
                lo, hi = _window(state, i, n, window)
                cw = _context(sentence, i, lo, hi, ctxs)
                if cw == 0:
                    continue
                _context_sum(syn0, ctxs, cw, neu1, 0, cbow_mean, D)
                for d in range(D):
                    neu1e[d] = 0.0
                loss += _predict_word(neu1, 0, word, syn1neg, syn1, codes, points, code_offsets, negative, hs,
                                      negs, i, alpha, neu1e, rows, labels, grad, sig, logsig, D)
                if not cbow_mean:
                    inv = np.float32(1.0 / cw)
                    for d in range(D):
                        neu1e[d] *= inv
                _context_update(syn0, ctxs, cw, neu1e, D)
                examples += 1
        return loss, examples

    @njit(nogil=True, fastmath=True, cache=True)
    def train_sg_batch(tokens, offsets, s_lo, s_hi, syn0, syn1neg, syn1, codes, points, code_offsets,
                       keep, noise_threshold, noise_alias, window, negative, hs, alpha_start, alpha_end,
                       state, sig, logsig, sentence, neu1e):
        """Skip-gram with each centre word's context window trained as one batch (HogBatch; Ji,
        Satish, Li, Dubey, "Parallelizing Word2Vec in Shared and Distributed Memory", 2016).

        The B context words' IN rows form a batch I. Under negative sampling O is the centre
        word plus one draw of k negatives shared by the whole window; under hierarchical
        softmax O is the inner nodes on the centre word's Huffman path, which every context
        word shares anyway. Each is one :func:`_batch_step` (HS first, then NS). Each pair
        still sees k negatives, but each centre touches B + k + 1 rows instead of B·(k+1)
        random OUT rows, which is what bounds the per-pair update.
        """
        K = negative + 1
        n_out = _max_targets(code_offsets, negative, hs)
        negs = _private2(sentence.shape[0], max(negative, 1), np.int32)
        ctxs = _private(2 * window, np.int64)
        rows = _private(n_out, np.int64)
        labels = _private(n_out, np.int64)
        ibuf = _private2(2 * window, D, np.float32)
        obuf = _private2(n_out, D, np.float32)
        s_flat = _private(2 * window * n_out, np.float32)
        g_flat = _private(2 * window * n_out, np.float32)
        dI = _private2(2 * window, D, np.float32)
        skips = _private(2 * window, np.int64)
        loss = 0.0
        examples = 0
        for s in range(s_lo, s_hi):
            alpha = _alpha(alpha_start, alpha_end, offsets, s, s_lo, s_hi)
            n = _subsample(tokens, offsets[s], offsets[s + 1], keep, state, sentence)
            _draw_negatives(state, noise_threshold, noise_alias, negs, n, negative)
            for i in range(n):
                _prefetch_centre(syn0, syn1neg, sentence, negs, i + 1, n, window, negative, D)
                word = sentence[i]
                lo, hi = _window(state, i, n, window)
                B = _context(sentence, i, lo, hi, ctxs)
                if B == 0:
                    continue
                examples += B
                for c in range(B):
                    skips[c] = word
                if hs:
                    L = _huffman_targets(word, codes, points, code_offsets, rows, labels)
                    loss += _batch_step(syn0, ctxs, B, syn1, rows, labels, L, skips, L, alpha, ibuf, obuf,
                                        s_flat, g_flat, dI, sig, logsig, D)
                if negative > 0:
                    rows[0] = word
                    labels[0] = 1
                    for k in range(1, K):
                        rows[k] = negs[i, k - 1]
                        labels[k] = 0
                    # The negatives (targets 1..K-1) skip the centre word itself.
                    loss += _batch_step(syn0, ctxs, B, syn1neg, rows, labels, K, skips, 1, alpha, ibuf, obuf,
                                        s_flat, g_flat, dI, sig, logsig, D)
        return loss, examples

    @njit(nogil=True, fastmath=True, cache=True)
    def train_cbow_batch(tokens, offsets, s_lo, s_hi, syn0, syn1neg, syn1, codes, points, code_offsets,
                         keep, noise_threshold, noise_alias, window, negative, hs, cbow_mean,
                         alpha_start, alpha_end, state, sig, logsig, sentence, neu1, neu1e):
        """CBOW with one draw of k negatives shared by a group of CBOW_GROUP centre words (HogBatch's
        negative sharing, applied to CBOW's hidden rows).

        A group's hidden rows H (each the mean or sum of a centre's context, as in ``train_cbow``)
        meet the shared negatives N in one :func:`_dense_step`; then each centre predicts its own
        word (and, under hierarchical softmax, its own Huffman path) as in the exact kernel. Each
        centre still sees k negatives, but a group writes k negative rows instead of
        CBOW_GROUP·k.

        The group's centres are spread over a block of the sentence (i, i + q, i + 2q, ... with
        q = ceil(block length / group size); groups of CBOW_GROUP, fewer in blocks shorter than
        CBOW_GROUP windows), not taken side by side: neighbouring centres share
        most of their context, so their hidden rows are alike, and a negative shared by
        near-copies of one hidden row gets the same push CBOW_GROUP times over (side by side,
        groups cost analogy points on enwiki; spread, they cost none: benchmarks/RESULTS.md).

        The errors meant for the context's IN rows are summed per sentence position and added to
        the IN rows once the block of CBOW_BLOCK positions is done, so each position's row is
        written once, not once per centre whose window holds it (about 2·window times). Both
        cuts are for two threads: each write to a row the other thread also uses moves its cache
        lines between the cores, and with the per-centre updates of ``train_cbow`` those writes,
        not arithmetic, kept two threads from scaling. With both, two threads train as fast as
        with a private copy of the matrices each, at the same training loss (benchmarks/RESULTS.md).

        ``neu1`` and ``neu1e`` go unused: the signature is ``train_cbow``'s, so the driver can
        call either.
        """
        M = CBOW_GROUP
        K = max(negative, 1)
        n_out = _max_targets(code_offsets, 0, hs)
        rows = _private(n_out, np.int64)
        labels = _private(n_out, np.int64)
        grad = _private(n_out, np.float32)
        negs = _private2(1, K, np.int32)
        zeros = _private(K, np.int64)
        for k in range(K):
            zeros[k] = 0
        ctxs = _private2(M, 2 * window, np.int64)
        cws = _private(M, np.int64)
        words = _private(M, np.int64)
        centres = _private(M, np.int64)
        spans = _private2(M, 2, np.int64)
        H = _private2(M, D, np.float32)
        dH = _private2(M, D, np.float32)
        nbuf = _private2(K, D, np.float32)
        s_flat = _private(M * K, np.float32)
        g_flat = _private(M * K, np.float32)
        E = _private2(CBOW_BLOCK + 2 * window, D, np.float32)
        size = 1
        while size < 2 * (CBOW_BLOCK + 2 * window):
            size *= 2
        keys = _private(size, np.int64)  # _write_back's table of the block's words
        for h in range(size):
            keys[h] = -1
        counts = _private(size, np.int64)
        slots = _private(CBOW_BLOCK + 2 * window, np.int64)
        loss = 0.0
        examples = 0
        for s in range(s_lo, s_hi):
            alpha = _alpha(alpha_start, alpha_end, offsets, s, s_lo, s_hi)
            n = _subsample(tokens, offsets[s], offsets[s + 1], keep, state, sentence)
            for b_lo in range(0, n, CBOW_BLOCK):
                b_hi = min(n, b_lo + CBOW_BLOCK)
                # E[j - e_lo] gathers the error for the IN row at position j: the block's centres
                # reach at most ``window`` positions beyond it.
                e_lo = max(0, b_lo - window)
                e_hi = min(n, b_hi + window)
                for j in range(e_hi - e_lo):
                    for d in range(D):
                        E[j, d] = 0.0
                # Short blocks get smaller groups, so that a group's centres stay about a window
                # apart (a 12-token sentence as one group of 16 cost 2.5 analogy points).
                G = min(M, max(1, (b_hi - b_lo) // window))
                q = (b_hi - b_lo + G - 1) // G
                ii = 0
                while ii < q * G:
                    B = 0
                    while B < G and ii < q * G:
                        i = b_lo + (ii % G) * q + ii // G  # the block in strides of q
                        ii += 1
                        if i >= b_hi:
                            continue
                        lo, hi = _window(state, i, n, window)
                        cw = _context(sentence, i, lo, hi, ctxs[B])
                        if cw == 0:
                            continue
                        words[B] = sentence[i]
                        cws[B] = cw
                        centres[B] = i
                        spans[B, 0] = lo
                        spans[B, 1] = hi
                        _context_sum(syn0, ctxs[B], cw, H, B, cbow_mean, D)
                        B += 1
                    if B == 0:
                        continue
                    if negative > 0:
                        _draw_negatives(state, noise_threshold, noise_alias, negs, 1, negative)
                        loss += _dense_step(H, B, syn1neg, negs[0], zeros, negative, words, 0, alpha, nbuf,
                                            s_flat, g_flat, dH, sig, logsig, D)
                    else:
                        for b in range(B):
                            for d in range(D):
                                dH[b, d] = 0.0
                    for b in range(B):
                        word = words[b]
                        err = dH[b]
                        if hs:
                            L = _huffman_targets(word, codes, points, code_offsets, rows, labels)
                            loss += _predict_rows(H, b, syn1, rows, labels, L, alpha, err, grad, sig, logsig, D)
                        if negative > 0:
                            rows[0] = word
                            labels[0] = 1
                            loss += _predict_rows(H, b, syn1neg, rows, labels, 1, alpha, err, grad, sig, logsig, D)
                        if not cbow_mean:
                            inv = np.float32(1.0 / cws[b])
                            for d in range(D):
                                err[d] *= inv
                        for j in range(spans[b, 0], spans[b, 1]):
                            if j != centres[b]:
                                for d in range(D):
                                    E[j - e_lo, d] += err[d]
                        examples += 1
                _write_back(syn0, sentence, e_lo, e_hi, E, keys, counts, slots, D)
        return loss, examples

    return Kernels(train_sg, train_sg_batch, train_cbow, train_cbow_batch)
