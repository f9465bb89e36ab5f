"""Sources of training text: files, folders, compressed files and document collections.

A *corpus* is anything that yields text:

* a path to a text file (one sentence or document per line), optionally
  ``.gz`` or ``.bz2`` compressed;
* a path to a directory, whose files are read recursively in sorted order;
* a document collection (what ``dualvec index`` reads: BEIR, JSONL, TSV,
  Parquet), read as its documents' title and text (:func:`as_training_text`);
* an iterable whose items are token lists (pre-tokenised, as gensim takes them)
  or strings (raw text, tokenised by :mod:`.tokenize`).

Files are read in blocks, never a whole line at once, so a single-line corpus
larger than memory works too. This is the first step of the text layer
(:mod:`dualvec.text`): it yields text and knows nothing of tokens.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Union

from ..errors import DualvecError
from .collections import collection_kind, iter_document_texts

CorpusLike = Union[str, os.PathLike, Iterable[Union[Sequence[str], str]]]

_BLOCK_CHARS = 1 << 20
_LAST_SPACE = re.compile(r"\s\S*\Z")


def _open_text(path: Path, encoding_errors: str) -> io.TextIOBase:
    name = path.name.lower()
    if name.endswith(".gz"):
        raw = gzip.open(path, "rb")
    elif name.endswith(".bz2"):
        raw = bz2.open(path, "rb")
    else:
        raw = open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8", errors=encoding_errors, newline=None)


def corpus_files(path: str | os.PathLike) -> list[Path]:
    """The files a path stands for: itself, or a directory's files in sorted order."""
    p = Path(path)
    if not p.exists():
        raise DualvecError(f"corpus not found: {p}")
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        if not files:
            raise DualvecError(f"corpus directory has no files: {p}")
        return files
    return [p]


def iter_file_text(path: Path, encoding_errors: str = "strict") -> Iterator[tuple[str, bool]]:
    """Yield one file's text in bounded pieces, as ``(text, closes)``.

    Every piece ends at a newline, at a whitespace character inside a line too long to hold
    whole, or at the end of the file: tokens never run across two pieces. A newline in a
    piece ends a line; a line also ends where a piece with ``closes`` ends (the file's last).
    The tokenising readers (:func:`iter_file_sentences`, the compiled scan in
    :mod:`dualvec.text.encoded`) both read files through this, so they cut lines alike.
    """
    try:
        with _open_text(path, encoding_errors) as fh:
            rest = ""
            while True:
                block = fh.read(_BLOCK_CHARS)
                if not block:
                    break
                text = rest + block
                end = text.rfind("\n") + 1
                if end:
                    yield text[:end], False
                    rest = text[end:]
                else:
                    rest = text
                if len(rest) > _BLOCK_CHARS:
                    # A line longer than a block (text8): hand over up to the last whitespace
                    # (any kind, U+00A0 included) and carry the partial word over; a block with
                    # no whitespace at all is cut anyway, so memory stays bounded and time linear.
                    # The last whitespace is nearly always near the end: look there first (a
                    # search of the whole line took 2 s per 100 MB).
                    m = _LAST_SPACE.search(rest, max(0, len(rest) - 4096)) or _LAST_SPACE.search(rest)
                    cut = m.start() if m else len(rest) - 256
                    if cut > 0:
                        yield rest[:cut], False
                        rest = rest[cut:]
            yield rest, True
    except UnicodeDecodeError as exc:
        raise DualvecError(
            f"{path}: not valid UTF-8 (byte {exc.object[exc.start:exc.start + 1]!r}); "
            "pass encoding_errors='replace' or 'ignore' to read it anyway"
        ) from None
    except (OSError, EOFError) as exc:
        raise DualvecError(f"{path}: cannot read corpus file ({exc})") from None


def check_encoding_errors(encoding_errors: str) -> None:
    """Refuse an ``encoding_errors`` other than the three that read text."""
    if encoding_errors not in ("strict", "replace", "ignore"):
        raise DualvecError(f"encoding_errors must be 'strict', 'replace' or 'ignore', not {encoding_errors!r}")



def as_training_text(corpus: CorpusLike) -> CorpusLike:
    """A document collection (what ``dualvec index`` reads: BEIR, JSONL, TSV, Parquet, ...) as the text of its
    documents, title and text, one document a sentence; any other corpus as it is. Training on
    ``corpus.jsonl`` itself would learn its keys (``_id``, ``title``, ``text``) as words."""
    if isinstance(corpus, (str, os.PathLike)) and collection_kind(corpus) is not None:
        return iter_document_texts(corpus)
    return corpus
