"""Contrastive tuning for ranking (dualvec.training.contrastive): the loss falls, tuned spaces
retrieve synonyms BM25 and untuned spaces cannot, one thread and a seed reproduce a run, bad
settings are one-line errors, and a tuned model saves, loads and ranks as it was tuned."""

from __future__ import annotations

import numpy as np
import pytest

import dualvec
from dualvec.errors import DualvecError
from dualvec.model import POOLING_SUM, POOLING_UNIT_MEAN, DualVectors
from dualvec.ranking import Ranker
from dualvec.ranking.desm import query_vector
from dualvec.ranking.in_domain import tune_in_domain
from dualvec.text.vocab import Vocabulary
from dualvec.training.contrastive import ContrastiveSettings, draw_pairs, encode_documents, tune

TOPICS = 24
FILLER = [f"fill{i}" for i in range(6)]
N_WORDS = 2 * TOPICS + len(FILLER)


def planted(seed: int = 0) -> tuple[list[str], dict[str, str]]:
    """Training documents whose title says ``alpha<t>`` and whose body says its synonym ``beta<t>``
    (never both in one sentence), and test documents: bodies alone, holding ``beta<t>`` only."""
    rng = np.random.default_rng(seed)
    words = lambda n: " ".join(rng.choice(FILLER, n))  # noqa: E731
    body = lambda t: f"{words(2)} beta{t} {words(1)}. beta{t} {words(2)}."  # noqa: E731
    train = [f"alpha{t}. {body(t)}" for t in range(TOPICS) for _ in range(6)]
    test = {f"d{t}": body(t) for t in range(TOPICS)}
    return train, test


def random_model(seed: int = 0, dim: int = 16) -> DualVectors:
    """A model of the planted vocabulary with random IN and OUT vectors: it knows no synonym."""
    vocab = [f"alpha{t}" for t in range(TOPICS)] + [f"beta{t}" for t in range(TOPICS)] + FILLER
    rng = np.random.default_rng(seed)
    v = len(vocab)
    return DualVectors(Vocabulary(vocab, np.full(v, 10, np.int64)), rng.normal(size=(v, dim)).astype(np.float32),
                       rng.normal(size=(v, dim)).astype(np.float32), tokenizer=dualvec.RegexTokenizer())


FAST = dict(epochs=10, batch_size=32, learning_rate=0.2, temperature=0.1)


def hits_at_1(model: DualVectors, test: dict[str, str]) -> float:
    ranker = Ranker(model).index(test)
    found = 0
    for t in range(TOPICS):
        top = ranker.search(f"alpha{t}", 1, mode="full", alpha=1.0)
        found += bool(top) and top[0][0] == f"d{t}"
    return found / TOPICS


def test_loss_falls():
    train, _ = planted()
    tuned = tune(random_model(), train, ContrastiveSettings(**{**FAST, "epochs": 8}))
    loss = tuned.tuning["loss"]
    assert len(loss) == 8
    assert loss[-1] < 0.5 * loss[0]


def test_tuned_spaces_retrieve_synonyms_untuned_ones_and_bm25_cannot():
    train, test = planted()
    start = random_model()
    tuned = tune(start, train, ContrastiveSettings(**FAST, pairs=("title",)))
    assert tuned.pooling == POOLING_SUM and start.pooling == POOLING_UNIT_MEAN
    # BM25 cannot: no test document holds the query's word
    ranker = Ranker(start).index(test)
    assert all(not ranker.bm25.weighted_scores(ranker.analyzer.query(f"alpha{t}").weights).any()
               for t in range(TOPICS))
    assert hits_at_1(start, test) <= 0.25
    assert hits_at_1(tuned, test) >= 0.9


def test_ranking_pools_as_the_model_was_tuned():
    """A tuned model's query vector is the unit sum of its raw IN rows (the norms weigh the words)."""
    train, _ = planted()
    tuned = tune(random_model(), train, ContrastiveSettings(epochs=1, batch_size=16))
    rows = [tuned.vocab.index[w] for w in ("alpha1", "fill3")]
    raw = np.asarray(tuned.in_vectors.vectors)[rows].sum(axis=0)
    np.testing.assert_allclose(query_vector(tuned, ["alpha1", "fill3"], "in"), raw / np.linalg.norm(raw), rtol=1e-5)


def test_one_thread_and_a_seed_reproduce_a_run():
    train, _ = planted()
    s = ContrastiveSettings(epochs=2, batch_size=16, seed=7)
    a, b = tune(random_model(), train, s), tune(random_model(), train, s)
    np.testing.assert_array_equal(np.asarray(a.in_vectors.vectors), np.asarray(b.in_vectors.vectors))
    np.testing.assert_array_equal(np.asarray(a.out_vectors.vectors), np.asarray(b.out_vectors.vectors))
    c = tune(random_model(), train, ContrastiveSettings(epochs=2, batch_size=16, seed=8))
    assert not np.array_equal(np.asarray(a.in_vectors.vectors), np.asarray(c.in_vectors.vectors))


def test_two_workers_train_too():
    train, _ = planted()
    tuned = tune(random_model(), train, ContrastiveSettings(**{**FAST, "epochs": 8}, workers=2))
    assert tuned.tuning["loss"][-1] < 0.5 * tuned.tuning["loss"][0]


@pytest.mark.parametrize("settings, words", [
    (dict(temperature=0), "temperature"),
    (dict(learning_rate=float("nan")), "learning_rate"),
    (dict(epochs=0), "epochs"),
    (dict(batch_size=1), "batch_size"),
    (dict(pairs=("title", "bogus")), "bogus"),
    (dict(pairs=()), "pairs"),
    (dict(pairs="title"), "pairs"),
    (dict(init="gaussian"), "gaussian"),
    (dict(workers=0), "workers"),
])
def test_bad_settings_are_one_line_errors(settings, words):
    with pytest.raises(DualvecError) as exc:
        ContrastiveSettings(**settings).validate()
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_settings_round_trip_and_refuse_unknown_keys():
    s = ContrastiveSettings(epochs=3, pairs=("crop", "title"), temperature=0.07)
    assert ContrastiveSettings.from_dict(s.to_dict()) == s
    with pytest.raises(DualvecError, match="tempreature"):
        ContrastiveSettings.from_dict({"tempreature": 0.1})


def test_documents_without_pairs_are_refused():
    with pytest.raises(DualvecError, match="no word the model knows"):
        tune(random_model(), ["nothing known here"], ContrastiveSettings(epochs=1))
    with pytest.raises(DualvecError, match="pair"):  # no title anywhere: no title pairs
        tune(random_model(), ["fill1 fill2 fill3 fill4 fill5"], ContrastiveSettings(epochs=1, pairs=("title",)))


def test_pairs_are_cut_as_documented():
    model = random_model()
    docs = [("alpha1", "beta1 fill1 fill2. fill3 fill4 fill5. fill0 alpha2 beta2"), ("alpha3", "beta3 beta4 beta5")]
    source = encode_documents(model, docs)
    words = model.words
    qs, ds = draw_pairs(source, ["title"], 256, np.random.default_rng(0))
    assert [[words[r] for r in q] for q in qs] == [["alpha1"], ["alpha3"]]
    # a body ends where its document ends (the next document's words are not in it)
    assert [[words[r] for r in d] for d in ds] == [
        ["beta1", "fill1", "fill2", "fill3", "fill4", "fill5", "fill0", "alpha2", "beta2"], ["beta3", "beta4", "beta5"]]
    qs, ds = draw_pairs(source, ["sentence"], 256, np.random.default_rng(0))
    assert qs
    for q, d in zip(qs, ds):  # a sentence against the rest of its document, never itself
        assert len(q) == 3 and len(q) + len(d) == 9 and not set(q) & set(d)
    qs, ds = draw_pairs(source, ["crop"], 256, np.random.default_rng(0))
    assert len(qs) == 1  # the second document is too short to crop twice
    for q, d in zip(qs, ds):
        assert 2 <= len(q) <= 9 and 2 <= len(d) <= 9
    body0 = {model.vocab.index[w] for w in docs[0][1].replace(".", "").split()}
    assert set(qs[0]) <= body0 and set(ds[0]) <= body0


def test_a_tuned_model_saves_loads_and_ranks_the_same(tmp_path):
    train, test = planted()
    tuned = tune(random_model(), train, ContrastiveSettings(**{**FAST, "epochs": 3}))
    loaded = dualvec.load(tuned.save(tmp_path / "m"))
    assert loaded.pooling == POOLING_SUM and loaded.tuning == tuned.tuning
    assert loaded.tuning["settings"]["epochs"] == 3 and loaded.tuning["objective"] == "info-nce"
    assert loaded.info()["tuned_for_ranking"]["documents"] == len(train)
    assert Ranker(loaded).index(test).search("alpha3", 5, mode="full", alpha=1.0) == \
        Ranker(tuned).index(test).search("alpha3", 5, mode="full", alpha=1.0)
    assert loaded.most_similar("alpha3", topn=3)  # a model like any other
    with pytest.raises(DualvecError, match="raw vectors"):
        loaded.discard_raw_vectors()


def test_a_corrupt_tuning_record_is_refused(tmp_path):
    import json

    path = random_model().tuned_copy(np.ones((N_WORDS, 16), np.float32), np.ones((N_WORDS, 16), np.float32),
                                     {"pooling": POOLING_SUM}).save(tmp_path / "m")
    from dualvec.atomic import read_header

    header_path = next(p for p in path.rglob("dualvec.json") if read_header(p).get("tuning"))
    header = json.loads(header_path.read_text())
    header["tuning"] = {"pooling": "median"}
    header_path.write_text(json.dumps(header))
    with pytest.raises(DualvecError, match="pooling"):
        dualvec.load(path)


def test_in_domain_tuning_uses_the_index_analysis():
    train, _ = planted()
    tuned = tune_in_domain(random_model(), train + ["the of and alpha1. beta1 the fill1."],
                           settings=ContrastiveSettings(epochs=1, batch_size=16))
    assert "stop words removed" in tuned.tuning["analysis"]


def test_the_fused_first_stage_finds_what_bm25s_pool_misses():
    """BM25 matches no document of a synonym query, so its top k are arbitrary; the fused first stage
    ranks every document by the tuned embeddings with BM25 and finds the relevant one."""
    train, test = planted()
    tuned = tune(random_model(), train, ContrastiveSettings(**FAST, pairs=("title",)))
    bm25_first = Ranker(tuned, first_stage_k=2, alpha=0.6).index(test)
    fused_first = bm25_first.with_config(first_stage="fused")
    for t in (5, 9):
        assert f"d{t}" not in dict(bm25_first.search(f"alpha{t}", 2))
        assert fused_first.search(f"alpha{t}", 2)[0][0] == f"d{t}"
    with pytest.raises(DualvecError, match="first_stage"):
        bm25_first.with_config(first_stage="dense")


def test_the_mixture_can_take_the_tuned_models_alone():
    train, test = planted()
    start = random_model()
    tuned = tune(start, train, ContrastiveSettings(**FAST, pairs=("title",)))
    ranker = Ranker(start, desm_models="tuned").index(test, extra_models={"in-domain": tuned})
    alone = Ranker(tuned).index(test)
    for t in (1, 7):
        got = ranker.candidates(f"alpha{t}", mode="full")
        want = alone.candidates(f"alpha{t}", mode="full")
        np.testing.assert_allclose(got.desm, want.desm, rtol=1e-6)
    mean = ranker.with_config(desm_models="all").candidates("alpha1", mode="full")
    assert not np.allclose(mean.desm, alone.candidates("alpha1", mode="full").desm)


def test_dualvec_index_tunes_the_in_domain_model_and_sets_up_its_mixture(tmp_path):
    import json

    from typer.testing import CliRunner

    from dualvec.cli import app
    from dualvec.ranking.ranker import DEFAULT_ALPHA, TUNED_MIXTURE

    train, _ = planted()
    coll = tmp_path / "docs.tsv"
    coll.write_text("".join(f"d{i}\t{text}\n" for i, text in enumerate(train * 3)))
    fast = ["--in-domain-epochs", "2", "--in-domain-dim", "8", "--no-progress"]
    r = CliRunner().invoke(app, ["index", str(coll), "-o", str(tmp_path / "tuned"), *fast])
    assert r.exit_code == 0, r.output
    assert "tuned for ranking" in r.output
    tuned = Ranker.load(tmp_path / "tuned")
    assert tuned.model.tuning is not None and tuned.model.pooling == POOLING_SUM
    assert {k: getattr(tuned.config, k) for k in TUNED_MIXTURE} == TUNED_MIXTURE
    r = CliRunner().invoke(app, ["index", str(coll), "-o", str(tmp_path / "plain"), "--no-tune", *fast])
    assert r.exit_code == 0, r.output
    plain = Ranker.load(tmp_path / "plain")
    assert plain.model.tuning is None and plain.config.alpha == DEFAULT_ALPHA and plain.config.first_stage == "bm25"
    r = CliRunner().invoke(app, ["index", str(coll), "-o", str(tmp_path / "w"), "--desm-weight", "0.3", *fast])
    assert r.exit_code == 0 and Ranker.load(tmp_path / "w").config.alpha == 0.3
    assert json.loads(json.dumps(tuned.model.info()["tuned_for_ranking"]))["objective"] == "info-nce"


def test_the_learners_pool_takes_the_fused_first_stage_too():
    train, test = planted()
    tuned = tune(random_model(), train, ContrastiveSettings(**FAST, pairs=("title",)))
    ranker = Ranker(tuned, first_stage_k=2, alpha=0.6).index(test)
    assert "d5" not in ranker.features().compute("alpha5").doc_ids  # BM25 and RM3 match nothing
    pool = ranker.with_config(first_stage="fused").features().compute("alpha5")
    assert "d5" in pool.doc_ids and len(pool.doc_ids) == 2


def test_dualvec_train_for_ranking_tunes_on_wikiextractor_documents(tmp_path):
    """A WikiExtractor folder: word2vec on its text, then tuning on one (title, body) per <doc>;
    the markup is no word of the model."""
    from typer.testing import CliRunner

    from dualvec.cli import app

    train, _ = planted()
    wiki = tmp_path / "wiki" / "AA"
    wiki.mkdir(parents=True)
    docs = []
    for i, text in enumerate(train * 2):
        title, body = text.split(". ", 1)
        docs.append(f'<doc id="{i}" url="https://en.wikipedia.org/wiki?curid={i}" title="{title}">\n{title}\n\n'
                    f"{body}\n</doc>\n")
    (wiki / "wiki_00").write_text("".join(docs))
    r = CliRunner().invoke(app, ["train", str(tmp_path / "wiki"), "--for-ranking", "--vector-size", "8",
                                 "--epochs", "1", "--min-count", "1", "--workers", "1", "-o", str(tmp_path / "m"),
                                 "--no-progress"])
    assert r.exit_code == 0, r.output
    model = dualvec.load(tmp_path / "m")
    assert model.tuning["documents"] == len(docs) and model.pooling == POOLING_SUM
    assert "tuned for ranking" in r.output
    assert not {"doc", "curid", "url"} & set(model.words)


def test_tuned_mixture_prefers_the_collections_tuned_model_to_a_tuned_general_one():
    train, test = planted()
    general = tune(random_model(seed=3), train[::2], ContrastiveSettings(epochs=1, batch_size=16))
    domain = tune(random_model(), train, ContrastiveSettings(**FAST, pairs=("title",)))
    both = Ranker(general, desm_models="tuned").index(test, extra_models={"in-domain": domain})
    alone = Ranker(domain).index(test)
    np.testing.assert_allclose(both.candidates("alpha2", mode="full").desm,
                               alone.candidates("alpha2", mode="full").desm, rtol=1e-6)
    only_general = Ranker(general, desm_models="tuned").index(test)  # no in-domain model: the general one
    np.testing.assert_allclose(only_general.candidates("alpha2", mode="full").desm,
                               Ranker(general, desm_models="own").index(test).candidates("alpha2", mode="full").desm)


def test_training_a_tuned_model_further_in_place_drops_its_tuning():
    # word2vec's updates undo the tuning, so the model must pool as word2vec again, not claim "sum"
    train, _ = planted()
    sentences = [doc.replace(".", " ").split() for doc in train] * 4
    model = dualvec.train(sentences, min_count=1, vector_size=8, epochs=1, workers=1, seed=1, progress=False)
    tuned = tune(model, train, ContrastiveSettings(**{**FAST, "epochs": 1}))
    assert tuned.tuning is not None and tuned.pooling != model.pooling
    tuned.train_more(sentences, epochs=1, progress=False)
    assert tuned.tuning is None and tuned.pooling == model.pooling
