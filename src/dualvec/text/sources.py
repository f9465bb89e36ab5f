"""Sources of training text: files, folders, compressed files and document collections.

A *corpus* is anything that yields text:

* a path to a text file (one sentence or document per line), optionally
  ``.gz`` or ``.bz2`` compressed;
* a path to a directory, whose files are read recursively in sorted order;
* a tar archive (``.tar``, ``.tar.gz``, ...), whose regular members are read
  as a stream, in archive order, never unpacked to disk;
* WikiExtractor output (a file, a folder, an archive of them), known by its
  content: one line per ``<doc>``, the title line kept, the tags dropped
  (:func:`wiki_as_lines`); where it is found, the other files are left out;
* a document collection (what ``dualvec index`` reads: BEIR, JSONL, TSV,
  Parquet), read as its documents' title and text (:func:`as_training_text`);
* an iterable whose items are token lists (pre-tokenised, as gensim takes them)
  or strings (raw text, tokenised by :mod:`.tokenize`).

Files are read in blocks, never a whole line at once, so a single-line corpus
larger than memory works too. :func:`iter_corpus_text` gives a path's text in
bounded pieces to both tokenising readers; :func:`iter_titled_documents` gives a
source as ``(title, text)`` documents. This step of the text layer
(:mod:`dualvec.text`) yields text and knows nothing of tokens.
"""

from __future__ import annotations

import bz2
import gzip
import html
import io
import itertools
import os
import re
import tarfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Union

from ..errors import DualvecError
from .collections import collection_kind, iter_document_texts, iter_documents, split_title

CorpusLike = Union[str, os.PathLike, Iterable[Union[Sequence[str], str]]]

_BLOCK_CHARS = 1 << 20
#: Archives read as a stream of their regular members, in archive order, never unpacked to disk.
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
#: How much of an archive's other members (a README) is held back while waiting for a WikiExtractor member.
_HOLD_CHARS = 1 << 24
#: WikiExtractor's markup: each article is ``<doc id="..." url="..." title="...">``, the title line, the
#: paragraphs, ``</doc>``, the tags on lines of their own.
_WIKI_HEAD = re.compile(rb'\A\s*<doc id="[^"\n]*"[^>\n]*>\r?\n')
_WIKI_TAG = re.compile(r'<doc id="[^"\n]*"[^>\n]*>')
_WIKI_TITLE = re.compile(r'title="([^"\n]*)"')
_LAST_SPACE = re.compile(r"\s\S*\Z")


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
    """Yield one file's text in bounded pieces, as ``(text, closes)`` (see :func:`_iter_stream_text`)."""
    try:
        with _open_binary(path) as raw:
            yield from _iter_stream_text(raw, path, encoding_errors)
    except OSError as exc:
        raise DualvecError(f"{path}: cannot read corpus file ({exc})") from None


def _open_binary(path: Path):
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")


def _iter_stream_text(raw, name: object, encoding_errors: str) -> Iterator[tuple[str, bool]]:
    """Yield the text of the binary stream ``raw`` (UTF-8) in bounded pieces, as ``(text, closes)``.

    Every piece ends at a newline, at a whitespace character inside a line too long to hold
    whole, or at the end of the file: tokens never run across two pieces. A newline in a
    piece ends a line; a line also ends where a piece with ``closes`` ends (the file's last).
    The tokenising readers (:func:`iter_file_sentences`, the compiled scan in
    :mod:`dualvec.text.encoded`) both read files through this, so they cut lines alike.
    """
    try:
        with io.TextIOWrapper(raw, encoding="utf-8", errors=encoding_errors, newline=None) as fh:
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
            f"{name}: not valid UTF-8 (byte {exc.object[exc.start:exc.start + 1]!r}); "
            "pass encoding_errors='replace' or 'ignore' to read it anyway"
        ) from None
    except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
        raise DualvecError(f"{name}: cannot read corpus file ({exc})") from None


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


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _is_wiki(head: bytes) -> bool:
    """Whether a file starting with ``head`` is WikiExtractor output (known by content, not name)."""
    return _WIKI_HEAD.match(head) is not None


def _peek(raw, n: int = 4096) -> bytes:
    return raw.peek(n)[:n] if hasattr(raw, "peek") else b""


def _file_is_wiki(path: Path) -> bool:
    try:
        with _open_binary(path) as raw:
            return _is_wiki(_peek(raw))
    except (OSError, EOFError, zlib.error):
        return False  # its reader reports the problem


def _iter_parts(path: str | os.PathLike, encoding_errors: str) -> Iterator[tuple[str, bool, Iterator[tuple[str, bool]]]]:
    """The texts a path source holds, as ``(name, is_wiki, pieces)``: a file, a folder's files in sorted
    order, an archive's regular members in archive order (streamed), each as :func:`iter_file_text`'s
    pieces. Where WikiExtractor files are found (a folder, an archive), only they are read: the others
    (a README) are not the corpus."""
    files = corpus_files(path)
    plain = [f for f in files if not is_archive(f)]
    wiki = {f for f in plain if _file_is_wiki(f)}
    for f in files:
        if is_archive(f):
            yield from _iter_archive(f, encoding_errors)
        elif f in wiki or not wiki:
            yield str(f), f in wiki, iter_file_text(f, encoding_errors)


class _Unseekable(io.RawIOBase):
    """A tar member read from a stream, as a raw stream that says it cannot seek (tarfile's own
    member object asks the archive stream, which has no ``seekable``)."""

    def __init__(self, member) -> None:
        self.member = member

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:
        data = self.member.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _iter_archive(path: Path, encoding_errors: str) -> Iterator[tuple[str, bool, Iterator[tuple[str, bool]]]]:
    """An archive's members as :func:`_iter_parts` gives them, streamed (``r|*``: no seeking, no unpacking).
    Members that are not WikiExtractor output are held back (up to 16 M characters) until the first that
    is: then they are dropped; if none is, they are read as text."""
    held: list[tuple[str, list[tuple[str, bool]]]] = []
    held_chars = 0
    wiki_seen = False
    try:
        with tarfile.open(path, "r|*") as tar:
            for member in tar:
                name = f"{path}:{member.name}"
                if not member.isfile() or Path(member.name).name.startswith("."):
                    continue
                raw = tar.extractfile(member)
                if raw is None:
                    continue
                raw = io.BufferedReader(_Unseekable(raw), _BLOCK_CHARS)  # text wrappers ask a stream to seek
                wiki = _is_wiki(_peek(raw))
                pieces = _iter_stream_text(raw, name, encoding_errors)
                if wiki:
                    wiki_seen, held = True, []
                    yield name, True, pieces
                elif wiki_seen:
                    for _ in pieces:  # not the corpus: read past it
                        pass
                elif held_chars > _HOLD_CHARS:  # a plain-text archive
                    yield name, False, pieces
                else:
                    kept = []
                    for piece in pieces:
                        kept.append(piece)
                        held_chars += len(piece[0])
                        if held_chars > _HOLD_CHARS:
                            break
                    if held_chars <= _HOLD_CHARS:
                        held.append((name, kept))
                        continue
                    for name_, kept_ in held:  # too much to hold back: read as text from here on
                        yield name_, False, iter(kept_)
                    held = []
                    yield name, False, itertools.chain(kept, pieces)
    except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
        raise DualvecError(f"{path}: cannot read the archive ({exc})") from None
    if not wiki_seen:
        for name, kept in held:
            yield name, False, iter(kept)


def wiki_as_lines(text: str) -> str:
    """WikiExtractor text with each ``<doc>`` on one line: the tag lines dropped, the title line and the
    paragraphs joined by spaces, a newline where a document ends (``</doc>``). The compiled scan does the
    same to the UTF-8 bytes (:func:`~dualvec.text.scan_kernels.wiki_lines`), faster."""
    lines = text.split("\n")
    last = len(lines) - 1  # the piece's last line has no newline of its own
    out = []
    for i, line in enumerate(lines):
        if i < last and _WIKI_TAG.fullmatch(line):
            continue
        out.append("\n" if line == "</doc>" else line + " " if i < last else line)
    return "".join(out)


def iter_corpus_text(path: str | os.PathLike, encoding_errors: str = "strict", *,
                     marked: bool = False) -> Iterator[tuple[str, bool]] | Iterator[tuple[str, bool, bool]]:
    """A path source's text in bounded pieces, as :func:`iter_file_text` gives one file's: files, folders,
    ``.gz``/``.bz2`` files, tar archives (streamed); WikiExtractor output as one line per document
    (title and text; the markup dropped, :func:`wiki_as_lines`). Both tokenising readers read paths
    through this. With ``marked``, pieces come as ``(text, closes, is_wiki)`` with WikiExtractor text
    as it is, for a reader that drops the markup itself (the compiled scan)."""
    for _, wiki, pieces in _iter_parts(path, encoding_errors):
        for text, closes in pieces:
            if marked:
                yield text, closes, wiki
            else:
                yield (wiki_as_lines(text) if wiki else text), closes


#: A document with its title where the source has one: ``(title or None, text)``.
TitledDocument = tuple[Union[str, None], str]


def iter_titled_documents(path: str | os.PathLike, encoding_errors: str = "strict") -> Iterator[TitledDocument]:
    """A source's documents as ``(title, text)``, streamed: a collection's (title split from the text as
    :func:`~dualvec.text.collections.split_title` does); WikiExtractor's (a file, folder or tar archive of
    them), the title from the ``<doc>`` tag and the text without its title line; any other text file's
    paragraphs (text between blank lines), with no title. For objectives that pair a title with its
    body (the contrastive one) as well as for training text."""
    if collection_kind(path) is not None:
        for _, text in iter_documents(path):
            yield split_title(text)
        return
    for _, wiki, pieces in _iter_parts(path, encoding_errors):
        yield from (_wiki_documents(pieces) if wiki else _paragraphs(pieces))


def _lines(pieces: Iterator[tuple[str, bool]]) -> Iterator[str]:
    pending = ""
    for text, closes in pieces:
        lines = (pending + text).split("\n")
        pending = lines.pop()
        yield from lines
        if closes and pending:
            yield pending
            pending = ""


def _wiki_documents(pieces: Iterator[tuple[str, bool]]) -> Iterator[TitledDocument]:
    title: str | None = None
    body: list[str] = []
    inside = False
    for line in _lines(pieces):
        if not inside and _WIKI_TAG.fullmatch(line):
            m = _WIKI_TITLE.search(line)
            title, body, inside = (html.unescape(m.group(1)) if m else None), [], True
        elif inside and line == "</doc>":
            if body and title is not None and body[0].strip() == title.strip():
                body = body[1:]  # the title line WikiExtractor repeats
            yield title, "\n".join(body).strip()
            inside = False
        elif inside:
            body.append(line)


def _paragraphs(pieces: Iterator[tuple[str, bool]]) -> Iterator[TitledDocument]:
    para: list[str] = []
    for line in _lines(pieces):
        if line.strip():
            para.append(line)
        elif para:
            yield None, "\n".join(para)
            para = []
    if para:
        yield None, "\n".join(para)
