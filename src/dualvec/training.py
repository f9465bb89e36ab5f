"""Training: options, vocabulary selection, weight initialisation, and the
driver that runs the numba kernels on real threads.

Everything here works on plain arrays; :mod:`dualvec.model` wraps the result
into string-keyed vectors.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from .encoded import EncodedCorpus, ScannedCorpus
from .errors import DualvecError
from .kernels.word2vec import CBOW_GROUP, kernels_for, sigmoid_tables
from .progress import Progress
from .vocab import HuffmanTree, Vocabulary

#: Tokens per kernel call: large enough that the call overhead vanishes,
#: small enough for a smooth learning-rate schedule and progress bar.
CHUNK_TOKENS = 10_000


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class TrainingParams:
    """word2vec options, named and defaulted as in gensim 4's ``Word2Vec``.

    ``max_final_vocab`` keeps the N most frequent words (ties by first
    appearance); gensim instead raises ``min_count`` until the vocabulary
    fits, which can leave fewer than N.

    ``batch`` trains with small dense products (HogBatch, Ji et al. 2016).
    Skip-gram trains each centre word's context window as one batch that
    shares one draw of negatives and, under hierarchical softmax, the centre
    word's Huffman path. CBOW (with negative sampling) shares one draw of
    negatives among a group of centre words spread over the sentence, which
    cuts the writes to frequent words' OUT rows that two threads otherwise
    pass back and forth (on corpora whose sentences average fewer than
    16·window tokens, too short for such groups, CBOW runs the exact
    updates). ``batch=False`` is the classic update of word2vec.c
    and gensim, the exact mode. With hierarchical softmax, exact skip-gram
    gains little or nothing from a second thread: every pair writes the rows
    of the nodes near the tree's root (benchmarks/RESULTS.md).
    """

    vector_size: int = 100
    sg: bool = False
    hs: bool = False
    negative: int = 5
    ns_exponent: float = 0.75
    cbow_mean: bool = True
    batch: bool = True
    window: int = 5
    sample: float = 1e-3
    min_count: int = 5
    max_vocab_size: int | None = None
    max_final_vocab: int | None = None
    alpha: float = 0.025
    min_alpha: float = 0.0001
    epochs: int = 5
    workers: int = field(default_factory=_default_workers)
    seed: int = 1

    def validate(self) -> TrainingParams:
        def need(cond: bool, msg: str) -> None:
            if not cond:
                raise DualvecError(msg)

        need(self.vector_size >= 1, f"vector_size must be at least 1, not {self.vector_size}")
        need(self.window >= 1, f"window must be at least 1, not {self.window}")
        need(self.negative >= 0, f"negative must be 0 or more, not {self.negative}")
        need(self.hs or self.negative > 0, "choose negative > 0, hs=True, or both: nothing to train otherwise")
        need(self.min_count >= 1, f"min_count must be at least 1, not {self.min_count}")
        need(self.epochs >= 1, f"epochs must be at least 1, not {self.epochs}")
        need(self.workers >= 1, f"workers must be at least 1, not {self.workers}")
        need(self.alpha > 0, f"alpha must be positive, not {self.alpha}")
        need(0 <= self.min_alpha <= self.alpha, f"min_alpha must be in [0, alpha], not {self.min_alpha}")
        need(self.sample >= 0, f"sample must be 0 or more, not {self.sample}")
        need(np.isfinite(self.ns_exponent), "ns_exponent must be a finite number")
        for name in ("max_vocab_size", "max_final_vocab"):
            v = getattr(self, name)
            need(v is None or v >= 1, f"{name} must be at least 1 (or None), not {v}")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainingParams:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class Weights:
    """The trained matrices: IN, OUT under negative sampling, HS inner nodes."""

    syn0: np.ndarray
    syn1neg: np.ndarray | None
    syn1: np.ndarray | None


@dataclass
class EpochStats:
    epoch: int
    loss: float  # mean negative log-likelihood per (context, target) example
    examples: int
    words: int  # corpus tokens processed (before sub-sampling)
    seconds: float

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else 0.0


# -- vocabulary ------------------------------------------------------------------


def select_vocabulary(
    scanned: ScannedCorpus, params: TrainingParams, existing: Vocabulary | None = None
) -> tuple[Vocabulary, np.ndarray]:
    """Choose the vocabulary from a scan; return it and provisional id -> row.

    With ``existing`` (continued training), known words keep their rows and
    add the new counts; new words reaching ``min_count`` are appended.
    """
    counts = scanned.counts
    row_of = np.full(len(counts), -1, dtype=np.int64)
    if existing is None:
        cand = np.flatnonzero(counts >= params.min_count)
        rows = cand[np.argsort(-counts[cand], kind="stable")]  # by count, ties first-seen
        if params.max_final_vocab is not None:
            rows = rows[: params.max_final_vocab]
        row_of[rows] = np.arange(len(rows))
        vocab = Vocabulary([scanned.words[i] for i in rows], counts[rows])
    else:
        index = existing.index
        new_counts = existing.counts.copy()
        fresh: list[int] = []
        for pid, (w, c) in enumerate(zip(scanned.words, counts)):
            if c == 0:
                continue
            row = index.get(w)
            if row is not None:
                new_counts[row] += c
                row_of[pid] = row
            elif c >= params.min_count:
                fresh.append(pid)
        fresh_arr = np.array(fresh, dtype=np.int64)
        order = np.argsort(-counts[fresh_arr], kind="stable") if fresh else np.zeros(0, np.int64)
        row_of[fresh_arr[order]] = len(existing) + np.arange(len(order))
        vocab = Vocabulary(
            existing.words + [scanned.words[i] for i in fresh_arr[order]],
            np.concatenate([new_counts, counts[fresh_arr[order]]]),
        )
    if len(vocab) == 0:
        raise DualvecError(
            f"no word occurs at least min_count={params.min_count} times in the corpus "
            f"({scanned.n_tokens} tokens, {int((counts > 0).sum())} distinct words)"
        )
    return vocab, row_of


# -- weights ---------------------------------------------------------------------


def init_rows(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """IN rows uniform in [-1/dim, 1/dim), as gensim 4 starts them (word2vec.c uses half that)."""
    return (rng.random((n, dim), dtype=np.float32) * np.float32(2.0) - np.float32(1.0)) / np.float32(dim)


def init_weights(vocab_size: int, params: TrainingParams, rng: np.random.Generator) -> Weights:
    d = params.vector_size
    return Weights(
        syn0=init_rows(vocab_size, d, rng),
        syn1neg=np.zeros((vocab_size, d), dtype=np.float32) if params.negative > 0 else None,
        syn1=np.zeros((max(vocab_size - 1, 1), d), dtype=np.float32) if params.hs else None,
    )


def grow_weights(w: Weights, vocab_size: int, params: TrainingParams, rng: np.random.Generator) -> Weights:
    """Extend the matrices to a grown vocabulary: new IN rows random, new OUT rows zero."""
    old, d = w.syn0.shape
    if vocab_size == old:
        return w
    syn0 = np.vstack([np.asarray(w.syn0), init_rows(vocab_size - old, d, rng)])
    syn1neg = None
    if params.negative > 0:
        base = np.asarray(w.syn1neg) if w.syn1neg is not None else np.zeros((old, d), np.float32)
        syn1neg = np.vstack([base, np.zeros((vocab_size - old, d), np.float32)])
    syn1 = None
    if params.hs:
        syn1 = np.zeros((vocab_size - 1, d), np.float32)  # the tree is rebuilt: old nodes mean nothing
    return Weights(syn0, syn1neg, syn1)


# -- the driver ------------------------------------------------------------------


_PAD_BYTES = 128  # two cache lines: also defeats the adjacent-line prefetcher


def scratch(n: int, dtype) -> np.ndarray:
    """A zeroed per-thread buffer that shares no cache line with anything else.

    Each thread writes its RNG state and gradient buffer on every prediction;
    small numpy arrays of two threads can sit on one cache line, and the
    resulting false sharing cost 30% of skip-gram speed at random, run to run.
    """
    pad = _PAD_BYTES // np.dtype(dtype).itemsize
    return np.zeros(n + 2 * pad, dtype=dtype)[pad : pad + n]


def _thread_seed(seed: int, run: int, epoch: int, thread: int) -> np.ndarray:
    s = np.random.SeedSequence([seed & 0xFFFFFFFF, run, epoch, thread]).generate_state(1, np.uint64)
    state = scratch(1, np.uint64)
    state[0] = s[0] | np.uint64(1)  # xorshift needs a non-zero state
    return state


def train_epochs(
    encoded: EncodedCorpus,
    vocab: Vocabulary,
    weights: Weights,
    tree: HuffmanTree | None,
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
    if p.hs:
        assert tree is not None
        codes, points, code_offsets = tree.codes, tree.points, tree.offsets
    else:
        codes, points, code_offsets = np.zeros(1, np.uint8), np.zeros(1, np.int32), np.zeros(2, np.int64)
    if p.negative > 0:
        noise_threshold, noise_alias = vocab.noise_alias(p.ns_exponent)
    else:
        noise_threshold, noise_alias = np.zeros(1, np.int64), np.zeros(1, np.int32)
    keep = vocab.keep_thresholds(p.sample)
    sig, logsig = sigmoid_tables()

    tokens = np.asarray(encoded.tokens)
    offsets = np.asarray(encoded.offsets)
    n_tokens = encoded.n_tokens
    if n_tokens == 0:
        raise DualvecError("the corpus has no words in the vocabulary to train on")
    n_threads = max(1, min(p.workers, encoded.n_sentences))
    cuts = np.searchsorted(offsets, np.linspace(0, n_tokens, n_threads + 1).astype(np.int64))
    cuts[0], cuts[-1] = 0, encoded.n_sentences
    max_len = int(np.diff(offsets).max())
    total_work = p.epochs * n_tokens
    kernels = kernels_for(dim)
    sg_kernel = kernels.sg_batch if p.batch else kernels.sg
    # Batched CBOW shares negatives among centres about a window apart in one sentence: with no
    # negatives, or with sentences too short to hold a group (tweets, queries), it runs the exact
    # kernel, which is faster there (2.7 M against 1.6 M words/s on enwiki cut into 12-token lines).
    long_sentences = n_tokens >= CBOW_GROUP * p.window * encoded.n_sentences
    cbow_kernel = kernels.cbow_batch if p.batch and p.negative > 0 and long_sentences else kernels.cbow
    stats: list[EpochStats] = []

    for epoch in range(p.epochs):
        done = np.zeros(n_threads, dtype=np.int64)
        losses = np.zeros(n_threads, dtype=np.float64)
        examples = np.zeros(n_threads, dtype=np.int64)
        errors: list[BaseException] = []
        stop = threading.Event()

        def worker(t: int) -> None:
            try:
                state = _thread_seed(p.seed, run, epoch, t)
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
            except BaseException as exc:  # surfaced in the main thread
                errors.append(exc)

        if progress is not None:
            progress.task(f"epoch {epoch + 1}/{p.epochs}", n_tokens)
        start = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(n_threads)]
        for th in threads:
            th.start()
        try:
            # Wait on a live thread rather than sleep: join returns the moment the last thread
            # ends, where a 0.1 s sleep rounded short epochs' seconds up by as much as 3%.
            while alive := [th for th in threads if th.is_alive()]:
                alive[0].join(0.1)
                if progress is not None:
                    _report(progress, done, losses, examples, start, p, epoch, n_tokens, total_work)
        except KeyboardInterrupt:
            stop.set()
            for th in threads:
                th.join()
            raise
        for th in threads:
            th.join()
        if errors:
            raise errors[0]
        seconds = time.perf_counter() - start
        n_ex = int(examples.sum())
        stats.append(EpochStats(epoch + 1, float(losses.sum()) / max(n_ex, 1), n_ex, int(done.sum()), seconds))
        if progress is not None:
            _report(progress, done, losses, examples, start, p, epoch, n_tokens, total_work)
    return stats


def _report(progress: Progress, done, losses, examples, start, p, epoch, n_tokens, total_work) -> None:
    words = int(done.sum())
    elapsed = max(time.perf_counter() - start, 1e-9)
    alpha = p.alpha - (p.alpha - p.min_alpha) * ((epoch * n_tokens + words) / total_work)
    loss = float(losses.sum()) / max(int(examples.sum()), 1)
    progress.update(words, f"{words / elapsed:,.0f} w/s  lr {alpha:.5f}  loss {loss:.4f}")
