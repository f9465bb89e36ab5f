"""Collections read in chunks, never whole: JSONL, TSV and Parquet, gzip-compressed or not.

* JSONL: one object per line with an id (``_id``, ``id``, ``docid`` or ``doc_id``) and text
  (``title`` + ``text``, as BEIR, or ``contents``, as Pyserini);
* TSV: ``id<TAB>text`` (MS MARCO's ``collection.tsv``);
* Parquet (needs pyarrow): the same column names, read a record batch at a time.

:func:`iter_chunks` yields lists of ``(id, text)`` of ``chunk_size`` documents (the last may be
shorter), always in the file's order, so chunk i is the same documents however the chunks are
later processed. A directory is read file by file in sorted order; a BEIR directory, its
``corpus.jsonl`` only. The readers are :func:`dualvec.text.collections.iter_documents`, which training on a
collection reads too. The classic test collections in their own formats (a Cranfield or LISA
directory: small, and not line-per-document) are read whole by
:func:`dualvec.text.collections.read_collection`, as ``dualvec index`` without ``--engine`` reads
them (:func:`iter_collection`), so the same command indexes the same documents on every engine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import DualvecError
from ..text.collections import ID_KEYS, TEXT_KEYS, iter_documents, read_collection  # noqa: F401  (the readers live in text.collections, shared with training)


def iter_collection(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """Every ``(id, text)`` of a collection, in order: streamed, or (a Cranfield or LISA directory)
    read whole as :func:`read_collection` reads it."""
    p = Path(path)
    if p.is_dir() and ((p / "cran.all.1400").exists() or (p / "LISA.QUE").exists()) \
            and not (p / "corpus.jsonl").exists():
        yield from read_collection(p).docs.items()
        return
    yield from iter_documents(p)


def iter_chunks(path: str | os.PathLike, chunk_size: int) -> Iterator[list[tuple[str, str]]]:
    """The collection in chunks of ``chunk_size`` documents, in order."""
    if chunk_size < 1:
        raise DualvecError(f"chunk size must be at least 1, not {chunk_size}")
    chunk: list[tuple[str, str]] = []
    seen: set[str] = set()  # an id twice would make one document unreachable, the other's score its own
    for doc in iter_collection(path):
        if doc[0] in seen:
            raise DualvecError(f"{path}: the document id {doc[0]!r} appears twice")
        seen.add(doc[0])
        chunk.append(doc)
        if len(chunk) == chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
