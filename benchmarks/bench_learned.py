"""dualvec's systems on judged collections: BM25, RM3, the defaults, ranx fusions, the
cross-validated learner and what ``dualvec tune --folds K`` writes (issue 22).

    python benchmarks/bench_learned.py IDX:COLLECTION[:SPLIT] ... [--folds 5] [--lightgbm]

Each IDX is a ``dualvec index MODEL COLLECTION -o IDX`` directory. Prints nDCG@10, AP and
R@100 per system, with a paired randomisation test against RM3 on nDCG@10.
"""

from __future__ import annotations

import argparse
import time

from dualvec.evaluation import evaluate, paired_randomization_test
from dualvec.evaluation.learning import systems
from dualvec.text.collections import read_collection
from dualvec.ranking import Ranker

MEASURES = ("nDCG@10", "AP", "R@100")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pairs", nargs="+", help="IDX:COLLECTION[:SPLIT]")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--lightgbm", action="store_true")
    args = ap.parse_args()
    for pair in args.pairs:
        idx, coll_path, *rest = pair.split(":")
        coll = read_collection(coll_path)
        split = rest[0] if rest else ("test" if "test" in coll.qrels else next(iter(coll.qrels)))
        queries, qrels = coll.split_queries(split), coll.qrels[split]
        ranker = Ranker.load(idx, mmap=False)
        t0 = time.perf_counter()
        runs = systems(ranker, queries, qrels, k=args.folds, lightgbm=args.lightgbm)
        seconds = time.perf_counter() - t0
        results = {name: evaluate(run, qrels, MEASURES) for name, run in runs.items()}
        print(f"\n## {coll_path} ({split}, {len(results['bm25'].per_query['nDCG@10'])} judged queries; "
              f"all systems in {seconds:.0f} s)")
        print("| system | " + " | ".join(MEASURES) + " | p vs rm3 (nDCG@10) |")
        print("|---|" + "---:|" * (len(MEASURES) + 1))
        base = results["rm3"].per_query["nDCG@10"]
        for name, res in results.items():
            p = "" if name == "rm3" else f"{paired_randomization_test(res.per_query['nDCG@10'], base):.3f}"
            print(f"| {name} | " + " | ".join(f"{res.aggregate[m]:.4f}" for m in MEASURES) + f" | {p} |")


if __name__ == "__main__":
    main()
