from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def gensim_test_file(name: str) -> Path:
    """A data file that ships inside the gensim package (a dev dependency)."""
    gensim = pytest.importorskip("gensim", reason="gensim (dev dependency) is not installed")
    path = Path(os.path.dirname(gensim.__file__)) / "test" / "test_data" / name
    if not path.exists():
        pytest.skip(f"gensim's test data has no {name}")
    return path


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
