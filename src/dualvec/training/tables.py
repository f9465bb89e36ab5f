"""The read-only tables every trainer needs, built once per run: the noise
distribution's alias table, sub-sampling thresholds, Huffman paths, σ tables;
and per-thread scratch buffers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..text.vocab import HuffmanTree, Vocabulary
from .kernels import sigmoid_tables
from .options import TrainingParams


_PAD_BYTES = 128  # two cache lines: also defeats the adjacent-line prefetcher


def scratch(n: int, dtype) -> np.ndarray:
    """A zeroed per-thread buffer that shares no cache line with anything else.

    Each thread writes its RNG state and gradient buffer on every prediction;
    small numpy arrays of two threads can sit on one cache line, and the
    resulting false sharing cost 30% of skip-gram speed at random, run to run.
    """
    pad = _PAD_BYTES // np.dtype(dtype).itemsize
    return np.zeros(n + 2 * pad, dtype=dtype)[pad : pad + n]


@dataclass
class Tables:
    """Arrays the kernels read but never write. Parts a run does not use
    (Huffman paths without ``hs``, the alias table without negatives) are
    one-element placeholders, so every kernel has one signature."""

    codes: np.ndarray  # uint8 Huffman code bits, all paths end to end
    points: np.ndarray  # int32 inner-node rows along each path
    code_offsets: np.ndarray  # int64: word w's path is [code_offsets[w], code_offsets[w+1])
    noise_threshold: np.ndarray  # Walker alias table of unigram^ns_exponent
    noise_alias: np.ndarray
    keep: np.ndarray  # int64 sub-sampling thresholds against a 32-bit uniform
    sig: np.ndarray  # σ(x) and log σ(x) tables on [-MAX_EXP, MAX_EXP]
    logsig: np.ndarray


def build_tables(vocab: Vocabulary, tree: HuffmanTree | None, params: TrainingParams) -> Tables:
    """The tables for one run of ``params`` over ``vocab`` (``tree`` when ``params.hs``)."""
    if params.hs:
        if tree is None:
            raise ValueError("hierarchical softmax needs the Huffman tree")
        codes, points, code_offsets = tree.codes, tree.points, tree.offsets
    else:
        codes, points, code_offsets = np.zeros(1, np.uint8), np.zeros(1, np.int32), np.zeros(2, np.int64)
    if params.negative > 0:
        noise_threshold, noise_alias = vocab.noise_alias(params.ns_exponent)
    else:
        noise_threshold, noise_alias = np.zeros(1, np.int64), np.zeros(1, np.int32)
    sig, logsig = sigmoid_tables()
    return Tables(codes, points, code_offsets, noise_threshold, noise_alias,
                  vocab.keep_thresholds(params.sample), sig, logsig)
