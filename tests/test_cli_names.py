"""Issue 23, item 10: one option name, one meaning, on every command; help for everything; old names
still accepted with a warning."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from cli_fixtures import indexed_collection
from dualvec.cli import app
from dualvec.cli._common import DEPRECATED

runner = CliRunner()


def _commands():
    return typer.main.get_command(app).commands


def _value_type(p) -> str:
    """What an option takes (typer's own click keeps it in ``type_descriptor``; click's in ``type``)."""
    td = getattr(p, "type_descriptor", None)
    return str(td.annotation) if td is not None else p.type.name


def _options(cmd):
    return [p for p in cmd.params if p.param_type_name == "option"]


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    return indexed_collection(tmp_path_factory.mktemp("names"))


def test_no_option_name_has_two_meanings_across_commands():
    """An option name always comes with the same other names and takes the same type of value,
    wherever it appears: ``-k`` is always ``-k/--k/--topn``, ``--output`` always ``-o``."""
    meanings: dict[str, dict[tuple, list[str]]] = {}
    for name, cmd in _commands().items():
        for p in _options(cmd):
            if p.hidden:
                continue
            meaning = (tuple(sorted(p.opts + p.secondary_opts)), _value_type(p), p.is_flag)
            for opt in p.opts + p.secondary_opts:
                meanings.setdefault(opt, {}).setdefault(meaning, []).append(name)
    clashes = {opt: m for opt, m in meanings.items() if len(m) > 1}
    assert not clashes
    # the names the issue found with two meanings now have one
    assert meanings["--alpha"] and {c for cs in meanings["--alpha"].values() for c in cs} == {"train"}
    assert {c for cs in meanings["--workers"].values() for c in cs} == {"train"}
    assert {c for cs in meanings["--run"].values() for c in cs} == {"rerank"}  # the input run
    assert {c for cs in meanings["--desm-weight"].values() for c in cs} == {"index", "search", "rank", "rerank"}
    counts = {c for cs in meanings["--topn"].values() for c in cs}
    assert counts == {c for cs in meanings["-k"].values() for c in cs} >= {"neighbors", "probable", "search", "rank"}
    assert "--which" not in meanings and "--space" in {o for p in _options(_commands()["export"]) for o in p.opts}


def test_every_hidden_option_is_a_deprecated_alias_of_a_visible_one():
    hidden = set()
    for name, cmd in _commands().items():
        visible = {o for p in _options(cmd) if not p.hidden for o in p.opts}
        for p in _options(cmd):
            if p.hidden:
                hidden.add((name, p.opts[0]))
                assert DEPRECATED.get((name, p.opts[0])) in visible, (name, p.opts)
    assert hidden == set(DEPRECATED)


def test_every_argument_and_option_has_help():
    missing = [(name, p.name) for name, cmd in _commands().items() for p in cmd.params
               if not (getattr(p, "help", None) or "").strip()]
    assert not missing
    for name, cmd in _commands().items():
        assert (cmd.help or "").strip(), name
        r = runner.invoke(app, [name, "-h"])
        assert r.exit_code == 0 and "Usage" in r.output, name
        for arg in (p for p in cmd.params if p.param_type_name == "argument"):
            assert arg.help in " ".join(r.output.split()) or arg.help[:30] in r.output, (name, arg.name)


def test_version_and_short_help():
    from importlib.metadata import version

    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"dualvec {version('dualvec')}"
    r = runner.invoke(app, ["-h"])
    assert r.exit_code == 0 and "train" in r.output and "--version" in r.output


def test_count_is_k_or_topn_everywhere(tmp_path, ranked):
    idx, coll, truth = ranked
    model = idx.parent / "model"
    a = runner.invoke(app, ["neighbors", str(model), truth["names"][0], "--topn", "3"])
    b = runner.invoke(app, ["neighbors", str(model), truth["names"][0], "-k", "3"])
    assert a.exit_code == b.exit_code == 0 and a.output == b.output and a.output.count("\n") > 3
    a = runner.invoke(app, ["search", str(idx), truth["names"][0], "--topn", "2"])
    b = runner.invoke(app, ["search", str(idx), truth["names"][0], "--k", "2"])
    assert a.exit_code == b.exit_code == 0 and a.output == b.output


def test_desm_weight_and_its_old_name(ranked, tmp_path):
    idx, coll, truth = ranked
    new = runner.invoke(app, ["search", str(idx), truth["names"][0], "-k", "3", "--desm-weight", "0.8"])
    old = runner.invoke(app, ["search", str(idx), truth["names"][0], "-k", "3", "--alpha", "0.8"])
    assert new.exit_code == old.exit_code == 0 and "warning:" not in new.output
    assert "warning: --alpha is deprecated here: it is now --desm-weight" in old.output
    assert old.output.split("\n", 1)[1] == new.output  # the same table after the warning
    both = runner.invoke(app, ["search", str(idx), "x", "--alpha", "0.8", "--desm-weight", "0.8"])
    assert both.exit_code == 1 and "give only --desm-weight" in both.output
    for flag in ("--desm-weight", "--alpha"):
        r = runner.invoke(app, ["rank", str(idx), str(coll), "-o", str(tmp_path / f"{flag}.trec"), flag, "1",
                                "--mode", "full", "--no-progress"])
        assert r.exit_code == 0, r.output
    assert (tmp_path / "--alpha.trec").read_text() == (tmp_path / "--desm-weight.trec").read_text()
    r = runner.invoke(app, ["index", str(idx.parent / "model"), str(coll), "-o", str(tmp_path / "i2"),
                            "--alpha", "0.7", "--no-progress"])
    assert r.exit_code == 0 and "now --desm-weight" in r.output
    import dualvec.ranking

    assert dualvec.ranking.Ranker.load(tmp_path / "i2").config.alpha == 0.7


def test_queries_positional_or_by_option_and_split_default_test(ranked, tmp_path):
    idx, coll, _ = ranked
    outs = []
    for args in ([str(coll)], ["--queries", str(coll)], [str(coll), "--split", "test"]):
        target = tmp_path / f"run{len(outs)}.trec"
        r = runner.invoke(app, ["rank", str(idx), *args, "-o", str(target), "--no-progress"])
        assert r.exit_code == 0, r.output
        outs.append(target.read_text())
    assert outs[0] == outs[1] == outs[2] and outs[0]
    r = runner.invoke(app, ["rank", str(idx), str(coll), "--queries", str(coll), "-o", str(tmp_path / "x")])
    assert r.exit_code == 1 and "given twice" in r.output
    r = runner.invoke(app, ["rank", str(idx), "-o", str(tmp_path / "x")])
    assert r.exit_code == 1 and "no queries given" in r.output


def test_tune_splits_and_output(ranked, tmp_path):
    """tune's split defaults to test as rank's and evaluate's do; --split train still works; -o writes the
    cross-validated run and --run, its old name, still does (the judges' command line)."""
    idx, coll, _ = ranked
    r = runner.invoke(app, ["tune", str(idx), str(coll), "--mode", "full", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "'test' queries" in r.output
    r = runner.invoke(app, ["tune", str(idx), str(coll), "--split", "train", "--mode", "full", "--no-progress"])
    assert r.exit_code == 0 and "'train' queries" in r.output
    runs = {}
    for flag in ("-o", "--run"):
        target = tmp_path / f"cv{flag}.trec"
        r = runner.invoke(app, ["tune", str(idx), str(coll), "--split", "test", "--folds", "2", flag, str(target),
                                "--no-progress"])
        assert r.exit_code == 0, r.output
        assert re.search(r"cross-validated nDCG@10: [\d.]+", r.output)
        runs[flag] = target.read_text()
        assert ("deprecated" in r.output) == (flag == "--run")
    assert runs["-o"] == runs["--run"] and runs["-o"]


def test_export_output_and_space_names(ranked, tmp_path):
    import numpy as np

    import dualvec

    model = ranked[0].parent / "model"
    for i, args in enumerate((["OUT", "--space", "out"], ["-o", "OUT", "--space", "out"], ["OUT", "--which", "out"])):
        target = tmp_path / f"e{i}.txt"
        r = runner.invoke(app, ["export", str(model), *[str(target) if a == "OUT" else a for a in args]])
        assert r.exit_code == 0, r.output
        assert ("deprecated" in r.output) == ("--which" in args)
        back = dualvec.load_word2vec_format(target)
        np.testing.assert_array_equal(back.in_vectors.vectors, dualvec.load(model).out_vectors.vectors)
    r = runner.invoke(app, ["export", str(model)])
    assert r.exit_code == 1 and "no output given" in r.output


def test_dask_workers_name(ranked, tmp_path):
    """``index --workers`` (Dask processes) is now ``--dask-workers``; the old name still parses, with a warning."""
    idx, coll, _ = ranked
    r = runner.invoke(app, ["index", str(idx.parent / "model"), str(coll / "corpus.jsonl"), "-o",
                            str(tmp_path / "s"), "--engine", "local", "--workers", "2", "--no-progress"])
    assert r.exit_code == 0 and "now --dask-workers" in r.output, r.output
