"""Ranking pipelines against stemmed BM25 on real test collections.

    python benchmarks/bench_pipelines.py MODEL [--collections scifact cranfield lisa] [--adapt N | --own N]

MODEL is any model dualvec reads (the issue's reference: skip-gram, 200 dims,
negative 10, window 10, sample 1e-4, 5 epochs on ../shared/data's enwiki).
For each collection (SciFact: the 300 ``test`` queries; Cranfield and LISA:
all judged queries) it indexes the documents with the model and ranks with:

* BM25 unstemmed, and stemmed (Snowball English; the baseline);
* RM3 (Anserini's defaults: 10 documents, 10 terms, weight 0.5);
* embedding expansion (IN-OUT, and IN-IN for comparison), alone and after RM3;
* the DESM mixture (α = 0.3) on BM25 and on RM3;
* ``dualvec index`` + ``rank`` with their defaults;
* the 5-fold cross-validated pipeline (``dualvec tune --folds 5``).

nDCG@10, AP, R@100; p is a paired randomisation test on nDCG@10 against
stemmed BM25. ms/query is the whole ranking of a query (analysis, expansion,
BM25 over the collection, DESM and the mix), on one core. With ``--adapt N``,
the model is first trained N more epochs on each collection's documents
(``dualvec index --adapt N``); with ``--own N``, a model with MODEL's settings
is trained on the collection's documents alone; the tables say so.
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

import dualvec  # noqa: E402
from dualvec.evaluation import evaluate, paired_randomization_test  # noqa: E402
from dualvec.evaluation.pipelines import cross_validate_pipelines  # noqa: E402
from dualvec.text.collections import read_collection  # noqa: E402
from dualvec.ranking import RM3, Expansion, Ranker  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"
SPLITS = {"scifact": "test", "cranfield": "all", "lisa": "test"}
MEASURES = ["nDCG@10", "AP", "R@100"]


def systems() -> list[tuple[str, dict]]:
    return [
        ("BM25 unstemmed", dict(stemmer=None, alpha=0.0)),
        ("BM25 stemmed (baseline)", dict(alpha=0.0)),
        ("RM3", dict(alpha=0.0, rm3=RM3())),
        ("expansion in-out", dict(alpha=0.0, expansion=Expansion("in-out"))),
        ("expansion in-in", dict(alpha=0.0, expansion=Expansion("in-in"))),
        ("RM3 + expansion in-out", dict(alpha=0.0, rm3=RM3(), expansion=Expansion("in-out"))),
        ("BM25 + DESM (alpha 0.3)", dict(alpha=0.3)),
        ("RM3 + DESM (alpha 0.3)", dict(alpha=0.3, rm3=RM3())),
        ("defaults (index + rank)", dict()),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--collections", nargs="+", default=list(SPLITS))
    ap.add_argument("--adapt", type=int, default=0, help="epochs of continued training on each collection")
    ap.add_argument("--own", type=int, default=0,
                    help="instead of MODEL, train a model on each collection's documents for this many epochs "
                         "(MODEL's training settings)")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    if not DATA.exists():
        print(f"no shared data at {DATA}; nothing to measure", file=sys.stderr)
        return 1
    print(f"model {args.model}; adapt {args.adapt} epochs; own {args.own} epochs; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
    for name in args.collections:
        coll = read_collection(DATA / name)
        split = SPLITS[name]
        queries, qrels = coll.split_queries(split), coll.qrels[split]
        model = dualvec.import_model(args.model, mmap=False)
        t0 = time.perf_counter()
        if args.own:
            opts = {**model.params.to_dict(), "epochs": args.own, "min_count": 2}
            model = dualvec.train(list(coll.docs.values()), tokenizer=model.tokenizer, progress=False, **opts)
        elif args.adapt:
            model.train_more(list(coll.docs.values()), epochs=args.adapt, progress=False)
        t_adapt = time.perf_counter() - t0
        base = Ranker(model).index(coll.docs, progress=False)
        unstemmed = Ranker(model, stemmer=None).index(coll.docs, progress=False)
        print(f"\n### {name}: {len(coll.docs):,} documents, {len(queries)} queries ({split})"
              + (f", model adapted ({args.adapt} epochs) in {t_adapt:.1f} s" if args.adapt and not args.own else "")
              + (f", model trained on the collection alone ({args.own} epochs) in {t_adapt:.1f} s"
                 if args.own else ""))
        print(f"| system | {' | '.join(MEASURES)} | p (nDCG@10) | ms/query |")
        print("|---|" + "---|" * (len(MEASURES) + 2))
        baseline = None
        for label, opts in systems():
            r = unstemmed.with_config(**{k: v for k, v in opts.items() if k != "stemmer"}) \
                if "stemmer" in opts else base.with_config(**opts)
            t = time.perf_counter()
            run = r.run(queries, k=100, progress=False)
            ms = (time.perf_counter() - t) / len(queries) * 1000
            res = evaluate(run, qrels, MEASURES)
            if label.startswith("BM25 stemmed"):
                baseline = res
            p = ("" if baseline is None or res is baseline else
                 f"{paired_randomization_test(res.per_query['nDCG@10'], baseline.per_query['nDCG@10']):.3f}")
            cells = " | ".join(f"{res.aggregate[m]:.4f}" for m in MEASURES)
            print(f"| {label} | {cells} | {p} | {ms:.1f} |", flush=True)
        t = time.perf_counter()
        cv = cross_validate_pipelines(base, queries, qrels, k=args.folds, progress=False)
        secs = time.perf_counter() - t
        res = evaluate(cv.run, qrels, MEASURES)
        p = paired_randomization_test(res.per_query["nDCG@10"], baseline.per_query["nDCG@10"])
        cells = " | ".join(f"{res.aggregate[m]:.4f}" for m in MEASURES)
        print(f"| {args.folds}-fold CV pipeline | {cells} | {p:.3f} | ({secs:.0f} s for the grid) |")
        print("per-fold choices: " + "; ".join(c.describe() for c in cv.choices)
              + (f"; at a grid edge: {', '.join(cv.at_edge)}" if cv.at_edge else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
