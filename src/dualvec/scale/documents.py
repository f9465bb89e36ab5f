"""Collections read in chunks, never whole: JSONL, TSV and Parquet, gzip-compressed or not.

* JSONL: one object per line with an id (``_id``, ``id``, ``docid`` or ``doc_id``) and text
  (``title`` + ``text``, as BEIR, or ``contents``, as Pyserini);
* TSV: ``id<TAB>text`` (MS MARCO's ``collection.tsv``);
* Parquet (needs pyarrow): the same column names, read a record batch at a time.

:func:`iter_chunks` yields lists of ``(id, text)`` of ``chunk_size`` documents (the last may be
shorter), always in the file's order, so chunk i is the same documents however the chunks are
later processed. A directory is read file by file in sorted order; a BEIR directory, its
``corpus.jsonl`` only.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import DualvecError
from ..irdata import parse_jsonl

ID_KEYS = ("_id", "id", "docid", "doc_id")
TEXT_KEYS = ("contents", "text", "body", "passage")


def _open(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _from_row(row: dict, where: str) -> tuple[str, str]:
    doc_id = next((row[k] for k in ID_KEYS if row.get(k) is not None), None)
    if doc_id is None:
        raise DualvecError(f"{where}: no document id (one of {', '.join(ID_KEYS)})")
    title = str(row.get("title") or "")
    text = next((str(row[k]) for k in TEXT_KEYS if row.get(k) is not None), "")
    return str(doc_id), f"{title}. {text}" if title and text else title or text


def _iter_jsonl(path: Path) -> Iterator[tuple[str, str]]:
    with _open(path) as fh:
        for n, row in parse_jsonl(fh, path):
            yield _from_row(row, f"{path}: line {n}")


def _iter_tsv(path: Path) -> Iterator[tuple[str, str]]:
    with _open(path) as fh:
        for n, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if "\t" not in line:
                raise DualvecError(f"{path}: line {n}: expected 'id<TAB>text'")
            doc_id, text = line.split("\t", 1)
            if n == 1 and doc_id.lower() in ("id", "_id", "docid", "pid"):
                continue
            yield doc_id.strip(), text


def _iter_parquet(path: Path) -> Iterator[tuple[str, str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DualvecError("reading Parquet needs pyarrow: pip install pyarrow") from None
    try:
        f = pq.ParquetFile(path)
        for batch in f.iter_batches(batch_size=8192):
            for row in batch.to_pylist():
                yield _from_row(row, str(path))
    except (OSError, ValueError) as exc:
        raise DualvecError(f"{path}: not a readable Parquet file ({exc})") from None


def iter_documents(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """Every ``(id, text)`` of a collection file or directory, streamed."""
    p = Path(path)
    if not p.exists():
        raise DualvecError(f"collection not found: {p}")
    beir = [p / n for n in ("corpus.jsonl", "corpus.jsonl.gz") if (p / n).is_file()] if p.is_dir() else []
    files = beir[:1] or (sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p])
    for f in files:
        name = f.name[:-3] if f.name.endswith(".gz") else f.name
        try:
            if name.endswith((".jsonl", ".json")):
                yield from _iter_jsonl(f)
            elif name.endswith((".tsv", ".txt")):
                yield from _iter_tsv(f)
            elif name.endswith(".parquet"):
                yield from _iter_parquet(f)
            elif not p.is_dir():
                raise DualvecError(f"{f}: unknown collection format (use .jsonl, .tsv or .parquet, optionally .gz)")
        except UnicodeDecodeError as exc:
            raise DualvecError(f"{f}: not valid UTF-8 at byte {exc.start}") from None
        except (OSError, EOFError) as exc:
            raise DualvecError(f"{f}: cannot read ({exc})") from None


def iter_chunks(path: str | os.PathLike, chunk_size: int) -> Iterator[list[tuple[str, str]]]:
    """The collection in chunks of ``chunk_size`` documents, in order."""
    if chunk_size < 1:
        raise DualvecError(f"chunk size must be at least 1, not {chunk_size}")
    chunk: list[tuple[str, str]] = []
    for doc in iter_documents(path):
        chunk.append(doc)
        if len(chunk) == chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
