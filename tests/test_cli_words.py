"""Issue 23, item 11: what users of gensim and the Embedding Projector expect, from the CLI and from Python."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import dualvec
from dualvec.cli import app
from synthetic import planted_corpus

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    sents, truth = planted_corpus(n_sentences=2500)
    model = dualvec.train(sents, sg=True, min_count=1, sample=0, window=3, epochs=4, vector_size=16, workers=1,
                          seed=3, progress=False)
    path = tmp_path_factory.mktemp("w") / "model"
    model.save(path)
    return dualvec.load(path), path, truth


def _gensim(vectors):
    gensim_models = pytest.importorskip("gensim.models", reason="gensim is not installed")
    kv = gensim_models.KeyedVectors(vectors.vector_size)
    kv.add_vectors(vectors.words, np.asarray(vectors.vectors, dtype=np.float32))
    return kv


@pytest.mark.parametrize("space", ["in-in", "out-out"])
def test_gensim_methods_match_gensim_on_the_same_vectors(trained, space):
    model, _, truth = trained
    kv = _gensim(model.space(space.split("-")[0]))
    g = truth["groups"]
    pos, neg = [g[0][0], g[1][1]], [g[0][1]]
    ours = model.most_similar_cosmul(pos, neg, space=space, topn=8)
    theirs = kv.most_similar_cosmul(positive=pos, negative=neg, topn=8)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-4)
    assert model.most_similar_cosmul(g[2][0], space=space, topn=5)[0][0] == kv.most_similar_cosmul(g[2][0])[0][0]
    for a, b in ([g[0][:2], g[1][:3]], [[g[0][0]], [g[0][1]]], [truth["contexts"][0], g[0]]):
        assert model.n_similarity(a, b, space=space) == pytest.approx(float(kv.n_similarity(a, b)), abs=1e-5)
    for words in (g[0][:3] + [truth["contexts"][2][0]], g[1] + [g[3][0]], [g[0][0], "t0a", "t1a"]):
        assert model.doesnt_match(words, space=space) == kv.doesnt_match(words)


def test_gensim_methods_in_a_cross_pairing(trained):
    """In ``in-out`` the query words are IN vectors and the candidates OUT: checked against numpy."""
    model, _, truth = trained
    i, o = model.in_vectors, model.out_vectors
    a, b, c = truth["groups"][0][0], truth["contexts"][0][0], truth["groups"][1][0]
    cos = lambda w: o.unit @ i.unit[i.get_index(w)]  # noqa: E731
    expect = (1 + cos(a)) / 2 * ((1 + cos(b)) / 2) / ((1 + cos(c)) / 2 + 1e-6)
    for r in (i.get_index(a), i.get_index(b), i.get_index(c)):
        expect[r] = -np.inf
    ours = model.most_similar_cosmul([a, b], [c], space="in-out", topn=5)
    assert [w for w, _ in ours] == [model.words[j] for j in np.argsort(-expect)[:5]]
    ma, mb = i.vectors[[i.get_index(a), i.get_index(b)]].mean(0), o.vectors[o.get_index(c)]
    assert model.n_similarity([a, b], [c], space="in-out") == pytest.approx(
        float(ma @ mb / np.linalg.norm(ma) / np.linalg.norm(mb)), abs=1e-5)
    assert model.n_similarity([a], [c], space="in-out") == pytest.approx(model.similarity(a, c, space="in-out"),
                                                                          abs=1e-5)
    words = [a, truth["groups"][0][1], b, c]
    mean = i.unit[[i.get_index(w) for w in words]].mean(0)
    sims = o.unit[[o.get_index(w) for w in words]] @ (mean / np.linalg.norm(mean))
    with pytest.warns(UserWarning, match="nosuchword"):
        assert model.doesnt_match(words + ["nosuchword"], space="in-out") == words[int(np.argmin(sims))]
    with pytest.raises(dualvec.DualvecError), pytest.warns(UserWarning):
        model.doesnt_match(["nosuchword"])
    with pytest.raises(dualvec.DualvecError):
        model.most_similar_cosmul(negative=[a])


def test_analogy_command_and_neighbors_positive_negative(trained):
    model, path, truth = trained
    a, b, c = truth["groups"][0][0], truth["contexts"][1][0], truth["contexts"][0][0]
    expected = [w for w, _ in model.most_similar([a, b], [c], space="in-in", topn=3)]
    r = runner.invoke(app, ["analogy", str(path), a, b, c, "-k", "3", "--format", "table"])
    assert r.exit_code == 0, r.output
    assert f"neighbours of '{a}' + '{b}' - '{c}'" in " ".join(r.output.split())
    assert [line.split("│")[2].split()[0] for line in r.output.splitlines() if line.startswith("│")] == expected
    r2 = runner.invoke(app, ["neighbors", str(path), "--plus", a, "--plus", b, "--minus", c,
                             "--space", "in-in", "--topn", "3", "--format", "table"])
    assert r2.exit_code == 0 and r2.output == r.output
    cosmul = [w for w, _ in model.most_similar_cosmul([a, b], [c], topn=3)]
    r = runner.invoke(app, ["analogy", str(path), a, b, c, "-k", "3", "--cosmul", "--format", "table"])
    assert r.exit_code == 0 and "3CosMul" in r.output
    assert [line.split("│")[2].split()[0] for line in r.output.splitlines() if line.startswith("│")] == cosmul
    r = runner.invoke(app, ["analogy", str(path), a, b, "nosuchword"])
    assert r.exit_code == 1 and "nosuchword" in r.output


def test_neighbors_shows_counts(trained):
    model, path, truth = trained
    word = truth["pairs"][0][0]
    r = runner.invoke(app, ["neighbors", str(path), word, "-k", "3", "--format", "table"])
    assert r.exit_code == 0
    count = int(model.vocab.counts[model.vocab.index[word]])
    assert f"({count:,} occurrences)" in " ".join(r.output.split())
    top, _ = model.most_similar(word, space="in-out", topn=1)[0]
    assert f"{top} {int(model.vocab.counts[model.vocab.index[top]]):,}" in r.output


def test_evaluate_words(trained, tmp_path):
    from dualvec.evaluation.embeddings import analogy_accuracy, word_similarity

    model, path, truth = trained
    g, ctx = truth["groups"], truth["contexts"]
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# word1\tword2\tscore\n" + "".join(
        f"{g[i][0]}\t{w}\t{s}\n" for i in range(4) for w, s in ((g[i][1], 9), (ctx[i][0], 5), (g[(i + 1) % 4][0], 1)))
        + "unknownx\tg0m0\t3\n")
    questions = tmp_path / "questions.txt"
    questions.write_text(": groups\n" + "".join(f"{g[i][0]} {ctx[i][0]} {g[j][0]} {ctx[j][0]}\n"
                                                  for i in range(4) for j in range(4) if i != j)
                         + ": other\n" + f"{g[0][0]} {g[0][1]} {g[1][0]} {g[1][1]}\nnope a b c\n")
    r = runner.invoke(app, ["evaluate-words", str(path), "--pairs", str(pairs), "--analogies", str(questions),
                            "--sections"])
    assert r.exit_code == 0, r.output
    for s in dualvec.SPACES:
        assert f"{word_similarity(model, pairs, space=s).spearman:.4f}" in r.output
        assert f"{analogy_accuracy(model, questions, space=s).accuracy:.4f}" in r.output
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert rows[0][-3:] == ["evaluated", "unknown word", "outside 300,000 most frequent"]
    assert rows[1][:3] == ["pairs.tsv", "", "Spearman rho"] and rows[1][-3:] == ["12", "1", ""]
    assert rows[2][:3] == ["questions.txt", "", "accuracy"] and rows[2][-3:] == ["13", "1", "0"]
    assert rows[3][:2] == ["questions.txt", "groups"]
    r = runner.invoke(app, ["evaluate-words", str(path), "--pairs", str(pairs), "--space", "in-out"])
    assert r.exit_code == 0 and "IN-OUT" in r.output and "IN-IN" not in r.output
    r = runner.invoke(app, ["evaluate-words", str(path)])
    assert r.exit_code == 1 and "--pairs" in r.output


def test_export_projector_writes_both_spaces(trained, tmp_path):
    model, path, _ = trained
    r = runner.invoke(app, ["export", str(path), "-o", str(tmp_path / "proj"), "--format", "projector"])
    assert r.exit_code == 0, r.output
    meta = (tmp_path / "proj" / "metadata.tsv").read_text().splitlines()
    vecs = np.loadtxt(tmp_path / "proj" / "vectors.tsv", delimiter="\t", dtype=np.float32)
    n = len(model)
    assert meta[0] == "word\tspace\tcount" and len(meta) == 2 * n + 1 and vecs.shape == (2 * n, model.vector_size)
    rows = [line.split("\t") for line in meta[1:]]
    assert [w for w, _, _ in rows] == model.words * 2 and [s for _, s, _ in rows] == ["IN"] * n + ["OUT"] * n
    assert [int(c) for _, _, c in rows[:n]] == model.vocab.counts.tolist()
    np.testing.assert_allclose(vecs[:n], model.in_vectors.unit, atol=1e-6)
    np.testing.assert_allclose(vecs[n:], model.out_vectors.unit, atol=1e-6)
    r = runner.invoke(app, ["export", str(path), str(tmp_path / "p5"), "--format", "projector", "--limit", "5"])
    assert r.exit_code == 0 and len((tmp_path / "p5" / "metadata.tsv").read_text().splitlines()) == 11
    r = runner.invoke(app, ["import", str(tmp_path / "proj" / "vectors.tsv"), "--format", "projector", "-o",
                            str(tmp_path / "x")])
    assert r.exit_code == 1 and "unknown format 'projector'" in r.output
