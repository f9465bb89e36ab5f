"""A learned ranker read from a file cannot crash, hang or mislead the process (issue 29, §2).

LightGBM only fits: its trees are copied into dualvec's own JSON and evaluated by dualvec's
kernel, which must equal LightGBM's ``predict`` (and ``pred_contrib``). Every edit the
adversarial pass made to the model text (and its counterpart in the JSON form) is one
DualvecError, checked in a child process with a timeout, since on the old code they killed
or hung the process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from dualvec.errors import DualvecError
from dualvec.ranking.learned import LambdaMART, learner_from_dict
from dualvec.ranking.trees import Forest

NAMES = ("bm25", "rm3", "desm_in_out", "query_length")


def _data(n_queries=20, per=20, seed=0, nan=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_queries * per, len(NAMES)))
    y = np.clip((X[:, 0] > 0.3).astype(int) + (X[:, 1] * X[:, 2] > 0.4), 0, 3)
    if nan:
        X[rng.random(X.shape) < nan] = np.nan
    return X, y, [per] * n_queries


def _booster(params=None, nan=0.0, rounds=20):
    lgb = pytest.importorskip("lightgbm", reason="fitting needs LightGBM (dualvec[ltr])")
    X, y, g = _data(nan=nan)
    p = {"objective": "lambdarank", "num_leaves": 7, "min_data_in_leaf": 5, "verbose": -1, "seed": 0,
         "label_gain": [0, 1, 2, 3], "num_threads": 1, **(params or {})}
    return lgb.train(p, lgb.Dataset(X, label=y, group=g), num_boost_round=rounds)


@pytest.mark.parametrize("params, nan", [({}, 0.0), ({}, 0.1), ({"zero_as_missing": True}, 0.1)],
                         ids=["finite", "nan-as-missing", "zero-as-missing"])
def test_dualvecs_trees_equal_lightgbms_predict_and_shap(params, nan):
    booster = _booster(params, nan)
    forest = Forest.from_lightgbm(booster.model_to_string(), len(NAMES))
    rng = np.random.default_rng(5)
    Xq = rng.normal(size=(300, len(NAMES)))
    Xq[rng.random(Xq.shape) < 0.15] = np.nan  # rows with missing values, and exact zeros
    Xq[:30, 0] = 0.0
    np.testing.assert_array_equal(forest.predict(Xq), booster.predict(Xq))
    np.testing.assert_allclose(forest.contributions(Xq), booster.predict(Xq, pred_contrib=True), atol=1e-12)
    back = Forest.from_json(json.loads(json.dumps(forest.to_json())), len(NAMES))
    np.testing.assert_array_equal(back.predict(Xq), forest.predict(Xq))


def test_a_fitted_lambdamart_predicts_and_saves_without_lightgbm(monkeypatch):
    pytest.importorskip("lightgbm", reason="fitting needs LightGBM (dualvec[ltr])")
    X, y, g = _data()
    lm = LambdaMART(n_estimators=15, min_data_in_leaf=5).fit(X, y, g, NAMES)
    d = json.loads(json.dumps(lm.to_dict()))
    assert d["format_version"] == 2 and "trees" in d and "model" not in d
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # loading and ranking never import it
    back = learner_from_dict(d)
    np.testing.assert_array_equal(back.predict(X, g), lm.predict(X, g))
    np.testing.assert_allclose(back.contributions(X, g).sum(axis=1) + back.trees_.contributions(
        back.normalized(X, g))[:, -1], back.predict(X, g), atol=1e-9)


def _old_form(booster) -> dict:
    """A ranker as dualvec format 1 saved it: LightGBM's model text inside the JSON."""
    return {"format": "dualvec-learned-ranker", "format_version": 1, "learner": "lightgbm",
            "params": {"n_estimators": 20}, "feature_names": list(NAMES), "model": booster.model_to_string()}


def test_an_old_ranker_holding_lightgbm_text_is_converted_and_ranks_the_same():
    booster = _booster()
    back = learner_from_dict(_old_form(booster))
    X, _, g = _data(seed=3)
    np.testing.assert_array_equal(back.predict(X), booster.predict(back.normalized(X)))


def _tree_line(text: str, key: str, edit) -> str:
    """``text`` with Tree=0's ``key=`` line's values passed through ``edit`` (a list -> list)."""
    head, _, rest = text.partition("Tree=0\n")
    m = re.search(rf"^{key}=(.*)$", rest, flags=re.M)
    values = edit(m.group(1).split())
    return head + "Tree=0\n" + rest[:m.start()] + f"{key}=" + " ".join(map(str, values)) + rest[m.end():]


def _resized(text: str) -> str:
    """``text`` with its tree_sizes recomputed, so that an edit gets past that check to the next."""
    body = text[:text.index("\nend of trees")]
    blocks = body.split("\nTree=")[1:]
    sizes = " ".join(str(len(("Tree=" + b + "\n").encode())) for b in blocks)
    return re.sub(r"^tree_sizes=.*$", f"tree_sizes={sizes}", text, count=1, flags=re.M)


def _set(i, v):
    def edit(values):
        values[i] = v
        return values
    return edit


#: The adversarial pass's edits to the model text (and what the error names).
TEXT_EDITS = {
    "threshold=nan": (lambda t: _tree_line(t, "threshold", _set(0, "nan")), "threshold holds nan"),
    "tree_sizes=99999999": (lambda t: re.sub(r"^tree_sizes=.*$", "tree_sizes=99999999", t, flags=re.M),
                            "tree_sizes"),
    "child out of range": (lambda t: _tree_line(t, "left_child", _set(0, 1000)), "child 1000 is out of range"),
    "split_feature=1000000": (lambda t: _tree_line(t, "split_feature", _set(0, 1000000)),
                              "split_feature 1000000 is not one of the 4 features"),
    "cyclic tree": (lambda t: _tree_line(t, "left_child", _set(1, 0)), "not a tree"),
    "leaf out of range": (lambda t: _tree_line(t, "right_child", lambda v: [-99 if int(c) < 0 else c for c in v]),
                          "child -99 is out of range"),
    "num_class=1000000000": (lambda t: t.replace("num_class=1\n", "num_class=1000000000\n"), "num_class=1000000000"),
}


def _json_tree_edit(key, edit):
    def apply(d):
        d = json.loads(json.dumps(d))
        d["trees"][0][key] = edit(d["trees"][0][key])
        return d
    return apply


#: The same edits on the JSON form (no declared counts there: the lists' own lengths count).
JSON_EDITS = {
    "threshold NaN": (_json_tree_edit("threshold", _set(0, float("nan"))), "threshold holds nan"),
    "a leaf value too few": (_json_tree_edit("leaf_value", lambda v: v[:-1]), "leaf values"),
    "child out of range": (_json_tree_edit("left_child", _set(0, 1000)), "child 1000 is out of range"),
    "split_feature 1000000": (_json_tree_edit("split_feature", _set(0, 1000000)), "split_feature 1000000"),
    "cyclic tree": (_json_tree_edit("left_child", _set(1, 0)), "not a tree"),
    "leaf out of range": (_json_tree_edit("right_child", lambda v: [-99 if c < 0 else c for c in v]),
                          "child -99 is out of range"),
    "a string count": (_json_tree_edit("leaf_count", _set(0, "1e9")), "leaf_count holds '1e9'"),
}

_CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    from dualvec.errors import DualvecError
    from dualvec.ranking.learned import learner_from_dict
    cases = json.load(open(sys.argv[1]))
    X = np.random.default_rng(0).normal(size=(50, 4))
    for name, d in cases.items():
        try:
            learner_from_dict(d).predict(X)
            print(name, "|", "no error", flush=True)
        except DualvecError as exc:
            print(name, "|", "DualvecError:", str(exc).replace(chr(10), " "), flush=True)
""")


def _in_child(cases: dict, tmp_path) -> dict[str, str]:
    """Each case loaded and used in one child process (a crash or a hang fails, not kills, the test)."""
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    try:
        r = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"a saved ranker hung the process: {exc.stdout!r}")
    assert r.returncode == 0, f"the process died ({r.returncode}): {r.stdout[-500:]} {r.stderr[-1500:]}"
    return dict(line.split(" | ", 1) for line in r.stdout.splitlines())


def test_every_edit_to_the_old_lightgbm_text_is_one_dualvec_error(tmp_path):
    good = _old_form(_booster())
    # each edit keeps tree_sizes true (but the one that edits it), to reach the check it is for
    cases = {name: {**good, "model": edit(good["model"]) if name.startswith("tree_sizes") else _resized(
        edit(good["model"]))} for name, (edit, _) in TEXT_EDITS.items()}
    assert _resized(good["model"]) == good["model"]
    got = _in_child({"unedited": good, **cases}, tmp_path)
    assert got.pop("unedited") == "no error"
    for name, (_, message) in TEXT_EDITS.items():
        assert got[name].startswith("DualvecError:") and message in got[name], (name, got[name])


def test_every_edit_to_the_saved_trees_is_one_dualvec_error(tmp_path):
    pytest.importorskip("lightgbm", reason="fitting needs LightGBM (dualvec[ltr])")
    X, y, g = _data()
    good = LambdaMART(n_estimators=10, min_data_in_leaf=5).fit(X, y, g, NAMES).to_dict()
    cases = {name: edit(good) for name, (edit, _) in JSON_EDITS.items()}
    got = _in_child({"unedited": good, **cases}, tmp_path)
    assert got.pop("unedited") == "no error"
    for name, (_, message) in JSON_EDITS.items():
        assert got[name].startswith("DualvecError:") and message in got[name], (name, got[name])


def _tree(left, right, n_leaves=None):
    n = len(left)
    return {"split_feature": [0] * n, "threshold": [0.0] * n, "missing": ["none"] * n, "default_left": [True] * n,
            "left_child": left, "right_child": right, "leaf_value": [0.5] * (n_leaves or n + 1),
            "internal_count": [5] * n, "leaf_count": [5] * (n_leaves or n + 1)}


def test_the_shape_checks_catch_an_unreachable_cycle_and_a_shared_child():
    assert Forest.from_json([_tree([1, -1], [-2, -3])], 1).predict(np.array([[0.0], [1.0]])).tolist() == [0.5, 0.5]
    # nodes 1 and 2 each other's child: every node has one parent, but the root never reaches them
    with pytest.raises(DualvecError, match="cannot be reached from the root"):
        Forest.from_json([_tree([-1, 2, 1], [-2, -3, -4])], 1)
    with pytest.raises(DualvecError, match="not a tree"):  # a DAG: leaf 0 shared
        Forest.from_json([_tree([1, -1], [-1, -3])], 1)
    deep = 1100  # a chain deeper than MAX_DEPTH
    with pytest.raises(DualvecError, match="deeper than"):
        Forest.from_json([_tree(list(range(1, deep)) + [-1], [-(i + 2) for i in range(deep)])], 1)
    with pytest.raises(DualvecError, match="trees are missing"):
        Forest.from_json([], 1)
    with pytest.raises(DualvecError, match="must be an object"):
        Forest.from_json([{**_tree([-1], [-2]), "extra": 1}], 1)


@pytest.fixture(scope="module")
def bad_index(tmp_path_factory):
    """An index whose learned ranker (dualvec's JSON form) holds a cyclic tree: its only split's
    left child is the root itself (LightGBM hung on this)."""
    from dualvec.ranking import Ranker
    from synthetic import saved_topical_index

    root = tmp_path_factory.mktemp("bad_ranker")
    _, truth, _ = saved_topical_index(root)
    ranker = Ranker.load(root / "idx")
    names = list(ranker.features().names)
    cyclic = {**_tree([-1], [-2]), "left_child": [0]}
    ranker.config.learned = {"format": "dualvec-learned-ranker", "format_version": 2, "learner": "lightgbm",
                             "params": {}, "feature_names": names, "trees": [cyclic]}
    ranker.save(root / "bad")
    return root, truth["names"][0]


#: What search, rank and serve say: the index is refused when it opens (a corrupt part, like its
#: BM25 arrays or centroids), with what to do.
BAD_TREE = "the saved ranker's tree 0 is corrupt: a node is the child of no node or of several (not a tree)"
#: tune --save loads the index too, so it cannot mend it: the index is built again.
REBUILD = "rebuild the index (dualvec index, then dualvec tune --save)"


def _dualvec(*args, timeout=120):
    try:
        return subprocess.run([sys.executable, "-m", "dualvec", *map(str, args)], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"dualvec {args[0]} hung on a cyclic tree")


def test_search_on_an_index_with_a_bad_ranker_is_one_error_line(bad_index):
    root, word = bad_index
    r = _dualvec("search", root / "bad", word)
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert r.stderr.strip() == f"error: {root / 'bad' / 'ranker.json'}: {BAD_TREE}; {REBUILD}"
    r = _dualvec("search", root / "idx", word)  # the same index with no ranker in it searches
    assert r.returncode == 0, r.stderr[-2000:]


def test_the_explorer_refuses_an_index_with_a_bad_ranker_in_one_line(bad_index):
    import socket

    root, _ = bad_index
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = _dualvec("serve", root / "model", "--index", root / "bad", "--port", port, timeout=60)
    assert r.returncode == 1 and r.stderr.strip().endswith(f"{BAD_TREE}; {REBUILD}"), r.stderr


def test_search_on_an_index_with_a_good_lightgbm_ranker_explains_it(bad_index, tmp_path):
    # A valid tree ranker must search, from the CLI and in explain: explain's per-feature weights
    # belong to linear learners, and a tree learner has none (an AttributeError once).
    pytest.importorskip("lightgbm", reason="fitting needs LightGBM (dualvec[ltr])")
    from dualvec.ranking import Ranker

    root, word = bad_index
    ranker = Ranker.load(root / "idx")
    names = tuple(ranker.features().names)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, len(names)))
    lm = LambdaMART(n_estimators=5, min_data_in_leaf=5).fit(X, (X[:, 0] > 0).astype(int), [20] * 10, names)
    ranker.config.learned = lm.to_dict()
    ranker.save(tmp_path / "good")
    r = _dualvec("search", tmp_path / "good", word)
    assert r.returncode == 0, r.stderr[-2000:]
    good = Ranker.load(tmp_path / "good")
    doc = good.search(word, k=1)[0][0]
    assert "features" not in good.explain(word, doc)  # no weights to show for trees
    parts = good.explain_ranking(word, k=3)
    assert parts["ranker"] == "learned" and len(parts["results"]) > 0


def test_a_forest_with_single_leaf_trees_equals_lightgbm():
    # LightGBM writes a one-leaf tree when no split gains (small or uninformative pools, as in tune's
    # inner folds): it is a valid tree (an IndexError once).
    lgb = pytest.importorskip("lightgbm", reason="fitting needs LightGBM (dualvec[ltr])")
    X = np.ones((40, len(NAMES)))
    y = np.tile([0, 1], 20)
    booster = lgb.train({"objective": "lambdarank", "verbose": -1, "num_threads": 1, "min_data_in_leaf": 5},
                        lgb.Dataset(X, label=y, group=[10] * 4), num_boost_round=3)
    text = booster.model_to_string()
    assert "num_leaves=1" in text
    forest = Forest.from_lightgbm(text, len(NAMES))
    np.testing.assert_array_equal(forest.predict(X), booster.predict(X))
    np.testing.assert_allclose(forest.contributions(X), booster.predict(X, pred_contrib=True), atol=1e-12)
