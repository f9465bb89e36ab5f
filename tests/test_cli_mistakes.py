"""Issue 27, section 4: mistakes that passed in silence, and messages that named the wrong thing."""

from __future__ import annotations

import json
import shutil
import sys

import pytest
from typer.testing import CliRunner

import dualvec
from cli_fixtures import indexed_collection
from dualvec.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    return indexed_collection(tmp_path_factory.mktemp("mistakes"))


def _renamed_collection(coll, target, keep: int):
    """A copy of ``coll`` whose documents after the first ``keep`` have other ids (another collection)."""
    shutil.copytree(coll, target)
    docs = [json.loads(line) for line in (coll / "corpus.jsonl").read_text().splitlines()]
    for i, d in enumerate(docs):
        if i >= keep:
            d["_id"] = f"other{i}"
    (target / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    return target


def test_rank_refuses_another_collections_queries(ranked, tmp_path):
    idx, coll, _ = ranked
    other = _renamed_collection(coll, tmp_path / "other", keep=0)
    r = runner.invoke(app, ["rank", str(idx), str(other), "-o", str(tmp_path / "x.trec"), "--no-progress"])
    assert r.exit_code == 1
    assert f"{other} is not the collection {idx} was built from: 0 of its 10 document ids" in " ".join(r.output.split())
    assert not (tmp_path / "x.trec").exists()
    partly = _renamed_collection(coll, tmp_path / "partly", keep=8)  # 8 of 10 shared: another version of it
    r = runner.invoke(app, ["rank", str(idx), str(partly), "-o", str(tmp_path / "p.trec"), "--no-progress"])
    assert r.exit_code == 0 and "warning: 2 document ids of" in r.output, r.output
    r = runner.invoke(app, ["rank", str(idx), str(coll), "-o", str(tmp_path / "ok.trec"), "--no-progress"])
    assert r.exit_code == 0 and "warning" not in r.output, r.output


@pytest.mark.parametrize("name,text,kind", [
    ("qrels", None, "a directory of BEIR judgments (qrels)"),
    ("test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td7\t2\n", "BEIR judgments (qrels)"),
    ("qrels.txt", "1 0 d184 2\n1 0 d29 1\n2 0 d12 1\n", "TREC qrels"),
    ("cranqrel", "1 184 2\n1 29 2\n1 31 2\n2 12 3\n", "Cranfield judgments"),
    ("run.trec", "q1 Q0 d1 1 12.5 bm25\nq1 Q0 d2 2 11.0 bm25\n", "TREC run"),
])
def test_train_refuses_judgments(ranked, tmp_path, name, text, kind):
    _, coll, _ = ranked
    source = coll / "qrels" if text is None else tmp_path / name
    if text is not None:
        source.write_text(text)
    r = runner.invoke(app, ["train", str(source), "-o", str(tmp_path / "m"), "--no-progress"])
    assert r.exit_code == 1, r.output
    assert f"{source}: {kind}, not text to train on" in " ".join(r.output.split())
    assert "title and text" not in r.output and not (tmp_path / "m").exists()
    if text is None:  # inside a collection: name the collection to train on
        assert f"dualvec train {coll.resolve()} -o MODEL" in " ".join(r.output.split())


def test_train_still_reads_text_and_collections(tmp_path):
    from dualvec.text.collections import judgments_kind

    (tmp_path / "c.txt").write_text("the cat sat on the mat\nthe dog sat on the log\n")
    (tmp_path / "numbers.txt").write_text("1 2\n3 4 5 6 7\n")
    assert judgments_kind(tmp_path / "c.txt") is None and judgments_kind(tmp_path / "numbers.txt") is None


@pytest.mark.parametrize("command", ["search", "rank", "index"])
def test_desm_weight_out_of_range_names_the_option(ranked, tmp_path, command):
    idx, coll, truth = ranked
    args = {"search": ["search", str(idx), truth["names"][0]],
            "rank": ["rank", str(idx), str(coll), "-o", str(tmp_path / "r.trec")],
            "index": ["index", str(idx.parent / "model"), str(coll), "-o", str(tmp_path / "i")]}[command]
    r = runner.invoke(app, [*args, "--desm-weight", "1.5"])
    assert r.exit_code != 0
    assert "--desm-weight" in r.output and "alpha" not in r.output, r.output


def test_stale_names_are_gone():
    r = runner.invoke(app, ["tune", "--help"])
    assert r.exit_code == 0 and "--run" not in r.output and "-o/--output writes that run" in " ".join(r.output.split())
    r = runner.invoke(app, ["index", "--help"])
    assert r.exit_code == 0 and "[required]" not in r.output and "[[MODEL]]" not in r.output
    r = runner.invoke(app, ["index"])
    assert r.exit_code == 1 and "Missing argument" not in r.output and "no COLLECTION given" in r.output


def test_analogy_default_is_gensims_and_restricted_questions_are_counted_apart(tmp_path):
    import inspect

    from dualvec.evaluation.embeddings import RESTRICT_VOCAB, analogy_accuracy
    from dualvec.model import DualVectors
    from dualvec.text.vocab import Vocabulary

    gensim = pytest.importorskip("gensim.models")
    assert RESTRICT_VOCAB == inspect.signature(
        gensim.KeyedVectors.evaluate_word_analogies).parameters["restrict_vocab"].default
    r = runner.invoke(app, ["evaluate-words", "--help"])
    import re

    assert "300,000" in " ".join(r.output.split()) and not re.search(r"\b30,?000\b", r.output)
    import numpy as np

    words = ["man", "woman", "king", "queen", "apple", "rare"]
    v = np.array([[1, 0, 0], [1, 1, 0], [3, 0, 0.2], [3, 3, 0.2], [0, 0, 5], [0, 1, 0]], dtype=np.float32)
    model = DualVectors(Vocabulary(words, np.arange(6, 0, -1)), v, v.copy(), out_kind="imported")
    path = tmp_path / "q.txt"
    path.write_text(": royal\nman woman king queen\nman rare king queen\nman zebra king queen\n")
    res = analogy_accuracy(model, path)
    assert (res.evaluated, res.unknown, res.restricted) == (2, 1, 0)
    res = analogy_accuracy(model, path, restrict_vocab=5)  # "rare" is known, but not among the 5 most frequent
    assert (res.evaluated, res.unknown, res.restricted, res.skipped) == (1, 1, 1, 2)


def test_in_domain_training_says_what_it_trains(tmp_path):
    from dualvec.progress import Progress, labelled

    seen = []

    class Bar:
        def add_task(self, description, **_):
            seen.append(description)

    bar = Progress(False)
    bar._bar = Bar()  # what a terminal would draw, without one
    with labelled("in-domain model"):
        bar.task("epoch 1/15", 10)
    bar.task("indexing", 10)
    assert seen == ["in-domain model: epoch 1/15", "indexing"]


def test_index_labels_the_in_domain_models_bars(monkeypatch, tmp_path):
    """dualvec index passes the label around the in-domain training (not around the index's own work)."""
    import dualvec.ranking.in_domain as in_domain
    from dualvec.progress import _LABELS

    during = []

    def fake_train(texts, **options):
        during.append(list(_LABELS))
        raise dualvec.DualvecError("stop here")

    monkeypatch.setattr(in_domain, "train_in_domain", fake_train)
    (tmp_path / "docs.jsonl").write_text('{"_id": "a", "text": "one two three"}\n')
    r = runner.invoke(app, ["index", str(tmp_path / "docs.jsonl"), "-o", str(tmp_path / "i"), "--no-progress"])
    assert r.exit_code == 1 and "stop here" in r.output
    assert during == [["in-domain model"]] and _LABELS == []


def test_in_only_model_suggests_in_in(ranked, tmp_path):
    model = ranked[0].parent / "model"
    target = tmp_path / "in.txt"
    assert runner.invoke(app, ["export", str(model), str(target)]).exit_code == 0
    word = ranked[2]["names"][0]
    r = runner.invoke(app, ["neighbors", str(target), word])
    assert r.exit_code == 1 and "use --space in-in" in " ".join(r.output.split()), r.output
    assert runner.invoke(app, ["neighbors", str(target), word, "--space", "in-in"]).exit_code == 0


def test_export_gensim_without_gensim_names_the_extra(ranked, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gensim", None)  # import gensim now raises ImportError
    monkeypatch.setitem(sys.modules, "gensim.models", None)
    r = runner.invoke(app, ["export", str(ranked[0].parent / "model"), str(tmp_path / "g.model"),
                            "--format", "gensim"])
    assert r.exit_code == 1 and "pip install 'dualvec[gensim]'" in r.output, r.output


@pytest.mark.parametrize("option,value,message", [
    ("--min-alpha", "-1", "--min-alpha must be a finite number in [0, 0.025], not -1.0"),
    ("--ns-exponent", "nan", "--ns-exponent must be a finite number, not nan"),
    ("--max-vocab-size", "0", "--max-vocab-size must be a whole number at least 1, not 0"),
])
def test_train_settings_errors_name_the_option(tmp_path, option, value, message):
    (tmp_path / "c.txt").write_text("the cat sat on the mat\n" * 20)
    r = runner.invoke(app, ["train", str(tmp_path / "c.txt"), "-o", str(tmp_path / "m"), option, value,
                            "--no-progress"])
    assert r.exit_code == 1 and f"error: {message}" in r.output, r.output
