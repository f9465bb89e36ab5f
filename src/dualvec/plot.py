"""The explorer's Map for notebooks and papers, drawn with matplotlib (``pip install 'dualvec[plot]'``).

:func:`plot_spaces` draws a word's IN-IN neighbours (words of the same type) beside its IN-OUT
neighbours (words that occur with it), both placed by one PCA of all their unit IN vectors
(:func:`dualvec.projection.word_map`, the numbers the explorer's Map shows), so a word in both
panels sits at the same place in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import DualvecError
from .model import DualVectors
from .projection import MAP_SPACES, word_map

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Each panel's title: the pairing and what its neighbours are.
PANEL_TITLES = {"in-in": "IN-IN: words of the same type", "in-out": "IN-OUT: words that occur with it",
                "out-in": "OUT-IN", "out-out": "OUT-OUT"}


def plot_spaces(model: DualVectors, words: str | Sequence[str], *, topn: int = 15,
                spaces: Sequence[str] = MAP_SPACES, figsize: tuple[float, float] | None = None,
                labels: bool = True) -> Figure:
    """A matplotlib :class:`~matplotlib.figure.Figure` with one panel per pairing in ``spaces``
    (IN-IN beside IN-OUT), each showing the ``topn`` neighbours of ``words`` (one word, or several
    looked up as their centroid) in one shared projection. Query words are drawn in red, the
    neighbours' shade is their cosine, and an outlier pinned to the edge is ringed.

    The figure is made without pyplot, so it works with any backend (Agg on a server); in Jupyter
    it shows as the cell's value, and ``fig.savefig("map.png")`` writes it.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise DualvecError("plotting needs matplotlib: pip install 'dualvec[plot]'") from None
    query = [words] if isinstance(words, str) else list(words)
    layout = word_map(model, query, topn, spaces)
    where = {w: i for i, w in enumerate(layout.words)}
    fig = Figure(figsize=figsize or (6 * len(spaces), 5.5), layout="constrained")
    axes = fig.subplots(1, len(spaces), sharex=True, sharey=True, squeeze=False)[0]
    for ax, space in zip(axes, spaces):
        found = layout.neighbours[space]
        rows = [where[w] for w, _ in found]
        xy = layout.xy[rows]
        cos = [c for _, c in found]
        approximate = " (approx.)" if model.is_approximate(space) else ""
        ax.set_title(PANEL_TITLES.get(space, space.upper()) + approximate)
        dots = ax.scatter(xy[:, 0], xy[:, 1], c=cos, cmap="viridis", s=28, zorder=2, label="neighbours")
        ring = layout.clamped[rows]
        if ring.any():
            ax.scatter(xy[ring, 0], xy[ring, 1], s=110, facecolors="none", edgecolors="0.4", zorder=1)
        q = [where[w] for w in query]
        ax.scatter(layout.xy[q, 0], layout.xy[q, 1], c="tab:red", marker="*", s=160, zorder=3, label="query")
        if labels:
            for w, (x, y) in zip([*query, *(w for w, _ in found)], layout.xy[q + rows]):
                ax.annotate(w, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=8)
        ax.set_xlim(-1.15, 1.15)
        ax.set_ylim(-1.15, 1.15)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(dots, ax=ax, shrink=0.6, label="cosine")
    share = ", ".join(f"{100 * e:.0f}%" for e in layout.explained)
    fig.suptitle(f"{' '.join(query)}: one PCA of all words' IN vectors (axes explain {share})", fontsize=10)
    return fig
