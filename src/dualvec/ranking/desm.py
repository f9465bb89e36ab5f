"""The Dual Embedding Space Model (Mitra, Nalisnick, Craswell, Caruana, 2016).

    D̄ = (1/|D|) Σ_{d∈D} d/‖d‖                  document centroid (eq. 2)
    DESM(Q, D) = (1/|Q|) Σ_{q∈Q} cos(q, D̄)      (eq. 1)

with q from the query space and d from the document space: ``space="in-out"``
(the paper's DESM_IN-OUT: IN query words against a centroid of OUT vectors),
``"in-in"``, and for completeness ``"out-out"`` and ``"out-in"``. Because
cos(q, D̄) = q/‖q‖ · D̄/‖D̄‖, the centroids are stored unit-normalised and the
score is one dot product with the mean unit query vector q̄:
DESM(Q, D) = q̄ · D̂. Re-ranking k candidates is a gather and a (k × dim)
mat-vec; full ranking is one mat-vec over the collection.

A model tuned for ranking (:mod:`dualvec.training.contrastive`, ``model.pooling == "sum"``)
pools its raw vectors instead: D̂ and q̂ are the unit vectors of the sums of the words'
raw vectors (each word weighs its norm), and the score is their cosine, exactly the
encoder it was tuned as. :meth:`DualVectors.pooled_matrix` gives the rows either way.

Words outside the vocabulary are skipped on both sides. A query or document
with no known word scores 0 with everything (never NaN).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import DualvecError
from ..model import POOLING_UNIT_MEAN, DualVectors, parse_space
from .kernels import centroids


def term_rows(model: DualVectors, terms: Sequence[str]) -> np.ndarray:
    """Vocabulary rows of the known terms, repeats kept, unknown ones skipped."""
    index = model.vocab.index
    return np.array([index[t] for t in terms if t in index], dtype=np.int64)


def known_rows(model: DualVectors, docs_terms: Iterable[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """The vocabulary rows of each document's known words, end to end (int64, repeats kept), and
    each document's offsets into them: what the centroid kernel takes, gathered into one buffer
    rather than per-document lists (a large chunk would otherwise hold millions of objects)."""
    index = model.vocab.index
    rows = array("q")
    lengths = [0]
    for terms in docs_terms:
        before = len(rows)
        rows.extend(index[t] for t in terms if t in index)
        lengths.append(len(rows) - before)
    return (np.frombuffer(rows, np.int64) if rows else np.zeros(0, np.int64)), np.cumsum(lengths, dtype=np.int64)


def space_centroids(model: DualVectors, rows: np.ndarray, offsets: np.ndarray, doc_space: str) -> np.ndarray:
    """Unit-normalised centroids (n_docs × dim, float32) in one space, from :func:`known_rows`,
    pooled as the model pools (:meth:`DualVectors.pooled_matrix`)."""
    return centroids(rows, offsets, np.ascontiguousarray(model.pooled_matrix(doc_space), dtype=np.float32))


def build_centroids(model: DualVectors, docs_terms: Sequence[Sequence[str]], doc_space: str) -> np.ndarray:
    """Unit-normalised centroids (n_docs × dim, float32) of each document's known words."""
    return space_centroids(model, *known_rows(model, docs_terms), doc_space)


def query_vector(model: DualVectors, terms: Sequence[str], query_space: str) -> np.ndarray:
    """q̄: the mean unit vector of the query's known words (zero when none is known); for a model
    tuned for ranking, the unit vector of the sum of their raw vectors."""
    rows = term_rows(model, terms)
    pooled = model.pooled_matrix(query_space)
    if len(rows) == 0:
        return np.zeros(pooled.shape[1], dtype=np.float32)
    if model.pooling == POOLING_UNIT_MEAN:
        return pooled[rows].mean(axis=0, dtype=np.float32)
    q = pooled[rows].sum(axis=0, dtype=np.float32)
    norm = np.linalg.norm(q)
    return q / norm if norm > 0 else q


class DESM:
    """DESM scores against a matrix of unit document centroids."""

    def __init__(self, model: DualVectors, centroids_by_space: dict[str, np.ndarray], space: str = "in-out"):
        self.model = model
        self.query_space, self.doc_space = parse_space(space)
        if self.doc_space not in centroids_by_space:
            raise DualvecError(f"the index has no {self.doc_space.upper()} centroids for space {space!r}")
        self.centroids = centroids_by_space[self.doc_space]
        self.space = space

    def knows_any(self, terms: Sequence[str]) -> bool:
        """Does the model know at least one of the query's words?"""
        index = self.model.vocab.index
        return any(t in index for t in terms)

    def scores(self, terms: Sequence[str], docs: np.ndarray | None = None) -> np.ndarray:
        """DESM of the query against ``docs`` (row indices), or every document."""
        q = query_vector(self.model, terms, self.query_space)
        c = self.centroids if docs is None else self.centroids[docs]
        return c @ q

    def term_contributions(self, terms: Sequence[str], doc: int) -> list[tuple[str, float]]:
        """Each known query word's share of the document's score: cos(q, D̄)/|Q|, or for a tuned
        model q · D̂ / ‖Σq‖ (the shares add up to the score either way)."""
        rows = term_rows(self.model, terms)
        if len(rows) == 0:
            return []
        pooled = self.model.pooled_matrix(self.query_space)
        if self.model.pooling == POOLING_UNIT_MEAN:
            scale = len(rows)
        else:
            scale = float(np.linalg.norm(pooled[rows].sum(axis=0, dtype=np.float32))) or 1.0
        contrib = pooled[rows] @ self.centroids[doc] / scale
        words = self.model.words
        return [(words[r], float(c)) for r, c in zip(rows, contrib)]
