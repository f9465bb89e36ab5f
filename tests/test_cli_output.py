"""Issue 23, items 9 and 12: no silent nonsense, and output people can read (through the real CLI)."""

from __future__ import annotations

import re
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


def test_search_shows_titles_and_snippets(ranked):
    idx, _, truth = ranked
    r = CliRunner(env={"COLUMNS": "160"}).invoke(app, ["search", str(idx), truth["words"][0][0], "-k", "2",
                                                       "--format", "table"])
    assert r.exit_code == 0, r.output
    assert "about0  Topic 0 paper." in r.output  # id, then the title the collection gave it
    assert " ".join(truth["words"][0][:4]) in r.output  # then the start of its text


def test_queries_with_nothing_to_rank_say_why(ranked):
    idx, _, _ = ranked
    r = runner.invoke(app, ["search", str(idx), "the of and"])
    assert r.exit_code == 0 and "every query word is a stop word (the, of, and)" in " ".join(r.output.split())
    r = runner.invoke(app, ["search", str(idx), "zzzunknown"])
    assert r.exit_code == 0 and "no query word is in the collection or the model" in r.output
    for empty in ("", "   "):
        r = runner.invoke(app, ["search", str(idx), empty])
        assert r.exit_code == 1 and "error: the query is empty" in r.output


def test_tune_pipeline_names_are_whole_at_120_columns(ranked):
    from dualvec.evaluation.pipelines import pipeline_grid

    idx, coll, _ = ranked
    r = CliRunner(env={"COLUMNS": "120"}).invoke(app, ["tune", str(idx), str(coll), "--mode", "full",
                                                       "--learner", "none", "--no-progress", "--format", "table"])
    assert r.exit_code == 0, r.output
    assert "…" not in r.output and max(len(line) for line in r.output.splitlines()) <= 120
    rows = [line.split("│")[0].strip() for line in r.output.splitlines() if "│" in line][1:]
    names, current = [], ""
    for cell, line in zip(rows, [x for x in r.output.splitlines() if "│" in x][1:]):
        if line.split("│")[1].strip():  # a row's first line holds its scores
            if current:
                names.append(current)
            current = cell
        else:
            current += " " + cell
    names.append(current)
    expected = [p.name.replace("+", " + ").replace(",", ", ") for p in pipeline_grid("in-out")]
    assert [" ".join(n.split()) for n in names] == [" ".join(e.split()) for e in expected]
    assert len(set(names)) == len(names)


def test_tune_progress_moves_per_query(ranked, monkeypatch):
    """The ETA comes from the bar's steps: one per query of each pipeline, not one per pipeline."""
    from dualvec.evaluation.pipelines import pipeline_grid
    from dualvec.progress import Progress

    idx, coll, _ = ranked
    steps = []
    monkeypatch.setattr(Progress, "update", lambda self, done, info="": steps.append((self._task, done)))
    r = runner.invoke(app, ["tune", str(idx), str(coll), "--mode", "full", "--learner", "none", "--progress"])
    assert r.exit_code == 0, r.output
    grid_steps = [d for task, d in steps if task == steps[-1][0]]
    n_pipelines, n_queries = len(pipeline_grid("in-out")), 5
    assert grid_steps[-1] == n_pipelines * n_queries
    assert sorted(grid_steps) == grid_steps and len(set(grid_steps)) >= n_pipelines


def test_neighbors_large_k_and_one_space_files(ranked, tmp_path):
    model = ranked[0].parent / "model"
    r = runner.invoke(app, ["neighbors", str(model), ranked[2]["names"][0], "--topn", "100000", "--format", "table"])
    assert r.exit_code == 0
    rows = [line for line in r.output.splitlines() if line.startswith("│")]
    import dualvec

    assert len(rows) == len(dualvec.load(model)) - 1  # every other word, and no empty row
    assert all(cell.strip() for line in rows for cell in line.strip("│").split("│"))
    for space in ("in", "out"):
        target = tmp_path / f"{space}.txt"
        assert runner.invoke(app, ["export", str(model), "-o", str(target), "--space", space]).exit_code == 0
        r = runner.invoke(app, ["neighbors", str(target), ranked[2]["names"][0], "--space", "all", "-k", "3",
                                "--format", "table"])
        assert r.exit_code == 0, r.output
        assert "holds one space" in " ".join(r.output.split()) and "IN-IN" in r.output and "IN-OUT" not in r.output
        r = runner.invoke(app, ["similarity", str(target), ranked[2]["names"][0], ranked[2]["names"][1]])
        assert r.exit_code == 0 and re.search(r"^in-in\t.*\t-?[\d.]+$", r.output, re.M) and "out-" not in r.output


def test_demo_and_train_say_when_the_kernels_compile(tmp_path, monkeypatch):
    import subprocess
    import sys

    import dualvec.training.numba_driver as driver

    (tmp_path / "c.txt").write_text("\n".join(f"w{i % 7} w{i % 5} w{i % 3} w{i % 11}" for i in range(400)))
    args = ["train", str(tmp_path / "c.txt"), "-o", str(tmp_path / "m"), "--min-count", "1", "--epochs", "1",
            "--vector-size", "8", "--workers", "1", "--progress"]  # a status line, shown with the bars
    monkeypatch.setattr(driver, "kernels_cached", lambda *a, **k: False)
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and "compiling the training kernels (first run only, ~10 s)" in r.output
    r = runner.invoke(app, ["demo", str(tmp_path / "c.txt"), "--epochs", "1", "-w", "w1", "--progress"])
    assert r.exit_code == 0 and "compiling the training kernels (first run only, ~10 s)" in r.output
    monkeypatch.undo()
    r = runner.invoke(app, args)  # compiled now, in this process and in numba's cache
    assert r.exit_code == 0 and "compiling" not in r.output and driver.kernels_cached(8, sg=False)
    fresh = subprocess.run([sys.executable, "-c", "from dualvec.training.numba_driver import kernels_cached; "
                            "print(kernels_cached(8, sg=False))"], capture_output=True, text=True,
                           env={**__import__("os").environ, "NUMBA_CACHE_DIR": str(tmp_path / "empty-cache")})
    assert fresh.stdout.strip() == "False", fresh.stderr  # a cache that holds nothing: the first run compiles
