"""nDCG@10 of stemmed BM25 + DESM against stemmed BM25 alone, as α grows: how the default α was chosen.

    python benchmarks/alpha_curve.py MODEL

For SciFact (train and test), Cranfield and LISA, with min-max and z-score normalisation,
prints the gain over α = 0 at α = 0, 0.05, ..., 0.5.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dualvec import import_model
from dualvec.evaluation.pipelines import Pipeline, score_grid
from dualvec.text.collections import read_collection
from dualvec.ranking import Ranker

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ALPHAS = [round(0.05 * i, 2) for i in range(11)]


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    model = import_model(sys.argv[1], mmap=False)
    for name, split in [("scifact", "train"), ("scifact", "test"), ("cranfield", "all"), ("lisa", "test")]:
        coll = read_collection(DATA / name)
        ranker = Ranker(model).index(coll.docs, progress=False)
        for norm in ("minmax", "zscore"):
            grid = score_grid(ranker.with_config(normalization=norm), coll.split_queries(split), coll.qrels[split],
                              pipelines=[Pipeline()], alphas=ALPHAS, progress=False)
            mean = grid.mean()[0]
            gains = " ".join(f"{a}:{v - mean[0]:+.4f}" for a, v in zip(ALPHAS, mean))
            print(f"{name} {split} {norm} {gains} (alpha 0: {mean[0]:.4f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
