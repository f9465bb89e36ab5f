"""One table of model formats, read by :func:`import_model`, :func:`export_model`
and the command line.

A :class:`Format` names a format, says whether a path holds it (``detect``),
opens it (``load``) and writes it (``save``), as ir_measures registers one
small class per measure and bm25s chooses a backend by name. A new format is
one module and one entry in :data:`FORMATS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DualvecError
from ..model import DualVectors, load
from ..store import is_model_dir
from .fasttext import is_fasttext_bin, load_fasttext, load_fasttext_vec
from .gensim import is_pickle, load_gensim, to_gensim
from .glove import is_glove_binary, load_glove
from .projector import save_projector
from .word2vec import load_word2vec_format, save_word2vec_format


@dataclass(frozen=True)
class Format:
    """A model format: how to recognise, read and (where possible) write it."""

    name: str
    description: str
    #: Does the existing path hold this format? ``None``: never auto-detected (choose it by name).
    detect: Callable[[Path], bool] | None
    #: ``load(path, *, out_path, mmap, limit, encoding_errors) -> DualVectors``; ``None``: export only.
    load: Callable[..., DualVectors] | None
    #: ``save(model, path, *, which, binary)``; ``None``: dualvec cannot write it.
    save: Callable[..., Any] | None = None
    #: Takes a second file with the OUT vectors.
    separate_out: bool = False
    #: Takes a file naming its rows (GloVe's ``vocab.txt``).
    separate_vocab: bool = False


def _load_dualvec(path, *, mmap, **_):
    return load(path, mmap=mmap)


def _save_dualvec(model, path, **_):
    model.save(path)


def _load_gensim(path, *, mmap, **_):
    return load_gensim(path, mmap=mmap)


def _save_gensim(model, path, **_):
    to_gensim(model).save(str(path))


def _load_fasttext(path, *, mmap, limit, **_):
    if str(path).endswith(".vec"):
        return load_fasttext_vec(path, limit=limit)
    return load_fasttext(path, mmap=mmap)


def _load_word2vec(path, *, out_path, limit, encoding_errors, **_):
    return load_word2vec_format(path, out_path, limit=limit, encoding_errors=encoding_errors)


def _load_glove(path, *, vocab_path=None, limit, encoding_errors, **_):
    return load_glove(path, vocab_path, limit=limit, encoding_errors=encoding_errors)


def _save_word2vec(model, path, *, which="in", binary=False, **_):
    save_word2vec_format(model, path, which=which, binary=binary)


def _save_projector(model, path, *, limit=None, **_):
    save_projector(model, path, limit=limit)


#: In detection order; the first whose ``detect`` says yes wins, word2vec text last.
FORMATS: dict[str, Format] = {f.name: f for f in [
    Format("dualvec", "dualvec's model directory (JSON + .npy)", lambda p: p.is_dir() and is_model_dir(p),
           _load_dualvec, _save_dualvec),
    Format("fasttext", "fastText .bin (or .vec, IN only)", lambda p: p.is_file() and is_fasttext_bin(p),
           _load_fasttext),
    Format("gensim", "gensim Word2Vec/KeyedVectors pickle, any version (a gensim 4 .model on export)",
           lambda p: p.is_file() and is_pickle(p), _load_gensim, _save_gensim),
    Format("glove", "Stanford GloVe with both spaces (IN = word vectors W, OUT = context vectors W̃): "
           "-model 0 text, or vectors.bin with its vocab.txt", is_glove_binary, _load_glove,
           separate_vocab=True),
    Format("word2vec", "word2vec.c text or binary file (one space; GloVe's -model 1/2 text too)", lambda p: p.is_file(), _load_word2vec,
           _save_word2vec, separate_out=True),
    Format("desm", "DESM's published IN and OUT files", None, _load_word2vec, separate_out=True),
    Format("projector", "TensorFlow Embedding Projector directory: vectors.tsv and metadata.tsv, IN and OUT "
           "(export only)", None, None, _save_projector),
]}


def detect_format(path: str | os.PathLike) -> str:
    """The name of the format ``path`` holds."""
    p = Path(path)
    if not p.exists():
        raise DualvecError(f"model not found: {p}")
    for fmt in FORMATS.values():
        if fmt.detect is not None and fmt.detect(p):
            return fmt.name
    if p.is_dir():
        raise DualvecError(f"{p} is a directory but not a dualvec model")
    raise DualvecError(f"{p} is not a file dualvec can read")


def get_format(name: str, *, writable: bool = False) -> Format:
    names = [n for n, f in FORMATS.items() if (f.save if writable else f.load) is not None]
    if name not in names:
        raise DualvecError(f"unknown format {name!r}; use one of {', '.join(names)}")
    return FORMATS[name]


def import_model(path: str | os.PathLike, *, format: str = "auto", out_path: str | os.PathLike | None = None,
                 mmap: bool = True, limit: int | None = None, encoding_errors: str = "strict",
                 vocab_path: str | os.PathLike | None = None) -> DualVectors:
    """Open any supported model as :class:`DualVectors`; ``format="auto"`` detects it.

    ``out_path`` (word2vec and DESM formats) is a second file with the OUT vectors; ``vocab_path``
    (GloVe's ``vectors.bin``) the file naming its rows, by default the ``vocab.txt`` beside it.
    GloVe's ``-model 0`` text is told from word2vec text only by name: ``format="glove"``.
    """
    if format == "auto" and vocab_path is not None:
        format = "glove"
    fmt = get_format(detect_format(path) if format == "auto" else format)
    if out_path is not None and not fmt.separate_out:
        raise DualvecError(f"a separate OUT file goes with {' or '.join(n for n, f in FORMATS.items() if f.separate_out)} "
                           f"files, not {fmt.name}")
    if vocab_path is not None and not fmt.separate_vocab:
        raise DualvecError(f"a vocabulary file goes with {' or '.join(n for n, f in FORMATS.items() if f.separate_vocab)} "
                           f"files, not {fmt.name}")
    return fmt.load(path, out_path=out_path, mmap=mmap, limit=limit, encoding_errors=encoding_errors,
                    vocab_path=vocab_path)


def export_model(model: DualVectors, path: str | os.PathLike, *, format: str = "dualvec", which: str = "in",
                 binary: bool = False, limit: int | None = None) -> None:
    """Write ``model`` in a format other tools read; ``which`` and ``binary`` apply to one-space formats,
    ``limit`` (the most frequent words kept) to the projector's."""
    get_format(format, writable=True).save(model, path, which=which, binary=binary, limit=limit)
