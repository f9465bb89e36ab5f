"""The one-pass scan's speed (dualvec.text.encoded.scan_corpus, the compiled path) on corpus paths.

    python benchmarks/bench_scan.py ../shared/data/enwiki-featured-2019/enwiki-featured-2019.tar.gz DIR ...
    PYTHONPATH=/tmp/old/src python benchmarks/bench_scan.py DIR      # an older checkout, for before/after

For each path: tokens, distinct words, the counts of the WikiExtractor markup words (``doc``,
``curid``, ``url``), and the best of ``--repeats`` runs in CPU seconds (the scan is one thread;
CPU time is steadier than wall time on a shared machine) and wall seconds, as M tokens per
second. The numba kernels are loaded once before timing. The scan calls no BLAS, so
``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` make no difference; the results say whether they were set.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time

try:
    from dualvec.text.encoded import scan_corpus
except ImportError:  # a checkout from before dualvec.text, for the before/after comparison (never this one's)
    scan_corpus = importlib.import_module("dualvec.encoded").scan_corpus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    scan_corpus(["load the kernels"]).discard()
    blas = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ} or "unset"
    print(f"OPENBLAS variables: {blas}")
    print("| corpus | tokens | words | doc / curid / url | CPU s | wall s | M tokens / CPU s |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for path in args.paths:
        best = None
        for _ in range(args.repeats):
            cpu, wall = time.process_time(), time.perf_counter()
            scanned = scan_corpus(path)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            best = (cpu, wall) if best is None or cpu < best[0] else best
            n, words, counts = scanned.n_tokens, scanned.words, scanned.counts
            scanned.discard()
        index = {w: i for i, w in enumerate(words)}
        markup = " / ".join(str(int(counts[index[w]]) if w in index else 0) for w in ("doc", "curid", "url"))
        print(f"| {path} | {n:,} | {len(words):,} | {markup} | {best[0]:.2f} | {best[1]:.2f} | {n / best[0] / 1e6:.2f} |")


if __name__ == "__main__":
    main()
