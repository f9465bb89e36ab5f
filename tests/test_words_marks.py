"""Words with combining marks stay whole, and text is NFC, in training, queries and the index (issue 29, §6).

``\\w`` leaves out Unicode marks (Mn, Mc, Me): ``\\w+`` cut हिन्दी into ह, न, द and שָׁלוֹם into ש, לו, ם,
and an NFD café (``cafe`` + U+0301) became ``cafe``. The default tokeniser now takes marks into its class
and puts text in NFC first; the compiled scan does the same and must still equal the Python tokeniser.
"""

from __future__ import annotations

import json
import re
import unicodedata

import numpy as np
import pytest

import dualvec
from dualvec.errors import DualvecError
from dualvec.ranking import Ranker
from dualvec.ranking.analysis import Analyzer
from dualvec.text.encoded import scan_corpus
from dualvec.text.tokenize import RegexTokenizer, class_table, default_tokenizer, iter_sentences, with_marks

HINDI = "हिन्दी"
HEBREW = "שָׁלוֹם"  # with niqqud
THAI = "สวัสดี"  # ั and ี are marks
CAFE_NFC = "café"
CAFE_NFD = unicodedata.normalize("NFD", CAFE_NFC)
WORDS = [HINDI, HEBREW, THAI, CAFE_NFC]


def test_the_examples_stay_one_word_and_nfd_is_nfc():
    tok = default_tokenizer()
    for word in WORDS:
        assert tok(f"x {word}, y") == ["x", word, "y"]
    assert tok(f"Un {CAFE_NFD.upper()} noir") == ["un", CAFE_NFC, "noir"]
    assert CAFE_NFD != CAFE_NFC and tok(CAFE_NFD) == [CAFE_NFC]
    # ASCII and mark-free text tokenise exactly as \w+ did
    assert tok("Café-au-lait, 2019 new_york") == ["café", "au", "lait", "2019", "new_york"]


def _lines() -> list[str]:
    return [f"{HINDI} भाषा {HEBREW} עִבְרִית", f"{THAI} ภาษาไทย {CAFE_NFD} {CAFE_NFC.upper()}",
            f"a{chr(0x301)}b \u0301 lone mark, x\u20dd enclosing, \U0001d165 e\U000e0100",
            "plain english text, with_underscores 42"] * 3


def test_the_compiled_scan_equals_the_python_tokeniser(tmp_path):
    path = tmp_path / "marks.txt"
    path.write_text("\n".join(_lines()) + "\n", encoding="utf-8")
    tok = default_tokenizer()
    compiled = scan_corpus(path, tok)  # a file and a one-class tokeniser: the numba scan
    python = scan_corpus(list(iter_sentences(path, tok)), tok)  # token lists: the Python path
    try:
        assert compiled.words == python.words
        assert compiled.counts.tolist() == python.counts.tolist()
        assert compiled.sentence_lengths.tolist() == python.sentence_lengths.tolist()
        assert set(WORDS) <= set(compiled.words)
        assert not {"ह", "न", "द", "ש", "ם", "cafe"} & set(compiled.words)
    finally:
        compiled.discard()
        python.discard()


@pytest.mark.parametrize("pattern", [r"\w+", r"[a-z]+", r"\S+", r"[^\W\d_]++", r"(?i)[a-z]+", r"[\w-]+", r"x+"])
def test_marks_join_the_class_alike_in_the_regex_and_the_scan_table(pattern):
    # the Python tokeniser's regex and the compiled scan's class table describe the same class
    flags = re.compile(pattern).flags
    assert np.array_equal(class_table(with_marks(pattern), flags), class_table(pattern, flags, marks=True))


def _trained(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(_lines() * 20) + "\n", encoding="utf-8")
    model = dualvec.train(path, min_count=1, vector_size=8, epochs=1, workers=1, seed=1)
    words = set(model.vocab.words)
    assert set(WORDS) <= words
    assert not {"ह", "न", "द", "ש", "לו", "ם", "cafe"} & words
    assert model.tokenizer.marks and model.tokenizer.normalize == "NFC"
    model.save(tmp_path / "m")
    loaded = dualvec.load(tmp_path / "m")
    assert loaded.tokenizer(f"{HINDI} {CAFE_NFD}") == [HINDI, CAFE_NFC]
    return model


def test_training_keeps_the_words(tmp_path):
    _trained(tmp_path)


def test_queries_and_the_index_see_the_same_words(tmp_path):
    model = _trained(tmp_path)
    analyzer = Analyzer(model.tokenizer)
    assert analyzer.terms(f"{HINDI} {HEBREW} {THAI} {CAFE_NFD}") == WORDS
    docs = {"hi": f"{HINDI} भाषा", "he": f"{HEBREW} עִבְרִית", "th": f"{THAI} ภาษาไทย", "fr": f"un {CAFE_NFC} noir",
            "en": "plain english text"}
    ranker = Ranker(model).index(docs)
    for query, doc in [(HINDI, "hi"), (HEBREW, "he"), (THAI, "th"), (CAFE_NFD, "fr"), (CAFE_NFC, "fr")]:
        assert ranker.analyze(query).bm25_terms == [ranker.analyze(docs[doc]).bm25_terms[-2 if doc == "fr" else 0]]
        hits = ranker.search(query, k=5, alpha=0.0)  # BM25 alone
        assert hits and hits[0][0] == doc, (query, hits)
        assert all(score < hits[0][1] for _, score in hits[1:]), (query, hits)


def test_a_word_typed_in_nfd_is_looked_up_as_its_nfc_form(tmp_path):
    # neighbours, similarity, vectors: a word that looks the same finds the same row
    model = _trained(tmp_path)
    assert CAFE_NFD != CAFE_NFC and CAFE_NFD in model and CAFE_NFD in model.in_vectors
    np.testing.assert_array_equal(model.in_vectors[CAFE_NFD], model.in_vectors[CAFE_NFC])
    assert model.most_similar(CAFE_NFD, space="in-out") == model.most_similar(CAFE_NFC, space="in-out")
    assert model.similarity(CAFE_NFD, HINDI) == model.similarity(CAFE_NFC, HINDI)


def test_a_model_saved_before_marks_tokenises_as_it_was_trained(tmp_path):
    model = dualvec.train(["alpha beta gamma"] * 30, min_count=1, vector_size=8, epochs=1, workers=1)
    model.save(tmp_path / "m")
    header_path = next(p for p in (tmp_path / "m").rglob("dualvec.json"))
    header = json.loads(header_path.read_text())
    assert header["tokenizer"] == {"pattern": r"\w+", "lowercase": True, "marks": True, "normalize": "NFC"}
    del header["tokenizer"]["marks"], header["tokenizer"]["normalize"]  # as saved before they were recorded
    header_path.write_text(json.dumps(header))
    old = dualvec.load(tmp_path / "m").tokenizer
    assert (old.marks, old.normalize) == (False, None)
    assert old(f"{HINDI} {CAFE_NFD}") == ["ह", "न", "द", "cafe"]  # as \w+ tokenised when it was trained


@pytest.mark.parametrize("spec", [{"marks": "yes"}, {"normalize": "NFKD"}, {"marks": 1}])
def test_a_bad_tokenizer_record_is_one_error(tmp_path, spec):
    model = dualvec.train(["alpha beta gamma"] * 30, min_count=1, vector_size=8, epochs=1, workers=1)
    model.save(tmp_path / "m")
    header_path = next(p for p in (tmp_path / "m").rglob("dualvec.json"))
    header = json.loads(header_path.read_text())
    header["tokenizer"].update(spec)
    header_path.write_text(json.dumps(header))
    with pytest.raises(DualvecError, match="'marks' must be true or false"):
        dualvec.load(tmp_path / "m")


def test_an_unknown_normal_form_is_refused():
    with pytest.raises(DualvecError, match="unknown Unicode normal form 'NFKD'; use one of NFC"):
        RegexTokenizer(normalize="NFKD")


def test_text_without_a_marked_code_point_is_already_nfc():
    # the compiled scan calls the normaliser only on text holding a code point nfc_table marks
    from dualvec.text.scan_kernels import needs_nfc, nfc_table

    table = nfc_table()
    unmarked = np.flatnonzero(table[:0x30000] == 0)
    unmarked = unmarked[(unmarked < 0xD800) | (unmarked > 0xDFFF)]
    rng = np.random.default_rng(0)
    for codes in rng.choice(unmarked, size=(3000, 3)):
        text = "".join(map(chr, codes))
        assert unicodedata.normalize("NFC", text) == text, [hex(c) for c in codes]
    for start in range(0, len(unmarked) - 1, 97):  # neighbours too: compositions pair adjacent code points
        text = chr(unmarked[start]) + chr(unmarked[start + 1])
        assert unicodedata.normalize("NFC", text) == text
    utf8 = lambda s: np.frombuffer(s.encode(), np.uint8)  # noqa: E731
    assert needs_nfc(utf8(f"plain — text {CAFE_NFD}"), table) and not needs_nfc(utf8("plain — “text” café"), table)
    assert needs_nfc(utf8("\u1100\u1161"), table)  # Hangul L + V compose
