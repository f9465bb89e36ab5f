"""dualvec.plot.plot_spaces draws the explorer's Map: IN-IN beside IN-OUT in one shared projection."""

from __future__ import annotations

import numpy as np
import pytest

from dualvec.projection import word_map

pytest.importorskip("matplotlib")

from dualvec.plot import plot_spaces  # noqa: E402


def test_two_panels_share_one_projection(small_model, tmp_path):
    model, truth = small_model
    word = model.words[0]
    fig = plot_spaces(model, word, topn=6)
    axes = fig.axes[:2]  # then the two colour bars
    assert len([a for a in fig.axes if a.get_title()]) == 2
    assert [a.get_title() for a in axes] == ["IN-IN: words of the same type", "IN-OUT: words that occur with it"]
    layout = word_map(model, [word], topn=6)
    for ax, space in zip(axes, ("in-in", "in-out")):
        neighbours, query = ax.collections[0], ax.collections[-1]
        assert len(neighbours.get_offsets()) == 6 and len(query.get_offsets()) == 1
        for (w, _), xy in zip(layout.neighbours[space], neighbours.get_offsets()):
            np.testing.assert_allclose(xy, layout.position(w))  # each word where the shared PCA puts it
        np.testing.assert_allclose(query.get_offsets()[0], layout.position(word))
        shown = {t.get_text() for t in ax.texts}
        assert shown == {word, *(w for w, _ in layout.neighbours[space])}
    # the same word, if in both panels, is at the same place in both (one projection)
    common = {w for w, _ in layout.neighbours["in-in"]} & {w for w, _ in layout.neighbours["in-out"]}
    for w in common:
        a = [t.get_position() for t in axes[0].texts if t.get_text() == w]
        b = [t.get_position() for t in axes[1].texts if t.get_text() == w]
        assert a == b
    fig.savefig(tmp_path / "map.png")  # Agg, no display
    assert (tmp_path / "map.png").stat().st_size > 1000


def test_unknown_word_is_one_line(small_model):
    model, _ = small_model
    from dualvec import DualvecError

    with pytest.raises(DualvecError, match="zzzz"):
        plot_spaces(model, ["zzzz"])
