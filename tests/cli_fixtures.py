"""A small BEIR collection, its model and its index, built through the real command line (CLI tests)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import dualvec
from dualvec.cli import app
from synthetic import topical_corpus


def beir_collection(root: Path) -> tuple[Path, Path, dict]:
    """``(model directory, BEIR directory, truth)``: a topical model and documents titled by topic."""
    sents, truth = topical_corpus(n_sentences=2000)
    model = dualvec.train(sents, sg=True, window=4, sample=0, min_count=1, epochs=6, vector_size=16, workers=1,
                          progress=False)
    model.save(root / "model")
    coll = root / "beir"
    (coll / "qrels").mkdir(parents=True)
    docs, queries, qrels = [], [], ["query-id\tcorpus-id\tscore"]
    for t, name in enumerate(truth["names"]):
        docs.append({"_id": f"about{t}", "title": f"Topic {t} paper", "text": " ".join(truth["words"][t][:4])})
        docs.append({"_id": f"decoy{t}", "title": "", "text": " ".join([name] + truth["fill"][:3])})
        queries.append({"_id": f"q{t}", "text": f"{name} {truth['words'][t][4]}"})
        qrels.append(f"q{t}\tabout{t}\t1")
    (coll / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    (coll / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries))
    (coll / "qrels" / "test.tsv").write_text("\r\n".join(qrels) + "\r\n")
    (coll / "qrels" / "train.tsv").write_text("\r\n".join(qrels) + "\r\n")
    return root / "model", coll, truth


def indexed_collection(root: Path, *extra: str) -> tuple[Path, Path, dict]:
    """``(index, BEIR directory, truth)``, indexed by ``dualvec index`` (English stop words kept out)."""
    model, coll, truth = beir_collection(root)
    r = CliRunner().invoke(app, ["index", str(model), str(coll), "-o", str(root / "idx"), "--no-progress", *extra])
    assert r.exit_code == 0, r.output
    return root / "idx", coll, truth
