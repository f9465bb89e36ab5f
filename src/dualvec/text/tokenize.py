"""Tokenisation: text -> tokens, the second step of the text layer (:mod:`dualvec.text`).

:class:`RegexTokenizer` lowercases and returns every match of its pattern;
:func:`check_pattern` vets patterns (those from files above all).
:func:`iter_sentences` turns a corpus (:mod:`.sources`) into token lists.
Lines longer than ``max_sentence_length`` tokens are cut into pieces of that
length, so text8-style files that are one huge line train like word2vec.c
trains them.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from ..errors import DualvecError
from .sources import CorpusLike, check_encoding_errors, iter_corpus_text, iter_file_text

try:  # the regular-expression parser, to vet patterns that come from files
    import re._parser as _sre_parse  # Python >= 3.11
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef]

#: Default word pattern: runs of Unicode letters, digits and underscores, so that
#: ``covid19``, ``mp3`` and gensim ``Phrases`` output (``new_york``) survive.
DEFAULT_TOKEN_PATTERN = r"\w+"
#: word2vec.c's and gensim ``LineSentence``'s splitting: whitespace-separated, case kept.
WHITESPACE_TOKEN_PATTERN = r"\S+"
#: Named tokenisers: name -> (pattern, lowercase).
TOKENIZER_PRESETS = {"default": (DEFAULT_TOKEN_PATTERN, True), "whitespace": (WHITESPACE_TOKEN_PATTERN, False)}
#: Unicode normal forms a tokeniser may put text in before matching; ``None`` (none) is how models saved
#: before marks and NFC were recorded tokenise.
NORMAL_FORMS = ("NFC",)
#: The Unicode categories of marks (nonspacing, spacing combining, enclosing): ``\w`` leaves them out, so
#: ``\w+`` cut हिन्दी into ह, न, द. A tokeniser with ``marks=True`` (the default) adds them to its class.
MARK_CATEGORIES = ("Mn", "Mc", "Me")
_N_CODE_POINTS = 0x110000
_MAX_PATTERN = 1000
#: Lines are cut into sentences of at most this many tokens (gensim and
#: word2vec.c use the same bound).
MAX_SENTENCE_LENGTH = 10_000

Tokenizer = Callable[[str], list[str]]



_SINGLE_CHAR_OPS = {"LITERAL", "NOT_LITERAL", "IN", "ANY", "CATEGORY"}
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


def one_class_run(pattern: re.Pattern) -> bool:
    """Whether ``findall(pattern)`` returns the maximal runs of one character class: the pattern
    is a single-character item (a literal, a set, a category, ``.``) repeated one or more times,
    greedily (``\\w+``, ``[a-z]+``, ``\\S+``, ``[^\\W\\d_]++``). ``\\w+?``, ``\\w{2,}`` or
    anything with groups and alternatives is not. Such a pattern tokenises in time linear in the
    text: it is the shape of both presets, and the only shape dualvec accepts from a file."""
    try:
        items = list(_sre_parse.parse(pattern.pattern, pattern.flags))
    except (re.error, RecursionError, OverflowError):
        return False
    if len(items) != 1:
        return False
    op, arg = items[0]
    if str(op) not in ("MAX_REPEAT", "POSSESSIVE_REPEAT"):
        return False
    lo, hi, sub = arg
    sub = list(sub)
    return lo == 1 and hi is _sre_parse.MAXREPEAT and len(sub) == 1 and str(sub[0][0]) in _SINGLE_CHAR_OPS


@functools.lru_cache(maxsize=1)
def _mark_ranges() -> tuple[tuple[int, int], ...]:
    """The code-point ranges of Unicode marks (:data:`MARK_CATEGORIES`), as this Python's unicodedata
    (the one ``re`` uses) has them. Marks lie in planes 0, 1 and 14 only."""
    ranges: list[list[int]] = []
    category = unicodedata.category
    for block in (range(0x300, 0x20000), range(0xE0000, 0xE1000)):
        for c in block:
            if category(chr(c)) in MARK_CATEGORIES:
                if ranges and ranges[-1][1] == c - 1:
                    ranges[-1][1] = c
                else:
                    ranges.append([c, c])
    return tuple((a, b) for a, b in ranges)


def _escape(c: int) -> str:
    return f"\\u{c:04x}" if c < 0x10000 else f"\\U{c:08x}"


@functools.lru_cache(maxsize=1)
def _marks_set() -> str:
    """The inside of a regex set of every mark: ``\\u0300-\\u036f...``."""
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in _mark_ranges())


_FLAGS_PREFIX = re.compile(r"\A(?:\(\?[a-zA-Z]+\))*")


def with_marks(pattern: str) -> str:
    """A one-class pattern (:func:`one_class_run`) whose class also holds every Unicode mark:
    ``\\w+`` -> ``[\\w\\u0300-...]+``; any other item X (``[a-z]``, ``.``) -> ``(?:X|[marks])+``, with
    the marks outside case folding. Its matches are the maximal runs of the class plus marks, the
    class the compiled scan's table holds (:func:`class_table` with ``marks=True``)."""
    prefix = _FLAGS_PREFIX.match(pattern).group(0)
    body, repeat = (pattern[len(prefix):-2], "++") if pattern.endswith("++") else (pattern[len(prefix):-1], "+")
    if re.compile(pattern).flags & re.IGNORECASE:  # marks kept out of case folding (U+0345 folds to iota)
        return f"{prefix}(?:{body}|(?-i:[{_marks_set()}])){repeat}"
    if re.fullmatch(r"\\[wWsSdD]", body):
        return f"{prefix}[{body}{_marks_set()}]{repeat}"
    return f"{prefix}(?:{body}|[{_marks_set()}]){repeat}"


@functools.lru_cache(maxsize=8)
def class_table(pattern: str, flags: int, marks: bool = False) -> np.ndarray:
    """uint8[0x110000]: 1 for the code points in the class that ``pattern`` (a one-class pattern)
    repeats, and with ``marks`` every Unicode mark too. Found by running the pattern over every code
    point in a row: the runs it matches cover exactly the characters of its class."""
    compiled = re.compile(pattern, flags)
    table = np.zeros(_N_CODE_POINTS, dtype=np.uint8)
    # Every code point in a row, surrogates included (decoding UTF-32 is 7x faster than chr() each).
    every = np.arange(_N_CODE_POINTS, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    for m in compiled.finditer(every):
        table[m.start():m.end()] = 1
    if marks:
        for a, b in _mark_ranges():
            table[a:b + 1] = 1
    return table


def check_pattern(pattern: object, from_file: bool = False) -> re.Pattern:
    """Compile a token pattern, refusing ones that could hang on adversarial text.

    Everywhere: a repeat whose body holds another quantifier or an alternation (``(a+)+``,
    ``(\\w*)*``, ``(?:\\w|\\w\\w)*``, ``(?:\\w\\w?)*``) can backtrack exponentially, and a
    backreference makes matching NP-hard, so they are refused, as are very long patterns. From a
    file (``from_file=True``: a model's header), only a one-class run (:func:`one_class_run`,
    ``\\w+``, ``\\S+``, ``[a-z]+``) is accepted: any other shape can cost time quadratic in a
    line (``\\w+#`` on a long run of letters), and a file must not be able to hang a search.
    """
    if not isinstance(pattern, str) or not pattern or len(pattern) > _MAX_PATTERN:
        raise DualvecError(f"the token pattern must be a regular expression of 1 to {_MAX_PATTERN} characters")
    try:
        compiled = re.compile(pattern)
        parsed = _sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise DualvecError(f"the token pattern {pattern!r} is not a valid regular expression ({exc})") from None
    if from_file:
        if not one_class_run(compiled):
            raise DualvecError(f"the token pattern {pattern!r} is not one dualvec accepts from a file: only one "
                               "character class repeated (\\w+, \\S+, [a-z]+), since other shapes can take "
                               "quadratic or exponential time on crafted text; give it with --token-pattern")
        return compiled
    why = _risky(parsed, False)
    if why:
        raise DualvecError(f"the token pattern {pattern!r} {why}, which can take exponential time; "
                           "write it without that")
    return compiled


def _risky(items, inside: bool) -> str | None:
    """Why a parsed pattern can backtrack exponentially (``None`` when it cannot): a quantifier or an
    alternation inside a repeat, or a backreference."""
    for op, arg in items:
        name = str(op)
        if name in _REPEATS:
            lo, hi, sub = arg
            if inside and hi != lo:
                return "nests a repeat inside a repeat"
            repeats = hi is _sre_parse.MAXREPEAT or hi > 1
            why = _risky(sub, inside or repeats)
            if why:
                return why
        elif name == "SUBPATTERN":
            why = _risky(arg[-1], inside)
            if why:
                return why
        elif name == "BRANCH":
            if inside:
                return "repeats an alternation"
            for branch in arg[1]:
                why = _risky(branch, inside)
                if why:
                    return why
        elif name in ("ASSERT", "ASSERT_NOT"):
            why = _risky(arg[1], inside)
            if why:
                return why
        elif name in ("GROUPREF", "GROUPREF_EXISTS"):
            return "uses a backreference"
        elif name == "ATOMIC_GROUP":
            why = _risky(arg, inside)
            if why:
                return why
    return None


class RegexTokenizer:
    """Lowercase the text (unless ``lowercase=False``), put it in NFC, then return every match of ``pattern``.

    The default pattern keeps runs of Unicode letters, digits and underscores, plus the marks that
    belong to them (``marks=True``), so ``"Café-au-lait, 2019 new_york"`` becomes ``["café", "au",
    "lait", "2019", "new_york"]``, and हिन्दी, שָׁלוֹם and ภาษาไทย stay one word each; a café written
    in NFD (``cafe`` + U+0301) is the same word as the composed one (``normalize="NFC"``).
    :meth:`whitespace` is word2vec.c's splitting; use ``pattern=r"[a-z]+"`` for the classic text8
    tokenisation. ``marks`` applies to one-class patterns (:func:`one_class_run`); another pattern is
    used as written. A model saved before marks and NFC were recorded loads with ``marks=False,
    normalize=None``, and tokenises as it was trained.
    """

    def __init__(self, pattern: str = DEFAULT_TOKEN_PATTERN, lowercase: bool = True, *, marks: bool = True,
                 normalize: str | None = "NFC"):
        if normalize is not None and normalize not in NORMAL_FORMS:
            raise DualvecError(f"unknown Unicode normal form {normalize!r}; use one of "
                               f"{', '.join(NORMAL_FORMS)} or None")
        self.pattern = pattern
        self.lowercase = bool(lowercase)
        self.normalize = normalize
        self.regex = check_pattern(pattern)
        self.marks = bool(marks) and one_class_run(self.regex)
        self._findall = self.regex.findall
        # Text with no mark in it (all ASCII text, most of any other) is matched by the pattern itself;
        # only text holding a mark needs the pattern whose class takes marks in (several times slower).
        self._marked = re.compile(with_marks(pattern), self.regex.flags).findall if self.marks else None
        self._has_mark = re.compile(f"[{_marks_set()}]").search if self.marks else None

    @classmethod
    def from_file(cls, pattern: object, lowercase: bool, marks: object = False,
                  normalize: object = None) -> RegexTokenizer:
        """The tokeniser a file (a model's header) describes: only a one-class pattern
        (:func:`check_pattern` with ``from_file=True``), so a file cannot hang dualvec. A header
        without ``marks`` and ``normalize`` was written before they existed: ``False`` and ``None``."""
        check_pattern(pattern, from_file=True)
        if not isinstance(marks, bool):
            raise DualvecError(f"the tokenizer's 'marks' must be true or false, not {marks!r}")
        if normalize is not None and normalize not in NORMAL_FORMS:
            raise DualvecError(f"the tokenizer's 'normalize' must be one of {', '.join(NORMAL_FORMS)} or null, "
                               f"not {normalize!r}")
        return cls(pattern, lowercase, marks=marks, normalize=normalize)  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        """What a model's header records, for :meth:`from_file`."""
        return {"pattern": self.pattern, "lowercase": self.lowercase, "marks": self.marks,
                "normalize": self.normalize}

    @classmethod
    def preset(cls, name: str) -> RegexTokenizer:
        """A named tokeniser: ``"default"`` or ``"whitespace"`` (word2vec.c: split on whitespace, keep case)."""
        if name not in TOKENIZER_PRESETS:
            raise DualvecError(f"unknown tokenizer {name!r}; use one of {', '.join(TOKENIZER_PRESETS)}")
        pattern, lowercase = TOKENIZER_PRESETS[name]
        return cls(pattern, lowercase)

    @classmethod
    def whitespace(cls) -> RegexTokenizer:
        return cls.preset("whitespace")

    def prepare(self, text: str) -> str:
        """The text the pattern runs over: lowercased, then in the normal form (ASCII text is in every
        normal form already, and ``str.isascii`` is far cheaper than the normaliser's own check)."""
        if self.lowercase:
            text = text.lower()
        if self.normalize is not None and not text.isascii():
            text = unicodedata.normalize(self.normalize, text)
        return text

    def __call__(self, text: str) -> list[str]:
        text = self.prepare(text)
        if self._marked is not None and not text.isascii() and self._has_mark(text):
            return self._marked(text)
        return self._findall(text)

    def __repr__(self) -> str:
        return (f"RegexTokenizer(pattern={self.pattern!r}, lowercase={self.lowercase}, marks={self.marks}, "
                f"normalize={self.normalize!r})")


def default_tokenizer() -> RegexTokenizer:
    """The tokeniser used when none is given: lowercase runs of letters, digits, underscores and marks, in NFC."""
    return RegexTokenizer()


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
    return text_sentences(iter_file_text(path, encoding_errors), tokenizer, max_sentence_length)


def text_sentences(pieces: Iterable[tuple[str, bool]], tokenizer: Tokenizer,
                   max_sentence_length: int = MAX_SENTENCE_LENGTH) -> Iterator[list[str]]:
    """Yield the token lists of text pieces (:func:`~dualvec.text.sources.iter_corpus_text`), line by line."""
    pending: list[str] = []  # tokens of the line not yet ended
    for text, closes in pieces:
        lines = text.split("\n")
        last = lines.pop()  # the part after the last newline: its line goes on unless ``closes``
        for line in lines:
            pending.extend(tokenizer(line))
            if pending:
                yield from _cut(pending, max_sentence_length)
            pending = []
        if last:
            pending.extend(tokenizer(last))
        full = len(pending) if closes else len(pending) - len(pending) % max_sentence_length
        if full:
            yield from _cut(pending[:full], max_sentence_length)
            pending = pending[full:]


def iter_sentences(
    corpus: CorpusLike,
    tokenizer: Tokenizer | None = None,
    max_sentence_length: int = MAX_SENTENCE_LENGTH,
    encoding_errors: str = "strict",
) -> Iterator[list[str]]:
    """Yield a corpus's sentences as token lists (see the module docstring)."""
    check_encoding_errors(encoding_errors)
    tok = tokenizer or default_tokenizer()
    if isinstance(corpus, (str, os.PathLike)):
        yield from text_sentences(iter_corpus_text(corpus, encoding_errors), tok, max_sentence_length)
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
