"""The learned ranker on the command line: tune --folds cross-validates it beside the pipeline
grid, tune --save stores it in the index, rank and search apply it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import dualvec
from dualvec.cli import app
from dualvec.text.collections import read_run
from synthetic import topical_corpus

runner = CliRunner()


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    root = tmp_path_factory.mktemp("learned")
    sents, truth = topical_corpus(n_sentences=2000)
    model = dualvec.train(sents, sg=True, window=4, sample=0, min_count=1, epochs=4, vector_size=16, workers=1,
                          progress=False)
    model.save(root / "model")
    coll = root / "beir"
    (coll / "qrels").mkdir(parents=True)
    docs, queries, qrels = [], [], ["query-id\tcorpus-id\tscore"]
    fill = truth["fill"]
    for t, (name, words) in enumerate(zip(truth["names"], truth["words"])):
        for i in range(4):
            docs.append({"_id": f"t{t}d{i}", "title": "", "text": " ".join([words[i], words[i + 1], fill[i], name])})
            docs.append({"_id": f"t{t}x{i}", "title": "", "text": " ".join([words[i], fill[i + 4], fill[i + 8]])})
        for i in range(4):
            queries.append({"_id": f"q{t}{i}", "text": f"{name} {words[i]}"})
            qrels += [f"q{t}{i}\tt{t}d{i}\t1", f"q{t}{i}\tt{t}d{(i + 1) % 4}\t1"]
    (coll / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    (coll / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries))
    (coll / "qrels" / "test.tsv").write_text("\r\n".join(qrels) + "\r\n")
    r = runner.invoke(app, ["index", str(root / "model"), str(coll), "-o", str(root / "idx"), "--stopwords", "none",
                            "--no-progress"])
    assert r.exit_code == 0, r.output
    return root, coll, [q["_id"] for q in queries]


def test_tune_folds_cross_validates_the_learner_beside_the_pipeline(collection, tmp_path):
    root, coll, qids = collection
    cv = tmp_path / "cv.trec"
    r = runner.invoke(app, ["tune", str(root / "idx"), str(coll), "--split", "test", "--folds", "3", "--run", str(cv),
                            "--no-progress"])
    assert r.exit_code == 0, r.output
    assert r.output.count("chosen by inner cross-validation") == 3, r.output
    assert "of the pipeline grid alone" in r.output and "cross-validated nDCG@10" in r.output
    assert set(read_run(cv)) == set(qids)
    r = runner.invoke(app, ["tune", str(root / "idx"), str(coll), "--folds", "3", "--learner", "none",
                            "--no-progress"])
    assert r.exit_code == 0 and "inner cross-validation" not in r.output, r.output
    r = runner.invoke(app, ["tune", str(root / "idx"), str(coll), "--folds", "3", "--learner", "svm"])
    assert r.exit_code == 1 and "unknown learner 'svm'" in r.output


def test_tune_save_stores_a_winning_learner_and_rank_applies_it(collection, tmp_path, monkeypatch):
    import shutil

    from dualvec.evaluation import learning
    from dualvec.ranking import Ranker

    root, coll, qids = collection
    idx = tmp_path / "idx"
    shutil.copytree(root / "idx", idx)
    # Make the learner win the decision, to test what --save does with it.
    monkeypatch.setattr(learning, "inner_scores", lambda *a, **k: {"pipeline": 0.0, "coordinate_ascent": 1.0})
    r = runner.invoke(app, ["tune", str(idx), str(coll), "--split", "test", "--save", "--learner", "coordinate_ascent",
                            "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "saved coordinate_ascent" in r.output
    header = json.loads((idx / "ranker.json").read_text())
    assert header["config"]["learned"]["learner"] == "coordinate_ascent"
    ranker = Ranker.load(idx)
    assert ranker.learned is not None
    out = tmp_path / "run.trec"
    r = runner.invoke(app, ["rank", str(idx), str(coll), "-o", str(out), "--no-progress"])
    assert r.exit_code == 0, r.output
    run = read_run(out)
    queries = {q["_id"]: q["text"] for q in map(json.loads, (coll / "queries.jsonl").read_text().splitlines())}
    for q in qids[:4]:
        expect = ranker.search(queries[q], k=100)
        assert [d for d, _ in sorted(run[q].items(), key=lambda kv: -kv[1])] == [d for d, _ in expect]
    r = runner.invoke(app, ["search", str(idx), queries[qids[0]], "-k", "2"])
    assert r.exit_code == 0, r.output
