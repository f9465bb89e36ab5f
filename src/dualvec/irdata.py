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

from .atomic import write_file_atomic
from .errors import DualvecError

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


def parse_jsonl(lines: Iterable[str], path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) of each non-blank line; anything but a JSON object is an error."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DualvecError(f"{path}: line {n} is not JSON ({exc.msg})") from None
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


def _add_once(table: dict[str, str], key: str, text: str, where: str | Path) -> None:
    if key in table:
        raise DualvecError(f"{where}: the id {key!r} appears twice")
    table[key] = text


def read_beir(directory: str | os.PathLike) -> Collection:
    """A BEIR collection directory (title and text of a document are joined)."""
    root = Path(directory)
    docs: dict[str, str] = {}
    for row in _jsonl(root / "corpus.jsonl"):
        title, text = str(row.get("title") or ""), str(row.get("text") or "")
        _add_once(docs, str(row["_id"]), f"{title}. {text}" if title else text, root / "corpus.jsonl")
    queries: dict[str, str] = {}
    for row in _jsonl(root / "queries.jsonl"):
        _add_once(queries, str(row["_id"]), str(row.get("text") or ""), root / "queries.jsonl")
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
            value = int(float(g))
        except ValueError:
            raise DualvecError(f"{p}: line {n}: relevance {g!r} is not a number") from None
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
        return {str(r["_id"]): " ".join(str(r.get(k) or "") for k in ("title", "text")).strip() for r in _jsonl(p)}
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
        try:
            run.setdefault(cols[0], {})[cols[2]] = float(cols[4])
        except ValueError:
            raise DualvecError(f"{p}: line {n}: score {cols[4]!r} is not a number") from None
    if not run:
        raise DualvecError(f"{p}: empty run")
    return run


def write_run(run: Mapping[str, Mapping[str, float]], path: str | os.PathLike, tag: str = "dualvec") -> Path:
    """Write a TREC run file (ranked by score, ties by doc id), atomically."""

    def write(fh) -> None:
        for qid in run:
            ranked = sorted(run[qid].items(), key=lambda kv: (-kv[1], kv[0]))
            fh.write("".join(f"{qid} Q0 {did} {rank} {score:.6f} {tag}\n"
                             for rank, (did, score) in enumerate(ranked, start=1)).encode("utf-8"))

    return write_file_atomic(path, write)
