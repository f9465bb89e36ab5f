"""Per-query time of an index's ranking (what ``dualvec rank`` does per query), for runs with the
OpenBLAS variables set and unset (issue 30: ranking timings both ways).

    python benchmarks/time_rank.py INDEX COLLECTION [--split test] [--repeat 3]
    OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=262144 python benchmarks/time_rank.py INDEX COLLECTION

One thread (OMP/OpenBLAS/numba), one query at a time after loading and one warm-up pass; prints
the environment's OPENBLAS_* variables and the best of ``--repeat`` passes in ms per query for the
index's own ranking and for embeddings alone (``mode="full"``, DESM weight 1).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from dualvec.ranking import Ranker  # noqa: E402
from dualvec.text.collections import read_collection  # noqa: E402


def best_ms(fn, queries: dict[str, str], repeat: int) -> float:
    for text in queries.values():  # warm-up: caches, compiled kernels
        fn(text)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for text in queries.values():
            fn(text)
        times.append((time.perf_counter() - t) / len(queries))
    return 1000 * min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index")
    ap.add_argument("collection")
    ap.add_argument("--split", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    coll = read_collection(args.collection)
    split = args.split or ("test" if "test" in coll.qrels else next(iter(coll.qrels)))
    queries = {q: t for q, t in coll.split_queries(split).items() if q in coll.qrels[split]}
    ranker = Ranker.load(args.index)
    out = {"openblas": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")}, "queries": len(queries),
           "rank_ms": best_ms(lambda t: ranker.search(t, 100), queries, args.repeat),
           "embeddings_alone_ms": best_ms(lambda t: ranker.search(t, 100, mode="full", alpha=1.0), queries,
                                          args.repeat)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
