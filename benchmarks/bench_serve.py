"""Load test of ``dualvec serve`` on loopback: the word view's request, many clients at once.

    python benchmarks/bench_serve.py MODEL [--clients 1 8 32] [--requests 2000] [--seconds 60]

Starts the real server (uvicorn) on 127.0.0.1 with MODEL memory-mapped, then, for each client
count, that many threads each send ``GET /api/neighbors?positive=W&topn=10`` (all four pairings,
W drawn from the 5,000 most frequent words) until ``--requests`` answers or ``--seconds`` have
passed, whichever comes first. Reports requests/s and the p50 / p99 latency. Bounded in count
and time; it talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import running_server  # noqa: E402

import dualvec  # noqa: E402


def run(base: str, words: list[str], clients: int, requests: int, seconds: float) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    rng = np.random.default_rng(clients)
    picks = [words[i] for i in rng.integers(0, len(words), size=requests)]
    counter = iter(range(requests))
    errors = 0

    def worker() -> None:
        nonlocal errors
        with httpx.Client(base_url=base, timeout=60) as http:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                t = time.perf_counter()
                r = http.get("/api/neighbors", params={"positive": picks[i], "topn": 10})
                dt = time.perf_counter() - t
                with lock:
                    latencies.append(dt)
                    errors += r.status_code != 200

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for f in [pool.submit(worker) for _ in range(clients)]:
            f.result()
    wall = time.perf_counter() - t0
    lat = np.array(latencies) * 1000
    return {"clients": clients, "requests": len(lat), "errors": errors, "rps": len(lat) / wall,
            "p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    model = dualvec.import_model(args.model)
    words = model.words[:5000]
    print(f"model {args.model}: {len(model):,} words x {model.vector_size}; 4 pairings per request; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}, {os.cpu_count()} CPUs")
    print("| clients | requests | errors | requests/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    with running_server(Path(args.model)) as base:
        run(base, words, 2, 50, 30)  # warm-up: unit rows, page cache
        for c in args.clients:
            r = run(base, words, c, args.requests, args.seconds)
            print(f"| {r['clients']} | {r['requests']} | {r['errors']} | {r['rps']:.0f} | {r['p50']:.1f} | "
                  f"{r['p99']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
