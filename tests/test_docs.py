"""The documentation: the site builds offline and strict, and every recipe in it and in the README runs.

A page's code blocks run in order, as a reader would type them, in a fresh folder holding the
files the recipes name: ``corpus.txt`` and ``more.txt`` (a small topical corpus with the words
the recipes ask about), ``model.dv`` trained on it, and, one level up, ``shared/data/scifact``
and ``shared/data/cranfield``: tiny BEIR collections standing in for the real ones, so
``../shared/data/scifact`` recipes run as written without the data. Python blocks share one
namespace per page; in bash blocks each ``dualvec ...`` line runs through the real command
(typer's test runner) and must exit 0, and ``pip install`` lines are what the environment
already did. A block preceded by ``<!-- recipe: skip REASON -->`` is not run, and the test says
why (a server that runs until interrupted, a tool from another environment).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"(?:<!--\s*recipe:\s*(?P<directive>[^>]*?)\s*-->\s*\n)?```(?P<lang>[\w-]*)[^\n]*\n(?P<code>.*?)```",
                   re.S)
RUN_LANGS = ("python", "bash")

# Topics whose words the recipes ask about; a sentence names one entity and three context words.
TOPICS = [
    (["yale", "harvard", "cornell", "mit", "princeton"], ["faculty", "alumni", "campus", "professor", "dean"]),
    (["king", "queen", "prince", "woman", "man"], ["crown", "throne", "palace", "royal", "court"]),
    (["fever", "insulin", "children", "resistance", "infection"], ["patients", "clinical", "dose", "trial", "blood"]),
    (["soup", "bread", "cheese", "wine", "salad"], ["kitchen", "dinner", "taste", "recipe", "cook"]),
]


def recipes(page: Path) -> list[tuple[str, str, str | None]]:
    """``(language, code, skip reason)`` of each runnable block of a page, in order."""
    out = []
    for m in FENCE.finditer(page.read_text(encoding="utf-8")):
        if m["lang"] not in RUN_LANGS:
            continue
        directive = (m["directive"] or "").strip()
        if directive and not directive.startswith("skip "):
            raise AssertionError(f"{page.name}: unknown recipe directive {directive!r}")
        out.append((m["lang"], m["code"], directive[5:].strip() or None if directive else None))
    return out


#: The pages that hold recipes (the README, and docs/ pages other than the generated references).
PAGES = [p for p in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))] if recipes(p)]


def sentences(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        names, context = rng.choice(TOPICS)
        words = [rng.choice(names), *rng.sample(context, 3)]
        rng.shuffle(words)
        lines.append(" ".join(words))
    return lines


def write_beir(root: Path, seed: int, splits: tuple[str, ...]) -> None:
    rng = random.Random(seed)
    (root / "qrels").mkdir(parents=True)
    docs, queries, qrels = [], [], ["query-id\tcorpus-id\tscore"]
    for i in range(120):
        names, context = TOPICS[i % len(TOPICS)]
        text = " ".join(rng.choice(names + context) for _ in range(12))
        docs.append({"_id": f"d{i}", "title": f"{names[0]} report {i}", "text": text})
    for t, (names, context) in enumerate(TOPICS):
        for j in range(5):
            qid = f"q{t}-{j}"
            queries.append({"_id": qid, "text": f"{names[j]} {context[j]}"})
            for i in range(t, 120, len(TOPICS) * 3):
                qrels.append(f"{qid}\td{i}\t1")
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    for split in splits:
        (root / "qrels" / f"{split}.tsv").write_text("\n".join(qrels) + "\n")


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """The files every page's folder starts with (built once)."""
    import dualvec

    root = tmp_path_factory.mktemp("docs-library")
    work = root / "work"
    work.mkdir()
    (work / "corpus.txt").write_text("\n".join(sentences(6000, 1)) + "\n")
    (work / "more.txt").write_text("\n".join(sentences(500, 2)) + "\n")
    model = dualvec.train(str(work / "corpus.txt"), sg=1, vector_size=16, window=3, min_count=5, epochs=2,
                          workers=1, seed=1, progress=False)
    model.save(work / "model.dv")
    dualvec.train(str(work / "more.txt"), hs=1, negative=0, vector_size=8, min_count=1, epochs=1, workers=1, seed=1,
                  progress=False).save(work / "hs-model.dv")
    (work / "wordsim353.tsv").write_text("yale\tharvard\t9.0\nyale\tsoup\t1.0\nking\tqueen\t8.5\nbread\tcheese\t7.0\n")
    (work / "questions-words.txt").write_text(": family\nking queen man woman\nyale harvard cornell mit\n")
    write_glove(model, work)
    for name, splits in (("scifact", ("train", "test")), ("cranfield", ("all",))):  # the real ones' splits
        write_beir(root / "shared" / "data" / name, len(name), splits)
    docs = [json.loads(line) for line in (root / "shared/data/scifact/corpus.jsonl").read_text().splitlines()]
    with gzip.open(work / "collection.jsonl.gz", "wt") as fh:
        fh.write("\n".join(json.dumps(d) for d in docs) + "\n")
    (work / "collection.tsv").write_text("".join(f"{d['_id']}\t{d['title']} {d['text']}\n" for d in docs))
    (work / "queries.tsv").write_text("q1\tfever children\nq2\tyale faculty\n")
    (work / "bm25.trec").write_text("".join(f"{q} Q0 d{i} {r + 1} {10 - r} bm25\n"
                                            for q in ("q1", "q2") for r, i in enumerate(range(0, 40, 4))))
    try:
        dualvec.to_gensim(model).save(str(work / "w2v.model"))
        dualvec.to_gensim(model, space="in").save(str(work / "vectors.kv"))
        from gensim.models import FastText
        from gensim.models.fasttext import save_facebook_model

        ft = FastText(vector_size=8, min_count=1, epochs=1, bucket=1000, workers=1, seed=1)
        ft.build_vocab(corpus_iterable=[line.split() for line in sentences(300, 3)])
        ft.train(corpus_iterable=[line.split() for line in sentences(300, 3)], total_examples=300, epochs=1)
        save_facebook_model(ft, str(work / "cc.en.300.bin"))  # a tiny fastText .bin under the recipe's name
    except (dualvec.DualvecError, ImportError):  # gensim not installed: recipes that read these fail, saying so
        pass
    return root


def write_glove(model, work: Path) -> None:
    """GloVe's outputs for the recipes: ``glove/vectors.bin`` + ``vocab.txt`` and ``-model 0`` text."""
    import numpy as np

    w, c = np.asarray(model.in_vectors.vectors, np.float64), np.asarray(model.out_vectors.vectors, np.float64)
    bias = np.zeros((len(w), 1))
    (work / "glove").mkdir()
    np.vstack([np.hstack([w, bias]), np.hstack([c, bias])]).astype("<f8").tofile(work / "glove" / "vectors.bin")
    counts = model.vocab.counts
    (work / "glove" / "vocab.txt").write_text("".join(f"{x} {n}\n" for x, n in zip(model.words, counts)))
    (work / "glove.txt").write_text("".join(f"{x} {' '.join(map(str, a))} 0 {' '.join(map(str, b))} 0\n"
                                            for x, a, b in zip(model.words, w, c)))
    dualvec_text = [f"{len(w)} {w.shape[1]}\n"]
    for name, m in (("in.txt", w), ("out.txt", c)):
        (work / name).write_text("".join(dualvec_text + [f"{x} {' '.join(map(str, r))}\n"
                                                         for x, r in zip(model.words, m)]))
    import dualvec

    dualvec.save_word2vec_format(model, work / "vectors.bin", binary=True)


def run_bash(code: str, page: str) -> list[str]:
    """Each command of a bash block; ``dualvec`` through the real CLI. Returns what was not run."""
    from typer.testing import CliRunner

    from dualvec.cli import app

    not_run = []
    for line in code.replace("\\\n", " ").splitlines():
        for command in line.split("&&"):
            args = shlex.split(command, comments=True)
            if not args:
                continue
            if args[:2] == ["python", "-m"] and args[2:3] == ["dualvec"]:
                args = ["dualvec", *args[3:]]
            if args[0] == "pip" and args[1:2] == ["install"]:
                not_run.append(command.strip())  # the environment the tests run in did this
                continue
            if args[0] == "mkdocs" or args[:3] == ["python", "-m", "pytest"]:
                not_run.append(command.strip())  # test_site_builds_strict builds the site; this is the test suite
                continue
            assert args[0] == "dualvec", f"{page}: a recipe runs {args[0]!r}; mark the block '<!-- recipe: skip ... -->'"
            result = CliRunner().invoke(app, args[1:])
            assert result.exit_code == 0, f"{page}: `{command.strip()}` exited {result.exit_code}:\n{result.output}"
    return not_run


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_recipes_run(page, library, tmp_path, monkeypatch):
    blocks = recipes(page)
    shutil.copytree(library, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("COLUMNS", "120")
    namespace: dict = {"__name__": "__main__"}
    skipped = []
    for i, (lang, code, reason) in enumerate(blocks):
        if reason is not None:
            skipped.append(reason)
            continue
        if lang == "python":
            exec(compile(code, f"{page.name} recipe {i + 1}", "exec"), namespace)  # noqa: S102 -- the docs' own code
        else:
            run_bash(code, page.name)
    assert len(skipped) < len(blocks), f"{page.name}: every recipe is skipped ({skipped})"


def test_every_skip_says_why():
    assert {"quickstart.md", "desm.md", "python.md", "ranking.md"} <= {p.name for p in PAGES}
    for page in PAGES:
        for _, _, reason in recipes(page):
            assert reason is None or len(reason.split()) >= 3, f"{page.name}: a skipped recipe needs a reason"


def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs extra: pip install -e '.[docs]'")
    pytest.importorskip("material", reason="the docs extra: pip install -e '.[docs]'")
    pytest.importorskip("mkdocstrings", reason="the docs extra: pip install -e '.[docs]'")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    import typer.main

    from dualvec.cli import app

    cli = (site / "cli" / "index.html").read_text(encoding="utf-8")
    for name in typer.main.get_command(app).commands:  # the reference is generated from the app itself
        assert f"dualvec {name}" in cli, name
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    assert "DualVectors" in api and "most_similar" in api and "load_glove" in api
    assert not re.search(r":(meth|func|class|mod|attr):", api), "a Sphinx role is printed as it is"
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8").splitlines()
    heading = next(line for line in results if line.startswith("## "))[3:].split("(")[0].strip()
    assert heading.split()[0] in (site / "benchmarks" / "index.html").read_text(encoding="utf-8")
    assert (site / "explorer-map.png").is_file()
