"""Truncations and byte flips of every format dualvec reads: each must load, or fail with one
``error:`` line and exit status 1 — never a traceback, a crash, a hang or a memory blow-up.

The cases run in one child process with its address space capped, through the real command
line (``dualvec info``, its real ``main``), so that a crash or an allocation bomb shows up as a
failed test here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import dualvec
from dualvec.text.vocab import Vocabulary

CASES_PER_FILE = 24
CASE_SECONDS = 30  # the most one damaged file may take to load or fail
MEMORY_CAP = 6 << 30  # bytes of address space for the child (numba and LLVM reserve a good deal)

CHILD = textwrap.dedent("""
    import contextlib, io, json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
    from dualvec.cli import main
    results = []
    for case in json.load(open(sys.argv[1])):
        out, err = io.StringIO(), io.StringIO()
        args = case if isinstance(case, list) else ["info", case]  # a path alone: dualvec info PATH
        path = args[1]
        sys.argv = ["dualvec", *args]
        exception, started = None, time.monotonic()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code
            except BaseException as exc:
                code, exception = -1, repr(exc)
        results.append({"path": path, "code": code, "output": err.getvalue(), "exception": exception,
                        "seconds": time.monotonic() - started})
    json.dump(results, sys.stdout)
""")



def _sources(root: Path) -> list[Path]:
    """One small file (or directory) of each format."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    model = dualvec.DualVectors(Vocabulary(words, np.arange(40, 0, -1, dtype=np.int64)),
                                rng.standard_normal((40, 8)).astype(np.float32),
                                rng.standard_normal((40, 8)).astype(np.float32), out_kind="negative-sampling")
    out = []
    model.save(root / "model.dv")
    out.append(root / "model.dv")
    dualvec.save_word2vec_format(model, root / "v.txt")
    dualvec.save_word2vec_format(model, root / "v.bin", binary=True)
    out += [root / "v.txt", root / "v.bin"]
    try:
        import gensim

        w2v = gensim.models.Word2Vec([words[:20], words[20:]] * 5, vector_size=8, min_count=1, workers=1, hs=1)
        w2v.save(str(root / "g.model"))
        out.append(root / "g.model")
        data = Path(gensim.__file__).parent / "test" / "test_data"
        if (data / "lee_fasttext_new.bin").exists():
            out.append(data / "lee_fasttext_new.bin")
        if (data / "word2vec_pre_kv_py2").exists():
            out.append(data / "word2vec_pre_kv_py2")
    except ImportError:
        pass
    return out


def _mutants(src: Path, dest: Path, rng: np.random.Generator) -> list[Path]:
    """Truncated and bit-flipped copies; for a model directory, of each file inside it."""
    made = []
    if src.is_dir():
        files = sorted(p for p in src.rglob("*") if p.is_file() and p.name != ".dualvec.lock")
        for f in files:
            for k in range(CASES_PER_FILE // 2):
                copy = dest / f"{src.name}-{f.name}-{k}"
                subprocess.run(["cp", "-r", str(src), str(copy)], check=True)
                target = copy / f.relative_to(src)
                target.write_bytes(_mutate(f.read_bytes(), rng, k))
                made.append(copy)
        return made
    data = src.read_bytes()
    for k in range(CASES_PER_FILE):
        m = dest / f"{src.name}-{k}"
        m.write_bytes(_mutate(data, rng, k))
        made.append(m)
    return made


def _mutate(data: bytes, rng: np.random.Generator, k: int) -> bytes:
    b = bytearray(data)
    if k % 2 == 0 and len(b) > 1:
        return bytes(b[: int(rng.integers(0, len(b)))])
    for _ in range(1 + k % 4):
        if b:
            b[int(rng.integers(0, len(b)))] ^= 1 << int(rng.integers(0, 8))
    return bytes(b)


@pytest.mark.skipif(sys.platform != "linux", reason="the memory cap uses Linux's RLIMIT_AS")
def test_damaged_files_load_or_fail_with_one_error_line(tmp_path):
    rng = np.random.default_rng(1)
    src_dir, mut_dir = tmp_path / "src", tmp_path / "mut"
    src_dir.mkdir()
    mut_dir.mkdir()
    paths = [str(p) for s in _sources(src_dir) for p in _mutants(s, mut_dir, rng)]
    assert len(paths) >= 100
    _assert_each_loads_or_fails_with_one_line(tmp_path, paths)


def _assert_each_loads_or_fails_with_one_line(tmp_path: Path, cases: list) -> None:
    """Run every case (a path for ``info``, or a command line) in the capped child; check each."""
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "cases.json"), str(MEMORY_CAP)],
                          capture_output=True, text=True, timeout=900, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, f"the child died (crash or memory): {proc.returncode}\n{proc.stderr[-3000:]}"
    slow = [(Path(r["path"]).name, round(r["seconds"], 1)) for r in json.loads(proc.stdout)
            if r["seconds"] > CASE_SECONDS]
    assert not slow, f"cases that took over {CASE_SECONDS} s: {slow[:10]}"
    bad = []
    for r in json.loads(proc.stdout):
        lines = [ln for ln in r["output"].splitlines() if ln.strip() and not ln.startswith("warning:")]
        if r["code"] == 0:
            continue
        one_line = r["code"] == 1 and lines and lines[0].startswith("error:") and len(
            [ln for ln in lines if ln.startswith("error:")]) == 1
        if not one_line or r["exception"] or "Traceback" in r["output"] or "error: unexpected" in r["output"]:
            bad.append((Path(r["path"]).name, r["code"], r["output"][-300:], r["exception"]))
    assert not bad, "\n".join(map(str, bad[:10]))


def _index_sources(root: Path) -> list[tuple[Path, list[str]]]:
    """A ranker index and a centroid index, each with the command line that opens it (``@`` for its path)."""
    from dualvec.ranking import Ranker
    from dualvec.scale import build_index

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    model = dualvec.DualVectors(Vocabulary(words, np.arange(40, 0, -1, dtype=np.int64)),
                                rng.standard_normal((40, 8)).astype(np.float32),
                                rng.standard_normal((40, 8)).astype(np.float32), out_kind="negative-sampling")
    docs = {f"d{i}": " ".join(words[j % 40] for j in range(i, i + 7)) for i in range(30)}
    with pytest.warns(UserWarning):  # the model records no tokeniser
        Ranker(model, stopwords=None, stemmer=None).index(docs).save(root / "ranker")
    coll = root / "docs.jsonl"
    coll.write_text("\n".join(json.dumps({"_id": d, "text": t}) for d, t in docs.items()))
    build_index(model, coll, root / "centroids", chunk_size=10, stopwords=None)
    (root / "queries.tsv").write_text("q1\tw1 w2\nq2\tw5\n")
    (root / "run.trec").write_text("".join(f"q{q} Q0 d{i} {i + 1} {10 - i} bm25\n" for q in (1, 2) for i in range(8)))
    rerank = ["rerank", "@", str(root / "queries.tsv"), "--run", str(root / "run.trec"), "-o", "@.out"]
    return [(root / "ranker", ["search", "@", "w1 w2", "-k", "3"]), (root / "centroids", rerank)]


@pytest.mark.skipif(sys.platform != "linux", reason="the memory cap uses Linux's RLIMIT_AS")
def test_damaged_index_directories_load_or_fail_with_one_error_line(tmp_path):
    """Truncations and bit flips of every file of a ranker index and of a centroid index: the
    command that opens it answers, or fails with one error line, in bounded time and memory."""
    rng = np.random.default_rng(2)
    src_dir, mut_dir = tmp_path / "src", tmp_path / "mut"
    src_dir.mkdir()
    mut_dir.mkdir()
    cases = []
    for src, command in _index_sources(src_dir):
        files = sorted(p for p in src.rglob("*") if p.is_file() and p.name != ".dualvec.lock")
        assert len(files) >= 8
        for f in files:
            rel = f.relative_to(src)
            for k in range(CASES_PER_FILE // 4):
                copy = mut_dir / f"{src.name}-{'_'.join(rel.parts)}-{k}"
                shutil.copytree(src, copy, symlinks=True)
                (copy / rel).write_bytes(_mutate(f.read_bytes(), rng, k))
                cases.append([str(copy) if a == "@" else a.replace("@", str(copy)) for a in command])
    assert len(cases) >= 150
    _assert_each_loads_or_fails_with_one_line(tmp_path, cases)
