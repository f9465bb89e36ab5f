"""Encode a corpus once into an on-disk int32 array of word ids.

Tokenising is the slow part of training's preparation, so it happens exactly
once: :func:`scan_corpus` reads the corpus a single time, gives every distinct
word a provisional id as it first appears, and streams those ids to a file
while it counts. Files tokenised by a :class:`~dualvec.text.tokenize.RegexTokenizer`
whose pattern is one repeated character class (the default ``\\w+``,
``[a-z]+``, ``\\S+``) are tokenised and counted in compiled code
(:mod:`dualvec.text.scan_kernels`), with the same result as the Python path.
Once the vocabulary is known, :meth:`ScannedCorpus.encode` maps provisional
ids to final rows in one compiled pass, drops words outside the vocabulary
(as word2vec.c and gensim drop them before windowing) and writes the final
token array. Every epoch then runs from that memory-mapped array,
so corpora larger than RAM train too.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .sources import CorpusLike, as_training_text, check_encoding_errors, corpus_files, iter_corpus_text
from .tokenize import MAX_SENTENCE_LENGTH, RegexTokenizer, Tokenizer, default_tokenizer, iter_sentences
from .scan_kernels import (_DOC_CLOSE, _DOC_OPEN, WordTable, class_table, keep_rows, needs_nfc, nfc_table, run_class,
                           wiki_lines)

_FLUSH_TOKENS = 1 << 22
_BLOCK = 1 << 20  # tokens per step of encode: bounds its buffers


class _ProvisionalIds(dict):
    """word -> provisional id; a missing word gets the next id."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []

    def __missing__(self, word: str) -> int:
        pid = len(self.words)
        self.words.append(word)
        self[word] = pid
        return pid


@dataclass
class EncodedCorpus:
    """Sentences as one int32 array of vocabulary rows plus sentence offsets.

    Sentence ``i`` is ``tokens[offsets[i]:offsets[i+1]]``. The arrays may be
    memory-mapped from ``directory``, which :meth:`close` removes.
    """

    tokens: np.ndarray
    offsets: np.ndarray
    directory: Path | None = None

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    @property
    def n_sentences(self) -> int:
        return len(self.offsets) - 1

    def close(self) -> None:
        self.tokens = self.offsets = np.zeros(1, dtype=np.int64)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


@dataclass
class ScannedCorpus:
    """The result of one pass: provisional vocabulary, counts and id stream."""

    words: list[str]  # provisional id -> word
    counts: np.ndarray  # provisional id -> count (0 for pruned ids)
    sentence_lengths: np.ndarray  # int64
    directory: Path

    @property
    def n_tokens(self) -> int:
        return int(self.sentence_lengths.sum())

    def _raw(self) -> np.ndarray:
        path = self.directory / "raw.i32"
        if self.n_tokens == 0:
            return np.zeros(0, dtype=np.int32)
        return np.memmap(path, dtype=np.int32, mode="r")

    def encode(self, row_of: np.ndarray) -> EncodedCorpus:
        """Map provisional ids to vocabulary rows (-1 = drop) and compact.

        Sentences that lose every word are dropped.
        """
        raw = self._raw()
        starts = np.zeros(len(self.sentence_lengths) + 1, dtype=np.int64)
        np.cumsum(self.sentence_lengths, out=starts[1:])
        kept_before = np.zeros_like(starts)  # kept tokens before each raw boundary
        out_path = self.directory / "tokens.i32"
        n_kept = 0
        row_of = np.asarray(row_of, dtype=np.int64)
        rows = np.empty(min(len(raw), _BLOCK), dtype=np.int32)
        cum = np.empty(min(len(raw), _BLOCK), dtype=np.int64)
        with open(out_path, "wb") as out:
            for lo in range(0, len(raw), _BLOCK):
                block = raw[lo : lo + _BLOCK]
                # cum[j] = kept tokens in raw[:lo + j + 1]; a boundary s in
                # (lo, lo + len] therefore has kept_before = cum[s - lo - 1].
                n = keep_rows(block, row_of, n_kept, rows, cum)
                a = np.searchsorted(starts, lo + 1, side="left")
                b = np.searchsorted(starts, lo + len(block), side="right")
                kept_before[a:b] = cum[starts[a:b] - lo - 1]
                rows[:n].tofile(out)
                n_kept = int(cum[len(block) - 1])
        del raw
        (self.directory / "raw.i32").unlink(missing_ok=True)
        offsets = np.unique(kept_before)  # drops sentences that became empty
        tokens = np.memmap(out_path, dtype=np.int32, mode="r") if n_kept else np.zeros(0, np.int32)
        return EncodedCorpus(tokens=tokens, offsets=offsets.astype(np.int64), directory=self.directory)

    def discard(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def scan_corpus(
    corpus: CorpusLike,
    tokenizer: Tokenizer | None = None,
    max_vocab_size: int | None = None,
    encoding_errors: str = "strict",
    workdir: str | os.PathLike | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ScannedCorpus:
    """Read the corpus once: count words and stream provisional ids to disk.

    Files read with a one-class :class:`~dualvec.text.tokenize.RegexTokenizer` are
    tokenised and counted in compiled code; other tokenisers, iterables, and
    runs with ``max_vocab_size`` go through Python, with the same result.
    ``max_vocab_size`` bounds memory as gensim's does: whenever more distinct
    words are held, those seen at most ``k`` times are forgotten (k = 1, 2, ...
    on successive prunings), and a forgotten word that comes back starts
    counting again from zero. ``on_progress`` is called with the number of
    tokens read so far. A document collection is read as its documents' text
    (:func:`~dualvec.text.sources.as_training_text`).
    """
    corpus = as_training_text(corpus)
    tokenizer = tokenizer or default_tokenizer()
    in_class = _compiled_class(tokenizer)
    files = None
    if in_class is not None and isinstance(corpus, (str, os.PathLike)) and not max_vocab_size:
        check_encoding_errors(encoding_errors)
        files = corpus_files(corpus)  # a missing path or an empty folder fails here, before the temp folder
    directory = Path(tempfile.mkdtemp(prefix="dualvec-corpus-", dir=workdir))
    try:
        if files is not None:
            return _scan_files(corpus, tokenizer, in_class, encoding_errors, directory, on_progress)
        return _scan_python(corpus, tokenizer, max_vocab_size, encoding_errors, directory, on_progress)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _scan_python(corpus: CorpusLike, tokenizer: Tokenizer, max_vocab_size: int | None, encoding_errors: str,
                 directory: Path, on_progress: Callable[[int], None] | None) -> ScannedCorpus:
    """:func:`scan_corpus` through the tokeniser itself, a dict lookup per token."""
    ids = _ProvisionalIds()
    lengths = array("q")
    buf = array("i")
    dead: set[int] = set()
    min_reduce = 1
    n_read = 0
    raw_path = directory / "raw.i32"
    with open(raw_path, "wb") as raw:
        lookup = ids.__getitem__
        for tokens in iter_sentences(corpus, tokenizer, encoding_errors=encoding_errors):
            buf.extend(map(lookup, tokens))
            lengths.append(len(tokens))
            if len(buf) >= _FLUSH_TOKENS:
                buf.tofile(raw)
                n_read += len(buf)
                del buf[:]
                if on_progress:
                    on_progress(n_read)
            if max_vocab_size and len(ids) > max_vocab_size:
                buf.tofile(raw)
                n_read += len(buf)
                del buf[:]
                raw.flush()
                min_reduce = _prune(ids, raw_path, dead, min_reduce, max_vocab_size)
        buf.tofile(raw)
        n_read += len(buf)
    if on_progress:
        on_progress(n_read)
    counts = _count(raw_path, len(ids.words))
    if dead:
        counts[np.fromiter(dead, dtype=np.int64)] = 0
    return ScannedCorpus(
        words=ids.words,
        counts=counts,
        sentence_lengths=np.frombuffer(lengths, dtype=np.int64).copy(),
        directory=directory,
    )


def _compiled_class(tokenizer: Tokenizer) -> np.ndarray | None:
    """The class table of a tokeniser the compiled scan can run, else None: a
    :class:`RegexTokenizer` itself (a subclass may tokenise differently) with a run-class pattern."""
    if type(tokenizer) is not RegexTokenizer or not run_class(tokenizer.regex):
        return None
    return class_table(tokenizer.regex.pattern, tokenizer.regex.flags, tokenizer.marks)


def _prepared_utf8(tokenizer: RegexTokenizer, text: str) -> bytes:
    """``tokenizer.prepare(text)`` as UTF-8, the normaliser called only on text that NFC could change
    (:func:`~dualvec.text.scan_kernels.needs_nfc`): on English Wikipedia, nearly every 1 MB piece
    holds some non-ASCII character, and the normaliser's own check cost 13% of the scan."""
    if tokenizer.lowercase:
        text = text.lower()
    data = text.encode("utf-8", "surrogatepass")
    if tokenizer.normalize is not None and len(data) != len(text):
        if needs_nfc(np.frombuffer(data, np.uint8), nfc_table()):
            data = unicodedata.normalize(tokenizer.normalize, text).encode("utf-8", "surrogatepass")
    return data


def _scan_files(corpus: str | os.PathLike, tokenizer: RegexTokenizer, in_class: np.ndarray, encoding_errors: str,
                directory: Path, on_progress: Callable[[int], None] | None) -> ScannedCorpus:
    """:func:`scan_corpus` for a path (files, folders, archives: :func:`~dualvec.text.sources.iter_corpus_text`),
    tokenised and counted in compiled code. (Reading the next piece in a second thread while this one
    tokenised gained nothing measurable.)"""
    lengths: list[np.ndarray] = []
    n_read = 0
    with open(directory / "raw.i32", "wb") as raw:

        def emit_ids(ids: np.ndarray) -> None:
            nonlocal n_read
            ids.tofile(raw)
            n_read += len(ids)
            if on_progress:
                on_progress(n_read)

        table = WordTable(in_class, MAX_SENTENCE_LENGTH, emit_ids, lambda lens: lengths.append(lens.copy()))
        for text, closes, wiki in iter_corpus_text(corpus, encoding_errors, marked=True):
            data = _prepared_utf8(tokenizer, text)
            if wiki:  # the markup dropped in the bytes: 6x faster than doing it to the text
                data = np.frombuffer(bytearray(data), dtype=np.uint8)
                wiki_lines(data, _DOC_OPEN, _DOC_CLOSE)
            table.scan(data)
            if closes:
                table.end_line()
        table.finish()
    if on_progress:
        on_progress(n_read)
    return ScannedCorpus(
        words=table.words(),
        counts=table.word_counts(),
        sentence_lengths=np.concatenate(lengths) if lengths else np.zeros(0, np.int64),
        directory=directory,
    )


def _count(raw_path: Path, n_ids: int) -> np.ndarray:
    counts = np.zeros(n_ids, dtype=np.int64)
    if n_ids == 0 or raw_path.stat().st_size == 0:
        return counts
    raw = np.memmap(raw_path, dtype=np.int32, mode="r")
    for lo in range(0, len(raw), _BLOCK):
        counts += np.bincount(raw[lo : lo + _BLOCK], minlength=n_ids)
    return counts


def _prune(ids: _ProvisionalIds, raw_path: Path, dead: set[int], min_reduce: int, limit: int) -> int:
    """Forget rare words until at most ``limit`` are held; return the next threshold."""
    counts = _count(raw_path, len(ids.words))
    while len(ids) > limit:
        for word, pid in list(ids.items()):
            if counts[pid] <= min_reduce:
                del ids[word]
                dead.add(pid)
        min_reduce += 1
    return min_reduce
