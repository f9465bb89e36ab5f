"""Interop: gensim models of every version, fastText .bin, DESM's published
files, and the way back to gensim. The test set is the old model files that
ship inside the gensim package (a dev dependency)."""

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import dualvec
from dualvec import DualvecError
from dualvec.formats import detect_format, from_gensim, import_model, to_gensim
from dualvec.formats.fasttext import load_fasttext
from dualvec.formats.gensim import load_gensim

gensim = pytest.importorskip("gensim", reason="gensim (dev dependency) is not installed")
DATA = Path(os.path.dirname(gensim.__file__)) / "test" / "test_data"
OLD = sorted((DATA / "old_w2v_models").glob("*.mdl"))
PICKLED = OLD + [DATA / f for f in ["w2v-lee-v0.12.0", "word2vec_old", "word2vec_old_sep", "word2vec_pre_kv_py2",
                                    "word2vec_pre_kv_py3", "word2vec_pre_kv_py3_4", "word2vec_pre_kv_sep_py2",
                                    "word2vec_pre_kv_sep_py3", "word2vec_pre_kv_sep_py3_4", "word2vec_3.3",
                                    "model-from-gensim-3.8.0.w2v"]]


@pytest.mark.parametrize("path", PICKLED, ids=lambda p: p.name)
def test_every_old_gensim_word2vec_model_loads_with_its_out_space(path):
    model = import_model(path)
    assert detect_format(path) == "gensim"
    assert len(model) > 0 and model.out_vectors is not None
    assert np.isfinite(model.in_vectors.vectors).all() and np.isfinite(model.out_vectors.vectors).all()
    if model.tree is not None:  # hierarchical softmax: exact scores (and, HS-only, an approximate OUT space)
        assert model.out_kind.startswith("hs-linearised") or model.out_kind == "negative-sampling"
        assert np.exp(model.hs_log_prob(model.words[0])).sum() == pytest.approx(1.0, rel=1e-3)
    try:
        theirs = gensim.models.Word2Vec.load(str(path))
    except Exception:
        return  # gensim 4 itself can no longer load the oldest files
    assert model.words == list(theirs.wv.index_to_key)
    np.testing.assert_array_equal(model.in_vectors.vectors, theirs.wv.vectors)
    if model.out_kind == "negative-sampling":
        np.testing.assert_array_equal(model.out_vectors.vectors, theirs.syn1neg)


def test_keyedvectors_file_and_word2vec_c_files_in_the_test_data():
    kv = import_model(DATA / "old_keyedvectors_320.dat")
    assert kv.out_vectors is None and len(kv) == 12
    assert detect_format(DATA / "word2vec_pre_kv_c") == "word2vec"
    assert len(import_model(DATA / "word2vec_pre_kv_c")) > 0
    broken = DATA / "w2v_keyedvectors_load_test.modeldata"  # holds a word cut inside a UTF-8 character
    with pytest.raises(DualvecError, match="not valid UTF-8"):
        import_model(broken)
    assert len(import_model(broken, encoding_errors="replace")) > 0


def test_sidecar_arrays_are_memory_mapped():
    model = load_gensim(DATA / "word2vec_old_sep", mmap=True)  # syn1neg was saved beside the pickle
    assert isinstance(model.out_vectors.vectors, np.memmap)


def test_gensim4_model_saved_with_sidecars_round_trips(tmp_path, lee_path):
    theirs = gensim.models.Word2Vec(gensim.models.word2vec.LineSentence(str(lee_path)), vector_size=16,
                                    min_count=5, epochs=1, hs=1, negative=5, workers=1)
    theirs.save(str(tmp_path / "m.model"), sep_limit=0)  # every array in its own .npy
    assert (tmp_path / "m.model.syn1neg.npy").exists()
    ours = import_model(tmp_path / "m.model")
    np.testing.assert_array_equal(ours.in_vectors.vectors, theirs.wv.vectors)
    np.testing.assert_array_equal(ours.out_vectors.vectors, theirs.syn1neg)
    # gensim allocates V rows of syn1; a Huffman tree over V words has V - 1 inner nodes, and the
    # last row is never trained (issue 13: keeping it made imported models fail to load again).
    np.testing.assert_array_equal(ours.hs_nodes, theirs.syn1[:-1])
    assert not theirs.syn1[-1].any()
    assert ours.vocab.counts[0] == theirs.wv.get_vecattr(theirs.wv.index_to_key[0], "count")
    assert ours.params.hs and ours.params.negative == 5
    # in memory too, and back to gensim
    mem = from_gensim(theirs)
    np.testing.assert_array_equal(mem.out_vectors.vectors, ours.out_vectors.vectors)
    back = to_gensim(ours)
    w = ours.words[10]
    np.testing.assert_array_equal(back.syn1neg[back.wv.key_to_index[w]], ours.out_vectors[w])
    kv_out = to_gensim(ours, space="out")
    assert kv_out.most_similar(w, topn=3)[0][0] == ours.most_similar(w, space="out-out", topn=3)[0][0]
    back.save(str(tmp_path / "back.model"))
    reloaded = gensim.models.Word2Vec.load(str(tmp_path / "back.model"))
    np.testing.assert_array_equal(reloaded.syn1neg, back.syn1neg)


class Boom:
    def __reduce__(self):
        return (os.system, ("touch /tmp/dualvec-pwned",))


def test_a_pickle_with_foreign_classes_is_refused_not_run(tmp_path):
    marker = Path("/tmp/dualvec-pwned")
    marker.unlink(missing_ok=True)
    (tmp_path / "evil.model").write_bytes(pickle.dumps({"wv": Boom()}))
    with pytest.raises(DualvecError, match="refusing to load posix.system|refusing to load os.system"):
        load_gensim(tmp_path / "evil.model")
    assert not marker.exists()


@pytest.mark.parametrize("name", ["word2vec_pre_kv_py3", "lee_fasttext_new.bin"])
def test_fuzzed_files_load_or_raise_our_error(tmp_path, name):
    data = bytearray((DATA / name).read_bytes())
    rng = np.random.default_rng(0)
    for trial in range(120):
        mutated = bytearray(data)
        if trial % 2:
            mutated = mutated[: int(rng.integers(0, len(mutated)))]
        else:
            for _ in range(4):
                mutated[int(rng.integers(0, len(mutated)))] ^= 1 << int(rng.integers(0, 8))
        path = tmp_path / f"f{trial}"
        path.write_bytes(bytes(mutated))
        try:
            model = import_model(path, format="fasttext" if name.endswith(".bin") else "gensim", mmap=False)
            assert len(model.in_vectors) == len(model)
        except DualvecError:
            pass


@pytest.mark.parametrize("name", ["lee_fasttext.bin", "lee_fasttext_new.bin", "non_ascii_fasttext.bin",
                                  "cp852_fasttext.bin"])
def test_fasttext_bin_matches_fasttexts_own_word_vectors(name):
    from gensim.models.fasttext import load_facebook_model

    ours = import_model(DATA / name)
    assert detect_format(DATA / name) == "fasttext"
    theirs = load_facebook_model(str(DATA / name))
    rows = [theirs.wv.key_to_index[w] for w in ours.words]
    np.testing.assert_allclose(ours.in_vectors.vectors, theirs.wv.vectors[rows], atol=1e-5)
    np.testing.assert_array_equal(ours.out_vectors.vectors, theirs.syn1neg[rows])


def test_fasttext_errors(tmp_path):
    data = (DATA / "lee_fasttext_new.bin").read_bytes()
    (tmp_path / "v99.bin").write_bytes(data[:4] + np.int32(99).tobytes() + data[8:])
    with pytest.raises(DualvecError, match="version 99 is unknown"):
        load_fasttext(tmp_path / "v99.bin")
    (tmp_path / "cut.bin").write_bytes(data[: len(data) // 2])
    with pytest.raises(DualvecError, match="truncated"):
        load_fasttext(tmp_path / "cut.bin")
    sup = load_fasttext(DATA / "pang_lee_polarity_fasttext.bin")
    assert sup.out_vectors is None  # a supervised model's output rows are labels


def test_desm_published_format_two_tab_separated_files(tmp_path):
    words = ["yale", "harvard", "faculty"]
    rng = np.random.default_rng(0)
    vin, vout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    for name, m in [("in.txt", vin), ("out.txt", vout)]:
        (tmp_path / name).write_text("".join(w + "\t" + "\t".join(f"{x:.6f}" for x in row) + "\n"
                                             for w, row in zip(words, m)))
    model = import_model(tmp_path / "in.txt", format="desm", out_path=tmp_path / "out.txt")
    np.testing.assert_allclose(model.out_vectors["faculty"], vout[2], atol=1e-6)
    assert model.words == words


def test_cli_import_and_export_gensim(tmp_path):
    from typer.testing import CliRunner

    from dualvec.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["import", str(DATA / "word2vec_pre_kv_sep_py3"), "-o", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    model = dualvec.load(tmp_path / "m")
    assert model.out_kind == "negative-sampling"
    r = runner.invoke(app, ["export", str(tmp_path / "m"), str(tmp_path / "g.model"), "--format", "gensim"])
    assert r.exit_code == 0, r.output
    g = gensim.models.Word2Vec.load(str(tmp_path / "g.model"))
    rows = [g.wv.key_to_index[w] for w in model.words]
    np.testing.assert_array_equal(g.syn1neg[rows], model.out_vectors.vectors)
    r = runner.invoke(app, ["neighbors", str(DATA / "lee_fasttext_new.bin"), "the", "--topn", "2"])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("path", PICKLED, ids=lambda p: p.name)
def test_every_imported_gensim_model_saves_and_loads_back_array_for_array(path, tmp_path):
    model = import_model(path, mmap=False)
    model.save(tmp_path / "m")
    back = dualvec.load(tmp_path / "m")
    assert back.words == model.words and back.out_kind == model.out_kind
    np.testing.assert_array_equal(back.vocab.counts, model.vocab.counts)
    for a, b in [(back.in_vectors.vectors, model.in_vectors.vectors),
                 (back.out_vectors.vectors, model.out_vectors.vectors)]:
        np.testing.assert_array_equal(a, b)
    if model.tree is not None:
        np.testing.assert_array_equal(back.hs_nodes, model.hs_nodes)
        for x, y in [(back.tree.codes, model.tree.codes), (back.tree.points, model.tree.points),
                     (back.tree.offsets, model.tree.offsets)]:
            np.testing.assert_array_equal(x, y)


def test_one_space_to_gensim_round_trips_through_a_word2vec_file(tmp_path):
    model = import_model(DATA / "word2vec_pre_kv_py3", mmap=False)
    for space in ("in", "out"):
        kv = to_gensim(model, space=space)
        assert len(kv) == len(model) == len(kv.index_to_key) == kv.vectors.shape[0]
        assert None not in kv.index_to_key
        np.testing.assert_array_equal(kv.vectors, model.space(space).vectors)
        assert kv.get_vecattr(model.words[3], "count") == model.vocab.counts[3]
        kv.save_word2vec_format(str(tmp_path / f"{space}.txt"))
        again = gensim.models.KeyedVectors.load_word2vec_format(str(tmp_path / f"{space}.txt"))
        assert again.index_to_key == model.words
        np.testing.assert_allclose(again.vectors, model.space(space).vectors, rtol=1e-5, atol=1e-7)


def test_gensim_export_keeps_dualvecs_row_order_and_training_settings(tmp_path):
    sents = [["a", "b", "c", "d"], ["b", "a", "d", "c"], ["e", "f", "e", "f"]] * 20  # many tied counts
    model = dualvec.train(sents, sg=True, min_count=2, epochs=3, vector_size=8, workers=1, progress=False)
    w2v = to_gensim(model)
    assert w2v.wv.index_to_key == model.words
    np.testing.assert_array_equal(w2v.syn1neg, model.out_vectors.vectors)
    assert w2v.epochs == 3 and w2v.min_count == 2
    assert [w2v.wv.get_vecattr(w, "count") for w in model.words] == list(model.vocab.counts)
    w2v.save(str(tmp_path / "x.model"))
    assert gensim.models.Word2Vec.load(str(tmp_path / "x.model")).wv.index_to_key == model.words


def test_gensim4_bare_keyedvectors_load(tmp_path):
    theirs = gensim.models.Word2Vec([["a", "b", "c"]] * 20, vector_size=8, min_count=1, workers=1).wv
    theirs.save(str(tmp_path / "kv.kv"))
    for model in (import_model(tmp_path / "kv.kv"), from_gensim(theirs)):
        assert model.words == theirs.index_to_key and model.out_vectors is None
        np.testing.assert_array_equal(model.in_vectors.vectors, theirs.vectors)


def test_a_pickle_listing_a_word_twice_is_refused_at_import(tmp_path):
    model = gensim.models.Word2Vec([["a", "b", "c"]] * 20, vector_size=8, min_count=1, workers=1)
    model.wv.index_to_key[2] = model.wv.index_to_key[0]
    model.save(str(tmp_path / "dup.model"))
    with pytest.raises(DualvecError, match="twice"):
        import_model(tmp_path / "dup.model")
