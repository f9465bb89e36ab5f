"""What training starts from: the vocabulary chosen from a scan, and the
initial (or grown) weight matrices."""

from __future__ import annotations

import numpy as np

from ..errors import DualvecError
from ..text.encoded import ScannedCorpus
from ..text.vocab import Vocabulary
from .options import TrainingParams, Weights


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
