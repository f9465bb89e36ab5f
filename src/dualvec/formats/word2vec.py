"""word2vec.c vector files (gensim's ``save_word2vec_format``), text and binary.

Layout: a header line ``"<words> <dims>\\n"``, then one entry per word:

* text: ``word v1 v2 ... vD\\n``;
* binary: ``word`` + ``b" "`` + D little-endian float32 + ``b"\\n"`` (word2vec.c
  writes the newline; some writers omit it, and the reader accepts both).

Either space can be written (``which="in"`` or ``"out"``), so OUT vectors reach
every tool that reads word2vec files. Reading takes an IN file and optionally
an OUT file, which must list the same words with the same dimension. Text
files without the header line (GloVe style) are read too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..atomic import write_file_atomic
from ..errors import DualvecError
from ..model import OUT_IMPORTED, DualVectors
from ..text.sources import check_encoding_errors
from ..text.vocab import Vocabulary

_READ = 1 << 20
#: The longest word, in UTF-8 bytes, the writer writes and the readers read (gensim has no bound;
#: word2vec.c's is 100): a longer one is refused at export, and a reader never scans further.
MAX_WORD_BYTES = 1 << 16


def utf8_words(words: list[str], what: str) -> list[bytes]:
    """Each word in UTF-8, for a text format; a word holding a lone surrogate (which a model read
    from a file may) is one :class:`DualvecError` naming it, since UTF-8 cannot hold it."""
    out = []
    for w in words:
        try:
            out.append(w.encode("utf-8"))
        except UnicodeEncodeError:
            raise DualvecError(f"word {w!r} holds a lone surrogate, which UTF-8 (and so {what}) cannot hold") from None
    return out


def save_word2vec_format(model: DualVectors, path: str | os.PathLike, *, which: str = "in",
                         binary: bool = False, limit: int | None = None) -> Path:
    """Write one space of ``model`` as a word2vec.c file (atomically)."""
    vectors = model.space(which)
    words = vectors.words[:limit] if limit else vectors.words
    bad = next((w for w in words if not w or any(c.isspace() for c in w)), None)
    if bad is not None:
        raise DualvecError(f"word {bad!r} is empty or contains whitespace; the word2vec format cannot hold it")
    encoded = []
    for w, e in zip(words, utf8_words(words, "the word2vec format")):
        if len(e) > MAX_WORD_BYTES:
            raise DualvecError(f"word {w[:40]!r}... is {len(e):,} bytes long; the word2vec files dualvec writes "
                               f"hold words of at most {MAX_WORD_BYTES:,} bytes")
        encoded.append(e)
    matrix = np.asarray(vectors.vectors[: len(words)], dtype="<f4")

    def write(fh) -> None:
        fh.write(f"{len(words)} {matrix.shape[1]}\n".encode())
        if binary:
            for e, row in zip(encoded, matrix):
                fh.write(e + b" " + row.tobytes() + b"\n")
        else:
            for lo in range(0, len(words), 4096):
                # numpy's str() of float32 is the shortest text that round-trips
                rows = matrix[lo : lo + 4096].astype(str)
                fh.write("".join(f"{w} {' '.join(r)}\n" for w, r in zip(words[lo:], rows)).encode("utf-8"))

    return write_file_atomic(path, write)


def _decode(raw: bytes, errors: str, path: Path, n: int) -> str:
    try:
        return raw.decode("utf-8", errors)
    except UnicodeDecodeError:
        raise DualvecError(
            f"{path}: word {n + 1} is not valid UTF-8 ({raw[:40]!r}); pass encoding_errors='replace' or 'ignore'"
        ) from None


def _parse_header(line: bytes, path: Path) -> tuple[int, int] | None:
    parts = line.split()
    if len(parts) == 2:
        try:
            n, d = int(parts[0]), int(parts[1])
        except ValueError:
            return None
        if n < 0 or d <= 0 or d > 1 << 20:
            raise DualvecError(f"{path}: header says {n} words of {d} dims")
        return n, d
    return None


def _looks_like_a_vector_line(line: bytes) -> bool:
    """A header-less text file must start with a word and numbers (GloVe, DESM)."""
    parts = line.split()
    if len(parts) < 2:
        return False
    try:
        parts[0].decode("utf-8")
        [float(x) for x in parts[1:]]
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def _looks_binary(fh: BinaryIO, dim: int) -> bool:
    """After the header: does the first entry parse as a text line of dim floats?"""
    pos = fh.tell()
    line = fh.readline(64 + dim * 40)
    fh.seek(pos)
    parts = line.decode("utf-8", "replace").split()  # a bad word must not make text look binary
    if len(parts) != dim + 1 or not line.endswith(b"\n"):
        return True
    values = line.partition(b" ")[2]
    return not all(32 <= c < 127 or c in b"\t\r\n" for c in values)  # float bytes are rarely printable


def _read_text(fh: BinaryIO, path: Path, n: int | None, dim: int | None, limit: int | None,
               errors: str) -> tuple[list[str], np.ndarray]:
    words: list[str] = []
    rows: list[np.ndarray] = []
    want = n if limit is None else (limit if n is None else min(n, limit))
    longest = MAX_WORD_BYTES + 64 * (dim or 1 << 16)  # a word, then dim numbers of at most ~60 characters
    for lineno, line in enumerate(iter(lambda: fh.readline(longest + 1), b""), start=2 if n is not None else 1):
        if want is not None and len(words) >= want:
            break
        if len(line) > longest:
            raise DualvecError(f"{path}: line {lineno} is longer than {longest:,} bytes, more than a word and "
                               f"{dim or 'its'} numbers take")
        if not line.strip():
            continue
        parts = line.split(None, 1)  # the word, then the values: spaces or tabs (DESM's files)
        word_b, rest = parts[0], parts[1] if len(parts) > 1 else b""
        word = _decode(word_b, errors, path, len(words))
        try:
            vec = np.array(rest.split(), dtype=np.float32)
        except ValueError:
            raise DualvecError(f"{path}: line {lineno} holds a value that is not a number") from None
        if dim is None:
            dim = len(vec)
            if dim == 0:
                raise DualvecError(f"{path}: line {lineno} has a word but no vector")
        if len(vec) != dim:
            raise DualvecError(f"{path}: line {lineno} has {len(vec)} values, expected {dim}")
        words.append(word)
        rows.append(vec)
    if n is not None and len(words) < (want or 0):
        raise DualvecError(f"{path}: truncated: the header promises {n} vectors, the file holds {len(words)}")
    if not words:
        raise DualvecError(f"{path}: no vectors found")
    return words, np.vstack(rows).astype(np.float32)


def _read_binary(fh: BinaryIO, path: Path, n: int, dim: int, limit: int | None,
                 errors: str) -> tuple[list[str], np.ndarray]:
    want = n if limit is None else min(n, limit)
    vec_bytes = dim * 4
    out = np.empty((want, dim), dtype=np.float32)
    words: list[str] = []
    buf = b""
    pos = 0
    while len(words) < want:
        # Make sure the buffer holds a whole entry (word up to MAX_WORD_BYTES + vector).
        if len(buf) - pos < vec_bytes + MAX_WORD_BYTES + 2:
            buf = buf[pos:] + fh.read(_READ + vec_bytes)
            pos = 0
        while pos < len(buf) and buf[pos : pos + 1] in (b"\n", b"\r"):
            pos += 1  # the newline word2vec.c writes after each vector
        space = buf.find(b" ", pos, pos + MAX_WORD_BYTES + 1)
        if space < 0 and len(buf) - pos > MAX_WORD_BYTES:
            raise DualvecError(f"{path}: entry {len(words) + 1} of {n} has no word of at most "
                               f"{MAX_WORD_BYTES:,} bytes (a corrupt binary file)")
        if space < 0 or space + 1 + vec_bytes > len(buf):
            raise DualvecError(
                f"{path}: truncated or corrupt binary file: entry {len(words) + 1} of {n} is incomplete"
            )
        words.append(_decode(buf[pos:space], errors, path, len(words)))
        out[len(words) - 1] = np.frombuffer(buf, dtype="<f4", count=dim, offset=space + 1)
        pos = space + 1 + vec_bytes
    return words, out


def _check_limit(limit: int | None) -> None:
    """``limit`` (the first rows to read) is at least 1 when given."""
    if limit is not None and limit < 1:
        raise DualvecError(f"limit must be at least 1, not {limit}")


def read_word2vec_file(path: str | os.PathLike, *, binary: bool | None = None, limit: int | None = None,
                       encoding_errors: str = "strict") -> tuple[list[str], np.ndarray]:
    """Words and matrix of one word2vec.c file; ``binary=None`` detects the layout."""
    p = Path(path)
    check_encoding_errors(encoding_errors)
    _check_limit(limit)
    try:
        with open(p, "rb") as fh:
            first = fh.readline(1 << 16)
            header = _parse_header(first, p)
            if header is None:  # GloVe style: no header, text only
                if binary:
                    raise DualvecError(f"{p}: no '<words> <dims>' header line; not a word2vec binary file")
                if not _looks_like_a_vector_line(first):
                    raise DualvecError(f"{p} is not a model dualvec recognises (a dualvec directory, a gensim "
                                       "model, fastText .bin/.vec, or word2vec text/binary)")
                fh.seek(0)
                return _read_text(fh, p, None, None, limit, encoding_errors)
            n, dim = header
            is_binary = _looks_binary(fh, dim) if binary is None else binary
            if is_binary:
                # The matrix is allocated up front: first check the file can hold what the header claims
                # (each entry: a word of at least one byte, a space, dim float32s).
                left = os.fstat(fh.fileno()).st_size - fh.tell()
                if min(n, limit or n) * (2 + 4 * dim) > left:
                    raise DualvecError(f"{p}: truncated or corrupt: the header promises {n:,} vectors of "
                                       f"{dim:,} dims, more than the {left:,} bytes that follow can hold")
                return _read_binary(fh, p, n, dim, limit, encoding_errors)
            return _read_text(fh, p, n, dim, limit, encoding_errors)
    except FileNotFoundError:
        raise DualvecError(f"file not found: {p}") from None
    except IsADirectoryError:
        raise DualvecError(f"{p} is a directory, not a word2vec file") from None


def load_word2vec_format(path: str | os.PathLike, out_path: str | os.PathLike | None = None, *,
                         binary: bool | None = None, limit: int | None = None,
                         encoding_errors: str = "strict") -> DualVectors:
    """A model from a word2vec.c IN file and, optionally, an OUT file of the same words.

    The files carry no counts, so the vocabulary keeps the files' order and
    its counts are unknown (zero).
    """
    words, vin = read_word2vec_file(path, binary=binary, limit=limit, encoding_errors=encoding_errors)
    vout = None
    if out_path is not None:
        out_words, vout = read_word2vec_file(out_path, binary=binary, limit=limit, encoding_errors=encoding_errors)
        if vout.shape[1] != vin.shape[1]:
            raise DualvecError(f"{path} has {vin.shape[1]} dims but {out_path} has {vout.shape[1]}")
        if out_words != words:
            if sorted(out_words) != sorted(words):
                extra = next(iter(set(out_words) ^ set(words)), None)
                raise DualvecError(f"{path} and {out_path} do not hold the same words (e.g. {extra!r})")
            pos = {w: i for i, w in enumerate(out_words)}
            vout = vout[[pos[w] for w in words]]
    if len(set(words)) != len(words):
        seen: set[str] = set()
        dup = next(w for w in words if w in seen or seen.add(w))
        raise DualvecError(f"{path} lists the word {dup!r} twice")
    vocab = Vocabulary(words, np.zeros(len(words), dtype=np.int64))
    return DualVectors(vocab, vin, vout, out_kind=OUT_IMPORTED if vout is not None else None, counts_known=False)
