"""Training speed and quality: dualvec against gensim, in one run.

    python benchmarks/bench_train.py                      # SG-NS and CBOW-NS, 2 threads
    python benchmarks/bench_train.py --configs sg-ns --dims 100 300 --threads 1 2
    python benchmarks/bench_train.py --write             # also update benchmarks/RESULTS.md

Corpus: the featured articles of ../shared/data/enwiki-featured-2019 (about
17 M tokens), tokenised once into lowercase ``[a-z]+`` tokens, one paragraph
per line, into benchmarks/out/ (ignored by git). Both trainers read that same
file with the same settings. Each trainer runs in its own subprocess, so its
peak memory (max RSS) is its own; configurations alternate between trainers.

Timing: *train s* is the training alone (gensim's ``train()``, which reads and
splits the file as it goes, the way gensim is used; dualvec's epochs over its
encoded corpus); *prep s* is the vocabulary pass (gensim's ``build_vocab``;
dualvec's one-pass scan and encode). words/s = in-vocabulary corpus tokens x
epochs / train s, the same numerator for both. dualvec's numba compile time is
measured apart (a warm-up on a tiny corpus) and excluded from the ratio; its
cold value comes from a first run against an empty numba cache.

FLOP limit: skip-gram with negative sampling costs about 4·d·(k+1) FLOP per
(context, centre) example (a dot product and two axpy updates of 2·d FLOP
each, per target; the count the HogBatch paper uses); for CBOW an example is a
centre word and the same count covers its k+1 predictions (averaging the
context and adding the error back, about 4·d per context word more, is not
counted). GFLOP/s = that count x examples / train s. The machine's peak is
measured in the same run as single-precision matrix multiply (numpy's BLAS,
one thread) x threads; '% peak' is how close each trainer gets to it.

Quality, with the same code for both models (dualvec.evaluation): analogy
accuracy on gensim's questions-words.txt restricted to the 30,000 most frequent
words (3CosAdd, as gensim's evaluate_word_analogies), Spearman on
wordsim353.tsv and simlex999.txt, all IN-IN; each the mean over a row's runs,
which use seeds 1, 2, 3, ... (the same seeds for both trainers).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "enwiki-featured-2019" / "enwiki-featured-2019.tar.gz"
CACHE = HERE / "out"
CONFIGS = {
    "sg-ns": dict(sg=1, hs=0, negative=5),
    "cbow-ns": dict(sg=0, hs=0, negative=5),
    "sg-hs": dict(sg=1, hs=1, negative=0),
    "cbow-hs": dict(sg=0, hs=1, negative=0),
}
#: dualvec runs per configuration: name -> extra options (gensim has no such switch).
VARIANTS = {name: {"dualvec": {"batch": True}, "dualvec exact": {"batch": False}} for name in ("sg-ns", "sg-hs", "cbow-ns")}
DEFAULT_CONFIGS = ["sg-ns", "cbow-ns"]
COMMON = dict(window=5, sample=1e-3, min_count=5)
#: Quality columns, each the mean over a row's runs.
QUALITY = ("analogy", "ws353", "simlex")


def prepare_corpus(tarball: Path) -> Path:
    """Tokenise the featured articles once into CACHE/enwiki-featured.txt."""
    target = CACHE / "enwiki-featured.txt"
    if target.exists():
        return target
    CACHE.mkdir(exist_ok=True)
    word = re.compile(r"[a-z]+")
    tmp = target.with_suffix(".tmp")
    n = 0
    with tarfile.open(tarball, "r:gz") as tar, open(tmp, "w", encoding="utf-8") as out:
        for member in tar:
            if not member.isfile() or "/text-excellent/" not in member.name:
                continue
            for raw in tar.extractfile(member):  # type: ignore[union-attr]
                line = raw.decode("utf-8")
                if line.startswith("<doc ") or line.startswith("</doc>"):
                    continue
                tokens = word.findall(line.lower())
                if tokens:
                    n += len(tokens)
                    out.write(" ".join(tokens) + "\n")
    os.replace(tmp, target)
    print(f"tokenised {n:,} tokens into {target}", file=sys.stderr)
    return target


def prepare_layout(tarball: Path, layout: str) -> Path:
    """The corpus file for ``layout``: ``paragraph`` (one paragraph per line) or ``one-line`` (the
    same tokens on a single line, text8-style; both trainers cut it into 10,000-token sentences)."""
    paragraph = prepare_corpus(tarball)
    if layout == "paragraph":
        return paragraph
    oneline = paragraph.with_name("enwiki-featured-oneline.txt")
    if not oneline.exists():
        tmp = oneline.with_suffix(".tmp")
        with open(paragraph, encoding="utf-8") as src, open(tmp, "w", encoding="utf-8") as dst:
            for line in src:
                dst.write(line.rstrip("\n") + " ")
            dst.write("\n")
        os.replace(tmp, oneline)
    return oneline


def gensim_data(name: str) -> str:
    import gensim

    return os.path.join(os.path.dirname(gensim.__file__), "test", "test_data", name)


def evaluate(model) -> dict:
    from dualvec.evaluation import analogy_accuracy, word_similarity

    ana = analogy_accuracy(model, gensim_data("questions-words.txt"), restrict_vocab=30_000)
    return {
        "analogy": ana.accuracy,
        "analogy_n": ana.evaluated,
        "ws353": word_similarity(model, gensim_data("wordsim353.tsv")).spearman,
        "simlex": word_similarity(model, gensim_data("simlex999.txt")).spearman,
    }


def peak_gflops() -> float:
    """Single-precision GFLOP/s of one core: numpy's BLAS multiplying two 2048 x 2048 matrices
    on one thread (best of three runs)."""
    script = ("import numpy as np, time\n"
              "a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)\n"
              "a @ a\n"
              "t = time.perf_counter(); a @ a; print(time.perf_counter() - t)")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    best = min(float(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                    env=env, check=True).stdout) for _ in range(3))
    return 2 * 2048**3 / best / 1e9


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def warm_up(opts: dict) -> float:
    """Seconds to compile dualvec's kernels for ``opts`` (or load them from numba's cache)."""
    import dualvec

    t = time.perf_counter()
    dualvec.train([["a", "b", "c", "d"]] * 50, progress=False, **{**opts, "min_count": 1, "epochs": 1})
    return time.perf_counter() - t


def child_dualvec(corpus: Path, opts: dict) -> dict:
    import dualvec
    from dualvec.text.tokenize import RegexTokenizer

    compile_s = warm_up(opts)
    t = time.perf_counter()
    model = dualvec.train(corpus, tokenizer=RegexTokenizer(r"[a-z]+"), progress=False, **opts)
    total = time.perf_counter() - t
    train_s = sum(h.seconds for h in model.history)
    return {"compile_s": compile_s, "train_s": train_s, "prep_s": total - train_s,
            "words": sum(h.words for h in model.history), "examples": sum(h.examples for h in model.history),
            "loss": model.history[-1].loss, "vocab": len(model), "peak_mb": peak_mb(), **evaluate(model)}


def child_gensim(corpus: Path, opts: dict) -> dict:
    import numpy as np
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    import dualvec
    from dualvec.text.vocab import Vocabulary

    model = Word2Vec(**opts)
    t = time.perf_counter()
    model.build_vocab(LineSentence(str(corpus)))
    prep = time.perf_counter() - t
    t = time.perf_counter()
    model.train(LineSentence(str(corpus)), total_examples=model.corpus_count, epochs=model.epochs)
    train_s = time.perf_counter() - t
    wv = model.wv
    counts = np.array([wv.get_vecattr(w, "count") for w in wv.index_to_key])
    dual = dualvec.DualVectors(Vocabulary(list(wv.index_to_key), counts), wv.vectors,
                               model.syn1neg if opts["negative"] else None, out_kind="negative-sampling")
    return {"train_s": train_s, "prep_s": prep, "words": int(counts.sum()) * model.epochs,
            "vocab": len(wv), "peak_mb": peak_mb(), **evaluate(dual)}


def run_child(trainer: str, corpus: Path, opts: dict, env: dict | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", trainer, "--corpus", str(corpus), "--opts", json.dumps(opts)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"{trainer} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import gensim
    import numba

    import dualvec

    return (f"{cpu}, {os.cpu_count()} CPUs; Python {sys.version.split()[0]}, numba {numba.__version__}, "
            f"gensim {gensim.__version__}, dualvec {dualvec.model._dualvec_version()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS, choices=sorted(CONFIGS))
    ap.add_argument("--threads", nargs="+", type=int, default=[2])
    ap.add_argument("--dims", nargs="+", type=int, default=[100])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--layout", default="paragraph", choices=["paragraph", "one-line"],
                    help="one paragraph per line, or the whole corpus on one line")
    ap.add_argument("--repeats", type=int, default=3,
                    help="runs per trainer, alternating; the table shows the median (two-thread timings on a "
                         "shared 2-vCPU machine vary by up to 2x from run to run)")
    ap.add_argument("--write", action="store_true", help="update the table in benchmarks/RESULTS.md")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--opts", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        if args.child == "warmup":
            print(json.dumps({"compile_s": warm_up(json.loads(args.opts))}))
        else:
            fn = child_dualvec if args.child == "dualvec" else child_gensim
            print(json.dumps(fn(args.corpus, json.loads(args.opts))))
        return
    if not args.data.exists():
        print(f"skipped: {args.data} not found (the benchmark needs ../shared/data)", file=sys.stderr)
        return
    corpus = prepare_layout(args.data, args.layout)

    # Cold compile: a first dualvec run against an empty numba cache.
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        cold = {name: run_child("warmup", corpus, {**COMMON, **CONFIGS[name], "vector_size": args.dims[0]},
                                env)["compile_s"]
                for name in args.configs}

    peak = peak_gflops()
    rows = []
    for name in args.configs:
        for dim in args.dims:
            for threads in args.threads:
                opts = {**COMMON, **CONFIGS[name], "vector_size": dim, "epochs": args.epochs, "workers": threads}
                variants = VARIANTS.get(name, {"dualvec": {}})
                runs: dict[str, list[dict]] = {"gensim": [], **{v: [] for v in variants}}
                for rep in range(args.repeats):
                    # Each repeat its own seed, the same for both trainers: quality is averaged over
                    # seeds, as one run's WS353 moves by ±0.02 (gensim's own included).
                    seeded = {**opts, "seed": rep + 1}
                    runs["gensim"].append(run_child("gensim", corpus, seeded))
                    for v, extra in variants.items():
                        runs[v].append(run_child("dualvec", corpus, {**seeded, **extra}))
                row = {"config": name, "dim": dim, "threads": threads, "cold_compile_s": cold[name],
                       "trainers": list(runs)}
                for who, results in runs.items():
                    results.sort(key=lambda m: m["train_s"])
                    quality = {q: sum(m[q] for m in results) / len(results) for q in QUALITY}
                    row[who] = dict(results[len(results) // 2], all_train_s=[m["train_s"] for m in results],
                                    compile_min_s=min(m.get("compile_s", 0.0) for m in results), **quality)
                rows.append(row)
                print(format_row(row), file=sys.stderr, flush=True)
    table = render(rows, args, peak)
    print(table)
    if args.write:
        # One section per set of dimensions and threads (and of configurations, when not the default
        # two), so that runs at d = 100 and d = 300, on one thread, or of hierarchical softmax can be
        # made apart.
        key = f"bench_train-d{'-'.join(map(str, args.dims))}-t{'-'.join(map(str, args.threads))}"
        if args.configs != DEFAULT_CONFIGS:
            key += "-" + "-".join(args.configs)
        if args.epochs != 1:
            key += f"-e{args.epochs}"
        if args.layout != "paragraph":
            key += f"-{args.layout}"
        write_section("bench_train", "Training: dualvec vs gensim", table, key=key)


def format_row(r: dict) -> str:
    parts = [f"{who} {r[who]['words'] / r[who]['train_s']:,.0f} w/s (x{r['gensim']['train_s'] / r[who]['train_s']:.2f})"
             for who in r["trainers"]]
    return f"{r['config']} d={r['dim']} t={r['threads']}: " + ", ".join(parts)


def render(rows: list[dict], args, peak: float) -> str:
    lines = [
        f"Machine: {machine()}.",
        f"Corpus: enwiki-featured-2019 featured articles, lowercase [a-z]+ tokens, "
        f"{'one paragraph per line' if args.layout == 'paragraph' else 'all on one line'}; window 5, "
        f"sample 1e-3, min_count 5, {args.epochs} epoch(s).",
        "",
        f"Median of {args.repeats} alternating runs per trainer, run i with seed i for both trainers; "
        "'range' is the slowest and fastest run's words/s; quality is the mean over the runs.",
        f"Peak: {peak:.0f} GFLOP/s per core (float32 matrix multiply, numpy's BLAS, one thread); "
        "'% peak' = GFLOP/s / (peak x threads).",
        "",
        "| config | dim | threads | trainer | train s | words/s | range | ratio | prep s | peak MB | analogy (30k) | "
        "WS353 | SimLex | GFLOP/s | % peak |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        k = CONFIGS[r["config"]]["negative"]
        for who in r["trainers"]:
            m = r[who]
            ratio = r["gensim"]["train_s"] / m["train_s"]
            # ≈ 4·d·(k+1) FLOP per example under negative sampling (see the module docstring); dualvec
            # counts the examples, gensim trains the same ones.
            flops = 4 * r["dim"] * (k + 1) * r["dualvec"]["examples"] / m["train_s"] / 1e9 if k else float("nan")
            lines.append(
                f"| {r['config']} | {r['dim']} | {r['threads']} | {who} | {m['train_s']:.1f} | "
                f"{m['words'] / m['train_s']:,.0f} | {m['words'] / max(m['all_train_s']) / 1e3:,.0f}k–"
                f"{m['words'] / min(m['all_train_s']) / 1e3:,.0f}k | {ratio:.2f} | {m['prep_s']:.1f} | {m['peak_mb']:,.0f} | "
                f"{100 * m['analogy']:.1f}% | {m['ws353']:.3f} | {m['simlex']:.3f} | "
                + (f"{flops:.1f} | {100 * flops / (peak * r['threads']):.1f}% |" if k else "— | — |")
            )
    lines.append("")
    compile_notes = ", ".join(
        f"{r['config']} {r['cold_compile_s']:.1f} s cold / {r['dualvec']['compile_min_s']:.2f} s cached"
        for r in rows[:: max(1, len(args.dims) * len(args.threads))]
    )
    lines.append(f"dualvec numba compile time (excluded from the ratio): {compile_notes}.")
    lines.append(f"Analogy questions evaluated: {rows[0]['dualvec']['analogy_n']:,} (gensim model: "
                 f"{rows[0]['gensim']['analogy_n']:,}).")
    return "\n".join(lines)


def write_section(script: str, title: str, body: str, key: str | None = None) -> None:
    """Replace (or add) the section of benchmarks/RESULTS.md between ``key``'s markers (default: the
    script's name), quoting the command that ran ``benchmarks/{script}.py``."""
    key = key or script
    path = HERE / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\n"
    begin, end = f"<!-- {key}:begin -->", f"<!-- {key}:end -->"
    command = f"python benchmarks/{script}.py " + " ".join(sys.argv[1:])
    block = f"{begin}\nCommand: `{command.strip()}` ({time.strftime('%Y-%m-%d')})\n\n{body}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text += f"\n## {title}\n\n{block}\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
