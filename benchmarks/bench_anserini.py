"""dualvec against Anserini BM25 and BM25+RM3, side by side, in one run (issue 22).

    python benchmarks/bench_anserini.py MODEL [--collections scifact cranfield lisa]
        [--bench-python /work/bench-env/bin/python] [--work /tmp/dualvec-anserini] [--write]

MODEL: the issue's general model, a 200-d skip-gram trained by dualvec on
../shared/data's enwiki featured articles (negative 10, window 10, sample 1e-4,
5 epochs). The Anserini side runs in a benchmark-only environment (made by
``benchmarks/anserini_env.sh``; Pyserini is never a dualvec dependency): this
script writes each collection's documents as a Pyserini JsonCollection (contents:
the text dualvec's reader gives, title and abstract) and its queries as TSV, and
runs ``benchmarks/anserini_lucene.py`` with that environment's Python. Everything
else runs here, in dualvec's environment.

On each collection (SciFact: the 300 ``test`` queries; Cranfield: all 225 judged
queries; LISA: all 35), every run is cut at 100 documents and scored by dualvec's
evaluation (ir-measures: nDCG@10, AP, R@100; so AP is AP@100). p: paired
randomisation test on nDCG@10 against Anserini BM25+RM3. Systems:

* Anserini BM25 (k1 0.9, b 0.4) and BM25+RM3 (10 documents, 10 terms, weight 0.5);
* dualvec BM25 and RM3 (the same parameters), from the index ``dualvec index`` built;
* dualvec defaults: the run of ``dualvec index MODEL COLL -o IDX`` +
  ``dualvec rank IDX COLL -o run.trec``, exactly the judges' commands;
* ranx's fusions (CombSUM, z-score, CombMNZ, RRF) of BM25, RM3 and DESM IN-OUT over the
  feature pool (the union of BM25's and RM3's top 100);
* the 5-fold cross-validated learned ranker (coordinate ascent), the pipeline grid, and
  what ``dualvec tune IDX COLL --split S --folds 5 --output cv.trec`` writes (the judges'
  command; its run is the one reported as "tune --folds 5");
* fixed fused rankers (item 5): a weighted sum of per-query normalised (min-max or
  z-score) BM25, RM3 and DESM IN-OUT over the pool, and the same with the in-domain
  model's DESM IN-OUT where the index holds one, the weights chosen by
  leave-one-collection-out: on each
  collection, the weights that maximise mean nDCG@10 over the *other two* (each
  collection weighing the same; "mean"), or their smallest gain over dualvec BM25
  ("maximin"), on a grid of step 0.05; never tuned on the collection it is scored on.

ms/q: one query at a time on one core, after loading (Anserini: JVM warmed by one pass,
from ``anserini-timing.json``; dualvec: analysis, BM25 over the collection, stages, DESM,
mixing). The fusions and learned rankers share the pool's cost (both first stages and
every feature), shown on their rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from itertools import product
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from dualvec.evaluation import evaluate, paired_randomization_test  # noqa: E402
from dualvec.text.collections import read_collection, read_run  # noqa: E402
from dualvec.ranking import RM3, Ranker  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"
SPLITS = {"scifact": "test", "cranfield": "all", "lisa": "test"}
MEASURES = ["nDCG@10", "AP", "R@100"]
DEPTH = 100
#: The fixed fusions' features: (label, features); a family whose features an index lacks is skipped.
FAMILIES = (("BM25, RM3, DESM", ("bm25", "rm3", "desm_in_out")),
            ("BM25, RM3, DESM, in-domain DESM", ("bm25", "rm3", "desm_in_out", "desm_in_out@in-domain")))
NORMS = ("minmax", "zscore")
STEP = 0.05
BASELINE = "Anserini BM25+RM3"


# -- the Anserini side ------------------------------------------------------------------------

def prepare(name: str, work: Path) -> tuple:
    coll = read_collection(DATA / name)
    split = SPLITS.get(name) or next(iter(coll.qrels))
    qrels = coll.qrels[split]
    queries = {q: t for q, t in coll.split_queries(split).items() if q in qrels}
    d = work / name
    (d / "docs").mkdir(parents=True, exist_ok=True)
    with open(d / "docs" / "docs.jsonl", "w", encoding="utf-8") as fh:
        for doc_id, text in coll.docs.items():
            fh.write(json.dumps({"id": doc_id, "contents": text}, ensure_ascii=False) + "\n")
    with open(d / "queries.tsv", "w", encoding="utf-8") as fh:
        for qid, text in queries.items():
            fh.write(f"{qid}\t{' '.join(text.split())}\n")
    return coll, split, queries, qrels


def run_anserini(bench_python: str, work: Path, names: list[str]) -> None:
    names = [n for n in names if not (work / n / "anserini-timing.json").exists()]  # kept from a run before
    if not names:
        return
    cmd = [bench_python, str(HERE / "anserini_lucene.py"), str(work), *names]
    print("$", " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True)


# -- the dualvec side --------------------------------------------------------------------------

def dualvec_cli(log: Path, *args: str) -> float:
    cmd = [sys.executable, "-m", "dualvec", *args]
    print("$ dualvec", " ".join(args), file=sys.stderr, flush=True)
    t = time.perf_counter()
    with open(log, "a", encoding="utf-8") as fh:  # tune's tables go here, not into the report
        subprocess.run(cmd, check=True, stdout=fh)
    return time.perf_counter() - t


def timed_run(ranker: Ranker, queries: dict[str, str], **kw) -> tuple[dict, float]:
    """A run ranked one query at a time, and the mean seconds per query."""
    t = time.perf_counter()
    run = {qid: dict(ranker.search(text, DEPTH, **kw)) for qid, text in queries.items()}
    return run, (time.perf_counter() - t) / len(queries)


# -- fixed fused rankers, chosen leave-one-collection-out -------------------------------------

def simplex(n: int, step: float) -> list[np.ndarray]:
    m = round(1 / step)
    return [np.array(w, dtype=np.float64) / m for w in product(range(m + 1), repeat=n) if sum(w) == m]


def normalise(X: np.ndarray, how: str) -> np.ndarray:
    if len(X) == 0:
        return X
    if how == "minmax":
        lo, span = X.min(axis=0), np.ptp(X, axis=0)
        return np.divide(X - lo, span, out=np.zeros_like(X), where=span > 0)
    sd = X.std(axis=0)
    return np.divide(X - X.mean(axis=0), sd, out=np.zeros_like(X), where=sd > 0)


class FusionGrid:
    """nDCG@10 of every weight vector on one collection's pools (ideal DCG from all judgments,
    as ir-measures computes it; ties by index row, as dualvec ranks)."""

    def __init__(self, pools: dict, names: tuple, qrels, features: tuple, how: str):
        cols = [list(names).index(f) for f in features]
        self.items = []
        for qid, p in pools.items():
            judged = qrels.get(qid, {})
            gains = sorted((g for g in judged.values() if g > 0), reverse=True)[:10]
            if not gains:
                continue
            idcg = float(np.sum(np.array(gains) / np.log2(np.arange(2, len(gains) + 2))))
            y = np.array([max(0, judged.get(d, 0)) for d in p.doc_ids], dtype=np.float64)
            self.items.append((normalise(p.X[:, cols], how), y, p.rows, idcg))
        self.discount = 1 / np.log2(np.arange(2, 12))

    def ndcg(self, w: np.ndarray) -> float:
        total = 0.0
        for Xn, y, rows, idcg in self.items:
            if len(y):
                top = np.lexsort((rows, -(Xn @ w)))[:10]
                total += float(y[top] @ self.discount[: len(top)]) / idcg
        return total / len(self.items)


def fused_run(pools: dict, names: tuple, features: tuple, w: np.ndarray, how: str) -> dict:
    cols = [list(names).index(f) for f in features]
    run = {}
    for qid, p in pools.items():
        s = normalise(p.X[:, cols], how) @ w if len(p.rows) else np.zeros(0)
        order = np.lexsort((p.rows, -s))[:DEPTH]
        run[qid] = {p.doc_ids[i]: float(s[i]) for i in order}
    return run


#: How the weights are chosen on the training collections: the largest mean nDCG@10, or
#: the largest smallest gain over dualvec's BM25 (never lose, as a default must not).
OBJECTIVES = ("mean", "maximin")


def leave_one_out(by_coll: dict[str, FusionGrid], n_features: int, bm25: np.ndarray, objective: str) -> dict:
    """For each held-out collection: the weights chosen on the others and their nDCG@10 there;
    and the weights chosen on all (what would ship). ``bm25``: BM25's nDCG@10 per collection."""
    names = list(by_coll)
    weights = simplex(n_features, STEP)
    table = np.array([[by_coll[c].ndcg(w) for c in names] for w in weights])  # weights x collections

    def best(cols: list[int]) -> int:
        if objective == "mean":
            return int(np.argmax(table[:, cols].mean(axis=1)))
        return int(np.argmax((table[:, cols] - bm25[cols]).min(axis=1)))

    chosen = {}
    for j, held in enumerate(names):
        b = best([i for i in range(len(names)) if i != j])
        chosen[held] = (weights[b], table[b, j])
    b = best(list(range(len(names))))
    return {"chosen": chosen, "all": weights[b], "all_ndcg": table[b]}


# -- one collection ----------------------------------------------------------------------------

def bench_collection(name: str, model: Path, work: Path, prepared: tuple, folds: int) -> dict:
    from dualvec.evaluation.learning import feature_pools, systems

    coll, split, queries, qrels = prepared
    d = work / name
    idx = d / "index"
    timing = {}
    if not (idx / "ranker.json").exists():
        timing["index_s"] = dualvec_cli(d / "dualvec.log", "index", str(model), str(DATA / name), "-o", str(idx), "--no-progress")
    timing["rank_s"] = dualvec_cli(d / "dualvec.log", "rank", str(idx), str(DATA / name), "-o", str(d / "defaults.trec"), "--no-progress")
    timing["tune_s"] = dualvec_cli(d / "dualvec.log", "tune", str(idx), str(DATA / name), "--split", split, "--folds", str(folds),
                                   "--output", str(d / "cv.trec"), "--no-progress")
    runs, ms = {}, {}
    runs["Anserini BM25"] = read_run(d / "anserini-bm25.trec")
    runs[BASELINE] = read_run(d / "anserini-rm3.trec")
    at = json.loads((d / "anserini-timing.json").read_text())
    ms["Anserini BM25"], ms[BASELINE] = 1000 * at["bm25_s_per_query"], 1000 * at["rm3_s_per_query"]

    ranker = Ranker.load(idx)
    plain = ranker.with_config(rm3=None, expansion=None, learned=None)
    for label, r, kw in (("dualvec BM25", plain, dict(alpha=0.0)),
                         ("dualvec RM3", plain.with_config(rm3=RM3()), dict(alpha=0.0)),
                         ("dualvec defaults (index + rank)", ranker, {})):
        run, s = timed_run(r, queries, **kw)
        runs[label], ms[label] = run, 1000 * s
    defaults_cli = read_run(d / "defaults.trec")
    same = evaluate(defaults_cli, qrels, ["nDCG@10"]).aggregate["nDCG@10"]
    assert abs(same - evaluate(runs["dualvec defaults (index + rank)"], qrels, ["nDCG@10"]).aggregate["nDCG@10"]) < 1e-9
    runs["dualvec defaults (index + rank)"] = defaults_cli

    t = time.perf_counter()
    pools = feature_pools(plain, queries, progress=False)
    pool_ms = 1000 * (time.perf_counter() - t) / len(queries)
    names = plain.features().names
    sys_runs = systems(ranker, queries, qrels, k=folds, progress=False)
    for key, label in (("combsum", "ranx CombSUM"), ("zscore", "ranx z-score"), ("combmnz", "ranx CombMNZ"),
                       ("rrf", "ranx RRF"), ("cv_pipeline", f"pipeline grid, {folds}-fold CV"),
                       ("cv_learner", f"learned (coordinate ascent), {folds}-fold CV")):
        if key in sys_runs:
            runs[label], ms[label] = sys_runs[key], pool_ms
    runs[f"tune --folds {folds} (the CLI's run)"] = read_run(d / "cv.trec")
    return {"name": name, "runs": runs, "ms": ms, "qrels": qrels, "pools": pools, "names": names,
            "timing": timing, "anserini": at, "queries": len(queries), "docs": len(coll.docs)}


# -- rendering ---------------------------------------------------------------------------------

def score(rows: list[dict]) -> None:
    for r in rows:
        r["results"] = {k: evaluate(run, r["qrels"], MEASURES) for k, run in r["runs"].items()}
        base = r["results"][BASELINE].per_query["nDCG@10"]
        r["p"] = {k: paired_randomization_test(res.per_query["nDCG@10"], base)
                  for k, res in r["results"].items() if k != BASELINE}


def fmt_weights(features: tuple, w: np.ndarray) -> str:
    return ", ".join(f"{f} {x:.2f}" for f, x in zip(features, w))


def summary(rows: list[dict]) -> str:
    """nDCG@10 per collection, the mean, and the differences the issue's bar is about."""
    out = ["| system | " + " | ".join(r["name"] for r in rows) + " | mean | Δ vs Anserini BM25 (min) "
           "| Δ vs Anserini BM25+RM3 (min, mean) |", "|---|" + "---|" * (len(rows) + 3)]
    for label in rows[0]["runs"]:
        if not all(label in r["results"] for r in rows):
            continue
        v = np.array([r["results"][label].aggregate["nDCG@10"] for r in rows])
        bm = v - np.array([r["results"]["Anserini BM25"].aggregate["nDCG@10"] for r in rows])
        rm = v - np.array([r["results"][BASELINE].aggregate["nDCG@10"] for r in rows])
        out.append(f"| {label} | " + " | ".join(f"{x:.4f}" for x in v) + f" | {v.mean():.4f} | {bm.min():+.4f} "
                   f"| {rm.min():+.4f}, {rm.mean():+.4f} |")
    return "\n".join(out)


def render(rows: list[dict]) -> str:
    labels = list(rows[0]["runs"])
    head = "| system | " + " | ".join(f"{r['name']} nDCG@10 | AP | R@100 | p | ms/q" for r in rows) + " |"
    out = [head, "|---|" + "---|---|---|---|---|" * len(rows)]
    for label in labels:
        cells = []
        for r in rows:
            res = r["results"].get(label)
            if res is None:
                cells.append(" | | | | ")
                continue
            p = r["p"].get(label)
            m = r["ms"].get(label)
            cells.append(" | ".join([*(f"{res.aggregate[x]:.4f}" for x in MEASURES),
                                     "" if p is None else f"{p:.3f}", "" if m is None else f"{m:.1f}"]))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--collections", nargs="+", default=["scifact", "cranfield", "lisa"])
    ap.add_argument("--bench-python", default="/work/bench-env/bin/python")
    ap.add_argument("--work", type=Path, default=Path("/tmp/dualvec-anserini"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", type=Path, help="Also write the aggregate numbers here.")
    args = ap.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} not found (the benchmark needs ../shared/data)", file=sys.stderr)
        return
    if not Path(args.bench_python).exists():
        print(f"skipped: {args.bench_python} not found (make it with benchmarks/anserini_env.sh)", file=sys.stderr)
        return
    print("OPENBLAS:", {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")}, file=sys.stderr)
    prepared = {n: prepare(n, args.work) for n in args.collections}
    run_anserini(args.bench_python, args.work, args.collections)
    rows = [bench_collection(n, args.model, args.work, prepared[n], args.folds) for n in args.collections]

    notes = []
    for family, features in FAMILIES:
        if not all(f in r["names"] for r in rows for f in features):
            continue
        bm25 = np.array([evaluate(r["runs"]["dualvec BM25"], r["qrels"], ["nDCG@10"]).aggregate["nDCG@10"]
                         for r in rows])
        for how, objective in product(NORMS, OBJECTIVES):
            grids = {r["name"]: FusionGrid(r["pools"], r["names"], r["qrels"], features, how) for r in rows}
            res = leave_one_out(grids, len(features), bm25, objective)
            label = f"fixed fusion of {family}, {how}, {objective} (LOCO)"
            for r in rows:
                w, grid_ndcg = res["chosen"][r["name"]]
                r["runs"][label] = fused_run(r["pools"], r["names"], features, w, how)
                r["ms"][label] = r["ms"].get("ranx CombSUM")
                check = evaluate(r["runs"][label], r["qrels"], ["nDCG@10"]).aggregate["nDCG@10"]
                if abs(check - grid_ndcg) > 1e-3:
                    print(f"warning: grid nDCG@10 {grid_ndcg:.4f} != ir-measures {check:.4f}", file=sys.stderr)
                notes.append(f"{label}, {r['name']} held out: {fmt_weights(features, w)}")
            notes.append(f"{label}, chosen on all {len(rows)}: {fmt_weights(features, res['all'])} "
                         f"(nDCG@10 {', '.join(f'{x:.4f}' for x in res['all_ndcg'])})")
    score(rows)
    print(render(rows))
    print()
    print(summary(rows))
    print()
    for r in rows:
        print(f"{r['name']}: {r['docs']:,} documents, {r['queries']} queries; Anserini index "
              f"{r['anserini']['index_s']:.1f} s; dualvec " +
              ", ".join(f"{k} {v:.1f} s" for k, v in r["timing"].items()))
    print("\n".join(notes))
    if args.json:
        agg = {r["name"]: {k: v.aggregate for k, v in r["results"].items()} for r in rows}
        args.json.write_text(json.dumps({"aggregate": agg, "choices": notes,
                                         "p": {r["name"]: r["p"] for r in rows},
                                         "ms": {r["name"]: r["ms"] for r in rows}}, indent=1))


if __name__ == "__main__":
    main()
