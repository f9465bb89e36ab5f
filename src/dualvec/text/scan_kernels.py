"""Compiled tokenising and counting for the one-pass scan of a text corpus.

Tokenising in Python (a regex ``findall`` per line, a dict lookup per token) took
longer than an epoch of CBOW (benchmarks/RESULTS.md). Most tokenisers are one character class repeated
(``\\w+``, ``[a-z]+``, ``\\S+``): their tokens are the maximal runs of
characters in the class, which a byte loop finds without a regex engine.

:func:`run_class` tells whether a pattern is such a class and
:func:`~dualvec.text.tokenize.class_table` lists the class's code points (with the Unicode marks
when the tokeniser takes them in), computed by the pattern itself (so Unicode categories, inline
flags and negated sets mean exactly what ``re`` means by them). :class:`WordTable` holds the words found so far in a
numba hash table and runs :func:`scan_utf8` over UTF-8 bytes: it splits lines,
finds the runs, gives each new word the next provisional id, counts, and cuts
lines into sentences of at most ``max_len`` tokens, as the Python path does.
Text is lowercased and put in NFC before it gets here
(:meth:`~dualvec.text.tokenize.RegexTokenizer.prepare`), as the tokeniser does, so both paths
find the same words. ASCII bytes take one step each, so English text scans as fast as before.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np
from numba import njit

from .tokenize import class_table, one_class_run  # noqa: F401  (class_table: the scan's class, computed there)

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_NEWLINE = 10
_HIGH = np.int64(-1) << 32  # a slot's hash tag
_LOW = np.int64(0xFFFFFFFF)  # a slot's word id + 1

# State kept between calls of scan_utf8 (an int64 array).
_N_WORDS, _POOL_USED, _N_IDS, _N_LENS, _PENDING = range(5)


def run_class(pattern: re.Pattern) -> bool:
    """Whether ``findall(pattern)`` returns the maximal runs of one character class
    (:func:`dualvec.text.tokenize.one_class_run`: ``\\w+``, ``[a-z]+``, ``\\S+``, ``[^\\W\\d_]++``)."""
    return one_class_run(pattern)


@njit(inline="always")
def _code_point(buf, pos):
    """The code point starting at ``buf[pos]`` (valid UTF-8) and its length in bytes."""
    b = np.int64(buf[pos])
    if b < 0x80:
        return b, 1
    if b < 0xE0:
        return ((b & 0x1F) << 6) | (np.int64(buf[pos + 1]) & 0x3F), 2
    if b < 0xF0:
        return ((b & 0x0F) << 12) | ((np.int64(buf[pos + 1]) & 0x3F) << 6) | (np.int64(buf[pos + 2]) & 0x3F), 3
    return (((b & 0x07) << 18) | ((np.int64(buf[pos + 1]) & 0x3F) << 12)
            | ((np.int64(buf[pos + 2]) & 0x3F) << 6) | (np.int64(buf[pos + 3]) & 0x3F)), 4


@njit(nogil=True, cache=True)
def scan_utf8(buf, pos, in_class, state, slots, pool, word_start, word_hash, counts, ids, lens, max_len):
    """Tokenise ``buf[pos:]`` (UTF-8) into runs of ``in_class`` code points, from ``pos``.

    Each run is looked up in the open-addressing table ``slots`` (its size a power of two; 0
    empty, else the run's FNV-1a hash in the high 32 bits and word id + 1 in the low 32), and
    confirmed against the word's bytes ``pool[word_start[w]:word_start[w + 1]]``; a new word
    gets the next id (its full hash kept in ``word_hash``, to grow the table). Its id goes to ``ids``, its count up by one. A newline byte ends a line:
    the line's token count goes to ``lens`` (lines with no tokens add nothing), and a line
    reaching ``max_len`` tokens is cut there. The end of ``buf`` ends a run but not a line.

    Returns the position reached: ``len(buf)``, or the start of the run that found the table half
    full, ``ids`` full or ``lens`` full, for the caller to make room and call again from there.
    The caller keeps ``pool`` at least ``len(buf)`` bytes beyond its use.
    """
    n = buf.shape[0]
    mask = slots.shape[0] - 1
    limit = slots.shape[0] // 2
    # The state lives in locals while the loop runs (stores to ``ids`` could alias an array).
    n_words = state[_N_WORDS]
    pool_used = state[_POOL_USED]
    n_ids = state[_N_IDS]
    n_lens = state[_N_LENS]
    pending = state[_PENDING]
    while pos < n:
        b = buf[pos]
        if b == _NEWLINE:
            if pending > 0:
                if n_lens == lens.shape[0]:
                    break
                lens[n_lens] = pending
                n_lens += 1
                pending = 0
            pos += 1
            continue
        cp, w = _code_point(buf, pos)
        if in_class[cp] == 0:
            pos += w
            continue
        if n_words >= limit or n_ids == ids.shape[0] or n_lens == lens.shape[0]:
            break
        start = pos
        h = _FNV_OFFSET
        while True:
            for j in range(w):
                h = (h ^ np.uint64(buf[pos + j])) * _FNV_PRIME
            pos += w
            if pos >= n or buf[pos] == _NEWLINE:
                break
            cp, w = _code_point(buf, pos)
            if in_class[cp] == 0:
                break
        length = pos - start
        tag = np.int64(h >> np.uint64(32)) << 32
        i = np.int64(h & np.uint64(mask))
        while True:
            slot = slots[i]
            if slot == 0:
                wid = n_words
                slots[i] = tag | (wid + 1)
                pool[pool_used:pool_used + length] = buf[start:pos]
                pool_used += length
                word_start[wid + 1] = pool_used
                word_hash[wid] = h
                n_words += 1
                break
            if (slot & _HIGH) == tag:
                wid = (slot & _LOW) - 1
                o = word_start[wid]
                if word_start[wid + 1] - o == length:
                    same = True
                    for j in range(length):
                        if pool[o + j] != buf[start + j]:
                            same = False
                            break
                    if same:
                        break
            i = (i + 1) & mask
        counts[wid] += 1
        ids[n_ids] = wid
        n_ids += 1
        pending += 1
        if pending == max_len:
            lens[n_lens] = max_len
            n_lens += 1
            pending = 0
    state[_N_WORDS] = n_words
    state[_POOL_USED] = pool_used
    state[_N_IDS] = n_ids
    state[_N_LENS] = n_lens
    state[_PENDING] = pending
    return pos


_DOC_OPEN = np.frombuffer(b'<doc id="', dtype=np.uint8)
_DOC_CLOSE = np.frombuffer(b"</doc>", dtype=np.uint8)


@njit(nogil=True, cache=True)
def _starts_with(buf, start, end, prefix):
    if end - start < prefix.shape[0]:
        return False
    for j in range(prefix.shape[0]):
        if buf[start + j] != prefix[j]:
            return False
    return True


@njit(nogil=True, cache=True)
def wiki_lines(buf, doc_open, doc_close):
    """In place, WikiExtractor's UTF-8 text as one line per document, as
    :func:`dualvec.text.sources.wiki_as_lines` makes it: a ``<doc id="...">`` line (``<doc id="``, a
    quote, then no ``>`` before the last byte, ``>``, a newline) becomes spaces, newline included; a
    ``</doc>`` line becomes spaces and one newline; every other newline a space. Lengths are kept, so
    this costs one pass over the bytes."""
    n = buf.shape[0]
    start = 0
    while start < n:
        end = start
        while end < n and buf[end] != _NEWLINE:
            end += 1
        if end < n and _starts_with(buf, start, end, doc_open) and buf[end - 1] == 62:  # 62: '>'
            quote = start + doc_open.shape[0]
            while quote < end and buf[quote] != 34:  # 34: '"'
                quote += 1
            gt = quote + 1
            while gt < end and buf[gt] != 62:
                gt += 1
            if quote < end and gt == end - 1:
                for j in range(start, end + 1):
                    buf[j] = 32
                start = end + 1
                continue
        if end - start == doc_close.shape[0] and _starts_with(buf, start, end, doc_close):
            for j in range(start, end):
                buf[j] = 32
            if end == n:
                buf[end - 1] = _NEWLINE
        elif end < n:
            buf[end] = 32
        start = end + 1


@functools.lru_cache(maxsize=1)
def nfc_table() -> np.ndarray:
    """uint8[0x110000]: 1 for the code points that can make NFC change a text: those NFC changes
    alone, combining marks (which NFC reorders) and the second half of every canonical composition
    (Hangul vowels and trailing consonants included). A text with none of them is in NFC already.
    They all lie in planes 0-2 and 14, from U+0300 on. Built once (about 0.15 s)."""
    table = np.zeros(0x110000, dtype=np.uint8)
    combining, normalize, decomposition = unicodedata.combining, unicodedata.normalize, unicodedata.decomposition
    for block in (range(0x300, 0x30000), range(0xE0000, 0xE1000)):
        for c in block:
            ch = chr(c)
            if combining(ch) or normalize("NFC", ch) != ch:
                table[c] = 1
            d = decomposition(ch)
            if d and not d.startswith("<") and len(parts := d.split()) == 2:
                table[int(parts[1], 16)] = 1
    table[0x1161:0x1176] = 1  # Hangul vowels, composed with a leading consonant by algorithm
    table[0x11A8:0x11C3] = 1  # Hangul trailing consonants
    return table


@njit(nogil=True, cache=True)
def needs_nfc(buf, table):
    """Whether UTF-8 ``buf`` holds a code point marked in ``table`` (:func:`nfc_table`), so that NFC
    could change it. ASCII bytes take one comparison each: English text costs next to nothing,
    where ``unicodedata``'s own check read every character through its tables."""
    n = buf.shape[0]
    pos = 0
    while pos < n:
        if buf[pos] < 0x80:
            pos += 1
            continue
        cp, w = _code_point(buf, pos)
        if table[cp]:
            return True
        pos += w
    return False


@njit(nogil=True, cache=True)
def _rehash(slots, word_hash, n_words):
    """Put words 0 .. n_words-1 into the empty table ``slots`` by their hashes."""
    mask = slots.shape[0] - 1
    for wid in range(n_words):
        h = word_hash[wid]
        i = np.int64(h & np.uint64(mask))
        while slots[i] != 0:
            i = (i + 1) & mask
        slots[i] = (np.int64(h >> np.uint64(32)) << 32) | (wid + 1)


@njit(nogil=True, cache=True)
def keep_rows(ids, row_of, before, rows, cum):
    """Map provisional ids to vocabulary rows, keeping those with a row (``row_of`` >= 0) in
    ``rows``; ``cum[j]`` = ``before`` + rows kept from ``ids[:j + 1]``. Returns how many were kept."""
    k = 0
    for j in range(ids.shape[0]):
        r = row_of[ids[j]]
        if r >= 0:
            rows[k] = r
            k += 1
        cum[j] = before + k
    return k


class WordTable:
    """Words found so far (in order of first appearance), their counts, and the id stream of the
    text scanned, with the arrays :func:`scan_utf8` works on, grown as needed.

    ``emit_ids(ids)`` and ``emit_lens(lens)`` receive the full output buffers (arrays valid
    until the call returns) whenever they fill and at :meth:`finish`.
    """

    def __init__(self, in_class: np.ndarray, max_len: int, emit_ids, emit_lens, buffer: int = 1 << 20):
        self.in_class = in_class
        self.max_len = int(max_len)
        self.emit_ids = emit_ids
        self.emit_lens = emit_lens
        self.state = np.zeros(5, dtype=np.int64)
        self.slots = np.zeros(1 << 16, dtype=np.int64)
        self.pool = np.zeros(1 << 20, dtype=np.uint8)
        self.word_start = np.zeros(self.slots.size // 2 + 1, dtype=np.int64)
        self.word_hash = np.zeros(self.slots.size // 2, dtype=np.uint64)
        self.counts = np.zeros(self.slots.size // 2, dtype=np.int64)
        self.ids = np.empty(buffer, dtype=np.int32)
        self.lens = np.empty(buffer, dtype=np.int64)

    @property
    def n_words(self) -> int:
        return int(self.state[_N_WORDS])

    def scan(self, data: bytes) -> None:
        """Tokenise ``data`` (UTF-8 of lowercased text); runs end at its end, lines do not."""
        buf = np.frombuffer(data, dtype=np.uint8)
        need = int(self.state[_POOL_USED]) + buf.size
        if need > self.pool.size:
            self.pool = np.concatenate([self.pool, np.zeros(max(need, 2 * self.pool.size) - self.pool.size, np.uint8)])
        pos = 0
        while True:
            pos = scan_utf8(buf, pos, self.in_class, self.state, self.slots, self.pool, self.word_start,
                            self.word_hash, self.counts, self.ids, self.lens, self.max_len)
            if pos >= buf.size:
                return
            self._make_room()

    def end_line(self) -> None:
        """End the current line, as a newline would."""
        self.scan(b"\n")

    def finish(self) -> None:
        """End the current line and hand over what the buffers hold."""
        self.end_line()
        self._flush()

    def words(self) -> list[str]:
        """Provisional id -> word."""
        pool = self.pool.tobytes()
        ends = self.word_start[: self.n_words + 1].tolist()
        return [pool[a:b].decode("utf-8", "surrogatepass") for a, b in zip(ends[:-1], ends[1:])]

    def word_counts(self) -> np.ndarray:
        return self.counts[: self.n_words].copy()

    def _flush(self) -> None:
        if self.state[_N_IDS]:
            self.emit_ids(self.ids[: self.state[_N_IDS]])
            self.state[_N_IDS] = 0
        if self.state[_N_LENS]:
            self.emit_lens(self.lens[: self.state[_N_LENS]])
            self.state[_N_LENS] = 0

    def _make_room(self) -> None:
        """Hand over full output buffers; double the hash table when it is half full."""
        self._flush()
        n = self.n_words
        if n >= self.slots.size // 2:
            size = 2 * self.slots.size
            self.slots = np.zeros(size, dtype=np.int64)
            _rehash(self.slots, self.word_hash, n)
            grow = size // 2 - self.word_hash.size
            self.word_hash = np.concatenate([self.word_hash, np.zeros(grow, np.uint64)])
            self.counts = np.concatenate([self.counts, np.zeros(grow, np.int64)])
            self.word_start = np.concatenate([self.word_start, np.zeros(grow, np.int64)])
