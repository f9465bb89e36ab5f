"""Corpus sources and tokenisation.

A *corpus* is anything that yields sentences as lists of tokens:

* a path to a text file (one sentence or document per line), optionally
  ``.gz`` or ``.bz2`` compressed;
* a path to a directory, whose files are read recursively in sorted order;
* an iterable whose items are token lists (pre-tokenised, as gensim takes them)
  or strings (raw text, tokenised here).

Lines longer than ``max_sentence_length`` tokens are cut into pieces of that
length, so text8-style files that are one huge line train like word2vec.c
trains them. Files are read in blocks, never a whole line at once, so a
single-line corpus larger than memory works too.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Union

from .errors import DualvecError

#: Default word pattern: runs of Unicode letters (no digits or underscores).
DEFAULT_TOKEN_PATTERN = r"[^\W\d_]+"
#: Lines are cut into sentences of at most this many tokens (gensim and
#: word2vec.c use the same bound).
MAX_SENTENCE_LENGTH = 10_000

Tokenizer = Callable[[str], list[str]]
CorpusLike = Union[str, os.PathLike, Iterable[Union[Sequence[str], str]]]

_BLOCK_CHARS = 1 << 20


class RegexTokenizer:
    """Lowercase the text, then return every match of ``pattern``.

    The default pattern keeps runs of Unicode letters, so ``"Café-au-lait,
    2019"`` becomes ``["café", "au", "lait"]``. Use ``pattern=r"[a-z]+"`` for the
    classic text8 tokenisation.
    """

    def __init__(self, pattern: str = DEFAULT_TOKEN_PATTERN, lowercase: bool = True):
        self.pattern = pattern
        self.lowercase = lowercase
        self._findall = re.compile(pattern).findall

    def __call__(self, text: str) -> list[str]:
        return self._findall(text.lower() if self.lowercase else text)

    def __repr__(self) -> str:
        return f"RegexTokenizer(pattern={self.pattern!r}, lowercase={self.lowercase})"


def default_tokenizer() -> RegexTokenizer:
    """The tokeniser used when none is given: lowercase Unicode letter runs."""
    return RegexTokenizer()


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


def _cut(tokens: list[str], max_len: int) -> Iterator[list[str]]:
    for start in range(0, len(tokens), max_len):
        yield tokens[start : start + max_len]


def iter_file_sentences(
    path: Path,
    tokenizer: Tokenizer,
    max_sentence_length: int = MAX_SENTENCE_LENGTH,
    encoding_errors: str = "strict",
) -> Iterator[list[str]]:
    """Yield the token lists of one file, line by line, in bounded memory."""
    try:
        with _open_text(path, encoding_errors) as fh:
            pending: list[str] = []  # tokens of a line too long to hold whole
            rest = ""
            while True:
                block = fh.read(_BLOCK_CHARS)
                if not block:
                    break
                lines = (rest + block).split("\n")
                rest = lines.pop()
                for line in lines:
                    pending.extend(tokenizer(line))
                    if pending:
                        yield from _cut(pending, max_sentence_length)
                    pending = []
                if len(rest) > _BLOCK_CHARS:
                    # A line longer than a block (text8): tokenise up to the
                    # last whitespace and carry the partial word over.
                    cut = max(rest.rfind(" "), rest.rfind("\t"))
                    if cut > 0:
                        pending.extend(tokenizer(rest[:cut]))
                        rest = rest[cut:]
                        full = len(pending) - len(pending) % max_sentence_length
                        if full:
                            yield from _cut(pending[:full], max_sentence_length)
                            pending = pending[full:]
            pending.extend(tokenizer(rest))
            if pending:
                yield from _cut(pending, max_sentence_length)
    except UnicodeDecodeError as exc:
        raise DualvecError(
            f"{path}: not valid UTF-8 (byte {exc.object[exc.start:exc.start + 1]!r}); "
            "pass encoding_errors='replace' or 'ignore' to read it anyway"
        ) from None
    except (OSError, EOFError) as exc:
        raise DualvecError(f"{path}: cannot read corpus file ({exc})") from None


def iter_sentences(
    corpus: CorpusLike,
    tokenizer: Tokenizer | None = None,
    max_sentence_length: int = MAX_SENTENCE_LENGTH,
    encoding_errors: str = "strict",
) -> Iterator[list[str]]:
    """Yield a corpus's sentences as token lists (see the module docstring)."""
    if encoding_errors not in ("strict", "replace", "ignore"):
        raise DualvecError(f"encoding_errors must be 'strict', 'replace' or 'ignore', not {encoding_errors!r}")
    tok = tokenizer or default_tokenizer()
    if isinstance(corpus, (str, os.PathLike)):
        for f in corpus_files(corpus):
            yield from iter_file_sentences(f, tok, max_sentence_length, encoding_errors)
        return
    if isinstance(corpus, (bytes, bytearray)):
        raise DualvecError("corpus must be a path or an iterable of token lists or strings, not bytes")
    try:
        items = iter(corpus)
    except TypeError:
        raise DualvecError(
            f"corpus must be a path or an iterable of token lists or strings, not {type(corpus).__name__}"
        ) from None
    for n, item in enumerate(items):
        if isinstance(item, str):
            tokens = tok(item)
        elif isinstance(item, (list, tuple)):
            tokens = list(item)
            if tokens and not all(isinstance(t, str) for t in tokens):
                raise DualvecError(f"corpus sentence {n} holds a token that is not a string")
        else:
            raise DualvecError(
                f"corpus sentence {n} is a {type(item).__name__}; expected a list of tokens or a string"
            )
        if tokens:
            yield from _cut(tokens, max_sentence_length)
