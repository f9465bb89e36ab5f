"""The CPU backend: the numba kernels of :mod:`.kernels` on real threads.

The corpus is split into one contiguous slice per worker; each thread trains
its slice chunk by chunk, calling a ``nogil`` kernel, and all threads update
the shared matrices without locks (Hogwild, as word2vec.c and gensim do).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from ..errors import DualvecError
from ..progress import Progress
from ..text.encoded import EncodedCorpus
from .driver import run_threads, slice_cuts, thread_seed
from .kernels import CBOW_GROUP, kernels_for
from .options import EpochStats, TrainingParams, Weights
from .tables import Tables, scratch

#: Tokens per kernel call: large enough that the call overhead vanishes,
#: small enough for a smooth learning-rate schedule and progress bar.
CHUNK_TOKENS = 10_000
#: The most frequent words' IN rows checked after every chunk: a diverging run blows these up
#: first, and 64 rows cost nothing beside a chunk's training.
CHECKED_ROWS = 64


def run_epochs(
    encoded: EncodedCorpus,
    weights: Weights,
    tables: Tables,
    params: TrainingParams,
    *,
    run: int = 0,
    progress: Progress | None = None,
) -> list[EpochStats]:
    """Run ``params.epochs`` epochs over ``encoded``, updating ``weights`` in place.

    The corpus is split into ``workers`` contiguous slices of about equal token
    count; each thread trains its slice chunk by chunk. The learning rate
    decays linearly from ``alpha`` to ``min_alpha`` over the global progress of
    all threads. With ``workers=1`` and a seed the result is bit-for-bit
    reproducible.
    """
    p = params
    syn0 = weights.syn0
    dim = syn0.shape[1]
    if not (syn0.flags.c_contiguous and syn0.flags.writeable and syn0.dtype == np.float32):
        raise DualvecError("IN vectors must be a writable float32 matrix to train (was the model loaded with mmap?)")
    dummy = np.zeros((1, dim), dtype=np.float32)
    syn1neg = weights.syn1neg if p.negative > 0 else dummy
    syn1 = weights.syn1 if p.hs else dummy
    codes, points, code_offsets = tables.codes, tables.points, tables.code_offsets
    noise_threshold, noise_alias, keep = tables.noise_threshold, tables.noise_alias, tables.keep
    sig, logsig = tables.sig, tables.logsig

    tokens = np.asarray(encoded.tokens)
    offsets = np.asarray(encoded.offsets)
    n_tokens = encoded.n_tokens
    if n_tokens == 0:
        raise DualvecError("the corpus has no words in the vocabulary to train on")
    n_threads = max(1, min(p.workers, encoded.n_sentences))
    cuts = slice_cuts(offsets, n_threads)
    max_len = int(np.diff(offsets).max())
    total_work = p.epochs * n_tokens
    kernels = kernels_for(dim)
    sg_kernel = kernels.sg_batch if p.batch else kernels.sg
    # Batched CBOW shares negatives among centres about a window apart in one sentence: with no
    # negatives, or with sentences too short to hold a group (tweets, queries), the exact kernel
    # is both faster and better there (benchmarks/RESULTS.md).
    long_sentences = n_tokens >= CBOW_GROUP * p.window * encoded.n_sentences
    cbow_kernel = kernels.cbow_batch if p.batch and p.negative > 0 and long_sentences else kernels.cbow
    stats: list[EpochStats] = []

    for epoch in range(p.epochs):
        done = np.zeros(n_threads, dtype=np.int64)
        losses = np.zeros(n_threads, dtype=np.float64)
        examples = np.zeros(n_threads, dtype=np.int64)

        def worker(t: int, stop: threading.Event) -> None:
            state = thread_seed(p.seed, run, epoch, t)
            sentence = scratch(max_len, np.int32)
            neu1 = scratch(dim, np.float32).reshape(1, dim)
            neu1e = scratch(dim, np.float32)
            s, end = int(cuts[t]), int(cuts[t + 1])
            while s < end and not stop.is_set():
                e = int(np.searchsorted(offsets, offsets[s] + CHUNK_TOKENS, side="left"))
                e = min(max(e, s + 1), end)
                n = int(offsets[e] - offsets[s])
                progress0 = (epoch * n_tokens + int(done.sum())) / total_work
                a0 = p.alpha - (p.alpha - p.min_alpha) * progress0
                a1 = p.alpha - (p.alpha - p.min_alpha) * min(1.0, progress0 + n / total_work)
                if p.sg:
                    loss, ex = sg_kernel(tokens, offsets, s, e, syn0, syn1neg, syn1, codes, points,
                                        code_offsets, keep, noise_threshold, noise_alias, p.window,
                                        p.negative, p.hs, a0, a1, state, sig, logsig, sentence, neu1e)
                else:
                    loss, ex = cbow_kernel(tokens, offsets, s, e, syn0, syn1neg, syn1, codes, points,
                                           code_offsets, keep, noise_threshold, noise_alias, p.window,
                                           p.negative, p.hs, p.cbow_mean, a0, a1, state, sig, logsig,
                                           sentence, neu1, neu1e)
                losses[t] += loss
                examples[t] += ex
                done[t] += n
                s = e
                if not (np.isfinite(loss) and np.isfinite(syn0[:CHECKED_ROWS]).all()):
                    raise DualvecError(_diverged(p, epoch, int(done.sum())))

        if progress is not None:
            progress.task(f"epoch {epoch + 1}/{p.epochs}", n_tokens)
        start = time.perf_counter()
        report = None if progress is None else (
            lambda: _report(progress, done, losses, examples, start, p, epoch, n_tokens, total_work))
        run_threads(n_threads, worker, report)
        seconds = time.perf_counter() - start
        n_ex = int(examples.sum())
        stats.append(EpochStats(epoch + 1, float(losses.sum()) / max(n_ex, 1), n_ex, int(done.sum()), seconds))
        if progress is not None:
            _report(progress, done, losses, examples, start, p, epoch, n_tokens, total_work)
    return stats


def _diverged(p: TrainingParams, epoch: int, words: int) -> str:
    """What to say when training blows up, with the cures."""
    cure = "the exact updates (--exact, batch=False), or a lower --alpha" if p.batch else "a lower --alpha"
    return (f"training diverged (NaN or infinite vectors in epoch {epoch + 1}, after {words:,} words): "
            f"train with {cure} (it is {p.alpha:g})")


def _report(progress: Progress, done, losses, examples, start, p, epoch, n_tokens, total_work) -> None:
    words = int(done.sum())
    elapsed = max(time.perf_counter() - start, 1e-9)
    alpha = p.alpha - (p.alpha - p.min_alpha) * ((epoch * n_tokens + words) / total_work)
    loss = float(losses.sum()) / max(int(examples.sum()), 1)
    progress.update(words, f"{words / elapsed:,.0f} w/s  lr {alpha:.5f}  loss {loss:.4f}")


def kernels_cached(dim: int, sg: bool = True, batch: bool = True) -> bool:
    """Whether numba's on-disk cache already holds the training kernel for ``dim`` (so training starts
    at once) or the first run will compile it (about 10 s); the command line says so beforehand.

    Reads numba's cache index (numba internals: where they differ, this answers True and nothing is said).
    """
    k = kernels_for(dim)
    disp = (k.sg_batch if batch else k.sg) if sg else (k.cbow_batch if batch else k.cbow)
    try:
        cache = disp._cache
        key = cache._index_key(None, disp.targetctx.codegen())
        return any(tuple(entry[1:]) == tuple(key[1:]) for entry in cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 (a message only)
        return True
