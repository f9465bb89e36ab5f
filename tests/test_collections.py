import json

import pytest

from dualvec import DualvecError
from dualvec.text.collections import (read_beir, read_collection, read_cranfield, read_qrels, read_run,
                                         read_smart, read_texts, write_run)


def test_beir_reader_with_crlf_qrels_header(tmp_path):
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text(
        json.dumps({"_id": "d1", "title": "Title", "text": "body"}) + "\n"
        + json.dumps({"_id": 7, "title": "", "text": "only body"}) + "\n")
    (tmp_path / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "what"}) + "\n")
    (tmp_path / "qrels" / "test.tsv").write_bytes(b"query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\nq1\t7\t0\r\n")
    c = read_beir(tmp_path)
    assert c.docs == {"d1": "Title. body", "7": "only body"}
    assert c.qrels == {"test": {"q1": {"d1": 1, "7": 0}}}
    assert c.split_queries("test") == {"q1": "what"}
    with pytest.raises(DualvecError, match="no 'train' judgments"):
        c.split_queries("train")
    assert read_collection(tmp_path).docs == c.docs


def test_cranfield_quirks(tmp_path):
    (tmp_path / "cran.all.1400").write_text(
        ".I 1\n.T\nwing flow\n.A\nsmith\n.B\nj. ae. 1958\n.W\nwing flow\nin slipstream .\n"
        ".I 2\n.T\nheat\n.W\nheat transfer .\n")
    (tmp_path / "cran.qry").write_bytes(b".I 001\r\n.W\r\nwing slipstream\r\n.I 004\r\n.W\r\nheat ?\r\n")
    (tmp_path / "cranqrel").write_text("1 1 2\n1 2 -1\n2 2 1\n2 1 4")  # no final newline
    c = read_cranfield(tmp_path)
    assert c.docs["1"] == "wing flow wing flow in slipstream ."  # title + text, authors dropped
    assert c.queries == {"1": "wing slipstream", "2": "heat ?"}  # renumbered by order: 004 -> 2
    assert c.qrels["all"] == {"1": {"1": 3, "2": 0}, "2": {"2": 4, "1": 1}}  # gain = 5 - code, -1 -> 0
    assert read_smart(tmp_path / "cran.qry", fields="W") == {"1": "wing slipstream", "4": "heat ?"}


def test_smart_errors(tmp_path):
    (tmp_path / "bad").write_text("stray text\n.I 1\n.W\nx\n")
    with pytest.raises(DualvecError, match="before the first"):
        read_smart(tmp_path / "bad")
    (tmp_path / "dup").write_text(".I 1\n.W\nx\n.I 1\n.W\ny\n")
    with pytest.raises(DualvecError, match="twice"):
        read_smart(tmp_path / "dup")


def test_run_round_trip_and_ties(tmp_path):
    run = {"q1": {"b": 1.0, "a": 1.0, "c": 3.0}, "q2": {"x": 0.5}}
    write_run(run, tmp_path / "run.trec", tag="t")
    lines = (tmp_path / "run.trec").read_text().splitlines()
    assert lines[0] == "q1 Q0 c 1 3.000000 t" and lines[1].split()[2] == "a"
    assert read_run(tmp_path / "run.trec") == run
    (tmp_path / "bad.trec").write_text("q1 d1 1.0\n")
    with pytest.raises(DualvecError, match="6 columns"):
        read_run(tmp_path / "bad.trec")


def test_qrels_formats_and_texts(tmp_path):
    (tmp_path / "trec.qrels").write_text("q1 0 d1 2\nq1 0 d2 0\n")
    assert read_qrels(tmp_path / "trec.qrels") == {"q1": {"d1": 2, "d2": 0}}
    (tmp_path / "bad.qrels").write_text("q1 d1\n")
    with pytest.raises(DualvecError, match="3 or 4 columns"):
        read_qrels(tmp_path / "bad.qrels")
    (tmp_path / "docs.tsv").write_text("id\ttext\nd1\thello world\n")
    assert read_texts(tmp_path / "docs.tsv") == {"d1": "hello world"}
    with pytest.raises(DualvecError, match="not found"):
        read_collection(tmp_path / "nothing")
