"""Issue 23, items 9 and 12: no silent nonsense, and output people can read (through the real CLI)."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from cli_fixtures import indexed_collection
from dualvec.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    return indexed_collection(tmp_path_factory.mktemp("out"))


def _other_collection(coll, target, keep: int = 0):
    """A copy of ``coll`` whose judged documents are renamed, except the first ``keep`` judgments."""
    shutil.copytree(coll, target)
    for split in ("test", "train"):
        lines = (coll / "qrels" / f"{split}.tsv").read_text().splitlines()
        out = [lines[0]] + [
            line if i < keep else line.replace("\tabout", "\telsewhere") for i, line in enumerate(lines[1:])]
        (target / "qrels" / f"{split}.tsv").write_text("\n".join(out) + "\n")
    return target


def test_tune_and_evaluate_refuse_judgments_of_another_collection(ranked, tmp_path):
    idx, coll, _ = ranked
    other = _other_collection(coll, tmp_path / "other")
    r = runner.invoke(app, ["tune", str(idx), str(other), "--mode", "full", "--learner", "none", "--no-progress"])
    assert r.exit_code == 1, r.output
    assert "no judged document of" in r.output and "is in the index" in r.output and "same collection" in r.output
    assert "0.0000" not in r.output
    run = tmp_path / "run.trec"
    assert runner.invoke(app, ["rank", str(idx), str(coll), "-o", str(run), "--no-progress"]).exit_code == 0
    r = runner.invoke(app, ["evaluate", str(run), "-q", str(other)])
    assert r.exit_code == 1 and "no judged document of" in r.output and "0.0000" not in r.output, r.output
    (tmp_path / "q.tsv").write_text("query-id\tcorpus-id\tscore\nnosuchquery\tabout0\t1\n")
    r = runner.invoke(app, ["evaluate", str(run), "-q", str(tmp_path / "q.tsv")])
    assert r.exit_code == 1 and "no query of" in r.output, r.output
    r = runner.invoke(app, ["evaluate", str(run), "-q", str(coll)])
    assert r.exit_code == 0 and "warning" not in r.output, r.output


def test_tune_warns_when_few_judged_documents_are_indexed(ranked, tmp_path):
    idx, coll, _ = ranked
    partial = _other_collection(coll, tmp_path / "partial", keep=1)
    r = runner.invoke(app, ["tune", str(idx), str(partial), "--mode", "full", "--learner", "none", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "warning: only 1 of the" in r.output and "same collection" in r.output
    r = runner.invoke(app, ["tune", str(idx), str(coll), "--mode", "full", "--learner", "none", "--no-progress"])
    assert r.exit_code == 0 and "warning" not in r.output, r.output
