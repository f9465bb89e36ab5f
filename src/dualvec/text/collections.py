"""Readers and writers for IR test collections: documents, queries, judgments, runs.

* BEIR: ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl``
  (``_id``, ``text``), ``qrels/<split>.tsv`` (header line, ``query-id corpus-id
  score``; CRLF line endings tolerated).
* SMART / Glasgow (Cranfield, CACM, ...): records opened by ``.I <id>``, fields
  ``.T`` title, ``.A`` authors, ``.B`` source, ``.W`` text. Cranfield's query
  file numbers its queries 001-365 with gaps while ``cranqrel`` numbers them
  1-225 by their order in the file: ``number_by_order=True`` renumbers them
  that way.
* TREC qrels (``qid 0 docid grade``), Cranfield qrels (``qid docid code``) and
  TREC run files (``qid Q0 docid rank score tag``).
* Plain TSV: ``id<TAB>text``.

Judgments are graded: ``{query_id: {doc_id: gain}}`` with gain >= 1 relevant
and 0 judged non-relevant.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_file_atomic
from ..errors import DualvecError, finite_number, parse_json

#: Judgments, ``{query id: {doc id: gain}}``.
Qrels = Mapping[str, Mapping[str, int]]
#: A ranking, ``{query id: {doc id: score}}``.
Run = Mapping[str, Mapping[str, float]]


@dataclass
class Collection:
    """Documents, queries and (optionally) judgments per split, all keyed by string ids."""

    docs: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, Qrels] = field(default_factory=dict)  # split name -> judgments
    name: str = ""

    def split_queries(self, split: str) -> dict[str, str]:
        """The queries judged in ``split`` (every query when the split is unknown)."""
        if split not in self.qrels:
            raise DualvecError(f"{self.name or 'collection'} has no '{split}' judgments "
                               f"(has: {', '.join(self.qrels) or 'none'})")
        return {q: self.queries[q] for q in self.qrels[split] if q in self.queries}


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DualvecError(f"file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise DualvecError(f"{path}: not valid UTF-8 at byte {exc.start}") from None
    except OSError as exc:
        raise DualvecError(f"{path}: cannot read ({exc.strerror or exc})") from None


#: The longest line (a document, a query, a judgment) a reader takes, in characters: a longer
#: one is refused, naming it, instead of being read whole (a 1 GB one-line file).
MAX_LINE_CHARS = 1 << 24


def bounded_lines(fh, path: Path, limit: int | None = None) -> Iterator[str]:
    """The lines of an open text file, each read with a bound: one longer than ``limit``
    (default :data:`MAX_LINE_CHARS`) characters is a :class:`DualvecError` naming its line, and
    is never held whole."""
    limit = MAX_LINE_CHARS if limit is None else limit
    n = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        n += 1
        if len(line) > limit:
            raise DualvecError(f"{path}: line {n} is longer than {limit:,} characters; "
                               "a document that long is not one dualvec reads")
        yield line


def parse_jsonl(lines: Iterable[str], path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) of each non-blank line; anything but a JSON object is an error."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        row = parse_json(line, f"{path}: line {n}")
        if not isinstance(row, dict):
            raise DualvecError(f"{path}: line {n} is not a JSON object")
        yield n, row


def _jsonl(path: Path) -> list[dict]:
    rows = []
    for n, row in parse_jsonl(_read_text(path).splitlines(), path):
        if "_id" not in row:
            raise DualvecError(f"{path}: line {n} has no '_id'")
        rows.append(row)
    return rows


_WHITESPACE = re.compile(r"\s")


def check_run_id(value: str, what: str = "id") -> str:
    """``value``, if one column of a TREC run line can hold it: a run's columns are split at
    whitespace, so an id or tag holding a space (``"my run"``) would be written into a run that
    no reader, dualvec's included, reads back. A :class:`DualvecError` naming it otherwise."""
    if _WHITESPACE.search(value):
        raise DualvecError(f"the {what} {value!r} holds whitespace, which a TREC run cannot hold "
                           "(its columns are separated by whitespace)")
    return value


def _add_once(table: dict[str, str], key: str, text: str, where: str | Path) -> None:
    try:
        check_run_id(key)
    except DualvecError as exc:
        raise DualvecError(f"{where}: {exc}") from None
    if key in table:
        raise DualvecError(f"{where}: the id {key!r} appears twice")
    table[key] = text


def read_beir(directory: str | os.PathLike) -> Collection:
    """A BEIR collection directory (title and text of a document are joined)."""
    root = Path(directory)
    docs: dict[str, str] = {}
    for row in _jsonl(root / "corpus.jsonl"):
        title, text = str(row.get("title") or ""), str(row.get("text") or "")
        _add_once(docs, _doc_id(row["_id"], root / "corpus.jsonl"), f"{title}. {text}" if title else text,
                  root / "corpus.jsonl")
    queries: dict[str, str] = {}
    for row in _jsonl(root / "queries.jsonl"):
        _add_once(queries, _doc_id(row["_id"], root / "queries.jsonl", "query id"), str(row.get("text") or ""),
                  root / "queries.jsonl")
    qrels = {}
    qdir = root / "qrels"
    if qdir.is_dir():
        for f in sorted(qdir.glob("*.tsv")):
            qrels[f.stem] = read_qrels(f)
    return Collection(docs, queries, qrels, name=root.name)


def read_smart(path: str | os.PathLike, fields: str = "TW", number_by_order: bool = False) -> dict[str, str]:
    """Records of a SMART file as ``{id: text}``, joining the ``fields`` kept (default title + text)."""
    p = Path(path)
    records: dict[str, str] = {}
    current: str | None = None
    field_name = ""
    parts: list[str] = []

    def flush() -> None:
        if current is not None:
            key = str(len(records) + 1) if number_by_order else current
            if key in records:
                raise DualvecError(f"{p}: record .I {current} appears twice")
            records[key] = " ".join(parts).strip()

    for n, line in enumerate(_read_text(p).splitlines(), start=1):
        line = line.rstrip("\r")
        m = re.match(r"^\.([A-Z])(?:\s+(.*))?$", line)
        if m:
            tag, rest = m.group(1), (m.group(2) or "").strip()
            if tag == "I":
                flush()
                if not rest:
                    raise DualvecError(f"{p}: line {n}: '.I' without an id")
                current, parts, field_name = str(int(rest)) if rest.isdigit() else rest, [], ""
                continue
            field_name = tag
            if rest and field_name in fields:
                parts.append(rest)
            continue
        if current is None:
            if line.strip():
                raise DualvecError(f"{p}: line {n}: text before the first '.I' record")
            continue
        if field_name in fields:
            parts.append(line.strip())
    flush()
    if not records:
        raise DualvecError(f"{p}: no '.I' records found")
    return records


def read_cranfield(directory: str | os.PathLike) -> Collection:
    """The Glasgow Cranfield collection: cran.all.1400, cran.qry, cranqrel.

    Queries are renumbered 1-225 by file order to match ``cranqrel``; relevance
    codes 1 (most relevant) .. 4 become gains 5 - code (4 .. 1); the
    undocumented code -1 (and anything outside 1-4) is judged non-relevant.
    """
    root = Path(directory)
    docs = read_smart(root / "cran.all.1400")
    queries = read_smart(root / "cran.qry", fields="W", number_by_order=True)
    qrels = read_qrels(root / "cranqrel", grade=lambda code: 5 - code if 1 <= code <= 4 else 0)
    return Collection(docs, queries, {"all": qrels}, name="cranfield")


def read_qrels(path: str | os.PathLike, grade: Callable[[int], int] | None = None) -> Qrels:
    """Judgments from TREC (4 columns), BEIR (3 columns, header) or Cranfield (3 columns) files."""
    p = Path(path)
    qrels: dict[str, dict[str, int]] = {}
    for n, line in enumerate(_read_text(p).splitlines(), start=1):
        cols = line.strip().split()
        if not cols:
            continue
        if n == 1 and len(cols) in (3, 4) and not cols[-1].lstrip("-").isdigit():
            continue  # a header such as BEIR's "query-id corpus-id score"
        if len(cols) == 4:
            qid, _, did, g = cols
        elif len(cols) == 3:
            qid, did, g = cols
        else:
            raise DualvecError(f"{p}: line {n}: expected 3 or 4 columns, got {len(cols)}")
        try:
            value = int(g) if g.lstrip("+-").isdigit() and len(g) < 20 else int(float(g))
        except (ValueError, OverflowError):
            raise DualvecError(f"{p}: line {n}: relevance {g!r} is not a whole number") from None
        if not -(1 << 31) <= value < 1 << 31:
            raise DualvecError(f"{p}: line {n}: relevance {g!r} is out of range")
        if did in qrels.get(qid, {}):
            raise DualvecError(f"{p}: line {n}: query {qid!r} judges document {did!r} a second time")
        qrels.setdefault(qid, {})[did] = grade(value) if grade else max(value, 0)
    if not qrels:
        raise DualvecError(f"{p}: no judgments found")
    return qrels


def read_tsv(path: str | os.PathLike) -> dict[str, str]:
    """``id<TAB>text`` lines (a header line ``id<TAB>text`` is skipped)."""
    p = Path(path)
    out: dict[str, str] = {}
    for n, line in enumerate(_read_text(p).splitlines(), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise DualvecError(f"{p}: line {n}: expected 'id<TAB>text'")
        key, text = line.split("\t", 1)
        if n == 1 and key.lower() in ("id", "_id", "qid", "docid", "query-id"):
            continue
        _add_once(out, key.strip(), text.strip(), f"{p}: line {n}")
    return out


def read_texts(path: str | os.PathLike) -> dict[str, str]:
    """Documents or queries from a BEIR ``.jsonl``, a SMART file, or a TSV file, by content."""
    p = Path(path)
    if p.suffix == ".jsonl":
        out: dict[str, str] = {}
        for r in _jsonl(p):
            _add_once(out, _doc_id(r["_id"], p), " ".join(str(r.get(k) or "") for k in ("title", "text")).strip(), p)
        return out
    head = _read_text(p)[:200].lstrip()
    if head.startswith(".I"):
        return read_smart(p, fields="TW")
    return read_tsv(p)


def read_lisa(directory: str | os.PathLike) -> Collection:
    """The LISA collection (Glasgow): ``LISA?.???`` record files, ``LISA.QUE``, ``LISARJ.NUM``.

    A record is ``Document N``, a title, a blank line, the abstract, and a line
    of asterisks. As distributed, one record lacks its ``Document`` line (it is
    skipped: nothing can judge it) and numbers 1998-2001 occur twice (the first
    record keeps the number, the second is kept as ``N-2``). Judgments come
    from ``LISARJ.NUM`` (query, count, that many documents; ``LISA.REL`` is
    defective); every judged document has gain 1.
    """
    root = Path(directory)
    docs: dict[str, str] = {}
    files = sorted(f for f in root.glob("LISA[0-9]*") if f.is_file())
    if not files:
        raise DualvecError(f"{root}: no LISA record files (LISA0.001, ...)")
    for f in files:
        for record in re.split(r"^\*{10,}\s*$", _read_text(f), flags=re.M):
            m = re.match(r"\s*Document\s+(\d+)\s*\n", record)
            if not m:
                continue
            doc_id, n = m.group(1), 2
            while doc_id in docs:
                doc_id, n = f"{m.group(1)}-{n}", n + 1
            docs[doc_id] = " ".join(record[m.end():].split())
    queries: dict[str, str] = {}
    for block in _read_text(root / "LISA.QUE").split("#"):
        lines = block.strip().splitlines()
        if len(lines) >= 2 and lines[0].strip().isdigit():
            queries[lines[0].strip()] = " ".join(" ".join(lines[1:]).split())
    numbers = _read_text(root / "LISARJ.NUM").split()
    qrels: dict[str, dict[str, int]] = {}
    i = 0
    try:
        while i < len(numbers):
            qid, count = numbers[i], int(numbers[i + 1])
            qrels[qid] = {d: 1 for d in numbers[i + 2 : i + 2 + count]}
            if len(qrels[qid]) != count:
                raise IndexError
            i += 2 + count
    except (IndexError, ValueError):
        raise DualvecError(f"{root / 'LISARJ.NUM'}: malformed near number {i + 1}") from None
    return Collection(docs, queries, {"test": qrels}, name=root.name)


def read_collection(path: str | os.PathLike) -> Collection:
    """A BEIR directory, a Cranfield or LISA directory, or a single documents file."""
    p = Path(path)
    if not p.exists():
        raise DualvecError(f"collection not found: {p}")
    if p.is_dir():
        if (p / "corpus.jsonl").exists():
            return read_beir(p)
        if (p / "cran.all.1400").exists():
            return read_cranfield(p)
        if (p / "LISA.QUE").exists():
            return read_lisa(p)
        raise DualvecError(f"{p}: not a BEIR (corpus.jsonl), Cranfield (cran.all.1400) or LISA (LISA.QUE) directory")
    return Collection(read_texts(p), {}, name=p.stem)


def read_run(path: str | os.PathLike) -> Run:
    """A TREC run file: ``qid Q0 docid rank score tag``."""
    p = Path(path)
    run: dict[str, dict[str, float]] = {}
    for n, line in enumerate(_read_text(p).splitlines(), start=1):
        cols = line.split()
        if not cols:
            continue
        if len(cols) != 6:
            raise DualvecError(f"{p}: line {n}: a TREC run line has 6 columns, this has {len(cols)}")
        score = finite_number(cols[4], f"{p}: line {n}: score")
        docs = run.setdefault(cols[0], {})
        if cols[2] in docs:
            raise DualvecError(f"{p}: line {n}: query {cols[0]!r} lists document {cols[2]!r} a second time")
        docs[cols[2]] = score
    if not run:
        raise DualvecError(f"{p}: empty run")
    return run


def write_run(run: Mapping[str, Mapping[str, float]], path: str | os.PathLike, tag: str = "dualvec") -> Path:
    """Write a TREC run file (ranked by score, ties by doc id), atomically. Ids and a tag that
    hold whitespace are refused before anything is written (:func:`check_run_id`)."""
    check_run_id(tag, "run tag")
    for qid, docs in run.items():
        check_run_id(str(qid), "query id")
        for did in docs:
            check_run_id(str(did), "document id")

    def write(fh) -> None:
        for qid in run:
            ranked = sorted(run[qid].items(), key=lambda kv: (-kv[1], kv[0]))
            fh.write("".join(f"{qid} Q0 {did} {rank} {score:.6f} {tag}\n"
                             for rank, (did, score) in enumerate(ranked, start=1)).encode("utf-8"))

    return write_file_atomic(path, write)


# -- streaming documents: the scale index's readers, and the training corpus of a collection -------------

#: Fields that hold a document's id and its text, in the order they are looked for.
ID_KEYS = ("_id", "id", "docid", "doc_id")
TEXT_KEYS = ("contents", "text", "body", "passage")
#: File names (before ``.gz``) read as documents: JSONL, ``id<TAB>text`` and Parquet.
DOCUMENT_SUFFIXES = {".jsonl": "JSONL", ".json": "JSONL", ".tsv": "id<TAB>text", ".parquet": "Parquet"}


def _open_maybe_gzip(path: Path):
    if path.suffix == ".gz":
        import gzip

        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _doc_id(value: object, where: object, what: str = "document id") -> str:
    """A document or query id from a file: a string or a whole number, nothing else."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DualvecError(f"{where}: a {what} must be a string or a whole number, not {type(value).__name__}")
    if value == "":
        raise DualvecError(f"{where}: an empty {what}")
    if isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value):
        raise DualvecError(f"{where}: the {what} {value!r} holds a lone surrogate (a \\ud800-\\udfff "
                           "escape), which no run file can hold")
    try:
        return check_run_id(str(value), what)
    except DualvecError as exc:
        raise DualvecError(f"{where}: {exc}") from None


def _from_row(row: dict, where: str) -> tuple[str, str]:
    doc_id = next((row[k] for k in ID_KEYS if row.get(k) is not None), None)
    if doc_id is None:
        raise DualvecError(f"{where}: no document id (one of {', '.join(ID_KEYS)})")
    doc_id = _doc_id(doc_id, where)
    title = str(row.get("title") or "")
    text = next((str(row[k]) for k in TEXT_KEYS if row.get(k) is not None), "")
    if len(title) + len(text) > MAX_LINE_CHARS:
        raise DualvecError(f"{where}: document {doc_id!r} is longer than {MAX_LINE_CHARS:,} characters")
    return str(doc_id), f"{title}. {text}" if title and text else title or text


def split_title(text: str) -> tuple[str | None, str]:
    """A document's title and body, where the collection joined them as "title. text" (BEIR, and the
    readers here); ``None`` and the whole text where it starts with no short sentence."""
    m = re.match(r"(.{1,250}?[.?!])\.?\s+(\S.*)", text, re.DOTALL)
    return (m.group(1), m.group(2)) if m else (None, text)


def _iter_jsonl(path: Path) -> Iterator[tuple[str, str]]:
    with _open_maybe_gzip(path) as fh:
        for n, row in parse_jsonl(bounded_lines(fh, path), path):
            yield _from_row(row, f"{path}: line {n}")


def _iter_tsv(path: Path) -> Iterator[tuple[str, str]]:
    with _open_maybe_gzip(path) as fh:
        for n, line in enumerate(bounded_lines(fh, path), start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if "\t" not in line:
                raise DualvecError(f"{path}: line {n}: expected 'id<TAB>text'")
            doc_id, text = line.split("\t", 1)
            if n == 1 and doc_id.lower() in ("id", "_id", "docid", "pid"):
                continue
            yield _doc_id(doc_id.strip(), f"{path}: line {n}"), text


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
    """Every ``(id, text)`` of a collection file or directory, streamed (JSONL, TSV, Parquet, ``.gz`` too).

    A directory is read file by file in sorted order; a BEIR directory, its ``corpus.jsonl`` only.
    A ``.txt`` file is read as ``id<TAB>text``.
    """
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


def _document_suffix(path: Path) -> str | None:
    """``.jsonl``, ``.tsv``, ``.parquet`` (``.gz`` looked through), or None."""
    name = path.name.lower()
    name = name[:-3] if name.endswith(".gz") else name
    return next((s for s in DOCUMENT_SUFFIXES if name.endswith(s)), None)


def _looks_like_jsonl(path: Path) -> bool:
    """A file whose first non-blank line is a JSON object with a document id (JSONL without the name)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    for line in head.splitlines():
        if line.strip():
            if not line.lstrip().startswith(b"{"):
                return False
            try:
                row = json.loads(line)
            except (ValueError, RecursionError):
                return False
            return isinstance(row, dict) and any(k in row for k in ID_KEYS)
    return False


def collection_kind(path: str | os.PathLike) -> str | None:
    """What kind of document collection ``path`` is, in words, or None for plain text.

    Collections are what ``dualvec index`` reads: a BEIR, Cranfield or LISA directory; a ``.jsonl``,
    ``.tsv`` or ``.parquet`` file (``.gz`` too), or a directory holding only such files; a file of
    JSON objects with an id, whatever its name; a SMART file (``.I`` records). Anything else,
    ``.txt`` included, is plain text (one sentence per line).
    """
    p = Path(path)
    if p.is_dir():
        if (p / "corpus.jsonl").is_file() or (p / "corpus.jsonl.gz").is_file():
            return "BEIR collection"
        if (p / "cran.all.1400").exists():
            return "Cranfield collection"
        if (p / "LISA.QUE").exists():
            return "LISA collection"
        files = [f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")]
        if files and all(_document_suffix(f) for f in files):
            return "directory of document files"
        return None
    if not p.is_file():
        return None
    suffix = _document_suffix(p)
    if suffix is not None:
        return f"{DOCUMENT_SUFFIXES[suffix]} documents"
    if p.suffix.lower() in (".gz", ".bz2"):
        return None
    if _looks_like_jsonl(p):
        return "JSONL documents"
    try:
        with open(p, "rb") as fh:
            if fh.read(200).lstrip().startswith(b".I "):
                return "SMART documents"
    except OSError:
        return None
    return None


#: How relevance judgments (and runs) look, line by line: (what they are, a test of one line's fields).
_JUDGMENT_LINES = (
    ("TREC qrels", lambda f: len(f) == 4 and f[1] in ("0", "Q0") and _is_int(f[3])),
    ("TREC run", lambda f: len(f) == 6 and f[1] == "Q0" and _is_int(f[3])),
    ("Cranfield judgments", lambda f: len(f) == 3 and all(_is_int(x) for x in f)),
)


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def judgments_kind(path: str | os.PathLike, sample: int = 20) -> str | None:
    """What kind of relevance judgments (or run) ``path`` holds, in words, or None when it holds none.

    Judgments are what ``--qrels`` reads, not text: a BEIR ``qrels/*.tsv`` (``query-id corpus-id
    score`` header), TREC qrels (``qid 0 docid grade``), a TREC run, Cranfield's ``cranqrel``, LISA's
    ``LISA.REL``, or a directory holding only such files. The first ``sample`` lines decide.
    """
    p = Path(path)
    if p.is_dir():
        files = [f for f in p.iterdir() if f.is_file() and not f.name.startswith(".")]
        kinds = [judgments_kind(f, sample) for f in files[:50]]
        return f"a directory of {kinds[0]}" if kinds and all(kinds) else None
    if not p.is_file():
        return None
    try:
        with open(p, "rb") as fh:
            head = fh.read(1 << 16).decode("utf-8", "replace")
    except OSError:
        return None
    lines = [line.split() for line in head.splitlines()[:sample] if line.strip()]
    if len(head) == 1 << 16 and len(lines) == len(head.splitlines()[:sample]):
        lines = lines[:-1]  # the last line may be cut
    if not lines:
        return None
    if [x.lower() for x in lines[0]] == ["query-id", "corpus-id", "score"]:
        return "BEIR judgments (qrels)"
    if " ".join(lines[0][:2]).lower() == "query 1" or p.name.upper() == "LISA.REL":
        return "LISA judgments" if any("relevant" in " ".join(x).lower() for x in lines) else None
    for kind, test in _JUDGMENT_LINES:
        if all(test(f) for f in lines):
            return kind
    return None


def iter_document_texts(path: str | os.PathLike) -> Iterator[str]:
    """The text (title and text) of every document of a collection, in order: what training on a
    collection reads, one document per sentence. See :func:`collection_kind` for what is read."""
    p = Path(path)
    kind = collection_kind(p)
    if kind is None:
        raise DualvecError(f"{p}: not a document collection (BEIR, Cranfield, LISA, .jsonl, .tsv, .parquet)")
    if kind in ("Cranfield collection", "LISA collection", "SMART documents"):
        docs = read_collection(p).docs
        yield from docs.values()
        return
    if p.is_file() and _document_suffix(p) is None:  # JSON objects in a file of another name
        yield from (text for _, text in _iter_jsonl(p))
        return
    yield from (text for _, text in iter_documents(p))
