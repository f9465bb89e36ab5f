"""How close are the linearised OUT vectors of a hierarchical-softmax model to its exact scores?

    python benchmarks/bench_hs.py [--write]

Trains skip-gram with hierarchical softmax only (no OUT matrix of its own) on
the featured articles of ../shared/data/enwiki-featured-2019, then, for the
1,000 most frequent words after the first 100, compares three IN-OUT rankings
of the vocabulary: the exact HS ``log P(w | IN[q])`` (``model.hs_log_prob``),
the linearised OUT vectors by dot product, and by cosine (what
``most_similar(space="in-out")`` uses). Reported: mean overlap of the top 10
and Spearman's rank correlation over the whole vocabulary, and the same
against ``log P(w|q) − log P(w)``-style ranking with the frequency prior
removed (the exact score minus its mean over queries).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dualvec  # noqa: E402
from dualvec.evaluation import spearman  # noqa: E402


def top(scores: np.ndarray, k: int, exclude: int) -> set[int]:
    s = scores.copy()
    s[exclude] = -np.inf
    return set(np.argpartition(-s, k)[:k].tolist())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    from bench_train import DEFAULT_DATA, prepare_corpus, write_section

    if not DEFAULT_DATA.exists():
        print(f"skipped: {DEFAULT_DATA} not found", file=sys.stderr)
        return
    corpus = prepare_corpus(DEFAULT_DATA)
    model = dualvec.train(corpus, sg=True, hs=True, negative=0, vector_size=100, window=5, min_count=5,
                          epochs=1, workers=2, progress=False)
    out = model.out_vectors
    queries = range(100, 100 + args.queries)
    logps = np.array([model.hs_log_prob(model.words[q]) for q in queries])
    prior = logps.mean(axis=0)  # the score every query gives w: mostly its frequency (path length)
    rows = {"dot": [], "cosine": [], "dot vs prior-removed": [], "cosine vs prior-removed": []}
    rhos = {k: [] for k in rows}
    for q, logp in zip(queries, logps):
        h = model.in_vectors.vectors[q]
        dot = out.vectors @ h
        cos = out.unit @ (h / np.linalg.norm(h))
        for name, approx, exact in [("dot", dot, logp), ("cosine", cos, logp),
                                    ("dot vs prior-removed", dot, logp - prior),
                                    ("cosine vs prior-removed", cos, logp - prior)]:
            rows[name].append(len(top(approx, 10, q) & top(exact, 10, q)) / 10)
            if len(rhos[name]) < 200:
                rhos[name].append(spearman(approx, exact))
    lines = [f"Skip-gram, hs=1, negative=0, dim 100, 1 epoch on the featured articles ({len(model):,} words); "
             f"{args.queries} query words (frequency ranks 100–{100 + args.queries}).", "",
             "| linearised OUT ranking | compared with | top-10 overlap | Spearman (vocabulary) |", "|---|---|---|---|"]
    for name in rows:
        how, _, against = name.partition(" vs ")
        lines.append(f"| {how} | exact log P(w|q){' − mean over queries' if against else ''} | "
                     f"{np.mean(rows[name]):.3f} | {np.mean(rhos[name]):.3f} |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        write_section("bench_hs", "Hierarchical softmax: linearised OUT vectors vs exact scores", table)


if __name__ == "__main__":
    main()
