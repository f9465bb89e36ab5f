"""What an index's digests cost at load (issue 29 §6): Ranker.load of a SciFact index with and
without the check of its arrays' blake2b digests, best and median of N, wall and CPU time.

    python benchmarks/bench_index_load.py IDX [N]

IDX: a ranker index, e.g. built with

    dualvec train ../shared/data/scifact/corpus.jsonl --vector-size 300 --epochs 1 --workers 1 -o sf.dv
    dualvec index sf.dv ../shared/data/scifact --no-in-domain -o sf.idx

CPU time is the honest number on a shared machine: wall time there includes waiting for the
cores. Nothing here uses BLAS, so OPENBLAS_* settings do not matter.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import dualvec.ranking.ranker as ranker_module
from dualvec.ranking import Ranker


def timed(fn, n: int) -> str:
    wall, cpu = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return (f"wall best {min(wall) * 1e3:.1f} ms, median {np.median(wall) * 1e3:.1f} ms; "
            f"CPU best {min(cpu) * 1e3:.1f} ms, median {np.median(cpu) * 1e3:.1f} ms")


def main() -> None:
    warnings.simplefilter("ignore")
    idx, n = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 15
    header = json.loads((idx / "ranker.json").read_text())
    base = idx / header["data"]
    digests = header.get("digests") or {}
    size = sum((base / name).stat().st_size for name in digests)
    print(f"{idx}: {header['documents']:,} documents, {len(digests)} array files, {size / 1e6:.1f} MB digested")
    check = ranker_module._check_digests
    print("digest check alone:       ", timed(lambda: check(idx, base, header), n))
    print("Ranker.load with digests: ", timed(lambda: Ranker.load(idx), n))
    ranker_module._check_digests = lambda *args: None
    print("Ranker.load without:      ", timed(lambda: Ranker.load(idx), n))


if __name__ == "__main__":
    main()
