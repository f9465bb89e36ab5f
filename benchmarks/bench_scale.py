"""Scale-out on real text: sharded index builds on one process and on Dask, re-ranking speed,
and FAISS full ranking against exact, as the collection grows.

    python benchmarks/bench_scale.py MODEL [--scales 1 4 16] [--out DIR]

Documents are the paragraphs of ../shared/data's enwiki featured articles (lines of 20+
characters that are not <doc> markup or titles). For scale s the paragraphs are replicated s
times under new ids (``p123#2``), so the 4x and 16x collections repeat text: the cost of
indexing and ranking does not depend on whether text repeats, but recall figures for FAISS at
4x and 16x are over near-duplicate centroids, and the tables say so.

For each scale: index build documents/s with the local engine (one process) and with a Dask
LocalCluster of 1 and 2 worker processes, and each worker's peak memory; re-ranking 100
candidates per query on one core, at the kernel (query vectors and candidate rows in, orders out),
with query analysis (query texts in), and end to end (a run as a dict of dicts in and out); full DESM ranking of 256 queries exactly
and with FAISS (flat, HNSW M=32 efSearch=256, IVF nlist=4*sqrt(N) nprobe=64): recall@100
against exact (over distinct paragraphs: replicas tie) and milliseconds per query.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tarfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import dualvec  # noqa: E402
import dualvec.scale  # noqa: E402
from dualvec.scale import build_index  # noqa: E402
from dualvec.scale.kernels import rerank_batch  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "enwiki-featured-2019" / "enwiki-featured-2019.tar.gz"


def paragraphs() -> list[str]:
    out = []
    with tarfile.open(DATA) as tar:
        for m in tar:
            if not m.isfile() or "text-excellent" not in m.name:
                continue
            title_next = False
            for line in tar.extractfile(m).read().decode("utf-8").splitlines():
                if line.startswith("<doc"):
                    title_next = True
                    continue
                if title_next:
                    title_next = False
                    continue
                if len(line) >= 20 and not line.startswith("</doc"):
                    out.append(line)
    return out


def write_collection(paras: list[str], scale: int, path: Path) -> int:
    with open(path, "w", encoding="utf-8") as fh:
        for r in range(scale):
            for i, p in enumerate(paras):
                fh.write(json.dumps({"id": f"p{i}#{r}", "contents": p}, ensure_ascii=False) + "\n")
    return scale * len(paras)


def dask_peak_mb(scheduler_workers: int, model, coll: Path, out: Path, chunk: int) -> tuple[float, float]:
    """Build on a LocalCluster; the largest resident memory any worker reached (sampled every 0.1 s:
    a worker's own ru_maxrss would count the pages it shared with this process when forked)."""
    import threading

    import psutil
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=scheduler_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        procs = [psutil.Process(pid) for pid in client.run(os.getpid).values()]
        peak, stop = [0.0], threading.Event()

        def sample() -> None:
            while not stop.is_set():
                for p in procs:
                    try:
                        peak[0] = max(peak[0], p.memory_info().rss / 2**20)
                    except psutil.Error:
                        pass
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t = time.perf_counter()
        build_index(model, coll, out, chunk_size=chunk, engine="dask", scheduler=cluster.scheduler_address,
                    progress=False)
        secs = time.perf_counter() - t
        stop.set()
        sampler.join()
    return secs, peak[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--out", type=Path, default=HERE / "out" / "scale")
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument("--no-dask-at", type=int, nargs="*", default=[], help="scales to build with the local engine only")
    ap.add_argument("--reuse", action="store_true", help="skip the builds: measure ranking on the indexes already there")
    ap.add_argument("--hnsw-max", type=int, default=1_000_000, help="skip HNSW above this many documents "
                    "(its construction is the slow part)")
    args = ap.parse_args()
    if not DATA.exists():
        print(f"no enwiki data at {DATA}", file=sys.stderr)
        return 1
    model = dualvec.load(args.model)
    paras = paragraphs()
    print(f"{len(paras):,} enwiki paragraphs; model {args.model} ({len(model):,} words x {model.vector_size}); "
          f"chunk {args.chunk:,}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
    rng = np.random.default_rng(0)
    queries = {f"q{i}": " ".join(paras[j].split()[:6]) for i, j in enumerate(rng.integers(0, len(paras), 4096))}
    args.out.mkdir(parents=True, exist_ok=True)
    print("\n| scale | documents | engine | build s | docs/s | peak MB / process | index GB |")
    print("|---|---|---|---|---|---|---|")
    rows_after = []
    for scale in args.scales:
        if args.reuse:
            rows_after.append((scale, scale * len(paras), args.out / f"idx-x{scale}-local"))
            continue
        coll = args.out / f"enwiki-x{scale}.jsonl"
        n = write_collection(paras, scale, coll)
        engines = [("local", None)] + ([] if scale in args.no_dask_at else [("dask", 1), ("dask", 2)])
        for engine, workers in engines:
            out = args.out / f"idx-x{scale}-{engine}{workers or ''}"
            shutil.rmtree(out, ignore_errors=True)
            if engine == "local":
                before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                t = time.perf_counter()
                build_index(model, coll, out, chunk_size=args.chunk, progress=False)
                secs, peak = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                peak_note = f"{peak:,.0f} (this process; {before:,.0f} before)"
            else:
                secs, peak = dask_peak_mb(workers, model, coll, out, args.chunk)
                peak_note = f"{peak:,.0f}"
            size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**30
            name = engine if engine == "local" else f"dask, {workers} worker{'s' if workers > 1 else ''}"
            print(f"| {scale}x | {n:,} | {name} | {secs:.1f} | {n / secs:,.0f} | {peak_note} | {size:.2f} |",
                  flush=True)
            if engine != "local":
                shutil.rmtree(out, ignore_errors=True)
        rows_after.append((scale, n, args.out / f"idx-x{scale}-local"))
        coll.unlink()

    print("\n| scale | documents | kernel q/s | with query analysis q/s | from a run dict q/s | exact ms/q | "
          "FAISS | build s | ms/q | recall@100 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for scale, n, path in rows_after:
        index = dualvec.scale.CentroidIndex.load(path)
        shards = index._shards("in-out")
        qv = index.query_vectors(queries.values())
        b, k = len(qv), 100
        cand = rng.integers(0, n, size=(b, k)).astype(np.int64)
        first = rng.random((b, k))
        counts = np.full(b, k, np.int64)
        rerank_batch(shards, index.offsets, qv[:4], cand[:4], first[:4], counts[:4], 0.1, 0)
        best = 0.0
        for _ in range(3):
            t = time.perf_counter()
            rerank_batch(shards, index.offsets, qv, cand, first, counts, 0.1, 0)
            best = max(best, b / (time.perf_counter() - t))
        texts = list(queries.values())
        with_analysis = 0.0
        for _ in range(3):
            t = time.perf_counter()
            rerank_batch(shards, index.offsets, index.query_vectors(texts), cand, first, counts, 0.1, 0)
            with_analysis = max(with_analysis, b / (time.perf_counter() - t))
        run = {q: {index.doc_ids[r]: float(s) for r, s in zip(cand[i], first[i])} for i, q in enumerate(queries)}
        t = time.perf_counter()
        index.rerank(queries, run, alpha=0.1)
        e2e = b / (time.perf_counter() - t)
        sample = dict(list(queries.items())[:256])
        t = time.perf_counter()
        exact = index.search(sample, k=100)
        exact_ms = (time.perf_counter() - t) / len(sample) * 1000
        # Replicas share their text (and score): recall counts distinct paragraphs, p123#0 = p123#3.
        base = {q: {d.split("#")[0] for d in exact[q]} for q in sample}
        lead = f"| {scale}x | {n:,} | {best:,.0f} | {with_analysis:,.0f} | {e2e:,.0f} | {exact_ms:.1f} |"
        for kind, label in (("flat", "flat"), ("hnsw", "HNSW M=32, efSearch=256"), ("ivf", "IVF 4√N lists, nprobe=64")):
            if kind == "hnsw" and n > args.hnsw_max:
                print(f"{lead} {label} | (not built above {args.hnsw_max:,} documents) | | |", flush=True)
                continue
            t = time.perf_counter()
            fi = index.faiss(kind, nprobe=64)
            build = time.perf_counter() - t
            if kind == "hnsw":
                fi.hnsw.efSearch = 256
            t = time.perf_counter()
            got = index.search(sample, k=100, faiss_index=fi)
            ms = (time.perf_counter() - t) / len(sample) * 1000
            recall = np.mean([len({d.split("#")[0] for d in got[q]} & base[q]) / len(base[q]) for q in sample])
            print(f"{lead} {label} | {build:.1f} | {ms:.2f} | {recall:.3f} |", flush=True)
            del fi
    return 0


if __name__ == "__main__":
    sys.exit(main())
