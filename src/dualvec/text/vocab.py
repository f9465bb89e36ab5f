"""The vocabulary: words, their counts, and the tables training derives from them.

Words are ordered by descending count (ties keep first-seen order), as gensim
and word2vec.c order them, so row ``i`` of both embedding matrices is word
``words[i]``.
"""

from __future__ import annotations

import heapq
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from ..errors import DualvecError, UnknownWordError

# Sub-sampling thresholds and noise-alias probabilities are compared against
# 32-bit random integers drawn inside the kernels.
_U32 = float(1 << 32)


def unknown_word_message(missing: list[str], index: dict[str, int]) -> str:
    """"not in vocabulary: 'War' (did you mean 'war'?)": case is the usual culprit."""
    shown = ", ".join(repr(w) for w in missing[:5]) + (" ..." if len(missing) > 5 else "")
    hints = [f"{w.lower()!r}" for w in missing[:5] if isinstance(w, str) and w.lower() != w and w.lower() in index]
    return f"not in vocabulary: {shown}" + (f" (did you mean {', '.join(hints)}?)" if hints else "")


@dataclass
class HuffmanTree:
    """Hierarchical-softmax paths, flattened.

    Word ``i``'s path runs over ``points[offsets[i]:offsets[i+1]]`` (inner-node
    rows of the HS output matrix, root first) with the branch bits
    ``codes[offsets[i]:offsets[i+1]]``; word2vec.c's ``vocab[i].point`` and
    ``vocab[i].code``.
    """

    codes: np.ndarray  # uint8
    points: np.ndarray  # int32
    offsets: np.ndarray  # int64, len = vocab size + 1

    def path(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return self.codes[lo:hi], self.points[lo:hi]


@dataclass
class Vocabulary:
    """Words (index -> word), their counts, and the reverse index."""

    words: list[str]
    counts: np.ndarray  # int64, same order as words
    _index: dict[str, int] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.counts = np.asarray(self.counts, dtype=np.int64)
        if len(self.counts) != len(self.words):
            raise DualvecError(f"vocabulary has {len(self.words)} words but {len(self.counts)} counts")

    @property
    def index(self) -> dict[str, int]:
        """word -> row, built on first use."""
        if self._index is None:
            index = {w: i for i, w in enumerate(self.words)}
            if len(index) != len(self.words):
                seen: set[str] = set()
                twice = next(w for w in self.words if w in seen or seen.add(w))
                raise DualvecError(f"the vocabulary holds the word {twice!r} twice")
            self._index = index
        return self._index

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return self.find(word) is not None

    def find(self, word: object) -> int | None:
        """The row of ``word``, or ``None``. A word typed in another Unicode form (an NFD ``café``)
        finds the NFC form the tokeniser puts text in: the two look the same to a user."""
        row = self.index.get(word)  # type: ignore[call-overload]
        if row is None and isinstance(word, str) and not word.isascii():
            row = self.index.get(unicodedata.normalize("NFC", word))
        return row

    def get_index(self, word: str) -> int:
        row = self.find(word)
        if row is None:
            raise UnknownWordError(unknown_word_message([word], self.index))
        return row

    @property
    def total_words(self) -> int:
        return int(self.counts.sum())

    # -- tables for training -------------------------------------------------

    def keep_thresholds(self, sample: float) -> np.ndarray:
        """Frequent-word down-sampling as 32-bit thresholds (int64 array).

        word2vec.c keeps an occurrence of word w with probability
        ``(sqrt(c_w / (s·N)) + 1) · (s·N) / c_w`` (capped at 1), for count c_w,
        corpus size N and ``sample`` s; gensim uses the same formula.
        """
        counts = self.counts.astype(np.float64)
        if sample <= 0 or len(counts) == 0:
            p = np.ones_like(counts)
        else:
            thr = sample * counts.sum()
            with np.errstate(divide="ignore"):
                p = (np.sqrt(counts / thr) + 1.0) * thr / np.maximum(counts, 1.0)
            p = np.minimum(p, 1.0)
        return np.round(p * _U32).astype(np.int64)

    def noise_alias(self, ns_exponent: float) -> tuple[np.ndarray, np.ndarray]:
        """Walker alias table for drawing negatives from ``count ** ns_exponent``.

        Returns (threshold, alias): draw a uniform slot ``j`` and a 32-bit
        ``u``; the sample is ``j`` if ``u < threshold[j]`` else ``alias[j]``.
        O(1) per draw, against gensim's binary search over a cumulative table.
        """
        n = len(self.counts)
        weights = self.counts.astype(np.float64) ** ns_exponent
        total = weights.sum()
        if n == 0 or not np.isfinite(total) or total <= 0:
            weights = np.ones(n)
            total = float(n)
        prob = weights * (n / total)
        alias = np.arange(n, dtype=np.int32)
        small = [i for i in range(n) if prob[i] < 1.0]
        large = [i for i in range(n) if prob[i] >= 1.0]
        while small and large:
            s, g = small.pop(), large[-1]
            alias[s] = g
            prob[g] -= 1.0 - prob[s]
            if prob[g] < 1.0:
                small.append(large.pop())
        prob[large] = 1.0
        prob[small] = 1.0  # numerical leftovers
        return np.round(np.minimum(prob, 1.0) * _U32).astype(np.int64), alias

    def huffman_tree(self) -> HuffmanTree:
        """Binary Huffman tree over the counts, as word2vec.c's CreateBinaryTree.

        Inner nodes are numbered 0..V-2 with the root last (V-2); a word's
        path lists them root first. Frequent words get short codes.
        """
        n = len(self.counts)
        if n < 2:
            raise DualvecError("hierarchical softmax needs a vocabulary of at least 2 words")
        heap = [(int(c), i) for i, c in enumerate(self.counts)]
        heapq.heapify(heap)
        parent = np.zeros(2 * n - 1, dtype=np.int64)
        bit = np.zeros(2 * n - 1, dtype=np.uint8)
        for k in range(n - 1):
            c1, a = heapq.heappop(heap)
            c2, b = heapq.heappop(heap)
            node = n + k
            parent[a], parent[b] = node, node
            bit[b] = 1
            heapq.heappush(heap, (c1 + c2, node))
        root = 2 * n - 2
        lengths = np.zeros(n, dtype=np.int64)
        paths: list[list[int]] = []
        for i in range(n):
            path = []
            node = i
            while node != root:
                path.append(node)
                node = int(parent[node])
            paths.append(path)
            lengths[i] = len(path)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        codes = np.empty(offsets[-1], dtype=np.uint8)
        points = np.empty(offsets[-1], dtype=np.int32)
        for i, path in enumerate(paths):
            lo = offsets[i]
            # path runs leaf -> just below root; store it root first.
            for j, node in enumerate(reversed(path)):
                codes[lo + j] = bit[node]
                points[lo + j] = int(parent[node]) - n
        return HuffmanTree(codes=codes, points=points, offsets=offsets)

