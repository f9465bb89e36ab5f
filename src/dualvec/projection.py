"""2-D layouts of words: the numbers behind the explorer's Map and Projector and :mod:`dualvec.plot`.

:func:`word_map` is the Map: a word's IN-IN neighbours (same type) and IN-OUT neighbours
(co-occurring) placed by *one* PCA of all their unit IN vectors, so a word shown in both panels
sits at the same place in both. :func:`pca2` and :func:`robust_scale` are the projection and the
axis scaling the explorer's views share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import DualvecError
from .model import DualVectors

#: The Map's panels: the pairings it lays side by side.
MAP_SPACES = ("in-in", "in-out")


def pca2(points: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """The first two principal coordinates of the rows, and the share of variance each explains.

    From the eigenvectors of the smaller of the covariance (d x d) and Gram (n x n) matrices: a
    full SVD of 10,000 x 300 rows takes seconds, this a few milliseconds."""
    centred = np.asarray(points, dtype=np.float64) - points.mean(axis=0)
    if len(points) < 2 or not centred.any():
        return np.zeros((len(points), 2)), [0.0, 0.0]
    n, d = centred.shape
    w, v = np.linalg.eigh(centred.T @ centred if n >= d else centred @ centred.T)
    w = np.clip(w[::-1], 0.0, None)  # largest first
    v = v[:, ::-1]
    k = min(2, len(w))
    xy = centred @ v[:, :k] if n >= d else v[:, :k] * np.sqrt(w[:k])
    if k < 2:
        xy = np.hstack([xy, np.zeros((n, 1))])
    total = float(w.sum()) or 1.0
    share = [float(x) / total for x in w[:k]] + [0.0] * (2 - k)
    return xy, share


def robust_scale(xy: np.ndarray, fence: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """Each axis mapped into [-1, 1] by the range of its inliers, the points within Tukey's fences
    (``fence`` interquartile ranges beyond the quartiles); outliers are clamped to the edge and
    flagged, so one far point (a stop word among the neighbours) does not squeeze the rest."""
    if len(xy) == 0:
        return xy.reshape(0, 2), np.zeros(0, dtype=bool)
    q1, q3 = np.percentile(xy, 25, axis=0), np.percentile(xy, 75, axis=0)
    lo_fence, hi_fence = q1 - fence * (q3 - q1), q3 + fence * (q3 - q1)
    inlier = (xy >= lo_fence) & (xy <= hi_fence)
    lo = np.array([xy[inlier[:, a], a].min() if inlier[:, a].any() else xy[:, a].min() for a in range(2)])
    hi = np.array([xy[inlier[:, a], a].max() if inlier[:, a].any() else xy[:, a].max() for a in range(2)])
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    half = np.where(half > 0, half, 1.0)
    scaled = (xy - mid) / half
    clamped = (np.abs(scaled) > 1.0 + 1e-9).any(axis=1)
    return np.clip(scaled, -1.0, 1.0), clamped


@dataclass
class WordMap:
    """The Map of some query words: every word shown (``words``, query words first) with its place
    (``xy``, scaled into [-1, 1]; ``clamped`` marks an outlier pinned to the edge), the share of
    variance the two axes explain, and each panel's neighbours with their cosines."""

    query: list[str]
    words: list[str]
    xy: np.ndarray
    clamped: np.ndarray
    explained: list[float]
    neighbours: dict[str, list[tuple[str, float]]]

    def position(self, word: str) -> tuple[float, float]:
        i = self.words.index(word)
        return float(self.xy[i, 0]), float(self.xy[i, 1])


def word_map(model: DualVectors, query: Sequence[str], topn: int = 15,
             spaces: Sequence[str] = MAP_SPACES) -> WordMap:
    """The query words' (their centroid's) neighbours in each pairing of ``spaces``, all placed by
    one PCA of their unit IN vectors, so a word has the same coordinates in every panel."""
    query = list(query)
    if not query:
        raise DualvecError("give a word")
    if topn < 1:
        raise DualvecError(f"topn must be at least 1, not {topn}")
    hits = {space: model.most_similar(query, space=space, topn=topn) for space in spaces}
    union = list(dict.fromkeys([*query, *(w for found in hits.values() for w, _ in found)]))
    unit_in = model.in_vectors
    rows = unit_in.lookup_rows(union)
    xy, explained = pca2(np.asarray(unit_in.unit[rows], dtype=np.float64))
    xy, clamped = robust_scale(xy)
    return WordMap(query, union, xy, clamped, explained, hits)
