"""Regression-tree ensembles in dualvec's own JSON form, evaluated by dualvec's own kernel.

A LambdaMART ranker is fitted with LightGBM, then its trees are copied out of LightGBM's
model text into :class:`Forest` and LightGBM is not used again: a saved ranker is data that
dualvec checks completely when it loads it (numbers finite, feature indices among the saved
features, child and leaf indices in range, each tree a tree: every node reached once from
the root, depth bounded), never a model handed to LightGBM's parser, which crashes, hangs
or misreads on edited text (issue 29). :func:`.tree_kernels.forest_predict` evaluates the
trees exactly as LightGBM's ``predict`` does (summed raw leaf values, its missing-value rules).

JSON form of one tree (lists; ``n`` internal nodes, ``n + 1`` leaves; a lone leaf has ``n = 0``)::

    {"split_feature": [int], "threshold": [float], "missing": ["none" | "zero" | "nan"],
     "default_left": [bool], "left_child": [int], "right_child": [int], "leaf_value": [float],
     "internal_count": [int], "leaf_count": [int]}

The counts are the training rows that reached each node: TreeSHAP's covers (:meth:`Forest.contributions`).

A child ``c >= 0`` is internal node ``c``, ``c < 0`` is leaf ``-c - 1`` (LightGBM's ``~c``);
node 0 is the root. The lengths are those of the lists present: no count is declared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DualvecError

__all__ = ["Forest", "MISSING_TYPES", "MAX_DEPTH"]

#: How a split treats a missing value, in LightGBM's order (its decision_type bits 2-3).
MISSING_TYPES = ("none", "zero", "nan")
#: The deepest tree a saved ranker may hold (LightGBM's trees here have a handful of leaves).
MAX_DEPTH = 1024
_TREE_KEYS = ("split_feature", "threshold", "missing", "default_left", "left_child", "right_child", "leaf_value",
              "internal_count", "leaf_count")


def _corrupt(i: int, what: str) -> DualvecError:
    return DualvecError(f"the saved ranker's tree {i} is corrupt: {what}")


def _numbers(values: Any, i: int, key: str, kind: type) -> np.ndarray:
    """A JSON list of finite numbers (``kind`` int: whole numbers) as an array."""
    if not isinstance(values, list):
        raise _corrupt(i, f"{key} is not a list")
    ok = (int,) if kind is int else (int, float)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, ok) or not math.isfinite(v):
            raise _corrupt(i, f"{key} holds {v!r}, not a finite {'whole ' if kind is int else ''}number")
        if kind is int and abs(v) > 2**62:
            raise _corrupt(i, f"{key} holds {v!r}, out of range")
    return np.array(values, dtype=np.int64 if kind is int else np.float64)


def _check_shape(i: int, left: np.ndarray, right: np.ndarray, n_leaves: int) -> int:
    """Every child index in range, every node but the root the child of exactly one node, every
    node reached from the root (so no cycle and nothing left over), depth at most MAX_DEPTH;
    returns the depth (levels of internal nodes)."""
    n = len(left)
    if n == 0:  # a single leaf (LightGBM writes one when no split gains): nothing to check
        return 0
    children = np.concatenate([left, right])
    if children.min() < -n_leaves or children.max() >= n:
        bad = children[(children < -n_leaves) | (children >= n)][0]
        raise _corrupt(i, f"child {int(bad)} is out of range for {n} nodes and {n_leaves} leaves")
    # node k counted at k + n_leaves, leaf ~c at c + n_leaves
    parents = np.bincount(children + n_leaves, minlength=n + n_leaves)
    if parents[n_leaves] or np.any(parents[n_leaves + 1:] != 1) or np.any(parents[:n_leaves] != 1):
        raise _corrupt(i, "a node is the child of no node or of several (not a tree)")
    frontier, seen, depth = np.array([0]), 0, 0
    while len(frontier):
        seen += len(frontier)
        depth += 1
        if depth > MAX_DEPTH:
            raise _corrupt(i, f"deeper than {MAX_DEPTH}")
        nxt = np.concatenate([left[frontier], right[frontier]])
        frontier = nxt[nxt >= 0]
    if seen != n:
        raise _corrupt(i, f"{n - seen} nodes cannot be reached from the root (a cycle)")
    return depth


@dataclass(frozen=True, eq=False)
class Forest:
    """Trees whose summed leaf values score a row; the nodes of all trees concatenated
    (see :mod:`.tree_kernels`). Build with :meth:`from_json` or :meth:`from_lightgbm`."""

    n_features: int
    feature: np.ndarray
    threshold: np.ndarray
    missing: np.ndarray
    default_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf_value: np.ndarray
    internal_count: np.ndarray
    leaf_count: np.ndarray
    node_start: np.ndarray
    leaf_start: np.ndarray
    depths: np.ndarray

    @property
    def n_trees(self) -> int:
        return len(self.node_start) - 1

    @classmethod
    def from_json(cls, trees: Any, n_features: int) -> Forest:
        """The forest of a saved ranker's ``trees``, checked completely (:class:`DualvecError` otherwise)."""
        if not isinstance(trees, list) or not trees:
            raise DualvecError("the saved ranker's trees are missing or not a list")
        parts: dict[str, list[np.ndarray]] = {k: [] for k in _TREE_KEYS}
        depths: list[int] = []
        for i, t in enumerate(trees):
            if not isinstance(t, Mapping) or set(t) != set(_TREE_KEYS):
                raise _corrupt(i, f"it must be an object with {', '.join(_TREE_KEYS)}")
            feat = _numbers(t["split_feature"], i, "split_feature", int)
            n = len(feat)
            if len(feat) and (feat.min() < 0 or feat.max() >= n_features):
                raise _corrupt(i, f"split_feature {int(feat[(feat < 0) | (feat >= n_features)][0])} is not "
                                  f"one of the {n_features} features")
            thr = _numbers(t["threshold"], i, "threshold", float)
            left = _numbers(t["left_child"], i, "left_child", int)
            right = _numbers(t["right_child"], i, "right_child", int)
            leaf = _numbers(t["leaf_value"], i, "leaf_value", float)
            counts = _numbers(t["internal_count"], i, "internal_count", int)
            leaf_counts = _numbers(t["leaf_count"], i, "leaf_count", int)
            if len(counts) != n or len(leaf_counts) != n + 1 or (
                    n and (counts.min() < 1 or leaf_counts.min() < 1)):
                raise _corrupt(i, f"internal_count and leaf_count must count at least one row per node "
                                  f"({n} and {n + 1} of them)")
            miss, dleft = t["missing"], t["default_left"]
            if not isinstance(miss, list) or any(m not in MISSING_TYPES for m in miss):
                raise _corrupt(i, f"missing must list one of {', '.join(MISSING_TYPES)} per node")
            if not isinstance(dleft, list) or any(not isinstance(b, bool) for b in dleft):
                raise _corrupt(i, "default_left must list true or false per node")
            if {len(thr), len(left), len(right), len(miss), len(dleft)} != {n} or len(leaf) != n + 1:
                raise _corrupt(i, f"{n} split features need as many thresholds, missing rules, default "
                                  f"directions and children, and {n + 1} leaf values")
            depths.append(_check_shape(i, left, right, n + 1))
            for k, v in zip(_TREE_KEYS, (feat, thr, np.array([MISSING_TYPES.index(m) for m in miss], np.int8),
                                         np.array(dleft, bool), left, right, leaf, counts, leaf_counts)):
                parts[k].append(v)
        sizes = np.array([len(f) for f in parts["split_feature"]], np.int64)
        return cls(
            n_features=n_features,
            feature=np.concatenate(parts["split_feature"]).astype(np.int64),
            threshold=np.concatenate(parts["threshold"]).astype(np.float64),
            missing=np.concatenate(parts["missing"]).astype(np.int8),
            default_left=np.concatenate(parts["default_left"]).astype(np.bool_),
            left=np.concatenate(parts["left_child"]).astype(np.int64),
            right=np.concatenate(parts["right_child"]).astype(np.int64),
            leaf_value=np.concatenate(parts["leaf_value"]).astype(np.float64),
            internal_count=np.concatenate(parts["internal_count"]).astype(np.float64),
            leaf_count=np.concatenate(parts["leaf_count"]).astype(np.float64),
            depths=np.array(depths, np.int64),
            node_start=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
            leaf_start=np.concatenate([[0], np.cumsum(sizes + 1)]).astype(np.int64))

    def to_json(self) -> list[dict[str, Any]]:
        """The JSON form (:meth:`from_json` reads it back exactly: floats round-trip through JSON)."""
        out = []
        for t in range(self.n_trees):
            a, b = int(self.node_start[t]), int(self.node_start[t + 1])
            la, lb = int(self.leaf_start[t]), int(self.leaf_start[t + 1])
            out.append({"split_feature": self.feature[a:b].tolist(), "threshold": self.threshold[a:b].tolist(),
                        "missing": [MISSING_TYPES[m] for m in self.missing[a:b]],
                        "default_left": self.default_left[a:b].tolist(),
                        "left_child": self.left[a:b].tolist(), "right_child": self.right[a:b].tolist(),
                        "leaf_value": self.leaf_value[la:lb].tolist(),
                        "internal_count": self.internal_count[a:b].astype(np.int64).tolist(),
                        "leaf_count": self.leaf_count[la:lb].astype(np.int64).tolist()})
        return out

    @classmethod
    def from_lightgbm(cls, text: str, n_features: int) -> Forest:
        """The trees of a LightGBM ``lambdarank`` model text (``Booster.model_to_string``), parsed
        here and checked as :meth:`from_json` checks its JSON; LightGBM itself never reads it.
        Refused: several classes or trees per iteration, categorical splits, linear trees,
        averaged output (random forests), ``tree_sizes`` that do not match the trees' text."""
        if not isinstance(text, str) or not text.startswith("tree\n"):
            raise DualvecError("the saved LightGBM model is not LightGBM model text")
        body, end, _ = text.partition("\nend of trees")
        if not end:
            raise DualvecError("the saved LightGBM model is cut short (no 'end of trees')")
        head, *blocks = body.split("\nTree=")
        header = dict(line.split("=", 1) for line in head.splitlines()[1:] if "=" in line)
        for key, want in (("num_class", "1"), ("num_tree_per_iteration", "1")):
            if header.get(key) != want:
                raise DualvecError(f"the saved LightGBM model has {key}={header.get(key)!s:.40}; "
                                   f"dualvec's rankers have {want}")
        if not header.get("objective", "").startswith("lambdarank"):
            raise DualvecError(f"the saved LightGBM model's objective is {header.get('objective')!s:.40}, "
                               "not lambdarank")
        if "average_output" in head.splitlines():
            raise DualvecError("the saved LightGBM model averages its trees (a random forest): not a dualvec ranker")
        # LightGBM's tree_sizes: the length of each "Tree=..." block up to the next one
        sizes = header.get("tree_sizes", "").split()
        texts = ["Tree=" + b + "\n" for b in blocks]
        if [str(len(s.encode())) for s in texts] != sizes:
            raise DualvecError(f"the saved LightGBM model's tree_sizes ({' '.join(sizes)[:60]}) do not match "
                               f"its {len(blocks)} trees")
        trees = [_lightgbm_tree(i, b) for i, b in enumerate(blocks)]
        return cls.from_json(trees, n_features)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The summed tree outputs of each row of ``X`` (rows x ``n_features``)."""
        from .tree_kernels import forest_predict

        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise DualvecError(f"the trees read {self.n_features} features, not {X.shape[-1] if X.ndim else 0}")
        return forest_predict(X, self.feature, self.threshold, self.missing, self.default_left, self.left,
                              self.right, self.leaf_value, self.node_start, self.leaf_start, MAX_DEPTH)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Each row's SHAP value per feature, plus the trees' expected value in a last column (rows x
        (``n_features`` + 1)); each row sums to :meth:`predict`. LightGBM's ``pred_contrib``, computed here."""
        from .tree_kernels import forest_shap

        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise DualvecError(f"the trees read {self.n_features} features, not {X.shape[-1] if X.ndim else 0}")
        return forest_shap(X, self.feature, self.threshold, self.missing, self.default_left, self.left, self.right,
                           self.leaf_value, self.internal_count, self.leaf_count, self.node_start, self.leaf_start,
                           self.depths)


def _lightgbm_tree(i: int, block: str) -> dict[str, Any]:
    """One LightGBM ``Tree=`` block as the JSON form (numbers parsed, not yet checked)."""
    fields = dict(line.split("=", 1) for line in block.splitlines()[1:] if "=" in line)

    def values(key: str, kind: type) -> list:
        if key not in fields:
            raise _corrupt(i, f"LightGBM's {key} is missing")
        try:
            return [kind(v) for v in fields[key].split()]
        except (ValueError, OverflowError):
            raise _corrupt(i, f"LightGBM's {key} is not a list of numbers") from None

    if fields.get("num_cat", "0") != "0" or fields.get("is_linear", "0") != "0":
        raise _corrupt(i, "categorical or linear trees are not dualvec rankers")
    decision = values("decision_type", int)
    if any(not 0 <= d <= 11 or d & 1 for d in decision):
        raise _corrupt(i, "a decision_type is categorical or unknown")
    leaf = values("leaf_value", float)
    if values("num_leaves", int) != [len(leaf)]:
        raise _corrupt(i, f"num_leaves={fields.get('num_leaves', '')[:20]} but {len(leaf)} leaf values")
    return {"split_feature": values("split_feature", int), "threshold": values("threshold", float),
            "missing": [MISSING_TYPES[(d >> 2) & 3] for d in decision], "default_left": [bool(d & 2) for d in decision],
            "left_child": values("left_child", int), "right_child": values("right_child", int), "leaf_value": leaf,
            "internal_count": values("internal_count", int), "leaf_count": values("leaf_count", int)}
