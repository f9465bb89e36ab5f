"""The peer, WordLlama, run in its benchmark-only environment (issue 30).

    benchmarks/out/wordllama-env/bin/python benchmarks/wordllama_embed.py WORKDIR NAME [NAME ...]

Not part of dualvec and never imported by it: ``benchmarks/bench_anserini.py`` runs it with
the Python of the environment made by ``benchmarks/wordllama_env.sh`` (wordllama 0.4.0.post1,
a 256-d static token-embedding model whose 19 MB wheel ships its weights). For each NAME it
reads ``WORKDIR/NAME/docs/docs.jsonl`` (``id``, ``contents``) and ``WORKDIR/NAME/queries.tsv``
(``id<TAB>text``), the files ``bench_anserini.py`` writes for Anserini, and writes:

* ``wordllama-docs.npy`` (documents x 256, unit rows, float32) and ``wordllama-queries.npy``
  (queries x 256, unit rows), in the files' order, so that any document's score for any query
  can be computed afterwards (the hybrids need the scores of BM25's documents too);
* ``wordllama.trec``: each query's top 100 documents by cosine over the whole collection;
* ``wordllama-timing.json``: seconds to embed the collection (its "index"), and seconds per
  query to embed one query and rank every document (one query at a time, one thread).

Two things make it fair and offline, as the issue found: the model is loaded with
``disable_download=True`` and ``cache_dir`` = the package's own folder (the wheel keeps its
tokenizer under ``tokenizers/``; the default load tries the network), and every text is
lowercased first (the model is case-sensitive: an all-caps collection drops from 0.36 to 0.06).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("RAYON_NUM_THREADS", "1")  # the tokenizers library's thread pool

import numpy as np  # noqa: E402

K = 100  # documents per query, as every other run


def load_model():
    import wordllama
    from wordllama import WordLlama

    return WordLlama.load(disable_download=True, cache_dir=Path(wordllama.__file__).parent)


def read_docs(path: Path) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                ids.append(d["id"])
                texts.append(d["contents"].lower())
    return ids, texts


def read_queries(path: Path) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            qid, text = line.split("\t", 1)
            ids.append(qid)
            texts.append(text.lower())
    return ids, texts


def main() -> None:
    work, names = Path(sys.argv[1]), sys.argv[2:]
    wl = load_model()
    embedded: dict[Path, tuple] = {}  # one collection's documents under two names (SciFact train) are embedded once
    for name in names:
        d = work / name
        source = (d / "docs" / "docs.jsonl").resolve()
        qids, qtexts = read_queries(d / "queries.tsv")
        if source not in embedded:
            doc_ids, doc_texts = read_docs(source)
            t = time.perf_counter()
            docs = np.nan_to_num(wl.embed(doc_texts, norm=True))  # an empty text's 0/0 scores 0
            embedded[source] = doc_ids, docs, time.perf_counter() - t
        doc_ids, docs, index_s = embedded[source]
        np.save(d / "wordllama-docs.npy", docs.astype(np.float32))
        (d / "wordllama-ids.json").write_text(json.dumps(doc_ids))
        np.save(d / "wordllama-queries.npy", np.nan_to_num(wl.embed(qtexts, norm=True)).astype(np.float32))
        k = min(K, len(doc_ids))
        runs = []
        t = time.perf_counter()
        for text in qtexts:  # one query at a time, as a user searches
            s = docs @ np.nan_to_num(wl.embed([text], norm=True)[0])
            top = np.argpartition(-s, k - 1)[:k]
            top = top[np.lexsort((top, -s[top]))]  # best first, ties by row
            runs.append((top, s[top]))
        per_query = (time.perf_counter() - t) / max(len(qtexts), 1)
        with open(d / "wordllama.trec", "w", encoding="utf-8") as fh:
            for qid, (rows, scores) in zip(qids, runs):
                for rank, (r, s) in enumerate(zip(rows, scores), start=1):
                    fh.write(f"{qid} Q0 {doc_ids[r]} {rank} {float(s):.6f} wordllama\n")
        timing = {"index_s": index_s, "s_per_query": per_query, "documents": len(doc_ids), "queries": len(qids)}
        (d / "wordllama-timing.json").write_text(json.dumps(timing, indent=1))
        print(f"{name}: {json.dumps(timing)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
