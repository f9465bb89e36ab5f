"""Dual spaces tuned for ranking (issue 30): the ablation and the choice of defaults, on SciFact TRAIN only.

    python benchmarks/bench_contrastive.py [--general MODEL] [--out benchmarks/out/contrastive]
        [--variants base,pairs,init,analysis,start,general]

Each variant tunes the in-domain model of SciFact (trained once, as ``dualvec index`` trains it,
cached under --out) and indexes the collection as ``dualvec index`` does; each row is nDCG@10 and
R@100 over SciFact's 809 TRAIN queries (test is never read) for: the embeddings alone (``--mode
full --desm-weight 1``), and the mixture over every document (first_stage "fused", z-score) at a
few DESM weights. With --general, the index's own model is that general model (as the judges'
``dualvec index MODEL COLL``), otherwise the in-domain model is the index's only one.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import dualvec
from dualvec.evaluation.ir import evaluate
from dualvec.ranking import Ranker
from dualvec.ranking.analysis import Analyzer
from dualvec.ranking.in_domain import train_in_domain
from dualvec.ranking.ranker import TUNED_MIXTURE
from dualvec.text.collections import read_beir
from dualvec.training.contrastive import ContrastiveSettings, tune

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scifact"
ALPHAS = (0.4, 0.5, 0.6, 0.7)


def stemmed(text: str, analyzer: Analyzer) -> str:
    """The text as BM25's analyser sees it (stemmed words), for the 'embeddings on stems' variant."""
    return " ".join(analyzer.stem(analyzer.terms(text)))


def score(ranker: Ranker, queries: dict[str, str], qrels) -> dict[str, float]:
    """The embeddings alone (``rank --mode full --desm-weight 1``), then ``dualvec rank`` itself at a few
    DESM weights (the index's first stage and normalisation), then BM25 alone."""
    def measured(run):
        return evaluate(run, qrels, ["nDCG@10", "R@100"]).aggregate

    out = {}
    r = measured(ranker.run(queries, k=100, mode="full", alpha=1.0))
    out["emb nDCG@10"], out["emb R@100"] = r["nDCG@10"], r["R@100"]
    for a in ALPHAS:
        r = measured(ranker.run(queries, k=100, alpha=a))
        out[f"mix{a} nDCG@10"] = r["nDCG@10"]
        if a == TUNED_MIXTURE["alpha"]:
            out[f"mix{a} R@100"] = r["R@100"]
    out["bm25 nDCG@10"] = measured(ranker.run(queries, k=100, alpha=0.0))["nDCG@10"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--general", type=Path, help="a general model: the index's own model, as in dualvec index MODEL")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "contrastive")
    ap.add_argument("--variants", default="base,pairs,init,analysis,start")
    args = ap.parse_args()
    if not (args.data / "corpus.jsonl").is_file():
        print(f"no SciFact at {args.data}; nothing to measure")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    coll = read_beir(args.data)
    qrels = coll.qrels["train"]
    queries = {q: coll.queries[q] for q in qrels}
    docs = coll.docs
    general = dualvec.load(args.general, mmap=False) if args.general else None
    cache = args.out / "scifact-in-domain.dv"
    if cache.exists():
        base = dualvec.load(cache, mmap=False)
    else:
        t = time.perf_counter()
        base = train_in_domain(docs.values(), tokenizer=general.tokenizer if general else None)
        print(f"in-domain word2vec: {time.perf_counter() - t:.1f} s")
        base.save(cache)
    analyzer = Analyzer(base.tokenizer)
    wanted = set(args.variants.split(","))
    default = ContrastiveSettings()
    variants: list[tuple[str, object]] = []
    if "base" in wanted:
        variants += [("untuned (word2vec, DESM as published)", None), ("tuned, defaults", default)]
    if "pairs" in wanted:
        variants += [(f"pairs: {k} only", replace(default, pairs=(k,))) for k in ("title", "sentence", "crop")]
        variants += [("pairs: title + sentence", replace(default, pairs=("title", "sentence")))]
    if "init" in wanted:
        variants += [("pooling: norms start at 1 (unit)", replace(default, init="unit")),
                     ("pooling: norms start at word2vec's", replace(default, init="raw"))]
    if "epochs" in wanted:
        variants += [(f"epochs {e}", replace(default, epochs=e)) for e in (3, 10)]
        variants += [(f"temperature {t}", replace(default, temperature=t)) for t in (0.03, 0.1)]
    if "analysis" in wanted:
        variants += [("analysis: stop words kept", "stopwords"), ("analysis: stemmed (BM25's terms)", "stems")]
    if "start" in wanted:
        variants += [("start: random vectors", "random")]
    if "general" in wanted and general is not None:
        variants += [("general model tuned on SciFact (restricted to its words)", "general")]
    if "alone" in wanted and general is not None:
        variants += [("the general model alone (no in-domain model)", "alone")]
    print(f"SciFact train, {len(queries)} queries; general model: {args.general or 'none'}")
    for label, v in variants:
        t = time.perf_counter()
        extra_cfg = {}
        d = docs
        model = base
        if v is None:
            tuned = base
        elif isinstance(v, ContrastiveSettings):
            tuned = tune(base, docs.values(), v, terms=analyzer.terms)
        elif v == "stopwords":
            tuned = tune(base, docs.values(), default, terms=Analyzer(base.tokenizer, desm_stopwords=False).terms)
            extra_cfg = dict(desm_stopwords=False)
        elif v == "stems":
            d = {k: stemmed(x, analyzer) for k, x in docs.items()}
            model = train_in_domain(d.values(), tokenizer=base.tokenizer)
            tuned = tune(model, d.values(), default, terms=analyzer.terms)
        elif v == "random":
            rng = np.random.default_rng(0)
            rand = base.tuned_copy(rng.normal(size=base.in_vectors.vectors.shape).astype(np.float32),
                                   rng.normal(size=base.in_vectors.vectors.shape).astype(np.float32),
                                   {"pooling": "unit-mean"})
            rand.tuning = None
            tuned = tune(rand, docs.values(), default, terms=analyzer.terms)
        elif v == "general":
            tuned = tune(general, docs.values(), default, terms=analyzer.terms)
        elif v == "alone":
            tuned = general
        seconds = time.perf_counter() - t
        own, extra = (general, {"in-domain": tuned}) if general is not None and v not in ("general", "alone") \
            else (tuned, {})
        cfg = dict(TUNED_MIXTURE) if tuned.tuning is not None else dict(desm_models="all")
        cfg.pop("alpha", None)
        ranker = Ranker(own, **cfg, **extra_cfg).index(d, extra_models=extra)
        qs = {q: stemmed(x, analyzer) for q, x in queries.items()} if v == "stems" else queries
        res = score(ranker, qs, qrels)
        print(f"| {label} | {seconds:.0f} s | " + " | ".join(f"{k} {x:.4f}" for k, x in res.items()) + " |",
              flush=True)
        if extra and v is default:  # the general model's DESM averaged in too, and the BM25 first stage
            for change in (dict(desm_models="all"), dict(first_stage="bm25")):
                res = score(ranker.with_config(**change), qs, qrels)
                print(f"| {label}, {change} | | " + " | ".join(f"{k} {x:.4f}" for k, x in res.items()) + " |",
                      flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
