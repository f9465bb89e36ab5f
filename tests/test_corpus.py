import bz2
import gzip

import numpy as np
import pytest

from dualvec.text.tokenize import MAX_SENTENCE_LENGTH, RegexTokenizer, iter_sentences
from dualvec.text.encoded import scan_corpus
from dualvec.errors import DualvecError


def test_default_tokenizer_lowercases_and_keeps_letters_digits_and_underscores():
    # Issue 13: t0e0, new_york (gensim Phrases), covid19 and mp3 must survive the default.
    assert RegexTokenizer()("Café-au-lait, 2019! Ümlaut_x") == ["café", "au", "lait", "2019", "ümlaut_x"]
    assert RegexTokenizer()("t0e0 New_York covid19 mp3") == ["t0e0", "new_york", "covid19", "mp3"]
    assert RegexTokenizer(r"[a-z]+")("Café 42 x") == ["caf", "x"]


def test_whitespace_preset_is_word2vec_c_splitting():
    assert RegexTokenizer.whitespace()("The  New_York\tTimes, 2019") == ["The", "New_York", "Times,", "2019"]
    assert RegexTokenizer.preset("whitespace").lowercase is False
    with pytest.raises(DualvecError, match="unknown tokenizer"):
        RegexTokenizer.preset("spacy")


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(\w*)*x", "(", "", "a" * 5000])
def test_dangerous_or_invalid_token_patterns_are_refused(pattern):
    with pytest.raises(DualvecError, match="token pattern"):
        RegexTokenizer(pattern)


def test_a_single_line_without_ascii_spaces_is_read_in_bounded_memory(tmp_path):
    import tracemalloc

    path = tmp_path / "nbsp.txt"
    path.write_text("\u00a0".join(["wörd", "zwei"] * 600_000), encoding="utf-8")  # ~6 MB, one line
    tracemalloc.start()
    n = sum(len(s) for s in iter_sentences(path, RegexTokenizer()))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 1_200_000
    assert peak < 64 * 2**20, peak  # blocks, not the whole 6 MB line several times over
    long_token = tmp_path / "one.txt"
    long_token.write_text("x" * 5_000_000)
    assert sum(len(t) for s in iter_sentences(long_token, RegexTokenizer()) for t in s) == 5_000_000


def test_file_gz_bz2_and_directory_read_the_same(tmp_path):
    text = "The cat sat.\n\nA dog ran!\n"
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text(text, encoding="utf-8")
    with gzip.open(tmp_path / "d" / "b.txt.gz", "wt", encoding="utf-8") as fh:
        fh.write(text)
    with bz2.open(tmp_path / "d" / "c.txt.bz2", "wt", encoding="utf-8") as fh:
        fh.write(text)
    expected = [["the", "cat", "sat"], ["a", "dog", "ran"]]
    assert list(iter_sentences(tmp_path / "d" / "a.txt")) == expected
    assert list(iter_sentences(tmp_path / "d" / "b.txt.gz")) == expected
    assert list(iter_sentences(tmp_path / "d")) == expected * 3


def test_one_huge_line_is_cut_into_sentences_without_losing_tokens(tmp_path):
    words = [f"w{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(25_000)]
    path = tmp_path / "text8"
    path.write_text(" " + " ".join(words), encoding="utf-8")  # text8 starts with a space, no newline
    sents = list(iter_sentences(path, RegexTokenizer(r"[a-z]+")))
    assert [len(s) for s in sents] == [MAX_SENTENCE_LENGTH, MAX_SENTENCE_LENGTH, 5_000]
    assert [t for s in sents for t in s] == words


def test_bad_utf8_is_a_clear_error_unless_replaced(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("naïve café\n".encode("latin-1"))
    with pytest.raises(DualvecError, match="not valid UTF-8"):
        list(iter_sentences(path))
    assert list(iter_sentences(path, encoding_errors="replace")) == [["na", "ve", "caf"]]


def test_iterables_of_token_lists_and_strings():
    assert list(iter_sentences([["a", "b"], "C d", (), ("e",)])) == [["a", "b"], ["c", "d"], ["e"]]
    with pytest.raises(DualvecError, match="sentence 1"):
        list(iter_sentences([["a"], 5]))
    with pytest.raises(DualvecError, match="not a string"):
        list(iter_sentences([["a", 3]]))
    with pytest.raises(DualvecError, match="iterable"):
        list(iter_sentences(42))


def test_missing_corpus_and_empty_directory(tmp_path):
    with pytest.raises(DualvecError, match="not found"):
        list(iter_sentences(tmp_path / "nope.txt"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DualvecError, match="no files"):
        list(iter_sentences(tmp_path / "empty"))


def test_scan_counts_match_and_encode_drops_out_of_vocabulary_words(tmp_path):
    sents = [["a", "b", "a"], ["rare"], ["b", "c", "rare2", "a"]]
    scanned = scan_corpus(sents, workdir=tmp_path)
    counts = dict(zip(scanned.words, scanned.counts))
    assert counts == {"a": 3, "b": 2, "rare": 1, "c": 1, "rare2": 1}
    rows = {"a": 0, "b": 1, "c": 2}
    row_of = np.array([rows.get(w, -1) for w in scanned.words])
    enc = scanned.encode(row_of)
    assert enc.tokens.tolist() == [0, 1, 0, 1, 2, 0]
    assert enc.offsets.tolist() == [0, 3, 6]  # the all-rare sentence is gone
    enc.close()
    assert not any(tmp_path.iterdir())


def test_max_vocab_size_prunes_rare_words_while_counting():
    sents = [["common"] * 3 + [f"rare{i}"] for i in range(50)]
    scanned = scan_corpus(sents, max_vocab_size=10)
    alive = {w: c for w, c in zip(scanned.words, scanned.counts) if c > 0}
    assert alive["common"] == 150
    assert len(alive) <= 11
    scanned.discard()


def _python_scan(corpus, tokenizer, **kw):
    """scan_corpus through the Python tokeniser: a callable that is not a RegexTokenizer itself."""
    return scan_corpus(corpus, lambda text: tokenizer(text), **kw)


def _assert_same_scan(a, b):
    assert a.words == b.words
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.sentence_lengths, b.sentence_lengths)
    np.testing.assert_array_equal(a._raw(), b._raw())


def _awkward_text(rng) -> str:
    """Text that tests a tokeniser's edges: every UTF-8 length, Greek final sigma, Turkish dotted
    I (two code points when lowercased), CR, CRLF, blank lines, digits, underscores, tabs,
    no-break spaces, a line longer than a read block and a long line without ASCII spaces."""
    pieces = ["Word", "wörd", "ΟΔΥΣΣΕΥΣ", "İstanbul", "日本語", "𝔘𝔫𝔦", "new_york", "covid19", "a", "x-y",
              "naïve", "ǅungla", "ß", "ﬁsh", "\u00a0", "\t", " ", "  ", "\n", "\r\n", "\r", "\n\n", ",", "—", "🙂"]
    words = rng.choice(pieces, 60_000)
    text = "".join(w if w.isspace() or not w.isalnum() else w + rng.choice([" ", "", ". "]) for w in words)
    long_line = " ".join(rng.choice(["alpha", "Beta", "γάμμα"], 400_000))  # > 1 M characters
    no_spaces = "\u00a0".join(["wörd", "zwei"] * 150_000)
    return text + "\n" + long_line + "\n" + no_spaces + "\nlast line without newline"


@pytest.mark.parametrize("tokenizer", [RegexTokenizer(), RegexTokenizer(r"[a-z]+"), RegexTokenizer.whitespace(),
                                       RegexTokenizer(r"[^\W\d_]+"), RegexTokenizer(r"(?i)[a-zß]+", lowercase=False)])
def test_compiled_scan_equals_the_python_tokeniser(tmp_path, tokenizer):
    """The compiled scan of a file (a one-class pattern) finds exactly the words, counts, sentence
    cuts and id stream that the tokeniser itself finds, on text full of edge cases."""
    from dualvec.text.encoded import _compiled_class

    assert _compiled_class(tokenizer) is not None
    rng = np.random.default_rng(7)
    (tmp_path / "a.txt").write_text(_awkward_text(rng), encoding="utf-8", newline="")
    (tmp_path / "b.txt").write_text("Second file\nno newline at its end", encoding="utf-8")
    a = scan_corpus(tmp_path, tokenizer)
    b = _python_scan(tmp_path, tokenizer)
    assert a.n_tokens > 100_000 and len(a.words) > 10
    assert any(n == MAX_SENTENCE_LENGTH for n in a.sentence_lengths)
    _assert_same_scan(a, b)


@pytest.mark.parametrize("pattern,compiled", [
    (r"\w+", True), (r"[a-z]+", True), (r"\S+", True), (r"[^\W\d_]++", True), (r".+", True),
    (r"\w+?", False), (r"\w*", False), (r"\w{2,}", False), (r"\w+'?\w*", False), (r"(\w+)", False),
    (r"\b\w+", False), (r"a|b", False),
])
def test_only_single_class_patterns_take_the_compiled_scan(pattern, compiled):
    from dualvec.text.encoded import _compiled_class

    assert (_compiled_class(RegexTokenizer(pattern)) is not None) == compiled


def test_compiled_scan_reads_bad_utf8_as_the_python_path_does(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 ok words\nmore words \xff here\n")
    with pytest.raises(DualvecError, match="not valid UTF-8"):
        scan_corpus(path, RegexTokenizer())
    for errors in ("replace", "ignore"):
        _assert_same_scan(scan_corpus(path, RegexTokenizer(), encoding_errors=errors),
                          _python_scan(path, RegexTokenizer(), encoding_errors=errors))
