"""Issue 27, section 1: every command that prints a table takes --format table|tsv|json; into a pipe the
default is tsv; at 80 columns no number is ever cut; JSON parses back to the numbers shown."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

import dualvec
from cli_fixtures import indexed_collection
from dualvec.cli import app
from dualvec.cli._common import OUTPUT_FORMATS

narrow = CliRunner(env={"COLUMNS": "80"})  # CliRunner's stdout is not a terminal: a pipe, as in a script


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    root = tmp_path_factory.mktemp("format")
    idx, coll, truth = indexed_collection(root)
    runs = []
    for name, weight in (("bm25.trec", "0"), ("desm.trec", "0.9")):
        r = narrow.invoke(app, ["rank", str(idx), str(coll), "-o", str(root / name), "--desm-weight", weight,
                                "--mode", "full", "--no-progress"])
        assert r.exit_code == 0, r.output
        runs.append(str(root / name))
    model = dualvec.load(root / "model")
    words = truth["words"]
    pairs = root / "pairs.tsv"
    pairs.write_text("".join(f"{words[i][0]}\t{words[i][1]}\t{9 - i}\n" for i in range(4)) + "zzz\tyyy\t1\n")
    questions = root / "questions.txt"
    questions.write_text(": topics\n" + "".join(f"{words[i][0]} {words[i][1]} {words[i + 1][0]} {words[i + 1][1]}\n"
                                                for i in range(3)))
    m = str(root / "model")
    w = model.words
    return {
        "neighbors": ["neighbors", m, w[3], w[4], "--space", "all", "-k", "4"],
        "similarity": ["similarity", m, w[3], w[4]],
        "analogy": ["analogy", m, w[3], w[4], w[5], "--space", "all", "-k", "3"],
        "evaluate": ["evaluate", *runs, "-q", str(coll)],
        "evaluate-words": ["evaluate-words", m, "--pairs", str(pairs), "--analogies", str(questions), "--sections"],
        "tune": ["tune", str(idx), str(coll), "--mode", "full", "--learner", "none", "--no-progress"],
        "search": ["search", str(idx), " ".join(truth["words"][0][:2]), "-k", "3"],
        "info": ["info", str(idx)],
        "info-model": ["info", m],
    }


def _json(args) -> list[dict]:
    r = narrow.invoke(app, [*args, "--format", "json"])
    assert r.exit_code == 0, r.output
    return [json.loads(line) for line in r.stdout.splitlines()]


def _floats(text: str) -> list[str]:
    """Every decimal number in a cell (a cell of text, such as search's per-term shares, may hold several)."""
    return re.findall(r"-?\d+\.\d+", text)


COMMANDS = ["neighbors", "similarity", "analogy", "evaluate", "evaluate-words", "tune", "search", "info",
            "info-model"]


@pytest.mark.parametrize("command", COMMANDS)
def test_pipe_default_is_tsv_with_a_header_and_one_line_per_row(ranked, command):
    tables = _json(ranked[command])
    r = narrow.invoke(app, ranked[command])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    columns = tables[0]["columns"]
    assert lines[0].split("\t") == columns  # the header, once
    rows = [row for t in tables for row in t["rows"]]
    assert len(lines) == 1 + len(rows) and rows
    for line, row in zip(lines[1:], rows):
        cells = line.split("\t")
        assert len(cells) == len(columns)
        for cell, name in zip(cells, columns):
            value = row[name]
            if isinstance(value, float):  # the number shown is the JSON's, rounded to the digits shown
                decimals = len(cell.split(".")[1]) if "." in cell else 0
                assert float(cell) == pytest.approx(value, abs=0.5 * 10 ** -decimals + 1e-12), (name, cell, value)
            elif isinstance(value, (bool, int)) or value is None:
                assert cell == ("" if value is None else str(value)), (name, cell, value)
    # titles and notes are status lines, on stderr: stdout holds the rows alone
    assert not any(t["title"] and t["title"] in r.stdout for t in tables if t["title"] not in columns)


@pytest.mark.parametrize("command", COMMANDS)
def test_table_at_80_columns_shows_every_number_whole(ranked, command):
    r = narrow.invoke(app, [*ranked[command], "--format", "table"])
    assert r.exit_code == 0, r.output
    assert "…" not in r.stdout
    tsv = narrow.invoke(app, [*ranked[command], "--format", "tsv"]).stdout
    numbers = [x for line in tsv.splitlines()[1:] for cell in line.split("\t") for x in _floats(cell)]
    assert numbers
    shown = r.stdout
    for x in numbers:
        assert x in shown, (x, shown)
    if command in ("neighbors", "analogy"):  # the rank and cos columns of every pairing survive
        assert shown.count("cos") >= 4 and all(s in shown for s in ("IN-IN", "IN-OUT", "OUT-IN", "OUT-OUT"))


def test_json_parses_back_to_the_library_numbers(ranked):
    model_dir = ranked["similarity"][1]
    a, b = ranked["similarity"][2:4]
    model = dualvec.load(model_dir)
    (table,) = _json(ranked["similarity"])
    assert [row["space"] for row in table["rows"]] == list(dualvec.SPACES)
    for row in table["rows"]:
        assert row["cosine"] == pytest.approx(model.similarity(a, b, space=row["space"]), abs=1e-6)
    (table,) = _json(ranked["neighbors"][:3] + ["--space", "in-out", "-k", "4"])
    expected = model.most_similar(ranked["neighbors"][2], space="in-out", topn=4)
    assert [(row["word"], row["rank"]) for row in table["rows"]] == [(w, i) for i, (w, _) in enumerate(expected, 1)]
    assert [row["cos"] for row in table["rows"]] == pytest.approx([c for _, c in expected], abs=1e-6)
    (table,) = _json(ranked["tune"])
    assert table["columns"][0] == "pipeline" and any(n.startswith("chosen:") for n in table["notes"])
    assert all(isinstance(v, float) for row in table["rows"] for k, v in row.items() if k != "pipeline")


def test_unknown_format_is_named_with_the_choices(ranked):
    r = narrow.invoke(app, [*ranked["similarity"], "--format", "yaml"])
    assert r.exit_code == 1
    assert f"unknown --format 'yaml': use one of {', '.join(OUTPUT_FORMATS)}" in r.output


def test_every_table_command_takes_format():
    import typer

    commands = typer.main.get_command(app).commands
    for name in ("neighbors", "similarity", "analogy", "evaluate", "evaluate-words", "tune", "search", "info",
                 "probable"):
        options = {o for p in commands[name].params for o in getattr(p, "opts", [])}
        assert "--format" in options, name
