"""Helpers shared by the tests (import them from here, not from conftest)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: The shared data beside the project (not every machine has it).
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def gensim_test_file(name: str) -> Path:
    """A data file that ships inside the gensim package (a dev dependency)."""
    gensim = pytest.importorskip("gensim", reason="gensim (dev dependency) is not installed")
    path = Path(os.path.dirname(gensim.__file__)) / "test" / "test_data" / name
    if not path.exists():
        pytest.skip(f"gensim's test data has no {name}")
    return path


def data_dir(model_dir: Path) -> Path:
    """The directory holding a saved model's (or index's) current files: the one its header names."""
    import json

    header_name = "dualvec.json" if (model_dir / "dualvec.json").exists() else "ranker.json"
    header = json.loads((model_dir / header_name).read_text())
    return model_dir / header["data"] if header.get("data") else model_dir
