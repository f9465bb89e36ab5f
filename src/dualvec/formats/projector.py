"""The TensorFlow Embedding Projector's two files, both spaces in one view (export only).

``vectors.tsv`` holds one vector a line, tab-separated; ``metadata.tsv`` one line per vector
with a header: ``word``, ``space`` (``IN`` or ``OUT``: which space the row comes from) and
``count`` (the training count; empty where the model does not know it). Each word appears once
per space, IN rows first, so the Projector's search and colouring by ``space`` show where a word's
IN and OUT vectors lie. Vectors are written unit-length, since every comparison dualvec makes is a
cosine (IN and OUT vectors differ in scale; the Projector would otherwise map norms). Load both
files with the Projector's "Load" button (https://projector.tensorflow.org/).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..atomic import write_file_atomic
from ..errors import DualvecError
from ..model import OUT_HS_LINEARISED, DualVectors
from .word2vec import utf8_words

__all__ = ["save_projector"]

VECTORS_FILE = "vectors.tsv"
METADATA_FILE = "metadata.tsv"


def save_projector(model: DualVectors, path: str | os.PathLike, *, limit: int | None = None) -> Path:
    """Write ``path/vectors.tsv`` and ``path/metadata.tsv`` for the ``limit`` most frequent words
    (default all) in IN and, where the model has it, OUT."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise DualvecError(f"{target} exists and is not a directory: the projector export writes a directory")
    words = model.words[:limit] if limit else model.words
    bad = next((w for w in words if any(c in w for c in "\t\n\r")), None)
    if bad is not None:
        raise DualvecError(f"word {bad!r} holds a tab or a line break; a TSV file cannot hold it")
    utf8_words(words, "a TSV file")  # before anything is written
    spaces = [("IN", model.in_vectors)]
    if model.out_vectors is not None:
        spaces.append(("OUT (approx.)" if model.out_kind == OUT_HS_LINEARISED else "OUT", model.out_vectors))
    counts = [f"{int(c)}" for c in model.vocab.counts[: len(words)]] if model.counts_known else [""] * len(words)
    target.mkdir(parents=True, exist_ok=True)

    def vectors(fh) -> None:
        for _, space in spaces:
            unit = np.asarray(space.unit[: len(words)], dtype=np.float32)
            for lo in range(0, len(words), 4096):
                rows = unit[lo : lo + 4096].astype(str)  # the shortest text that round-trips
                fh.write("".join("\t".join(r) + "\n" for r in rows).encode("utf-8"))

    def metadata(fh) -> None:
        fh.write(b"word\tspace\tcount\n")
        for name, _ in spaces:
            fh.write("".join(f"{w}\t{name}\t{c}\n" for w, c in zip(words, counts)).encode("utf-8"))

    write_file_atomic(target / VECTORS_FILE, vectors)
    write_file_atomic(target / METADATA_FILE, metadata)
    return target
