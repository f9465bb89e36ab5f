"""Does a model trained on the collection itself pay? DESM from the general model, from an
in-domain model, and from both, re-ranking BM25 and RM3 (issue 22, item 3).

    python benchmarks/bench_in_domain.py MODEL [--collections scifact cranfield lisa]
        [--dim 100] [--epochs 15] [--min-count 2]

MODEL is the general model (the issue's: skip-gram, 200 dims, 5 epochs on ../shared/data's
enwiki). For each collection (SciFact: the 300 ``test`` queries; Cranfield and LISA: all
judged queries) an in-domain model is trained on the documents' text alone (title and text,
MODEL's tokeniser; skip-gram, ``--dim`` dims, ``--epochs`` epochs, window 10, negative 10,
sample 1e-4, ``--min-count``), exactly as ``dualvec index`` trains it. Both first stages
(BM25; RM3 with Anserini's defaults) retrieve 100 documents, re-ranked by

    (1 − α) · norm(first stage) + α · norm(DESM)

with DESM IN-OUT from the general model (G), the in-domain model (D), or their mean
(G+D: α · (norm G + norm D) / 2), at fixed α, and with the weights chosen by 5-fold
cross-validation (one α; for "G and D" two free weights on a grid). nDCG@10 and AP; p is
a paired randomisation test on nDCG@10 against the first stage alone (R@100 does not move
when 100 documents are re-ranked).

With ``--local``, instead: locally trained embeddings (item 4, :mod:`dualvec.ranking.local`) as
an expansion stage, starting from MODEL's vectors and from scratch, against BM25 and RM3
(α = 0: retrieval only), with R@100 and the time per query (training included, one core).

    python benchmarks/bench_in_domain.py MODEL --local [--local-epochs 3] [--local-weight 0.7]
        [--local-samples 300]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "2")

import numpy as np  # noqa: E402

import dualvec  # noqa: E402
from dualvec.evaluation import evaluate, paired_randomization_test  # noqa: E402
from dualvec.evaluation.tuning import folds  # noqa: E402
from dualvec.text.collections import read_collection  # noqa: E402
from dualvec.ranking import RM3, Ranker, normalize  # noqa: E402
from dualvec.evaluation.learning import cross_validate_learner, feature_pools  # noqa: E402
from dualvec.ranking.in_domain import IN_DOMAIN, IndexedModel, train_in_domain  # noqa: E402
from dualvec.ranking.learned import make_learner  # noqa: E402
from dualvec.ranking.local import LocalEmbedding  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"
SPLITS = {"scifact": "test", "cranfield": "all", "lisa": "test"}
MEASURES = ["nDCG@10", "AP"]
ALPHAS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


def pool(general: Ranker, domain: Ranker, queries: dict[str, str], rm3: bool) -> list[tuple[str, np.ndarray, dict]]:
    """Per query: candidate rows and the raw features (first stage, DESM G/D in-out and in-in)."""
    r = general.with_config(alpha=0.0, rm3=RM3() if rm3 else None)
    out = []
    for qid, text in queries.items():
        c = r.candidates(text, query_id=qid)
        feats = {"first": c.bm25, "G": c.desm, "G-in": general.desm("in-in").scores(c.query.terms, c.rows),
                 "D": domain.desm("in-out").scores(c.query.terms, c.rows),
                 "D-in": domain.desm("in-in").scores(c.query.terms, c.rows)}
        out.append((qid, c.rows, feats))
    return out


def run_of(pooled, doc_ids, weights: dict[str, float]) -> dict[str, dict[str, float]]:
    """(1 − Σw)·norm(first) + Σ w_f·norm(f), top 100."""
    run = {}
    rest = 1.0 - sum(weights.values())
    for qid, rows, feats in pooled:
        s = rest * normalize(feats["first"])
        for f, w in weights.items():
            if w:
                s = s + w * normalize(feats[f])
        order = np.lexsort((rows, -s))[:100]
        run[qid] = {doc_ids[rows[i]]: float(s[i]) for i in order}
    return run


def cross_validated(pooled, doc_ids, qrels, grid: list[dict[str, float]], k: int = 5):
    """Every query ranked by the grid point best on the other folds (ties: the first listed)."""
    qids = [q for q, _, _ in pooled]
    by_id = {p[0]: p for p in pooled}
    scores = [evaluate(run_of(pooled, doc_ids, w), qrels, ["nDCG@10"]).per_query["nDCG@10"] for w in grid]
    run, chosen = {}, []
    for fold in folds(qids, k):
        held = set(fold)
        train = [q for q in qids if q not in held and q in scores[0]]
        best = max(range(len(grid)), key=lambda i: (np.mean([scores[i][q] for q in train]), -i))
        chosen.append(grid[best])
        run.update(run_of([by_id[q] for q in fold], doc_ids, grid[best]))
    return run, chosen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--collections", nargs="+", default=list(SPLITS))
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--min-count", type=int, default=2)
    ap.add_argument("--local", action="store_true", help="measure locally trained embeddings instead")
    ap.add_argument("--local-epochs", type=int, default=3)
    ap.add_argument("--local-weight", type=float, default=0.7, help="the original query's weight λ")
    ap.add_argument("--local-samples", type=int, default=300)
    ap.add_argument("--local-starts", nargs="+", default=["general", "scratch"])
    args = ap.parse_args()
    if not DATA.exists():
        print(f"no shared data at {DATA}; nothing to measure", file=sys.stderr)
        return 1
    general_model = dualvec.import_model(args.model)
    print(f"general model {args.model} ({general_model.vector_size} d, {len(general_model.words):,} words); "
          f"in-domain: sg {args.dim} d, {args.epochs} epochs, min_count {args.min_count}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
    if args.local:
        return local_tables(general_model, args)
    for name in args.collections:
        coll = read_collection(DATA / name)
        split = SPLITS[name]
        queries, qrels = coll.split_queries(split), coll.qrels[split]
        t = time.perf_counter()
        dom = train_in_domain(coll.docs.values(), tokenizer=general_model.tokenizer, vector_size=args.dim,
                              epochs=args.epochs, min_count=args.min_count)
        secs = time.perf_counter() - t
        general = Ranker(general_model).index(coll.docs, progress=False)
        domain = Ranker(dom).index(coll.docs, progress=False)
        print(f"\n### {name}: {len(coll.docs):,} documents, {len(queries)} queries ({split}); in-domain model "
              f"{len(dom.words):,} words, trained in {secs:.1f} s")
        print(f"| first stage | DESM | {' | '.join(MEASURES)} | p (nDCG@10) |")
        print("|---|---|" + "---|" * (len(MEASURES) + 1))
        for stage in ("BM25", "RM3"):
            pooled = pool(general, domain, queries, stage == "RM3")
            ids = general.doc_ids
            base = evaluate(run_of(pooled, ids, {}), qrels, MEASURES)

            def row(label, res, extra=""):
                p = "" if res is base else \
                    f"{paired_randomization_test(res.per_query['nDCG@10'], base.per_query['nDCG@10']):.3f}"
                cells = " | ".join(f"{res.aggregate[m]:.4f}" for m in MEASURES)
                print(f"| {stage} | {label} | {cells} | {p} |{extra}", flush=True)

            row("none", base)
            for a in (0.1, 0.3):
                for label, w in [("G in-out", {"G": a}), ("D in-out", {"D": a}), ("D in-in", {"D-in": a}),
                                 ("G+D in-out", {"G": a / 2, "D": a / 2})]:
                    row(f"{label}, α {a}", evaluate(run_of(pooled, ids, w), qrels, MEASURES))
            for label, grid in [
                ("G, α by 5-fold CV", [{"G": a} for a in ALPHAS]),
                ("D, α by 5-fold CV", [{"D": a} for a in ALPHAS]),
                ("G+D, α by 5-fold CV", [{"G": a / 2, "D": a / 2} for a in ALPHAS]),
                ("G and D, 2 weights by 5-fold CV",
                 [{"G": a, "D": b} for a, b in itertools.product(ALPHAS[:6], ALPHAS[:6])]),
            ]:
                run, chosen = cross_validated(pooled, ids, qrels, grid)
                row(label, evaluate(run, qrels, MEASURES),
                    " chosen: " + "; ".join(",".join(f"{k} {v:g}" for k, v in c.items()) or "0" for c in chosen))
        learner_table(general, domain, queries, qrels)
        defaults_table(general, domain, queries, qrels)
    return 0


LEARNER_FEATURES = {
    "bm25, rm3": ["bm25", "rm3"],
    "+ DESM G": ["bm25", "rm3", "desm_in_out", "desm_in_in"],
    "+ DESM D": ["bm25", "rm3", f"desm_in_out@{IN_DOMAIN}", f"desm_in_in@{IN_DOMAIN}"],
    "+ DESM G and D": ["bm25", "rm3", "desm_in_out", "desm_in_in", f"desm_in_out@{IN_DOMAIN}",
                       f"desm_in_in@{IN_DOMAIN}"],
}


def learner_table(general: Ranker, domain: Ranker, queries, qrels) -> None:
    """The learned ranker (coordinate ascent, 5-fold CV) over the BM25 ∪ RM3 top-100 pool, with
    the DESM features of G, of D, of both."""
    both = general.with_config()
    both.extra_models = {IN_DOMAIN: IndexedModel(domain.model, domain.centroids)}
    pools = feature_pools(both, queries, progress=False)
    names = both.features().names
    print(f"\n| learned ranker (coordinate ascent, 5-fold CV; pool BM25 ∪ RM3 top 100) | {' | '.join(MEASURES)} "
          f"| p vs bm25, rm3 (nDCG@10) |")
    print("|---|" + "---|" * (len(MEASURES) + 1))
    first = None
    for label, feats in LEARNER_FEATURES.items():
        cv = cross_validate_learner(pools, qrels, names, make=lambda f=feats: make_learner("coordinate_ascent",
                                                                                          features=f))
        res = evaluate(cv.run, qrels, MEASURES)
        first = first or res
        p = "" if res is first else \
            f"{paired_randomization_test(res.per_query['nDCG@10'], first.per_query['nDCG@10']):.3f}"
        cells = " | ".join(f"{res.aggregate[m]:.4f}" for m in MEASURES)
        print(f"| {label} | {cells} | {p} |", flush=True)


def defaults_table(general: Ranker, domain: Ranker, queries, qrels) -> None:
    """``dualvec index MODEL COLL`` + ``rank`` with defaults, without and with the in-domain model
    (the mixture's DESM then the mean of both models' normalised DESM, ``desm_models="all"``)."""
    measures = MEASURES + ["R@100"]
    print(f"\n| defaults (index + rank) | {' | '.join(measures)} | p vs without (nDCG@10) | ms/query |")
    print("|---|" + "---|" * (len(measures) + 2))
    both = general.with_config()
    both.extra_models = {IN_DOMAIN: IndexedModel(domain.model, domain.centroids)}
    base = None
    for label, r in [("--no-in-domain", general), ("in-domain (default)", both)]:
        t = time.perf_counter()
        res = evaluate(r.run(queries, k=100, progress=False), qrels, measures)
        ms = (time.perf_counter() - t) / len(queries) * 1000
        base = base or res
        p = "" if res is base else \
            f"{paired_randomization_test(res.per_query['nDCG@10'], base.per_query['nDCG@10']):.3f}"
        print(f"| {label} | {' | '.join(f'{res.aggregate[m]:.4f}' for m in measures)} | {p} | {ms:.1f} |",
              flush=True)


def local_tables(general_model, args) -> int:
    measures = MEASURES + ["R@100"]
    print(f"local embeddings: {args.local_samples} documents drawn by P(d|q) from the BM25 top 1000, "
          f"{args.local_epochs} epochs, λ {args.local_weight}, 10 terms, IN-IN")
    for name in args.collections:
        coll = read_collection(DATA / name)
        split = SPLITS[name]
        queries, qrels = coll.split_queries(split), coll.qrels[split]
        base = Ranker(general_model, alpha=0.0).index(coll.docs, progress=False)
        print(f"\n### {name}: {len(coll.docs):,} documents, {len(queries)} queries ({split})")
        print(f"| system | {' | '.join(measures)} | p vs BM25 | p vs RM3 | ms/query |")
        print("|---|" + "---|" * (len(measures) + 3))
        systems = [("BM25", {}), ("RM3", {"rm3": RM3()})]
        for start in args.local_starts:
            local = LocalEmbedding(start=start, epochs=args.local_epochs, sample_docs=args.local_samples,
                                   original_query_weight=args.local_weight)
            systems.append((f"local ({start})", {"local": local}))
        results = {}
        for label, opts in systems:
            r = base.with_config(**opts)
            t = time.perf_counter()
            run = r.run(queries, k=100, progress=False)
            ms = (time.perf_counter() - t) / len(queries) * 1000
            res = results[label] = evaluate(run, qrels, measures)
            ps = [f"{paired_randomization_test(res.per_query['nDCG@10'], results[b].per_query['nDCG@10']):.3f}"
                  if b in results and b != label else "" for b in ("BM25", "RM3")]
            cells = " | ".join(f"{res.aggregate[m]:.4f}" for m in measures)
            print(f"| {label} | {cells} | {ps[0]} | {ps[1]} | {ms:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
