import numpy as np
import pytest
from typer.testing import CliRunner

import dualvec
from dualvec.cli import app
from synthetic import planted_corpus

runner = CliRunner()


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    sents, _ = planted_corpus(n_sentences=2000)
    path = tmp_path_factory.mktemp("c") / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in sents), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def model_dir(corpus_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("m") / "model"
    r = runner.invoke(app, ["train", str(corpus_file), "-o", str(out), "--sg", "1", "--min-count", "1",
                            "--sample", "0", "--window", "3", "--epochs", "4", "--vector-size", "16",
                            "--workers", "1", "--seed", "3", "--no-progress", "--token-pattern", r"\w+"])
    assert r.exit_code == 0, r.output
    return out


def test_train_writes_a_model_with_the_options_given(model_dir):
    m = dualvec.load(model_dir)
    assert m.params.sg and m.params.window == 3 and m.params.seed == 3 and m.vector_size == 16
    assert m.tokenizer.pattern == r"\w+"


def test_python_m_dualvec_trains_and_says_where_the_time_went(corpus_file, tmp_path):
    """``python -m dualvec`` is the command, run for real; ``train`` reports reading, epochs and
    saving, and counts the file's words as the Python tokeniser does."""
    import re
    import subprocess
    import sys

    out = tmp_path / "m"
    r = subprocess.run([sys.executable, "-m", "dualvec", "train", str(corpus_file), "-o", str(out), "--sg", "1",
                        "--min-count", "1", "--epochs", "2", "--vector-size", "8", "--workers", "1",
                        "--no-progress", "--token-pattern", r"\w+"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    m = re.search(r"read the corpus in [\d.]+ s; 2 epoch\(s\) in [\d.]+ s \(([\d,]+) words/s", r.stderr)
    assert m and int(m[1].replace(",", "")) > 0, r.stderr
    from dualvec.text.tokenize import RegexTokenizer
    from dualvec.text.encoded import scan_corpus

    python_path = scan_corpus(corpus_file, lambda text: RegexTokenizer(r"\w+")(text))  # not the compiled scan
    vocab = dualvec.load(out).vocab
    assert dict(zip(vocab.words, vocab.counts.tolist())) == dict(zip(python_path.words, python_path.counts.tolist()))
    python_path.discard()


def test_neighbors_info_similarity(model_dir):
    r = runner.invoke(app, ["neighbors", str(model_dir), "t0a", "--space", "in-out", "--topn", "3", "--format", "table"])
    assert r.exit_code == 0 and "IN-OUT" in r.output and "t0b" in r.output
    r = runner.invoke(app, ["neighbors", str(model_dir), "g0m0", "--space", "all", "--topn", "2", "--format", "table"])
    assert r.exit_code == 0 and all(s in r.output for s in ("IN-IN", "IN-OUT", "OUT-IN", "OUT-OUT"))
    r = runner.invoke(app, ["info", str(model_dir)])
    assert r.exit_code == 0 and "negative-sampling" in r.output and "epoch 4" in r.output
    r = runner.invoke(app, ["similarity", str(model_dir), "t0a", "t0b", "--space", "in-out"])
    expected = dualvec.load(model_dir).similarity("t0a", "t0b", space="in-out")
    assert r.exit_code == 0 and f"{expected:.4f}" in r.output


@pytest.mark.parametrize("binary", [False, True])
def test_export_either_space(model_dir, tmp_path, binary):
    target = tmp_path / "out.w2v"
    args = ["export", str(model_dir), str(target), "--which", "out"] + (["--binary"] if binary else [])
    assert runner.invoke(app, args).exit_code == 0
    back = dualvec.load_word2vec_format(target, binary=binary)
    np.testing.assert_array_equal(back.in_vectors.vectors, dualvec.load(model_dir).out_vectors.vectors)
    r = runner.invoke(app, ["neighbors", str(target), "t0a", "--space", "in-in", "--topn", "2"])
    assert r.exit_code == 0


@pytest.mark.parametrize("args,message", [
    (["neighbors", "{model}", "nosuchword"], "not in vocabulary: 'nosuchword'"),
    (["neighbors", "{model}", "[bold]x"], "not in vocabulary: '[bold]x'"),
    (["neighbors", "{model}", "t0a", "--space", "up-down"], "unknown space 'up-down'"),
    (["train", "{missing}", "-o", "{tmp}/x"], "corpus not found"),
    (["info", "{missing}"], "model not found"),
    (["export", "{model}", "{tmp}/x.txt", "--space", "sideways"], "--space must be 'in' or 'out'"),
    (["train", "{empty}", "-o", "{tmp}/x", "--no-progress"], "empty"),
])
def test_bad_input_is_one_line_without_traceback(model_dir, tmp_path, args, message):
    (tmp_path / "empty.txt").write_text("")
    fmt = dict(model=model_dir, missing=tmp_path / "missing", tmp=tmp_path, empty=tmp_path / "empty.txt")
    r = runner.invoke(app, [a.format(**fmt) for a in args])
    assert r.exit_code == 1
    assert message in r.output and "Traceback" not in r.output
    assert r.output.strip().startswith("error:")


def test_help_for_every_command():
    for cmd in ["train", "neighbors", "similarity", "export", "info", "demo"]:
        r = runner.invoke(app, [cmd, "--help"])
        assert r.exit_code == 0 and "Usage" in r.output


def test_demo_on_a_given_corpus_saves_and_shows_both_spaces(corpus_file, tmp_path):
    # Spell the digits as letters, so the words are the same under any tokeniser.
    letters = tmp_path / "letters.txt"
    letters.write_text(corpus_file.read_text().translate(str.maketrans("0123456789", "abcdefghij")))
    r = runner.invoke(app, ["demo", str(letters), "-w", "taa", "--epochs", "2", "--topn", "3",
                            "-o", str(tmp_path / "d"), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "IN-IN" in r.output and "IN-OUT" in r.output and "tab" in r.output
    assert dualvec.load(tmp_path / "d").params.sg


def test_demo_without_arguments_trains_on_the_standard_library_docs():
    """The README's first command: a real corpus every machine has, IN-IN next to IN-OUT."""
    r = runner.invoke(app, ["demo", "--epochs", "1", "--topn", "3", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "standard library" in r.output
    assert r.output.count("IN-OUT") >= 3  # a table per demo word
    assert "Traceback" not in r.output


def test_stdlib_docs_corpus_is_real_prose():
    from dualvec.text.datasets import stdlib_docs

    docs = []
    for doc in stdlib_docs():
        docs.append(doc)
        if len(docs) >= 2000:
            break
    words = " ".join(docs).lower().split()
    assert len(docs) == 2000 and len(words) > 20_000
    assert words.count("the") > 500  # English text, not code
