"""DESM and its BM25 mixture on real test collections: quality and latency.

    python benchmarks/bench_rank.py            # SciFact and Cranfield, both embedding sources
    python benchmarks/bench_rank.py --write    # also update benchmarks/RESULTS.md

Embeddings (CBOW, negative 5, 200 dims as in the DESM paper, window 5), trained
with dualvec and cached in benchmarks/out/models/:
* ``enwiki``: the featured articles of ../shared/data/enwiki-featured-2019, 5 epochs;
* ``own``: each collection's own documents (more epochs: the text is small).

Protocol. BM25 (bm25s, Lucene variant, English stop words) has k1 and b tuned
by grid search on nDCG@10; the mixture's α is tuned the same way, separately
for each space and setting. SciFact: tuned on ``train`` (809 queries), reported
on ``test`` (300). Cranfield (no split): 5-fold cross-validation over its 225
queries, every query ranked with parameters tuned on the other folds. Re-ranking
takes BM25's top 100; full ranking scores every document. Runs are cut at 100
documents (so AP is AP@100). p: paired randomisation test on nDCG@10 against
tuned BM25.

Latency: one core, after the index is built. Re-ranking excludes the first
stage (BM25 candidates are precomputed) and includes query analysis, the
DESM gather-and-dot, normalisation, mixing and sorting; full ranking includes
BM25 over the whole collection.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import dualvec  # noqa: E402
from dualvec.evaluation import evaluate, paired_randomization_test, tune_alpha, tune_bm25  # noqa: E402
from dualvec.evaluation.tuning import collect, cross_validate, run_from  # noqa: E402
from dualvec.text.collections import read_collection  # noqa: E402
from dualvec.ranking import Ranker  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"
MODELS = HERE / "out" / "models"
MEASURES = ["nDCG@1", "nDCG@3", "nDCG@10", "AP", "RR@10", "R@100"]
EMBED = dict(sg=False, negative=5, vector_size=200, window=5, sample=1e-3, workers=2, seed=1)
OWN_EPOCHS = {"scifact": 20, "cranfield": 40}


def embeddings(source: str, coll_name: str, docs: dict[str, str]) -> dualvec.DualVectors:
    path = MODELS / ("enwiki-cbow200" if source == "enwiki" else f"{coll_name}-cbow200")
    if path.exists():
        return dualvec.load(path, mmap=False)
    MODELS.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    if source == "enwiki":
        sys.path.insert(0, str(HERE))
        from bench_train import DEFAULT_DATA, prepare_corpus

        model = dualvec.train(prepare_corpus(DEFAULT_DATA), epochs=5, min_count=5, progress=False, **EMBED)
    else:
        model = dualvec.train(list(docs.values()), epochs=OWN_EPOCHS[coll_name], min_count=2, progress=False, **EMBED)
    model.save(path)
    print(f"trained {path.name}: {model} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return model


def latency(ranker: Ranker, queries: dict[str, str], space: str, alpha: float) -> tuple[float, float]:
    """Queries per second: re-ranking BM25's top 100 (first stage excluded), and full ranking."""
    texts = list(queries.values())
    firsts = [ranker.candidates(q, mode="rerank", space=space) for q in texts]
    desm = ranker.desm(space)
    analyse = ranker.analyzer.terms
    norm = ranker.config.normalization
    t = time.perf_counter()
    for _ in range(5):
        for q, c in zip(texts, firsts):
            c.desm = desm.scores(analyse(q), c.rows)
            scores = c.mix(alpha, norm)
            np.lexsort((c.rows, -scores))
    rerank_qps = 5 * len(texts) / (time.perf_counter() - t)
    t = time.perf_counter()
    for q in texts:
        ranker.search(q, 100, mode="full", alpha=alpha, space=space)
    full_qps = len(texts) / (time.perf_counter() - t)
    return rerank_qps, full_qps


def systems() -> list[tuple[str, str, str, float | None]]:
    """(label, space, mode, fixed alpha or None = tuned)."""
    rows = [("BM25", "in-out", "rerank", 0.0)]
    for mode in ("rerank", "full"):
        for space in ("in-in", "in-out"):
            rows.append((f"DESM {space.upper()} {mode}", space, mode, 1.0))
        for space in ("in-in", "in-out"):
            rows.append((f"MM {space.upper()} {mode} (α tuned)", space, mode, None))
    return rows


def bench_collection(name: str, source: str) -> dict:
    coll = read_collection(DATA / name)
    model = embeddings(source, name, coll.docs)
    t = time.perf_counter()
    ranker = Ranker(model).index(coll.docs, progress=False)
    build_s = time.perf_counter() - t
    results = {}
    if "train" in coll.qrels:  # SciFact: tune on train, report on test
        train_q, test_q = coll.split_queries("train"), coll.split_queries("test")
        qrels_train, qrels_test = coll.qrels["train"], coll.qrels["test"]
        bm = tune_bm25(ranker, coll.docs, train_q, qrels_train)
        chosen = {"k1, b": f"{bm.params['k1']}, {bm.params['b']}"}
        for label, space, mode, alpha in systems():
            a = alpha
            if a is None:
                a = tune_alpha(ranker, collect(ranker, train_q, mode, space), qrels_train).params["alpha"]
                chosen[label] = a
            run = run_from(collect(ranker, test_q, mode, space), ranker, a)
            results[label] = evaluate(run, qrels_test, MEASURES)
        n_queries = len(test_q)
        latency_alpha = chosen["MM IN-OUT rerank (α tuned)"]
    else:  # Cranfield: 5-fold cross-validation over queries
        qrels = coll.qrels["all"]
        queries = {q: t for q, t in coll.queries.items() if q in qrels}
        chosen = {}
        bm25_cv = cross_validate(ranker, coll.docs, queries, qrels, alpha=0.0)
        chosen["k1, b"] = "; ".join(f"{c['k1']}, {c['b']}" for c in bm25_cv.chosen)
        for label, space, mode, alpha in systems():
            cv = cross_validate(ranker, coll.docs, queries, qrels, mode=mode, space=space, alpha=alpha)
            results[label] = evaluate(cv.run, qrels, MEASURES)
            if alpha is None:
                chosen[label] = ", ".join(str(c["alpha"]) for c in cv.chosen)
        n_queries = len(queries)
        latency_alpha = 0.3
        test_q = queries
    rerank_qps, full_qps = latency(ranker, test_q, "in-out", latency_alpha)
    base = results["BM25"].per_query["nDCG@10"]
    pvals = {k: paired_randomization_test(r.per_query["nDCG@10"], base) for k, r in results.items() if k != "BM25"}
    return {"name": name, "source": source, "results": results, "pvals": pvals, "chosen": chosen,
            "build_s": build_s, "docs": len(coll.docs), "queries": n_queries, "vocab": len(model),
            "rerank_qps": rerank_qps, "full_qps": full_qps}


def render(rows: list[dict]) -> str:
    out = []
    for r in rows:
        out.append(f"### {r['name']} — embeddings: {r['source']} ({r['vocab']:,} words)\n")
        out.append(f"{r['docs']:,} documents, {r['queries']} evaluated queries. Index build (analysis, BM25, "
                   f"IN and OUT centroids): {r['build_s']:.1f} s. Latency on one core: re-ranking BM25's top 100 "
                   f"{r['rerank_qps']:,.0f} queries/s (first stage excluded); full ranking "
                   f"{r['full_qps']:,.0f} queries/s.\n")
        out.append("| system | " + " | ".join(MEASURES) + " | p (nDCG@10 vs BM25) |")
        out.append("|---|" + "---|" * (len(MEASURES) + 1))
        for label, res in r["results"].items():
            cells = [f"{res.aggregate[m]:.4f}" for m in MEASURES]
            p = r["pvals"].get(label)
            out.append(f"| {label} | " + " | ".join(cells) + f" | {'' if p is None else f'{p:.3f}'} |")
        out.append("\nTuned: " + "; ".join(f"{k}: {v}" for k, v in r["chosen"].items()) + "\n")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--collections", nargs="+", default=["scifact", "cranfield"])
    ap.add_argument("--sources", nargs="+", default=["enwiki", "own"])
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} not found (the benchmark needs ../shared/data)", file=sys.stderr)
        return
    rows = []
    for name in args.collections:
        for source in args.sources:
            rows.append(bench_collection(name, source))
            print(render(rows[-1:]), file=sys.stderr, flush=True)
    table = render(rows)
    print(table)
    if args.write:
        sys.path.insert(0, str(HERE))
        from bench_train import write_section

        write_section("bench_rank", "Ranking: DESM and the BM25 mixture", table)


if __name__ == "__main__":
    main()
