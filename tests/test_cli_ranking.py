import json

import pytest
from typer.testing import CliRunner

import dualvec
from dualvec.cli import app
from synthetic import topical_corpus

runner = CliRunner()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("rank")
    sents, truth = topical_corpus(n_sentences=2000)
    model = dualvec.train(sents, sg=True, window=4, sample=0, min_count=1, epochs=6, vector_size=16, workers=1,
                          progress=False)
    model.save(root / "model")
    coll = root / "beir"
    (coll / "qrels").mkdir(parents=True)
    docs, queries, qrels = [], [], ["query-id\tcorpus-id\tscore"]
    for t, name in enumerate(truth["names"]):
        docs.append({"_id": f"about{t}", "title": "", "text": " ".join(truth["words"][t][:4])})
        docs.append({"_id": f"decoy{t}", "title": "", "text": " ".join([name] + truth["fill"][:3])})
        queries.append({"_id": f"q{t}", "text": f"{name} {truth['words'][t][4]}"})
        qrels.append(f"q{t}\tabout{t}\t1")
    (coll / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    (coll / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries))
    (coll / "qrels" / "test.tsv").write_text("\r\n".join(qrels) + "\r\n")
    (coll / "qrels" / "train.tsv").write_text("\r\n".join(qrels) + "\r\n")
    r = runner.invoke(app, ["index", str(root / "model"), str(coll), "-o", str(root / "idx"), "--stopwords", "none",
                            "--no-progress"])
    assert r.exit_code == 0, r.output
    return root, coll, truth


def test_search_shows_scores_and_term_contributions(setup):
    root, _, truth = setup
    r = runner.invoke(app, ["search", str(root / "idx"), truth["names"][0], "-k", "3", "--alpha", "0.8"])
    assert r.exit_code == 0, r.output
    assert "about0" in r.output and "BM25" in r.output and "DESM" in r.output and "per term" in r.output


def test_interactive_search_reads_queries_from_stdin(setup):
    root, _, truth = setup
    r = runner.invoke(app, ["search", str(root / "idx"), "-k", "2"], input=f"{truth['names'][1]}\n\n")
    assert r.exit_code == 0 and truth["names"][1] in r.output


def test_rank_evaluate_and_tune(setup):
    root, coll, _ = setup
    for alpha, name in [("0", "bm25.trec"), ("1", "desm.trec")]:
        r = runner.invoke(app, ["rank", str(root / "idx"), str(coll), "-o", str(root / name), "--alpha", alpha,
                                "--mode", "full", "--no-progress"])
        assert r.exit_code == 0, r.output
    assert (root / "desm.trec").read_text().split()[0] == "q0"
    r = runner.invoke(app, ["evaluate", str(root / "bm25.trec"), str(root / "desm.trec"), "-q", str(coll),
                            "--measures", "nDCG@10,RR@10"])
    assert r.exit_code == 0, r.output
    assert "p nDCG@10" in r.output and "nDCG@10" in r.output
    r = runner.invoke(app, ["tune", str(root / "idx"), str(coll), "--split", "train", "--mode", "full", "--save"])
    assert r.exit_code == 0, r.output
    assert "alpha" in r.output


def test_ranking_errors_are_one_line(setup, tmp_path):
    root, coll, _ = setup
    cases = [
        (["search", str(tmp_path), "x"], "not a dualvec index"),
        (["search", str(root / "idx"), "x", "--space", "up-down"], "unknown space"),
        (["evaluate", str(tmp_path / "missing.trec"), "-q", str(coll)], "not found"),
        (["tune", str(root / "idx"), str(coll), "--split", "dev"], "no 'dev' judgments"),
    ]
    for args, message in cases:
        r = runner.invoke(app, args)
        assert r.exit_code == 1 and message in r.output and "Traceback" not in r.output, (args, r.output)
