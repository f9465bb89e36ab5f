"""dualvec beside Anserini and the peer, WordLlama, in one run (issue 30).

    python benchmarks/bench_peer.py MODEL [--collections scifact cranfield lisa]
        [--bench-python /work/bench-env/bin/python]
        [--wordllama-python benchmarks/out/wordllama-env/bin/python]
        [--work /tmp/dualvec-peer] [--json out.json]

Everything :mod:`bench_anserini` runs (Anserini BM25 and BM25+RM3 through Pyserini in its own
environment, dualvec's BM25, RM3, the judges' ``index`` + ``rank``, ranx fusions, the CV
learner, ``tune --folds 5``), plus:

* **dualvec embeddings alone**: the judges' ``dualvec rank IDX COLL --mode full --desm-weight 1``;
* **WordLlama alone** (0.4.0.post1, in the environment ``benchmarks/wordllama_env.sh`` makes under
  benchmarks/out/; never a dualvec dependency): cosine of the lowercased texts' 256-d embeddings
  over the whole collection (``benchmarks/wordllama_embed.py``);
* **WordLlama + Anserini BM25** and **WordLlama + Anserini BM25+RM3**: per-query z-score fusion,
  ``w · z(WordLlama) + (1 − w) · z(lexical)`` over the union of both runs' top 100; WordLlama's
  score is exact for every document (the embeddings are kept), a document the lexical run did not
  return gets that run's lowest score (a bound: Lucene returned the best 100). The weight ``w`` is
  chosen on SciFact's **train** queries alone (grid step 0.05, largest mean nDCG@10), separately
  for each lexical run, and never looked at on the reported queries.

p: paired randomisation test on nDCG@10 against Anserini BM25+RM3 (the table), and, in the
bar's table, against the system the bar compares with. Index time: Anserini's Lucene indexing,
WordLlama's embedding of the collection, dualvec's whole ``dualvec index`` command (training of
the index's own models included).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import bench_anserini as ba  # noqa: E402
from dualvec.evaluation import evaluate, paired_randomization_test  # noqa: E402
from dualvec.ranking import normalize  # noqa: E402

try:  # the text layer's new home (issue 28); the old path until it lands
    from dualvec.text.collections import read_collection, read_run
except ImportError:  # pragma: no cover
    from dualvec.text.collections import read_collection, read_run

DEPTH = ba.DEPTH
STEP = 0.05
TRAIN = ("scifact", "train")  # where the fusion weight is chosen: SciFact's train queries only
WL = "WordLlama alone"
HYBRIDS = {"Anserini BM25": "WordLlama + Anserini BM25 (z-score)",
           "Anserini BM25+RM3": "WordLlama + Anserini BM25+RM3 (z-score)"}
EMB = "dualvec embeddings alone (rank --mode full --desm-weight 1)"
DEFAULTS = "dualvec defaults (index + rank)"
LEARNER = "learned (coordinate ascent), 5-fold CV"
CV = "tune --folds 5 (the CLI's run)"


# -- WordLlama -----------------------------------------------------------------------------------

def run_wordllama(python: str, work: Path, names: list[str]) -> None:
    names = [n for n in names if not (work / n / "wordllama-timing.json").exists()]  # kept from a run before
    if names:
        cmd = [python, str(HERE / "wordllama_embed.py"), str(work), *names]
        print("$", " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True)


class Peer:
    """WordLlama's kept embeddings of one collection's documents and queries: exact scores of any
    document for any query."""

    def __init__(self, d: Path):
        self.docs = np.load(d / "wordllama-docs.npy")
        self.row_of = {doc: i for i, doc in enumerate(json.loads((d / "wordllama-ids.json").read_text()))}
        qids = [line.split("\t", 1)[0] for line in (d / "queries.tsv").read_text(encoding="utf-8").splitlines()
                if line.strip()]
        self.queries = dict(zip(qids, np.load(d / "wordllama-queries.npy")))

    def scores(self, qid: str, doc_ids: list[str]) -> np.ndarray:
        return self.docs[[self.row_of[d] for d in doc_ids]] @ self.queries[qid]


class Hybrid:
    """Per query: the union of the peer's and the lexical run's top 100, both scores z-normalised."""

    def __init__(self, peer: Peer, peer_run: dict, lexical: dict):
        self.items = {}
        for qid in peer.queries:
            lex = lexical.get(qid, {})
            docs = list(dict.fromkeys([*lex, *peer_run.get(qid, {})]))
            if not docs:
                continue
            floor = min(lex.values()) if lex else 0.0
            lexical_scores = np.array([lex.get(d, floor) for d in docs], dtype=np.float64)
            self.items[qid] = (docs, normalize(peer.scores(qid, docs), "zscore"), normalize(lexical_scores, "zscore"))

    def run(self, w: float) -> dict:
        out = {}
        for qid, (docs, zp, zl) in self.items.items():
            s = w * zp + (1 - w) * zl
            order = np.lexsort((np.arange(len(docs)), -s))[:DEPTH]  # ties: the lexical run's order first
            out[qid] = {docs[i]: float(s[i]) for i in order}
        return out


def choose_weight(hybrid: Hybrid, qrels) -> tuple[float, list[tuple[float, float]]]:
    """The peer's weight with the largest mean nDCG@10 (on SciFact train), and the whole curve."""
    curve = [(w, evaluate(hybrid.run(w), qrels, ["nDCG@10"]).aggregate["nDCG@10"])
             for w in np.round(np.arange(0, 1 + 1e-9, STEP), 2)]
    best = max(curve, key=lambda c: (c[1], -c[0]))  # ties: the smaller weight
    return float(best[0]), curve


def prepare_train(work: Path) -> tuple[str, dict, dict]:
    """SciFact's train queries as a collection of their own in the work directory (its Lucene index
    and WordLlama's document embeddings are SciFact's, linked, not rebuilt)."""
    name, split = TRAIN
    label = f"{name}-{split}"
    coll = read_collection(ba.DATA / name)
    qrels = coll.qrels[split]
    queries = {q: t for q, t in coll.split_queries(split).items() if q in qrels}
    d = work / label
    (d / "docs").mkdir(parents=True, exist_ok=True)
    if not (d / "docs" / "docs.jsonl").exists():
        (d / "docs" / "docs.jsonl").symlink_to(work / name / "docs" / "docs.jsonl")
    with open(d / "queries.tsv", "w", encoding="utf-8") as fh:
        for qid, text in queries.items():
            fh.write(f"{qid}\t{' '.join(text.split())}\n")
    return label, queries, qrels


# -- the run ---------------------------------------------------------------------------------------

def add_systems(row: dict, d: Path, weights: dict[str, float]) -> None:
    """WordLlama, its hybrids and dualvec's embeddings alone, into one collection's row."""
    name = row["name"]
    peer = Peer(d)
    wl_run = read_run(d / "wordllama.trec")
    timing = json.loads((d / "wordllama-timing.json").read_text())
    row["runs"][WL], row["ms"][WL] = wl_run, 1000 * timing["s_per_query"]
    row["wordllama"] = timing
    for lexical, label in HYBRIDS.items():
        row["runs"][label] = Hybrid(peer, wl_run, row["runs"][lexical]).run(weights[lexical])
        row["ms"][label] = row["ms"][WL] + row["ms"][lexical]  # both first stages, one after the other
    emb = d / "emb.trec"  # the judges' command as it is (every query of the collection)
    seconds = ba.dualvec_cli(d / "dualvec.log", "rank", str(d / "index"), str(ba.DATA / name), "--mode", "full",
                             "--desm-weight", "1", "-o", str(emb), "--no-progress")
    row["runs"][EMB] = read_run(emb)
    row["timing"]["rank_full_desm_s"] = seconds


def p_value(row: dict, a: str, b: str) -> float:
    return paired_randomization_test(row["results"][a].per_query["nDCG@10"], row["results"][b].per_query["nDCG@10"])


def bar_table(rows: list[dict]) -> str:
    """The issue's bar, per collection: Δ nDCG@10 and the paired test's p."""
    def cell(r, a, b, slack=0.0):
        x = r["results"][a].aggregate["nDCG@10"] - r["results"][b].aggregate["nDCG@10"]
        return x, f"{x:+.4f} (p {p_value(r, a, b):.3f}){' ✓' if x >= -slack else ''}"

    hybrid = HYBRIDS["Anserini BM25"]
    lines = ["| bar | " + " | ".join(r["name"] for r in rows) + " |", "|---|" + "---|" * len(rows)]
    for text, a, b, slack in ((f"embeddings alone vs {WL}", EMB, WL, 0.0),
                              (f"defaults vs {hybrid} (bar: ≥ −0.005)", DEFAULTS, hybrid, 0.005),
                              ("defaults vs Anserini BM25 (bar: ≥ −0.005)", DEFAULTS, "Anserini BM25", 0.005),
                              (f"tune --folds 5 vs {hybrid}", CV, hybrid, 0.0),
                              ("tune --folds 5 vs Anserini BM25+RM3", CV, ba.BASELINE, 0.0),
                              (f"learner (5-fold CV) vs {hybrid}", LEARNER, hybrid, 0.0)):
        lines.append(f"| {text} | " + " | ".join(cell(r, a, b, slack)[1] for r in rows) + " |")
    better = [max(r["results"][ba.BASELINE].aggregate["nDCG@10"], r["results"][hybrid].aggregate["nDCG@10"])
              for r in rows]
    gains = [r["results"][CV].aggregate["nDCG@10"] - b for r, b in zip(rows, better)]
    lines.append("")
    lines.append(f"tune --folds 5 over the better of Anserini BM25+RM3 and {hybrid}: "
                 + ", ".join(f"{g:+.4f}" for g in gains) + f"; mean {np.mean(gains):+.4f} (bar: ≥ +0.01)")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--collections", nargs="+", default=["scifact", "cranfield", "lisa"])
    ap.add_argument("--bench-python", default="/work/bench-env/bin/python")
    ap.add_argument("--wordllama-python", default=str(HERE / "out" / "wordllama-env" / "bin" / "python"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/dualvec-peer"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", type=Path, help="Also write the aggregate numbers here.")
    args = ap.parse_args()
    for path, how in ((ba.DATA, "../shared/data"), (Path(args.bench_python), "benchmarks/anserini_env.sh"),
                      (Path(args.wordllama_python), "benchmarks/wordllama_env.sh")):
        if not path.exists():
            print(f"skipped: {path} not found (needs {how})", file=sys.stderr)
            return
    print("OPENBLAS:", {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")}, file=sys.stderr)
    prepared = {n: ba.prepare(n, args.work) for n in dict.fromkeys([TRAIN[0], *args.collections])}
    train_label, _, train_qrels = prepare_train(args.work)
    (args.work / train_label / "lucene").unlink(missing_ok=True)
    (args.work / train_label / "lucene").symlink_to(args.work / TRAIN[0] / "lucene")  # built first, then shared
    names = [*prepared, train_label]
    ba.run_anserini(args.bench_python, args.work, names)
    run_wordllama(args.wordllama_python, args.work, names)

    # the fusion weights, on SciFact train alone
    td = args.work / train_label
    peer, wl_run = Peer(td), read_run(td / "wordllama.trec")
    weights, notes = {}, []
    for lexical, file in (("Anserini BM25", "anserini-bm25.trec"), ("Anserini BM25+RM3", "anserini-rm3.trec")):
        w, curve = choose_weight(Hybrid(peer, wl_run, read_run(td / file)), train_qrels)
        weights[lexical] = w
        notes.append(f"{HYBRIDS[lexical]}: WordLlama weight {w:.2f}, chosen on SciFact train "
                     f"({len(train_qrels)} queries; nDCG@10 there by weight: "
                     + ", ".join(f"{x:.2f} {v:.4f}" for x, v in curve) + ")")

    rows = []
    for n in args.collections:
        row = ba.bench_collection(n, args.model, args.work, prepared[n], args.folds)
        add_systems(row, args.work / n, weights)
        rows.append(row)
    ba.score(rows)
    print(ba.render(rows))
    print()
    print(ba.summary(rows))
    print()
    print(bar_table(rows))
    print()
    for r in rows:
        print(f"{r['name']}: {r['docs']:,} documents, {r['queries']} queries; index: Anserini "
              f"{r['anserini']['index_s']:.1f} s, WordLlama {r['wordllama']['index_s']:.1f} s, dualvec "
              + ", ".join(f"{k} {v:.1f} s" for k, v in r["timing"].items()))
    print("\n".join(notes))
    if args.json:
        agg = {r["name"]: {k: v.aggregate for k, v in r["results"].items()} for r in rows}
        args.json.write_text(json.dumps({"aggregate": agg, "weights": weights, "notes": notes,
                                         "p": {r["name"]: r["p"] for r in rows},
                                         "ms": {r["name"]: r["ms"] for r in rows},
                                         "timing": {r["name"]: {**r["timing"], "anserini_index_s": r["anserini"]["index_s"],
                                                                "wordllama_index_s": r["wordllama"]["index_s"]}
                                                    for r in rows}}, indent=1))


if __name__ == "__main__":
    main()
