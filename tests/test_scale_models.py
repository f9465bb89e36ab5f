"""The sharded index holds the index's extra models (the in-domain one) and mixes them as the
in-memory ranker index does: the same `dualvec index` command ranks the same on every engine."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from typer.testing import CliRunner

import dualvec
from dualvec.cli import app
from dualvec.ranking import Ranker
from dualvec.ranking.in_domain import IN_DOMAIN, MIN_TOKENS, count_tokens
from dualvec.scale import CentroidIndex, build_index
from synthetic import topical_collection, topical_corpus

runner = CliRunner()
FAST = ["--in-domain-epochs", "2", "--in-domain-dim", "8", "--no-progress"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale-models")
    docs, truth = topical_collection(n_docs=600)
    assert count_tokens(docs.values()) >= MIN_TOKENS  # enough text: dualvec index trains an in-domain model
    coll = root / "docs.jsonl"
    coll.write_text("\n".join(json.dumps({"_id": d, "title": "", "text": t}) for d, t in docs.items()))
    sents, _ = topical_corpus(n_sentences=1500, seed=3)
    dualvec.train(sents, sg=True, window=4, sample=0, min_count=1, epochs=2, vector_size=12, workers=1, seed=3,
                  progress=False).save(root / "model")
    # queries of one to three words, and a first stage's run: random candidates, random scores
    rng = random.Random(0)
    words = truth["names"] + sum(truth["words"], [])
    queries = {f"q{i}": " ".join(rng.sample(words, rng.randint(1, 3))) for i in range(12)}
    (root / "queries.tsv").write_text("".join(f"{q}\t{t}\n" for q, t in queries.items()))
    run = {q: dict(zip(rng.sample(list(docs), 40), (rng.uniform(0, 20) for _ in range(40)))) for q in queries}
    (root / "first.trec").write_text("".join(f"{q} Q0 {d} {r} {s:.6f} bm25\n" for q, ds in run.items()
                                             for r, (d, s) in enumerate(sorted(ds.items(), key=lambda x: -x[1]), 1)))
    local = ["--engine", "local", "--chunk-size", "150"]
    for name, args in (("ranker", []), ("local", local), ("ranker-untuned", ["--no-tune"]),
                       ("local-untuned", ["--no-tune", *local])):
        r = runner.invoke(app, ["index", str(root / "model"), str(coll), "-o", str(root / name), *FAST, *args])
        assert r.exit_code == 0, r.output
        assert "in-domain model" in " ".join(r.output.split())
    return root, coll, docs, queries, run


def _rerank(root, index, out, *extra):
    r = runner.invoke(app, ["rerank", str(root / index), "--run", str(root / "first.trec"), "--queries",
                            str(root / "queries.tsv"), "-o", str(root / out), *extra])
    assert r.exit_code == 0, r.output
    from dualvec.text.collections import read_run

    return read_run(root / out)


def _same_runs(a, b):
    assert list(a) == list(b)
    for q in a:
        assert list(a[q]) == list(b[q]), q  # the same documents in the same order
        assert list(a[q].values()) == pytest.approx(list(b[q].values()), abs=1e-4)  # float32 sums


def test_the_sharded_index_keeps_the_in_domain_model_of_the_same_command(setup):
    root, _, _, _, _ = setup
    ranker, sharded = Ranker.load(root / "ranker"), CentroidIndex.load(root / "local")
    assert set(sharded.extra_models) == set(ranker.extra_models) == {IN_DOMAIN}
    assert sharded.extra_models[IN_DOMAIN].model.fingerprint == ranker.extra_models[IN_DOMAIN].model.fingerprint
    for space in ("in", "out"):
        np.testing.assert_allclose(np.vstack(sharded.extra_models[IN_DOMAIN].centroids[space]),
                                   ranker.extra_models[IN_DOMAIN].centroids[space], atol=1e-6)


@pytest.mark.parametrize("tuned", ["", "-untuned"])  # the tuned in-domain model alone; the mean of both models
@pytest.mark.parametrize("weight", [None, "0.1", "0.5", "1"])  # None: the index's own mixture
def test_rerank_with_the_local_engine_equals_rerank_with_the_ranker_index(setup, weight, tuned):
    root = setup[0]
    args = ["--desm-weight", weight] if weight else []
    expected = _rerank(root, f"ranker{tuned}", f"ranker{tuned}-{weight}.trec", *args)
    _same_runs(_rerank(root, f"local{tuned}", f"local{tuned}-{weight}.trec", *args), expected)


def test_rerank_with_a_dask_built_index_equals_rerank_with_the_ranker_index(setup):
    pytest.importorskip("dask.distributed", reason="dask[distributed] is a dev dependency")
    root, coll = setup[0], setup[1]
    r = runner.invoke(app, ["index", str(root / "model"), str(coll), "-o", str(root / "dask"), *FAST,
                            "--engine", "dask", "--dask-workers", "2", "--chunk-size", "150"])
    assert r.exit_code == 0, r.output
    assert len(CentroidIndex.load(root / "dask").offsets) - 1 == 4  # four shards, built by two workers
    for weight in ("0.1", "1"):
        _same_runs(_rerank(root, "dask", f"dask-{weight}.trec", "--desm-weight", weight),
                   _rerank(root, "ranker", f"ranker-{weight}.trec", "--desm-weight", weight))


@pytest.mark.parametrize("tuned", ["", "-untuned"])
def test_the_in_domain_model_changes_the_ranking(setup, tuned):
    """The equality above is not vacuous: ranking by the general model alone differs."""
    root, _, _, queries, run = setup
    sharded = CentroidIndex.load(root / f"local{tuned}")
    assert sharded.desm_models == ("tuned" if not tuned else "all")
    assert (sharded.extra_models[IN_DOMAIN].model.tuning is not None) == (not tuned)
    mixed = sharded.rerank(queries, run, alpha=1.0)
    sharded.desm_models = "own"
    own = sharded.rerank(queries, run, alpha=1.0)
    assert any(list(mixed[q]) != list(own[q]) for q in queries)
    ranker = Ranker.load(root / f"ranker{tuned}").with_config(desm_models="own")
    for q in queries:
        assert list(own[q]) == [d for d, _ in ranker.rerank_scored(queries[q], run[q], alpha=1.0)]


@pytest.mark.parametrize("tuned", ["", "-untuned"])
def test_full_ranking_by_the_mixture_equals_the_ranker_index(setup, tuned):
    root, _, _, queries, _ = setup
    ranker, sharded = Ranker.load(root / f"ranker{tuned}"), CentroidIndex.load(root / f"local{tuned}")
    full = sharded.search(queries, k=20)
    for q, text in queries.items():
        expected = ranker.search(text, 20, mode="full", alpha=1.0)
        assert list(full[q]) == [d for d, _ in expected], q
        assert list(full[q].values()) == pytest.approx([s for _, s in expected], abs=1e-4)  # float32 sums


def test_extra_models_in_the_api_and_a_rebuild_with_another_in_domain_model(setup, tmp_path):
    root, coll, docs, queries, run = setup
    general = dualvec.load(root / "model")
    own = Ranker.load(root / "ranker").extra_models[IN_DOMAIN].model
    built = build_index(general, coll, tmp_path / "idx", chunk_size=200, extra_models={IN_DOMAIN: own},
                        progress=False)
    ranker = Ranker(general, stemmer="english").index(docs, extra_models={IN_DOMAIN: own})
    q = next(iter(queries))
    assert list(built.rerank({q: queries[q]}, {q: run[q]}, alpha=0.5)[q]) == \
        [d for d, _ in ranker.rerank_scored(queries[q], run[q], alpha=0.5)]
    other = dualvec.load(root / "model")  # not the in-domain model the index holds
    with pytest.raises(dualvec.DualvecError, match="another in-domain model"):
        build_index(general, coll, tmp_path / "idx", chunk_size=200, extra_models={IN_DOMAIN: other}, progress=False)
    with pytest.raises(dualvec.DualvecError, match="desm_models"):
        build_index(general, coll, tmp_path / "idx2", desm_models="some", progress=False)


def test_a_cranfield_directory_is_indexed_the_same_on_every_engine(setup, tmp_path):
    """A classic collection in its own format (not line per document): `--engine local` indexed
    nothing from it before (the streaming readers found no documents)."""
    root, _, docs, queries, run = setup
    cran = tmp_path / "cran"
    cran.mkdir()
    ids = {d: str(i) for i, d in enumerate(docs, start=1)}
    (cran / "cran.all.1400").write_text("".join(f".I {ids[d]}\n.T\n\n.W\n{t}\n" for d, t in docs.items()))
    (cran / "cran.qry").write_text("".join(f".I {i:03d}\n.W\n{t}\n" for i, t in enumerate(queries.values(), 1)))
    (cran / "cranqrel").write_text("1 1 1\n")
    for name, args in (("ranker", []), ("local", ["--engine", "local", "--chunk-size", "150"])):
        r = runner.invoke(app, ["index", str(root / "model"), str(cran), "-o", str(tmp_path / name), *FAST, *args])
        assert r.exit_code == 0, r.output
        assert "in-domain model" in " ".join(r.output.split())
    sharded, ranker = CentroidIndex.load(tmp_path / "local"), Ranker.load(tmp_path / "ranker")
    assert sharded.doc_ids == ranker.doc_ids and len(sharded) == len(docs)
    q = next(iter(queries))
    first = {ids[d]: s for d, s in run[q].items()}
    assert list(sharded.rerank({q: queries[q]}, {q: first})[q]) == \
        [d for d, _ in ranker.rerank_scored(queries[q], first)]


def test_a_tuned_general_model_beside_a_tuned_in_domain_one_ranks_as_the_ranker_does(setup, tmp_path):
    """desm_models="tuned" with both models tuned: the in-domain one alone (the ranker's rule,
    ranking.ranker.desm_models_used), in the sharded index too."""
    from dualvec.ranking.in_domain import tune_in_domain

    root, coll, docs, queries, run = setup
    own = Ranker.load(root / "ranker").extra_models[IN_DOMAIN].model
    general = tune_in_domain(dualvec.load(root / "model"), list(docs.values()), stopwords="english", progress=False)
    assert general.tuning is not None and own.tuning is not None
    built = build_index(general, coll, tmp_path / "idx", chunk_size=200, extra_models={IN_DOMAIN: own},
                        desm_models="tuned", alpha=0.6, normalization="zscore", progress=False)
    ranker = Ranker(general, desm_models="tuned", alpha=0.6, normalization="zscore").index(
        docs, extra_models={IN_DOMAIN: own})
    assert list(built.mixed_models()) == ranker.desm_models_used() == [IN_DOMAIN]
    for q in list(queries)[:4]:
        assert list(built.rerank({q: queries[q]}, {q: run[q]})[q]) == \
            [d for d, _ in ranker.rerank_scored(queries[q], run[q])]
