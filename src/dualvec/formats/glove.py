"""Stanford GloVe's output with both of its spaces: word vectors W and context vectors W̃.

GloVe trains two matrices, as word2vec does, and writes both when asked:

* text, ``glove -model 0``: per line the word, then the d values and the bias of W, then the
  d values and the bias of W̃ (2·(d+1) numbers), optionally after a ``"<words> <d>"`` header
  line (``-write-header 1``); the last line is GloVe's ``<unk>`` (the mean of the 100 rarest
  words), kept as a word like any other;
* binary, ``vectors.bin`` (``-binary 1`` or ``2``): every row of W, then every row of W̃, each
  d+1 little-endian float64 (the d values, then the bias), with no header and no words: those
  come from ``vocab.txt`` (``vocab_count``'s output, ``word count`` per line, in row order), so
  the file holds exactly 2·V·(d+1)·8 bytes and d follows from its size.

dualvec imports W as IN and W̃ as OUT, so DESM and every pairing of spaces work on a GloVe
model. The biases are not part of either space (mixing them in would change every cosine):
:func:`read_glove` returns them beside the matrices, and :func:`load_glove` leaves them out.
GloVe's ``-model 1`` and ``-model 2`` text (W, or W + W̃, without biases) hold one space and are
read as header-less word2vec text, IN only, as before.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DualvecError
from ..model import OUT_IMPORTED, DualVectors
from ..text.vocab import Vocabulary
from ..training import TrainingParams
from ..text.sources import check_encoding_errors
from .word2vec import MAX_WORD_BYTES, _check_limit, _decode, _looks_like_a_vector_line, _parse_header, _read_text

#: The file beside ``vectors.bin`` that names its rows, as GloVe's demo script writes it.
VOCAB_NAME = "vocab.txt"
#: Rows of the binary matrix converted to float32 at a time: memory stays flat on a large file.
_BLOCK = 1 << 15


@dataclass
class GloveParts:
    """Everything a GloVe file holds: the words (and counts, from ``vocab.txt``), W and W̃ as
    float32, and the two bias vectors, which no space includes."""

    words: list[str]
    counts: np.ndarray | None
    word_vectors: np.ndarray
    context_vectors: np.ndarray
    word_biases: np.ndarray
    context_biases: np.ndarray


def _regular_file(path: Path, what: str) -> None:
    if not path.exists():
        raise DualvecError(f"{what} not found: {path}")
    if not path.is_file():  # a directory, a FIFO (would block) or a device (would never end)
        raise DualvecError(f"{path} is not a regular file; a {what} must be one")


def _check_finite(path: Path, words: list[str], *arrays: np.ndarray) -> None:
    for a in arrays:
        bad = ~np.isfinite(a) if a.ndim == 1 else ~np.isfinite(a).all(axis=1)
        if bad.any():
            row = int(np.argmax(bad))
            raise DualvecError(f"{path}: the GloVe parameters of {words[row]!r} hold NaN or infinity")


def read_glove_text(path: str | os.PathLike, *, limit: int | None = None,
                    encoding_errors: str = "strict") -> GloveParts:
    """W, W̃ and both biases from GloVe's ``-model 0`` text output (header line optional)."""
    p = Path(path)
    _regular_file(p, "GloVe file")
    check_encoding_errors(encoding_errors)
    _check_limit(limit)
    with open(p, "rb") as fh:
        header = _parse_header(fh.readline(1 << 16), p)
        if header is None:
            fh.seek(0)
        n, dim = header if header is not None else (None, None)
        # A header gives d; each line then holds 2·(d+1) numbers, checked line by line.
        with np.errstate(over="ignore"):  # a number beyond float32 becomes infinity, refused by name
            words, values = _read_text(fh, p, n, None if dim is None else 2 * (dim + 1), limit, encoding_errors)
    width = values.shape[1]
    if width % 2 or width < 4:
        raise DualvecError(f"{p}: lines hold {width} numbers; GloVe's -model 0 text holds 2·(d+1) (the word "
                           "vector and its bias, then the context vector and its bias). One space without "
                           "biases (-model 1 or 2) is word2vec text: use --format word2vec")
    d = width // 2 - 1
    parts = GloveParts(words, None, values[:, :d], values[:, d + 1 : 2 * d + 1],
                       values[:, d].copy(), values[:, 2 * d + 1].copy())
    _check_finite(p, words, parts.word_biases, parts.context_biases)
    return parts


def read_glove_vocab(path: str | os.PathLike, *, encoding_errors: str = "strict") -> tuple[list[str], np.ndarray]:
    """Words and counts of GloVe's ``vocab.txt`` (``word count`` per line, in row order)."""
    p = Path(path)
    _regular_file(p, "GloVe vocabulary")
    words: list[str] = []
    counts: list[int] = []
    longest = MAX_WORD_BYTES + 32
    with open(p, "rb") as fh:
        for lineno, line in enumerate(iter(lambda: fh.readline(longest + 1), b""), start=1):
            if len(line) > longest:
                raise DualvecError(f"{p}: line {lineno} is longer than {longest:,} bytes, more than a word "
                                   "and its count take")
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2:
                raise DualvecError(f"{p}: line {lineno} is not 'word count' (GloVe's vocab.txt)")
            try:
                count = int(parts[1])
            except ValueError:
                raise DualvecError(f"{p}: line {lineno}: the count {parts[1][:40].decode('utf-8', 'backslashreplace')!r} is not a whole number") from None
            if count < 0:
                raise DualvecError(f"{p}: line {lineno}: the count {count} is negative")
            words.append(_decode(parts[0], encoding_errors, p, len(words)))
            counts.append(count)
    if not words:
        raise DualvecError(f"{p}: no words found")
    return words, np.array(counts, dtype=np.int64)


def read_glove_binary(path: str | os.PathLike, vocab_path: str | os.PathLike | None = None, *,
                      limit: int | None = None, encoding_errors: str = "strict") -> GloveParts:
    """W, W̃ and both biases from GloVe's ``vectors.bin``; the words from ``vocab_path`` (default:
    ``vocab.txt`` beside it). The file must hold exactly 2·V·(d+1) float64 for the V words."""
    p = Path(path)
    _regular_file(p, "GloVe file")
    _check_limit(limit)
    vp = Path(vocab_path) if vocab_path is not None else p.with_name(VOCAB_NAME)
    words, counts = read_glove_vocab(vp, encoding_errors=encoding_errors)
    v = len(words)
    size = p.stat().st_size
    row_values, rest = divmod(size, 2 * v * 8)
    if rest or row_values < 2:
        raise DualvecError(f"{p} holds {size:,} bytes, not 2·V·(d+1)·8 for the V = {v:,} words of {vp} and a "
                           "dimension d of at least 1: not GloVe's vectors.bin for that vocabulary")
    d = row_values - 1
    keep = v if limit is None else min(v, limit)
    table = np.memmap(p, dtype="<f8", mode="r", shape=(2 * v, d + 1))
    w = np.empty((keep, d), dtype=np.float32)
    c = np.empty((keep, d), dtype=np.float32)
    with np.errstate(over="ignore"):  # a double beyond float32 becomes infinity, refused below by name
        for lo in range(0, keep, _BLOCK):
            hi = min(keep, lo + _BLOCK)
            w[lo:hi] = table[lo:hi, :d]
            c[lo:hi] = table[v + lo : v + hi, :d]
    parts = GloveParts(words[:keep], counts[:keep], w, c, np.array(table[:keep, d]), np.array(table[v : v + keep, d]))
    del table
    _check_finite(p, parts.words, parts.word_biases, parts.context_biases)
    return parts


def is_glove_binary(path: str | os.PathLike) -> bool:
    """A file beside a ``vocab.txt`` whose size is 2·V·(d+1)·8 bytes for its V words (d ≥ 1)."""
    p = Path(path)
    vp = p.with_name(VOCAB_NAME)
    try:
        if not (p.is_file() and vp.is_file()) or p.name == VOCAB_NAME:
            return False
        size = p.stat().st_size
        if size == 0 or vp.stat().st_size > size:  # each word costs ≥ 16·2 bytes in the matrix, ≥ 4 in vocab.txt
            return False
        with open(vp, "rb") as fh:
            v = sum(1 for line in fh if line.strip())
    except OSError:
        return False
    return v > 0 and size % (16 * v) == 0 and size // (16 * v) >= 2


def to_model(parts: GloveParts) -> DualVectors:
    """IN = W, OUT = W̃ (biases left out)."""
    known = parts.counts is not None
    counts = parts.counts if known else np.zeros(len(parts.words), dtype=np.int64)
    params = TrainingParams(vector_size=parts.word_vectors.shape[1])
    return DualVectors(Vocabulary(list(parts.words), counts), np.ascontiguousarray(parts.word_vectors),
                       np.ascontiguousarray(parts.context_vectors), params=params, params_recorded=["vector_size"],
                       out_kind=OUT_IMPORTED, counts_known=known)


def load_glove(path: str | os.PathLike, vocab_path: str | os.PathLike | None = None, *, limit: int | None = None,
               encoding_errors: str = "strict") -> DualVectors:
    """A GloVe model with both spaces: IN = word vectors W, OUT = context vectors W̃.

    ``path`` is ``-model 0`` text, or ``vectors.bin`` with its ``vocab.txt`` (``vocab_path``, by
    default the one beside it). The layout is told by that ``vocab.txt`` and the file's size; the
    biases are left out (:func:`read_glove` keeps them).
    """
    return to_model(read_glove(path, vocab_path, limit=limit, encoding_errors=encoding_errors))


def read_glove(path: str | os.PathLike, vocab_path: str | os.PathLike | None = None, *, limit: int | None = None,
               encoding_errors: str = "strict") -> GloveParts:
    """:class:`GloveParts` of a GloVe file, text (``-model 0``) or binary (with ``vocab_path``, or a
    ``vocab.txt`` beside a file that does not start as text does)."""
    if vocab_path is not None or is_glove_binary(path) or (Path(path).with_name(VOCAB_NAME).is_file()
                                                          and not _starts_as_text(Path(path))):
        return read_glove_binary(path, vocab_path, limit=limit, encoding_errors=encoding_errors)
    return read_glove_text(path, limit=limit, encoding_errors=encoding_errors)


def _starts_as_text(path: Path) -> bool:
    """Does the file start with a header line or a word and numbers (GloVe's text output)?"""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(1 << 16)
    except OSError:
        return True  # let the text reader say what is wrong
    try:
        return _parse_header(first, path) is not None or _looks_like_a_vector_line(first)
    except DualvecError:
        return True
