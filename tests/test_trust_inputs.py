"""Issue 29, third adversarial pass: memory the explorer does not bound (§4), PyTerrier inputs
that gave silently wrong answers (§6), ids a TREC run cannot hold and measures that are
undefined (§7)."""

from __future__ import annotations

import numpy as np
import pytest

import dualvec
from dualvec.errors import DualvecError
from synthetic import planted_corpus


@pytest.fixture(scope="module")
def small_model():
    sents, _ = planted_corpus(n_sentences=1500)
    return dualvec.train(sents, sg=True, window=3, sample=0, min_count=1, epochs=1, vector_size=8, workers=1,
                         progress=False)


def test_the_projection_cache_stays_at_its_bound_over_many_distinct_n(small_model):
    pytest.importorskip("fastapi", reason="fastapi is a dependency of dualvec serve")
    from dualvec.serve.api import PROJECTIONS_KEPT, Explorer

    ex = Explorer(small_model)
    n_words = len(small_model.words)
    first = ex.projection("pca", n_words, False)
    for n in range(n_words - 1, n_words - 1 - 3 * PROJECTIONS_KEPT, -1):  # the pass's n = 5000, 4999, ...
        assert ex.projection("pca", n, False)["n"] <= n
        assert len(ex._projections) <= PROJECTIONS_KEPT and not ex._fitting
    assert len(ex._projections) == PROJECTIONS_KEPT
    assert ("pca", n_words, False) not in ex._projections  # the oldest went first
    recent = ("pca", n_words - 3 * PROJECTIONS_KEPT, False)
    assert ex.projection(*recent) is ex._projections[recent]  # a kept one is reused, not refitted
    again = ex.projection("pca", n_words, False)  # a dropped one is fitted again, the same
    assert again is not first and {**again, "seconds": 0} == {**first, "seconds": 0}
