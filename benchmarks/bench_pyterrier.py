"""dualvec's PyTerrier transformers against its command line, on a real collection, with no Java.

    python benchmarks/bench_pyterrier.py INDEX COLLECTION [--split test] [--alphas 0.3]

INDEX is a ranker index of COLLECTION (``dualvec index MODEL COLLECTION -o INDEX``). The script
runs ``pt.Experiment`` over ``DualvecRetriever(INDEX)`` (the first stage), ``... >> DESMReranker(INDEX)``
(the index's mixture) and one ``DESMReranker`` per ``--alphas`` value, with the index's DESM and with
its own model's alone. It then writes the same systems' runs with ``dualvec rank`` and ``dualvec rerank``
(which reads the own model's centroids only) and scores them with ``dualvec.evaluation.evaluate``
(what ``dualvec evaluate`` prints), and prints both tables with the largest difference between them,
the time per query, and whether Java was started.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MEASURES = ("nDCG@10", "AP", "R@100")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index")
    ap.add_argument("collection")
    ap.add_argument("--split", default="test")
    ap.add_argument("--alphas", type=float, nargs="*", default=[0.3])
    args = ap.parse_args()

    import ir_measures
    import pyterrier as pt

    from dualvec.evaluation import evaluate
    from dualvec.text.collections import read_collection, read_run
    from dualvec.pyterrier import DESMReranker, DualvecIndex, DualvecRetriever, qrels, topics
    from dualvec.ranking import Ranker, RankerConfig

    q, j = topics(args.collection, split=args.split), qrels(args.collection, split=args.split)
    first = DualvecRetriever(args.index)
    systems = {"first stage": first, "first >> DESMReranker": first >> DESMReranker(args.index)}
    systems.update({f"first >> DESMReranker(alpha={a})": first >> DESMReranker(args.index, alpha=a)
                    for a in args.alphas})
    # `dualvec rerank` reads the index's own model's centroids only: compare it with that model alone
    own = DualvecIndex(Ranker.load(args.index, **({"desm_models": "own"} if hasattr(RankerConfig, "desm_models")
                                                  else {})))
    systems.update({f"first >> own model's DESM (alpha={a})": first >> DESMReranker(own, alpha=a)
                    for a in args.alphas})
    t0 = time.perf_counter()
    table = pt.Experiment(list(systems.values()), q, j, names=list(systems),
                          eval_metrics=[ir_measures.parse_measure(m) for m in MEASURES])
    seconds = time.perf_counter() - t0
    print(table.to_string(index=False))
    print(f"pt.Experiment: {len(systems)} systems x {len(q)} queries in {seconds:.1f} s "
          f"({1000 * seconds / len(systems) / len(q):.2f} ms per query and system); "
          f"java started: {pt.java.started()}")

    judged = read_collection(args.collection).qrels[args.split]
    with tempfile.TemporaryDirectory() as tmp:
        runs = {"first stage": Path(tmp, "first.trec"), "first >> DESMReranker": Path(tmp, "mix.trec")}
        dv = [sys.executable, "-m", "dualvec"]
        common = [args.collection, "--split", args.split, "--no-progress"]
        subprocess.run([*dv, "rank", args.index, *common, "-o", runs["first stage"], "--desm-weight", "0"],
                       check=True)
        subprocess.run([*dv, "rank", args.index, *common, "-o", runs["first >> DESMReranker"]], check=True)
        for a in args.alphas:
            out = Path(tmp, f"rerank{a}.trec")
            subprocess.run([*dv, "rerank", args.index, "--run", runs["first stage"], "--queries", args.collection,
                            "-o", out, "--desm-weight", str(a)], check=True)
            runs[f"first >> own model's DESM (alpha={a})"] = out
        worst = 0.0
        print(f"\n{'system':<40}" + "".join(f"{m:>10}" for m in MEASURES) + "   (dualvec rank/rerank + evaluate)")
        for name, path in runs.items():
            ours = evaluate(read_run(path), judged, MEASURES).aggregate
            row = table[table.name == name].iloc[0]
            worst = max(worst, *(abs(row[m] - ours[m]) for m in MEASURES))
            print(f"{name:<40}" + "".join(f"{ours[m]:>10.4f}" for m in MEASURES))
    print(f"largest difference between the two tables: {worst:.2e}")


if __name__ == "__main__":
    main()
