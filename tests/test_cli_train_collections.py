"""Issue 23, item 8: ``dualvec train`` reads the collections ``dualvec index`` reads, as their documents' text."""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

import dualvec
from dualvec.cli import app
from dualvec.text.encoded import scan_corpus
from dualvec.text.collections import collection_kind, iter_document_texts

runner = CliRunner()

DOCS = [{"_id": f"d{i}", "title": f"alpha{i % 3} beta", "text": f"gamma delta{i % 5} epsilon zeta", "metadata": {}}
        for i in range(60)]
TEXTS = [f"{d['title']}. {d['text']}" for d in DOCS]


def _write(kind, root):
    if kind == "beir":
        (root / "beir").mkdir()
        (root / "beir" / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in DOCS))
        (root / "beir" / "queries.jsonl").write_text('{"_id": "q", "text": "gamma"}\n')
        return root / "beir"
    if kind == "jsonl":
        (root / "c.jsonl").write_text("\n".join(json.dumps(d) for d in DOCS))
        return root / "c.jsonl"
    if kind == "jsonl.gz":
        (root / "c.jsonl.gz").write_bytes(gzip.compress("\n".join(json.dumps(d) for d in DOCS).encode()))
        return root / "c.jsonl.gz"
    if kind == "unnamed jsonl":
        (root / "corpus").write_text("\n".join(json.dumps(d) for d in DOCS))
        return root / "corpus"
    if kind == "tsv":
        (root / "c.tsv").write_text("id\ttext\n" + "".join(f"{d['_id']}\t{t}\n" for d, t in zip(DOCS, TEXTS)))
        return root / "c.tsv"
    if kind == "parquet":
        pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed")
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"_id": [d["_id"] for d in DOCS], "title": [d["title"] for d in DOCS],
                                 "text": [d["text"] for d in DOCS]}), root / "c.parquet")
        return root / "c.parquet"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["beir", "jsonl", "jsonl.gz", "unnamed jsonl", "tsv", "parquet"])
def test_train_on_a_collection_learns_its_text_not_its_json(tmp_path, kind):
    source = _write(kind, tmp_path)
    assert collection_kind(source) is not None
    assert list(iter_document_texts(source)) == TEXTS
    r = runner.invoke(app, ["train", str(source), "-o", str(tmp_path / "m"), "--min-count", "1", "--epochs", "1",
                            "--vector-size", "8", "--workers", "1", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "training on the title and text of each document" in r.output
    vocab = dualvec.load(tmp_path / "m").vocab
    plain = tmp_path / "plain.txt"
    plain.write_text("\n".join(TEXTS) + "\n")
    expected = scan_corpus(plain)  # the same text as a plain file
    assert dict(zip(vocab.words, vocab.counts.tolist())) == dict(zip(expected.words, expected.counts.tolist()))
    expected.discard()
    assert not {"_id", "title", "text", "metadata", "id"} & set(vocab.words)


def test_plain_text_is_still_plain_text(tmp_path):
    """A ``.txt`` file (even one with tabs) and a directory of text files are sentences, as before."""
    (tmp_path / "a.txt").write_text("one\ttwo three\nfour {five}\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("six seven\n")
    assert collection_kind(tmp_path / "a.txt") is None and collection_kind(tmp_path / "d") is None
    r = runner.invoke(app, ["train", str(tmp_path / "a.txt"), "-o", str(tmp_path / "m"), "--min-count", "1",
                            "--epochs", "1", "--vector-size", "4", "--no-progress"])
    assert r.exit_code == 0 and "title and text" not in r.output
    assert set(dualvec.load(tmp_path / "m").words) == {"one", "two", "three", "four", "five"}


def test_a_broken_collection_is_one_error_line(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"_id": "a", "text": "x"}\nnot json\n')
    r = runner.invoke(app, ["train", str(tmp_path / "bad.jsonl"), "-o", str(tmp_path / "m"), "--no-progress"])
    assert r.exit_code == 1 and "line 2 is not JSON" in r.output and r.output.count("\n") <= 2
