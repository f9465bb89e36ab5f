"""Reading and writing formats other tools use; each import yields a
:class:`~dualvec.model.DualVectors`.

:func:`import_model` detects the format of a path: a dualvec model directory,
a gensim pickle (any version), a fastText ``.bin`` or ``.vec``, or a
word2vec.c text/binary file (header-less GloVe-style and DESM's published
tab-separated files included), optionally with a second file of OUT vectors.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DualvecError
from ..model import DualVectors, load
from ..store import is_model_dir
from .fasttext import is_fasttext_bin, load_fasttext, load_fasttext_vec
from .gensim import from_gensim, is_pickle, load_gensim, to_gensim
from .word2vec import load_word2vec_format, read_word2vec_file, save_word2vec_format

FORMATS = ("auto", "dualvec", "gensim", "fasttext", "word2vec", "desm")


def detect_format(path: str | os.PathLike) -> str:
    p = Path(path)
    if not p.exists():
        raise DualvecError(f"model not found: {p}")
    if p.is_dir():
        if is_model_dir(p):
            return "dualvec"
        raise DualvecError(f"{p} is a directory but not a dualvec model")
    if is_fasttext_bin(p):
        return "fasttext"
    if is_pickle(p):
        return "gensim"
    return "word2vec"


def import_model(path: str | os.PathLike, *, format: str = "auto", out_path: str | os.PathLike | None = None,
                 mmap: bool = True, limit: int | None = None, unicode_errors: str = "strict") -> DualVectors:
    """Open any supported model file as :class:`DualVectors` (see the module docstring).

    ``out_path`` (word2vec and DESM formats) is a second file with the OUT vectors.
    """
    if format not in FORMATS:
        raise DualvecError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    fmt = detect_format(path) if format == "auto" else format
    if out_path is not None and fmt not in ("word2vec", "desm"):
        raise DualvecError(f"a separate OUT file goes with word2vec or desm files, not {fmt}")
    if fmt == "dualvec":
        return load(path, mmap=mmap)
    if fmt == "gensim":
        return load_gensim(path, mmap=mmap)
    if fmt == "fasttext":
        if str(path).endswith(".vec"):
            return load_fasttext_vec(path, limit=limit)
        return load_fasttext(path, mmap=mmap)
    return load_word2vec_format(path, out_path, limit=limit, unicode_errors=unicode_errors)


__all__ = ["FORMATS", "detect_format", "from_gensim", "import_model", "load_fasttext", "load_fasttext_vec",
           "load_gensim", "load_word2vec_format", "read_word2vec_file", "save_word2vec_format", "to_gensim"]
