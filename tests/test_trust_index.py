"""Issue 29 (the third trust pass), indexes: a save never writes where it did not check; readers
of an index (a search, the explorer) see the old version or the new one, whole, however long they
live; bad numbers in an index are refused; an IN-only model gives an index that searches; the
explorer answers promptly for a FIFO and for a body over its limit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import dualvec
from dualvec import DualvecError
from helpers import data_dir, running_server
from test_trust_files import DOCS, assert_one_error_line, ranker_index, run_cli, snapshot, tiny_model

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symlinks, FIFOs and flock are POSIX")


# -- a save writes only where it checked ---------------------------------------------------------


def _user_folder(path: Path) -> dict[str, bytes]:
    """A user's folder, with a dualvec.json of their own that a save must never replace."""
    path.mkdir()
    (path / "dualvec.json").write_text('{"mine": true}')
    (path / "notes.md").write_text("my notes")
    return snapshot(path)


def _swap_at(monkeypatch, call: int, user: Path) -> list[Path]:
    """On the ``call``-th new generation of a save (after the directory was checked and locked,
    before anything is written in it), rename the directory it is made in aside and put a symlink
    to ``user`` in its place: the race of issue 29, made deterministic. Returns where it went."""
    import dualvec.atomic as atomic

    original, seen, moved = atomic._new_generation, [0], []

    def swapping(*args, **kwargs):
        seen[0] += 1
        if seen[0] == call:
            where = args[0] if isinstance(args[0], (str, os.PathLike)) else args[0].shown
            where = Path(os.path.realpath(where))  # a nested save's is /proc/self/fd/N/model
            aside = where.with_name(where.name + ".moved")
            os.rename(where, aside)
            os.symlink(user, where)
            moved.append(aside)
        return original(*args, **kwargs)

    monkeypatch.setattr(atomic, "_new_generation", swapping)
    return moved


def test_a_model_save_never_writes_into_a_folder_swapped_in_after_its_checks(tmp_path, monkeypatch):
    m, user = tmp_path / "m.dv", tmp_path / "user"
    tiny_model(1).save(m)
    before = _user_folder(user)
    moved = _swap_at(monkeypatch, 1, user)
    try:
        tiny_model(2).save(m)
        saved = True
    except DualvecError:
        saved = False
    monkeypatch.undo()
    assert moved, "the swap did not happen"
    assert snapshot(user) == before and sorted(os.listdir(user)) == ["dualvec.json", "notes.md"]
    if saved:  # it completed in the directory it had checked, now renamed aside
        np.testing.assert_array_equal(dualvec.load(moved[0]).in_vectors.vectors, tiny_model(2).in_vectors.vectors)


def test_an_index_save_never_writes_into_a_folder_swapped_in_for_its_nested_model(tmp_path, monkeypatch):
    from dualvec.ranking import Ranker

    with pytest.warns(UserWarning):  # the tiny model records no tokeniser
        ranker = Ranker(tiny_model(), stopwords=None).index(DOCS)
    user = tmp_path / "user"
    before = _user_folder(user)
    moved = _swap_at(monkeypatch, 2, user)  # the first new generation is the index's, the second its model's
    try:
        ranker.save(tmp_path / "idx")
    except DualvecError:
        pass
    monkeypatch.undo()
    assert moved and moved[0].parent.parent == tmp_path / "idx", moved
    assert snapshot(user) == before and sorted(os.listdir(user)) == ["dualvec.json", "notes.md"]


# -- readers see one whole version ---------------------------------------------------------


def _versioned_docs(tag: str) -> dict[str, str]:
    """The collection with every text marked by ``tag``: a reader sees one version whole."""
    return {d: f"{t} {tag}" for d, t in DOCS.items()}


_RESAVER = textwrap.dedent("""
    import sys, warnings
    warnings.simplefilter("ignore")
    sys.path.insert(0, sys.argv[3])
    from test_trust_files import tiny_model
    from test_trust_index import _versioned_docs
    from dualvec.ranking import Ranker
    path, n = sys.argv[1], int(sys.argv[2])
    rankers = [Ranker(tiny_model(), stopwords=None).index(_versioned_docs(tag)) for tag in ("alpha", "beta")]
    for i in range(n):
        rankers[i % 2].save(path)
""")


def _whole(ranker) -> str:
    """The version a loaded index shows, after a pause (a slow reader): its documents' texts,
    read by path after loading, must all be from one save."""
    time.sleep(0.05)
    assert ranker.search("w1", 3)
    tags = {ranker.texts[i].rsplit(" ", 1)[1] for i in range(len(ranker.texts))}
    assert len(tags) == 1, tags
    return tags.pop()


def test_searches_during_a_resave_loop_always_see_one_whole_index(tmp_path):
    from dualvec.ranking import Ranker

    idx = tmp_path / "idx"
    with pytest.warns(UserWarning):
        Ranker(tiny_model(), stopwords=None).index(_versioned_docs("alpha")).save(idx)
    saver = subprocess.Popen([sys.executable, "-c", _RESAVER, str(idx), "60", str(Path(__file__).parent)],
                             stderr=subprocess.PIPE)
    seen, failures, reads = set(), [], 0
    try:
        while saver.poll() is None:
            try:
                seen.add(_whole(Ranker.load(idx)))
                reads += 1
            except DualvecError as exc:
                failures.append(str(exc))
    finally:
        _, err = saver.communicate(timeout=120)
    assert saver.returncode == 0, err.decode()
    assert not failures, failures[:3]
    assert reads >= 5 and seen <= {"alpha", "beta"}
    with pytest.warns(UserWarning):  # no reader holds any generation now: the next save removes the old ones
        Ranker(tiny_model(), stopwords=None).index(_versioned_docs("gamma")).save(idx)
    assert len([p for p in idx.iterdir() if p.name.startswith("data-")]) == 1


def _get(url: str, timeout: float = 15) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_explorer_keeps_answering_across_index_rebuilds(tmp_path):
    from dualvec.ranking import Ranker

    model, idx = tmp_path / "m.dv", tmp_path / "idx"
    tiny_model().save(model)
    with pytest.warns(UserWarning):
        rankers = {tag: Ranker(tiny_model(), stopwords=None).index(_versioned_docs(tag)) for tag in ("alpha", "beta")}
    rankers["alpha"].save(idx)
    with running_server(model, idx) as base:
        for tag in ("beta", "alpha", "beta"):
            rankers[tag].save(idx)  # dualvec index ... -o IDX, or tune --save, while it serves
            status, found = _get(f"{base}/api/search?q=w1&k=3")
            assert status == 200 and found["results"], found
            status, doc = _get(f"{base}/api/document?doc_id=d2")
            assert status == 200 and doc["text"] == "w4 w5 w1 alpha", doc  # the version it opened, whole


# -- bad numbers in an index -----------------------------------------------------------------


def _centroids(idx: Path, space: str = "out") -> Path:
    return data_dir(idx) / f"centroids_{space}.npy"


def test_a_nan_row_in_the_centroids_is_refused(tmp_path):
    ranker_index(tmp_path / "idx")
    f = _centroids(tmp_path / "idx")
    arr = np.load(f)
    arr[1] = np.nan
    np.save(f, arr)
    assert_one_error_line(run_cli("search", str(tmp_path / "idx"), "w1"), "centroids_out.npy")


def test_a_nan_row_is_refused_even_in_an_index_that_records_no_digests(tmp_path):
    from dualvec.ranking import Ranker

    ranker_index(tmp_path / "idx")
    header = tmp_path / "idx" / "ranker.json"
    h = json.loads(header.read_text())
    h.pop("digests", None)  # as an index an older dualvec wrote
    header.write_text(json.dumps(h))
    f = _centroids(tmp_path / "idx")
    arr = np.load(f)
    arr[1] = np.nan
    np.save(f, arr)
    with pytest.raises(DualvecError, match="NaN or infinity") as exc:
        Ranker.load(tmp_path / "idx")
    assert "\n" not in str(exc.value)


def test_centroids_copied_in_from_another_index_are_refused(tmp_path):
    from dualvec.ranking import Ranker

    ranker_index(tmp_path / "a")
    with pytest.warns(UserWarning):
        Ranker(tiny_model(seed=5), stopwords=None).index(DOCS).save(tmp_path / "b")
    shutil.copyfile(_centroids(tmp_path / "b", "in"), _centroids(tmp_path / "a", "in"))  # same shape, other numbers
    assert_one_error_line(run_cli("search", str(tmp_path / "a"), "w1"), "centroids_in.npy", "digest")


# -- an IN-only model ---------------------------------------------------------------------------


def test_an_index_of_an_in_only_model_searches_in_in_in_and_says_why(tmp_path):
    m = tiny_model()
    vectors = np.asarray(m.in_vectors.vectors)
    (tmp_path / "w2v.txt").write_text(f"{len(m.words)} {vectors.shape[1]}\n" + "".join(
        w + " " + " ".join(f"{x:.6f}" for x in row) + "\n" for w, row in zip(m.words, vectors)))
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps({"_id": d, "text": t}) + "\n" for d, t in DOCS.items()))
    built = run_cli("index", str(tmp_path / "w2v.txt"), str(tmp_path / "docs.jsonl"), "-o", str(tmp_path / "idx"),
                    "--no-in-domain", "--stopwords", "none")
    assert built.returncode == 0, built.stderr
    assert "IN vectors only" in built.stderr and "'in-in'" in built.stderr, built.stderr
    assert json.loads((tmp_path / "idx" / "ranker.json").read_text())["config"]["space"] == "in-in"
    found = run_cli("search", str(tmp_path / "idx"), "w1", "--format", "json")
    assert found.returncode == 0, found.stderr
    assert "d1" in found.stdout and "d2" in found.stdout


# -- the explorer answers promptly ------------------------------------------------------------------


def test_the_explorer_answers_a_fifo_for_the_texts_promptly(tmp_path):
    model, idx = tmp_path / "m.dv", tmp_path / "idx"
    tiny_model().save(model)
    ranker_index(idx)
    texts = data_dir(idx) / "texts.jsonl"
    with running_server(model, idx) as base:
        texts.unlink()
        os.mkfifo(texts)  # after the server opened the index
        started = time.monotonic()
        status, body = _get(f"{base}/api/document?doc_id=d2", timeout=15)
        assert time.monotonic() - started < 10
        assert status == 200 and body["text"] == DOCS["d2"] or 400 <= status < 500, (status, body)


def test_the_explorer_answers_a_12_mb_passage_with_413(tmp_path):
    model = tmp_path / "m.dv"
    tiny_model().save(model)
    body = json.dumps({"query": "w1", "passage": "w1 " * 4_000_000}).encode()
    with running_server(model) as base:
        req = urllib.request.Request(f"{base}/api/text", data=body, headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(req, timeout=30)
        assert exc.value.code == 413 and "1,048,576 bytes" in exc.value.read().decode()
        assert _get(f"{base}/api/model")[0] == 200  # and it goes on serving


def test_a_centroid_index_build_never_writes_into_a_folder_swapped_in_after_its_checks(tmp_path, monkeypatch):
    import dualvec.scale.index as scale

    (tmp_path / "docs.jsonl").write_text("".join(json.dumps({"_id": d, "text": t}) + "\n" for d, t in DOCS.items()))
    user, idx = tmp_path / "user", tmp_path / "idx"
    before = _user_folder(user)
    original = scale._build

    def swapping(model, collection, root, **kwargs):  # checked and locked; nothing written yet
        os.rename(root, root.with_name("idx.moved"))
        os.symlink(user, root)
        return original(model, collection, root, **kwargs)

    monkeypatch.setattr(scale, "_build", swapping)
    with pytest.raises(DualvecError, match="moved or replaced"):
        scale.build_index(tiny_model(), tmp_path / "docs.jsonl", idx, progress=False)
    assert snapshot(user) == before and sorted(os.listdir(user)) == ["dualvec.json", "notes.md"]


def test_an_error_inside_a_save_names_the_directory_as_the_user_named_it(tmp_path):
    # fill writes through /proc/self/fd/N (the pinned directory); its errors must not show that path
    from dualvec.atomic import write_versioned_dir

    def fill(where):
        (where / "part").mkdir()
        raise DualvecError(f"{where / 'part' / 'x.npy'} is bad")

    with pytest.raises(DualvecError) as exc:
        write_versioned_dir(tmp_path / "out", "h.json", fill, kind="test", is_ours=lambda h: True)
    assert "/proc/self/fd" not in str(exc.value), str(exc.value)
    assert str(exc.value).startswith(str(tmp_path / "out" / "data-")) and str(exc.value).endswith("part/x.npy is bad")
