"""String-keyed vectors for one embedding space (IN or OUT).

Like gensim's ``KeyedVectors``, minus the training state: ``words`` (row ->
word), ``vectors`` (the raw matrix), ``v["word"]``, ``"word" in v``, ``len(v)``.
Unit-normalised rows are computed lazily, once, into a separate matrix and
never overwrite the raw vectors (gensim's ``init_sims(replace=True)``
confusion); :meth:`Vectors.discard_raw` is the explicit way to keep only the
unit rows when memory matters.

Rows of norm zero (for instance OUT rows of words that never occurred as a
prediction target, which start at zero) stay zero when normalised: their
cosine with anything is 0, never NaN.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .errors import DualvecError, UnknownWordError
from .text.vocab import Vocabulary, unknown_word_message


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float32); zero rows stay zero."""
    m = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # a zero row divides by 1 and stays zero
    return (m / norms).astype(np.float32, copy=False)


class Vectors:
    """One space's vectors, keyed by word, sharing the model's vocabulary."""

    def __init__(self, vocab: Vocabulary, vectors: np.ndarray, name: str = "in", is_unit: bool = False):
        if vectors.ndim != 2 or vectors.shape[0] != len(vocab):
            raise DualvecError(
                f"{name} vectors have shape {vectors.shape}, expected ({len(vocab)}, dim) for the vocabulary"
            )
        if vectors.shape[1] == 0:
            raise DualvecError(f"{name} vectors have 0 dimensions (shape {vectors.shape}): nothing to compare")
        self.vocab = vocab
        self.name = name
        self._vectors = vectors
        self._unit: np.ndarray | None = vectors if is_unit else None
        self.is_unit = is_unit

    # -- the container protocol -------------------------------------------------

    @property
    def words(self) -> list[str]:
        """Row -> word."""
        return self.vocab.words

    @property
    def vectors(self) -> np.ndarray:
        """The raw matrix (the unit matrix after :meth:`discard_raw`)."""
        return self._vectors

    @property
    def vector_size(self) -> int:
        return int(self._vectors.shape[1])

    def __len__(self) -> int:
        return len(self.vocab)

    def __contains__(self, word: object) -> bool:
        return word in self.vocab

    def __iter__(self):
        return iter(self.vocab.words)

    def get_index(self, word: str) -> int:
        return self.vocab.get_index(word)

    def __getitem__(self, word: str | Iterable[str]) -> np.ndarray:
        if isinstance(word, str):
            return self._vectors[self.get_index(word)]
        return self._vectors[[self.get_index(w) for w in word]]

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        i = self.get_index(word)
        return self.unit[i] if norm else self._vectors[i]

    # -- gensim 4's KeyedVectors names, for code written against gensim ------------

    @property
    def key_to_index(self) -> dict[str, int]:
        """word -> row (gensim's ``key_to_index``; read it, do not change it)."""
        return self.vocab.index

    @property
    def index_to_key(self) -> list[str]:
        """row -> word (gensim's ``index_to_key``, once ``index2word``): :attr:`words`."""
        return self.vocab.words

    def has_index_for(self, word: object) -> bool:
        """gensim's ``has_index_for``: ``word in vectors``."""
        return word in self.vocab

    def get_normed_vectors(self) -> np.ndarray:
        """gensim's ``get_normed_vectors()``: :attr:`unit`, the raw rows left as they are."""
        return self.unit

    def __repr__(self) -> str:
        return f"Vectors({self.name}, {len(self)} words x {self.vector_size} dims)"

    # -- normalised rows ---------------------------------------------------------

    @property
    def unit(self) -> np.ndarray:
        """Unit-normalised rows, computed on first use and cached."""
        if self._unit is None:
            self._unit = unit_rows(self._vectors)
        return self._unit

    @property
    def norms(self) -> np.ndarray:
        return np.linalg.norm(np.asarray(self._vectors, dtype=np.float32), axis=1)

    def discard_raw(self) -> None:
        """Keep only unit-normalised rows, freeing the raw matrix.

        Cosine similarities are unchanged; vector lengths (and further
        training) are lost. The change is recorded, so a saved model says so.
        """
        self._vectors = self.unit
        self.is_unit = True

    def lookup_rows(self, words: Iterable[str]) -> np.ndarray:
        """Rows of words, raising one clear error that lists every unknown word."""
        words = list(words)
        rows = [self.vocab.find(w) for w in words]
        missing = [w for w, r in zip(words, rows) if r is None]
        if missing:
            raise UnknownWordError(unknown_word_message(missing, self.vocab.index))
        return np.array(rows, dtype=np.int64)

