"""What a user waits for: `dualvec train` against a gensim script, start to saved model, in one run.

    python benchmarks/bench_process.py                       # SG and CBOW, 1 and 5 epochs, both corpora,
                                                             # BLAS variables set and unset
    python benchmarks/bench_process.py --configs cbow --epochs 1 --corpora paragraph --blas unset
    python benchmarks/bench_process.py --write               # also update benchmarks/RESULTS.md

Each run is a fresh process timed from its start to its exit (interpreter start, imports, reading
the corpus, training, saving the model): dualvec's real command line, ``dualvec train CORPUS -o
DIR --sg S --epochs E --workers 2`` (run as ``python -m dualvec``, as the gensim script runs as
``python -c``: no console-script or pyenv shim in front of either), against the gensim script a
user writes (``Word2Vec(LineSentence(CORPUS), ...)`` then ``model.save``), the same settings for both
(vector_size 100, window 5, negative 5, sample 1e-3, min_count 5, 2 threads, seed 1). dualvec's
numba kernels are compiled beforehand (numba caches them on disk, as any second run finds them).

Corpora, both made once into benchmarks/out/ from ../shared/data/enwiki-featured-2019 (17.0 M
lowercase ``[a-z]+`` tokens): *paragraph*, one paragraph per line, and *one-line*, the same
tokens on a single line (text8-style; both trainers cut it into 10,000-token sentences).

Columns: *read s* is the time to the first epoch (dualvec: reading, counting and encoding the
corpus, as ``dualvec train`` reports it; gensim: from "collecting all words" to "training model
with", its ``build_vocab``), *scan tokens/s* = corpus tokens / read s; *train s* the epochs
(gensim: "training on ... took"), *words/s* = in-vocabulary tokens x epochs / train s, the same
numerator for both; *total s* the process; *ratio* gensim's total / dualvec's.

BLAS: *unset* runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from the environment;
*set* with the values this shell has, or OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE=262144
where it has none (the values used are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_train  # noqa: E402  (the corpus and the machine line are shared)

BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
DEFAULT_BLAS = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "262144"}
SETTINGS = dict(vector_size=100, window=5, negative=5, sample=1e-3, min_count=5, workers=2, seed=1)
GENSIM_SCRIPT = """
import logging, sys
logging.basicConfig(format="%(relativeCreated)d %(message)s", level=logging.INFO, stream=sys.stderr)
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
corpus, out, sg, epochs, settings = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
import json
model = Word2Vec(LineSentence(corpus), sg=sg, epochs=epochs, **json.loads(settings))
model.save(out)
"""


def corpora() -> dict[str, Path]:
    return {layout: bench_train.prepare_layout(bench_train.DEFAULT_DATA, layout) for layout in ("paragraph", "one-line")}


def token_counts(path: Path) -> tuple[int, int]:
    """(corpus tokens, tokens of words with count >= min_count)."""
    counts: Counter = Counter()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            counts.update(line.split())
    total = sum(counts.values())
    return total, sum(c for c in counts.values() if c >= SETTINGS["min_count"])


def blas_env(setting: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    if setting == "set":
        have = {k: os.environ[k] for k in BLAS_VARS if k in os.environ}
        env.update(have if len(have) == len(BLAS_VARS) else DEFAULT_BLAS)
    return env


def run_dualvec(corpus: Path, sg: int, epochs: int, env: dict, out: Path) -> dict:
    cmd = [sys.executable, "-m", "dualvec", "train", str(corpus), "-o", str(out), "--sg", str(sg), "--epochs", str(epochs),
           "--workers", str(SETTINGS["workers"]), "--vector-size", str(SETTINGS["vector_size"]),
           "--window", str(SETTINGS["window"]), "--negative", str(SETTINGS["negative"]),
           "--sample", str(SETTINGS["sample"]), "--min-count", str(SETTINGS["min_count"]),
           "--seed", str(SETTINGS["seed"]), "--no-progress"]
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    total = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"dualvec failed:\n{res.stderr[-3000:]}")
    m = re.search(r"read the corpus in ([\d.]+) s; \d+ epoch\(s\) in ([\d.]+) s", res.stderr)
    if not m:
        raise SystemExit(f"unexpected dualvec output:\n{res.stderr[-2000:]}")
    return {"read_s": float(m[1]), "train_s": float(m[2]), "total_s": total}


def run_gensim(corpus: Path, sg: int, epochs: int, env: dict, out: Path) -> dict:
    settings = json.dumps(SETTINGS)
    cmd = [sys.executable, "-c", GENSIM_SCRIPT, str(corpus), str(out), str(sg), str(epochs), settings]
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    total = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"gensim failed:\n{res.stderr[-3000:]}")
    begin = re.search(r"^(\d+) collecting all words", res.stderr, re.M)
    ready = re.search(r"^(\d+) .*training model with", res.stderr, re.M)
    took = re.findall(r"training on \d+ raw words \(\d+ effective words\) took ([\d.]+)s", res.stderr)
    if not (begin and ready and took):
        raise SystemExit(f"unexpected gensim output:\n{res.stderr[-2000:]}")
    return {"read_s": (int(ready[1]) - int(begin[1])) / 1000, "train_s": float(took[-1]), "total_s": total}


def warm_up() -> None:
    """Compile (or load) dualvec's kernels once, so no timed run pays numba's first compile."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "c.txt"
        corpus.write_text("a b c d e f g h\n" * 400)
        for sg in (0, 1):
            subprocess.run([sys.executable, "-m", "dualvec", "train", str(corpus), "-o", str(Path(tmp) / f"m{sg}"), "--sg", str(sg),
                            "--epochs", "1", "--min-count", "1", "--no-progress"], check=True, capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", nargs="+", default=["sg", "cbow"], choices=["sg", "cbow"])
    ap.add_argument("--epochs", nargs="+", type=int, default=[1, 5])
    ap.add_argument("--corpora", nargs="+", default=["paragraph", "one-line"], choices=["paragraph", "one-line"])
    ap.add_argument("--blas", nargs="+", default=["unset", "set"], choices=["unset", "set"])
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    ap.add_argument("--section", default="bench_process", help="the RESULTS.md section to write (its marker name)")
    args = ap.parse_args()

    paths = corpora()
    counts = {name: token_counts(paths[name]) for name in args.corpora}
    warm_up()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for corpus in args.corpora:
            for config in args.configs:
                for epochs in args.epochs:
                    for blas in args.blas:
                        env = blas_env(blas)
                        sg = int(config == "sg")
                        res = {}
                        for trainer, run in (("gensim", run_gensim), ("dualvec", run_dualvec)):
                            r = run(paths[corpus], sg, epochs, env, Path(tmp) / trainer)
                            tokens, in_vocab = counts[corpus]
                            r.update(scan=tokens / r["read_s"], wps=in_vocab * epochs / r["train_s"])
                            res[trainer] = r
                            print(f"{corpus} {config} {epochs} ep BLAS {blas} {trainer}: read {r['read_s']:.2f} s, "
                                  f"train {r['train_s']:.2f} s, total {r['total_s']:.2f} s", file=sys.stderr)
                        rows.append((corpus, config, epochs, blas, res))
    table = render(rows, args)
    print(table)
    if args.write:
        bench_train.write_section("bench_process", "Whole process: `dualvec train` against gensim, start to saved model",
                                  table, key=args.section)


def render(rows, args) -> str:
    used = {k: v for k, v in blas_env("set").items() if k in BLAS_VARS}
    lines = [
        f"Machine: {bench_train.machine()}.",
        f"BLAS *set*: {', '.join(f'{k}={v}' for k, v in used.items())}; *unset*: both removed.",
        "Settings: vector_size 100, window 5, negative 5, sample 1e-3, min_count 5, 2 threads; "
        "dualvec batched (its default). One run per row, gensim then dualvec.",
        "",
        "| corpus | trainer | epochs | BLAS | trainer | read s | scan tokens/s | train s | words/s | total s | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for corpus, config, epochs, blas, res in rows:
        g = res["gensim"]["total_s"]
        for trainer in ("gensim", "dualvec"):
            r = res[trainer]
            ratio = g / r["total_s"]
            lines.append(f"| {corpus} | {config.upper()} | {epochs} | {blas} | {trainer} | {r['read_s']:.2f} | "
                         f"{r['scan'] / 1e6:.1f} M | {r['train_s']:.2f} | {r['wps'] / 1e6:.2f} M | "
                         f"{r['total_s']:.2f} | {ratio:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
