"""WikiExtractor output as a training corpus (issue 27, §5): a folder of it, or its .tar.gz read as a stream.

One document per ``<doc ...>``: the tags never become words (``doc``, ``curid``, ``url``), the title line
stays as text, and other files in the dump (its README) are not the corpus.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

import dualvec
from dualvec.errors import DualvecError
from dualvec.text.encoded import scan_corpus
from dualvec.text.sources import iter_titled_documents
from dualvec.text.tokenize import default_tokenizer, iter_sentences

ARTICLES = [
    ("12", "Zebrafish", ["Zebrafish", "", "The zebrafish is a freshwater fish of the minnow family.",
                         "It is a model organism in genetics."]),
    ("25", "Quasar &amp; Pulsar", ["Quasar & Pulsar", "", "A quasar is a very luminous nucleus.",
                                   "Pulsars rotate quickly."]),
    ("39", "Harbour", ["Harbour", "", "A harbour shelters ships.", "Ships moor in the harbour."]),
]


def _wiki_file(articles) -> str:
    out = []
    for doc_id, title, lines in articles:
        out.append(f'<doc id="{doc_id}" url="https://en.wikipedia.org/wiki?curid={doc_id}" title="{title}">')
        out += lines
        out.append("</doc>")
    return "\n".join(out) + "\n"


def _dump(root: Path) -> Path:
    """A WikiExtractor dump as the shared enwiki one is laid out: a README, then text/AA/wiki_00, wiki_01."""
    (root / "text" / "AA").mkdir(parents=True)
    (root / "README.md").write_text("# Featured articles\nEach article is <doc id url title>, plain readme words.\n")
    (root / "text" / "AA" / "wiki_00").write_text(_wiki_file(ARTICLES[:2]), encoding="utf-8")
    (root / "text" / "AA" / "wiki_01").write_text(_wiki_file(ARTICLES[2:]), encoding="utf-8")
    return root


def _tarball(root: Path, path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        tar.add(root, arcname=root.name)  # README.md first, as in the shared tarball
    return path


@pytest.fixture
def dump(tmp_path):
    root = _dump(tmp_path / "enwiki")
    return root, _tarball(root, tmp_path / "enwiki.tar.gz")


def _check_vocabulary(words):
    assert not {"doc", "curid", "url", "id", "https", "wiki", "en", "org", "amp"} & set(words)
    assert {"zebrafish", "quasar", "pulsar", "harbour", "minnow"} <= set(words)
    assert not {"readme", "featured"} & set(words)  # the dump's README is not the corpus


@pytest.mark.parametrize("which", ["folder", "tarball"])
def test_training_on_a_wikiextractor_dump(dump, which):
    path = dump[0] if which == "folder" else dump[1]
    model = dualvec.train(path, min_count=1, vector_size=8, epochs=1, workers=1, seed=1)
    _check_vocabulary(model.vocab.words)
    counts = dict(zip(model.vocab.words, model.vocab.counts.tolist()))
    assert counts["zebrafish"] == 2  # the title line once (not the tag's title) and the text once
    assert counts["harbour"] == 3


def test_one_document_a_sentence_and_the_compiled_scan_equals_python(dump):
    folder, tarball = dump
    tok = default_tokenizer()
    sentences = list(iter_sentences(folder, tok))
    assert len(sentences) == 3  # one per <doc>
    assert sentences[0][:4] == ["zebrafish", "the", "zebrafish", "is"]
    for path in (folder, tarball):
        compiled = scan_corpus(path, tok)
        python = scan_corpus(list(iter_sentences(path, tok)), tok)
        try:
            assert compiled.words == python.words
            assert compiled.counts.tolist() == python.counts.tolist()
            assert compiled.sentence_lengths.tolist() == [len(s) for s in sentences]
        finally:
            compiled.discard()
            python.discard()


@pytest.mark.parametrize("which", ["folder", "tarball", "file"])
def test_titled_documents(dump, which):
    folder, tarball = dump
    path = {"folder": folder, "tarball": tarball, "file": folder / "text" / "AA" / "wiki_00"}[which]
    docs = list(iter_titled_documents(path))
    expected = [(title.replace("&amp;", "&"), "\n".join(lines[2:])) for _, title, lines in ARTICLES]
    assert docs == (expected[:2] if which == "file" else expected)


def test_a_tarball_of_plain_text_trains_as_text(tmp_path):
    root = tmp_path / "plain"
    root.mkdir()
    (root / "a.txt").write_text("alpha beta gamma\n" * 3)
    (root / "b.txt").write_text("delta epsilon\n")
    model = dualvec.train(_tarball(root, tmp_path / "plain.tar.gz"), min_count=1, vector_size=8, epochs=1, workers=1)
    assert sorted(model.vocab.words) == ["alpha", "beta", "delta", "epsilon", "gamma"]
    docs = list(iter_titled_documents(tmp_path / "plain.tar.gz"))
    assert docs == [(None, "alpha beta gamma\nalpha beta gamma\nalpha beta gamma"), (None, "delta epsilon")]


def test_a_broken_tarball_is_one_error(dump, tmp_path):
    data = dump[1].read_bytes()
    bad = tmp_path / "cut.tar.gz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(DualvecError, match=r"cut\.tar\.gz"):
        scan_corpus(bad)
    raw = tmp_path / "lies.tar"
    with tarfile.open(raw, "w") as tar:  # a member whose header claims more bytes than the archive holds
        info = tarfile.TarInfo("enwiki/wiki_00")
        body = _wiki_file(ARTICLES).encode()
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    raw.write_bytes(raw.read_bytes()[:700])
    with pytest.raises(DualvecError, match=r"lies\.tar"):
        list(iter_titled_documents(raw))
