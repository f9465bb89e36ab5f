import json

import numpy as np
import pytest

import dualvec
from helpers import data_dir
from dualvec import DualVectors, DualvecError
from dualvec.text.vocab import Vocabulary

ODD_WORDS = ["plain", "with space", "tab\there", "new\nline", "ünïcödé", "emoji 🙂", '"quoted"', "\\back"]


def odd_model():
    rng = np.random.default_rng(0)
    n = len(ODD_WORDS)
    return DualVectors(Vocabulary(ODD_WORDS, np.arange(n, 0, -1)), rng.random((n, 4), dtype=np.float32),
                       rng.random((n, 4), dtype=np.float32), out_kind="negative-sampling")


def test_round_trip_keeps_any_word_and_maps_read_only(tmp_path):
    m = odd_model()
    m.save(tmp_path / "m")
    back = dualvec.load(tmp_path / "m")
    assert back.words == ODD_WORDS
    np.testing.assert_array_equal(back.in_vectors.vectors, m.in_vectors.vectors)
    np.testing.assert_array_equal(back.out_vectors.vectors, m.out_vectors.vectors)
    np.testing.assert_array_equal(back.vocab.counts, m.vocab.counts)
    assert isinstance(back.in_vectors.vectors, np.memmap)
    assert not back.in_vectors.vectors.flags.writeable
    eager = dualvec.load(tmp_path / "m", mmap=False)
    assert not isinstance(eager.in_vectors.vectors, np.memmap)


def test_trained_model_round_trip_keeps_params_tokenizer_and_hs_tree(tmp_path):
    m = dualvec.train([["a", "b", "c", "a", "b"]] * 20, sg=True, hs=True, negative=2, min_count=1,
                      vector_size=8, epochs=2, workers=1, progress=False)
    m.save(tmp_path / "m")
    back = dualvec.load(tmp_path / "m")
    assert back.params == m.params and repr(back.tokenizer) == repr(m.tokenizer)
    assert len(back.history) == 2 and back.history[-1].loss == m.history[-1].loss
    np.testing.assert_array_equal(back.hs_nodes, m.hs_nodes)
    np.testing.assert_allclose(back.hs_log_prob("a"), m.hs_log_prob("a"))


def test_save_is_atomic_under_failure(tmp_path, monkeypatch):
    path = tmp_path / "m"
    odd_model().save(path)
    before = sorted(p.name for p in path.iterdir())
    calls = {"n": 0}
    real_save = np.save

    def failing_save(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(np, "save", failing_save)
    other = DualVectors(Vocabulary(["x", "y"], np.array([1, 1])), np.ones((2, 3), np.float32))
    with pytest.raises(OSError, match="disk full"):
        other.save(path)
    monkeypatch.undo()
    assert sorted(p.name for p in path.iterdir()) == before
    assert dualvec.load(path).words == ODD_WORDS
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary left behind


def test_refuses_to_overwrite_something_else(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("precious")
    with pytest.raises(DualvecError, match="not a dualvec model"):
        odd_model().save(tmp_path / "notes")
    assert (tmp_path / "notes" / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize("mmap", [True, False])
def test_truncated_array_is_a_clear_error(tmp_path, mmap):
    odd_model().save(tmp_path / "m")
    f = data_dir(tmp_path / "m") / "in_vectors.npy"
    f.write_bytes(f.read_bytes()[:-20])
    with pytest.raises(DualvecError, match="in_vectors.npy is corrupt or truncated"):
        dualvec.load(tmp_path / "m", mmap=mmap)


def test_pickled_array_is_refused_not_run(tmp_path):
    odd_model().save(tmp_path / "m")
    obj = np.empty(len(ODD_WORDS), dtype=object)
    np.save(data_dir(tmp_path / "m") / "counts.npy", obj, allow_pickle=True)
    with pytest.raises(DualvecError, match="counts.npy"):
        dualvec.load(tmp_path / "m")


@pytest.mark.parametrize("damage", ["header", "vocab", "shape", "missing", "version", "unsafe"])
def test_corrupt_model_directory(tmp_path, damage):
    odd_model().save(tmp_path / "m")
    d = tmp_path / "m"
    data = data_dir(d)
    header = json.loads((d / "dualvec.json").read_text())
    if damage == "header":
        (d / "dualvec.json").write_text("{not json")
    elif damage == "vocab":
        (data / "vocab.json").write_text(json.dumps(ODD_WORDS[:-1]))
    elif damage == "shape":
        np.save(data / "out_vectors.npy", np.zeros((len(ODD_WORDS), 5), np.float32))
    elif damage == "missing":
        (data / "out_vectors.npy").unlink()
    elif damage == "version":
        (d / "dualvec.json").write_text(json.dumps(dict(header, format_version=99)))
    elif damage == "unsafe":
        (d / "dualvec.json").write_text(json.dumps(dict(header, files={"in_vectors": "../../etc/passwd"})))
    with pytest.raises(DualvecError):
        dualvec.load(d)


def test_not_a_model(tmp_path):
    with pytest.raises(DualvecError, match="not found"):
        dualvec.load(tmp_path / "nothing")
    (tmp_path / "f.txt").write_text("hello")
    with pytest.raises(DualvecError, match="is a file"):
        dualvec.load(tmp_path / "f.txt")
