from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import gensim_test_file  # noqa: E402


@pytest.fixture(scope="session")
def lee_path() -> Path:
    return gensim_test_file("lee_background.cor")


@pytest.fixture(scope="session")
def small_model():
    """A skip-gram model of the planted corpus, trained once per session."""
    import dualvec
    from synthetic import planted_corpus

    sents, truth = planted_corpus(n_sentences=3000)
    model = dualvec.train(sents, sg=True, window=3, sample=0, min_count=1, epochs=5, vector_size=16,
                          workers=1, progress=False)
    return model, truth
