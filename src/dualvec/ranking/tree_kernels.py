"""Tree-ensemble kernel: the summed output of regression trees (LambdaMART's), as LightGBM predicts.

``forest_predict(X, feature, threshold, missing, default_left, left, right, leaf_value,
node_start, leaf_start, max_depth)``: the trees' nodes concatenated, tree ``t``'s internal
nodes at ``node_start[t]:node_start[t+1]`` and its leaves at ``leaf_start[t]:leaf_start[t+1]``;
a child ``c >= 0`` is internal node ``c`` of the same tree, ``c < 0`` is its leaf ``~c``
(LightGBM's convention). A node sends a row left when ``x <= threshold``, except a missing
value, handled per node as LightGBM's ``NumericalDecision`` does: ``missing`` 0 ("none")
reads NaN as 0; 1 ("zero") sends 0 and NaN the default way; 2 ("nan") sends NaN the default way.

The Python in :mod:`.trees` validates the arrays (indices in range, each tree a tree, depth at
most ``max_depth``) before calling it; the walk stops after ``max_depth`` steps all the same.
No ``fastmath``: it would assume no NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: LightGBM's kZeroThreshold (a float 1e-35, as a double): |x| at most this is "zero".
ZERO = float(np.float32(1e-35))


@njit(cache=True)
def forest_predict(X, feature, threshold, missing, default_left, left, right, leaf_value,
                   node_start, leaf_start, max_depth):
    n = X.shape[0]
    out = np.zeros(n, dtype=np.float64)
    for t in range(node_start.shape[0] - 1):
        base, leaves = node_start[t], leaf_start[t]
        if node_start[t + 1] == base:  # a single leaf
            for i in range(n):
                out[i] += leaf_value[leaves]
            continue
        for i in range(n):
            node = 0
            for _ in range(max_depth + 1):
                k = base + node
                node = _decide(X[i, feature[k]], k, threshold, missing, default_left, left, right)
                if node < 0:
                    out[i] += leaf_value[leaves + ~node]
                    break
    return out


# TreeSHAP (Lundberg et al., 2018, Algorithm 2), as LightGBM's Tree::TreeSHAP computes it for
# ``predict(pred_contrib=True)``: path-dependent SHAP values with the nodes' training counts as covers.
# A path is stored in four parallel arrays from ``at``; each level down copies it further on.

@njit(cache=True, error_model="numpy")
def _extend(feat, zero, one, pw, at, depth, zero_fraction, one_fraction, feature):
    feat[at + depth] = feature
    zero[at + depth] = zero_fraction
    one[at + depth] = one_fraction
    pw[at + depth] = 1.0 if depth == 0 else 0.0
    for i in range(depth - 1, -1, -1):
        pw[at + i + 1] += one_fraction * pw[at + i] * (i + 1) / (depth + 1)
        pw[at + i] = zero_fraction * pw[at + i] * (depth - i) / (depth + 1)


@njit(cache=True, error_model="numpy")
def _unwind(feat, zero, one, pw, at, depth, index):
    one_fraction, zero_fraction = one[at + index], zero[at + index]
    next_one = pw[at + depth]
    for i in range(depth - 1, -1, -1):
        if one_fraction != 0:
            tmp = pw[at + i]
            pw[at + i] = next_one * (depth + 1) / ((i + 1) * one_fraction)
            next_one = tmp - pw[at + i] * zero_fraction * (depth - i) / (depth + 1)
        else:
            pw[at + i] = pw[at + i] * (depth + 1) / (zero_fraction * (depth - i))
    for i in range(index, depth):
        feat[at + i], zero[at + i], one[at + i] = feat[at + i + 1], zero[at + i + 1], one[at + i + 1]


@njit(cache=True, error_model="numpy")
def _unwound_sum(zero, one, pw, at, depth, index):
    one_fraction, zero_fraction = one[at + index], zero[at + index]
    next_one = pw[at + depth]
    total = 0.0
    for i in range(depth - 1, -1, -1):
        if one_fraction != 0:
            tmp = next_one * (depth + 1) / ((i + 1) * one_fraction)
            total += tmp
            next_one = pw[at + i] - tmp * zero_fraction * ((depth - i) / (depth + 1))
        else:
            total += (pw[at + i] / zero_fraction) / ((depth - i) / (depth + 1))
    return total


@njit(cache=True, error_model="numpy")
def _decide(x, k, threshold, missing, default_left, left, right):
    m = missing[k]
    if np.isnan(x) and m != 2:
        x = 0.0
    if (m == 1 and -ZERO <= x <= ZERO) or (m == 2 and np.isnan(x)):
        return left[k] if default_left[k] else right[k]
    return left[k] if x <= threshold[k] else right[k]


@njit(cache=True, error_model="numpy")
def _shap(row, phi, base, leaves, feat, zero, one, pw, stack_i, stack_f,
          feature, threshold, missing, default_left, left, right, leaf_value, internal_count, leaf_count):
    """One row, one tree: LightGBM's recursive TreeSHAP as a depth-first loop over an explicit
    stack (numba's cache mishandles recursive functions). A stack entry is a node to visit with
    (node, depth, parent's path start, parent feature) in ``stack_i`` and (zero, one) fractions in
    ``stack_f``; a node's path copy lies past its parent's, so the parent's stays intact for the
    second child, which is popped after the first child's whole subtree."""
    top = 0
    stack_i[0, 0], stack_i[0, 1], stack_i[0, 2], stack_i[0, 3] = 0, 0, 0, -1
    stack_f[0, 0], stack_f[0, 1] = 1.0, 1.0
    top = 1
    while top > 0:
        top -= 1
        node, depth, at, parent_feature = stack_i[top, 0], stack_i[top, 1], stack_i[top, 2], stack_i[top, 3]
        parent_zero, parent_one = stack_f[top, 0], stack_f[top, 1]
        start = at + depth  # this node's copy of the path
        for i in range(depth):
            feat[start + i], zero[start + i], one[start + i], pw[start + i] = (
                feat[at + i], zero[at + i], one[at + i], pw[at + i])
        _extend(feat, zero, one, pw, start, depth, parent_zero, parent_one, parent_feature)
        if node < 0:
            for i in range(1, depth + 1):
                w = _unwound_sum(zero, one, pw, start, depth, i)
                phi[feat[start + i]] += w * (one[start + i] - zero[start + i]) * leaf_value[leaves + ~node]
            continue
        k = base + node
        hot = _decide(row[feature[k]], k, threshold, missing, default_left, left, right)
        cold = right[k] if hot == left[k] else left[k]
        w = internal_count[k]
        hot_zero = (internal_count[base + hot] if hot >= 0 else leaf_count[leaves + ~hot]) / w
        cold_zero = (internal_count[base + cold] if cold >= 0 else leaf_count[leaves + ~cold]) / w
        incoming_zero, incoming_one = 1.0, 1.0
        index = 0
        while index <= depth and feat[start + index] != feature[k]:
            index += 1
        if index != depth + 1:
            incoming_zero, incoming_one = zero[start + index], one[start + index]
            _unwind(feat, zero, one, pw, start, depth, index)
            depth -= 1
        # cold below hot on the stack: hot's subtree is finished first, as in the recursion
        stack_i[top, 0], stack_i[top, 1], stack_i[top, 2], stack_i[top, 3] = cold, depth + 1, start, feature[k]
        stack_f[top, 0], stack_f[top, 1] = cold_zero * incoming_zero, 0.0
        stack_i[top + 1, 0], stack_i[top + 1, 1] = hot, depth + 1
        stack_i[top + 1, 2], stack_i[top + 1, 3] = start, feature[k]
        stack_f[top + 1, 0], stack_f[top + 1, 1] = hot_zero * incoming_zero, incoming_one
        top += 2


@njit(cache=True, error_model="numpy")
def forest_shap(X, feature, threshold, missing, default_left, left, right, leaf_value, internal_count, leaf_count,
                node_start, leaf_start, depths):
    """Each row's SHAP value per feature (rows x features), plus the trees' expected value in a last column."""
    n, F = X.shape
    out = np.zeros((n, F + 1), dtype=np.float64)
    for t in range(node_start.shape[0] - 1):
        base, leaves = node_start[t], leaf_start[t]
        if node_start[t + 1] == base:
            out[:, F] += leaf_value[leaves]
            continue
        total = internal_count[base]
        expected = 0.0
        for j in range(leaves, leaf_start[t + 1]):
            expected += leaf_count[j] / total * leaf_value[j]
        out[:, F] += expected
        size = (depths[t] + 2) * (depths[t] + 3) // 2
        feat = np.full(size, -1, dtype=np.int64)
        zero, one, pw = np.zeros(size), np.zeros(size), np.zeros(size)
        stack_i = np.zeros((depths[t] + 3, 4), dtype=np.int64)
        stack_f = np.zeros((depths[t] + 3, 2), dtype=np.float64)
        phi = np.zeros(F + 1)
        for i in range(n):
            phi[:] = 0.0
            _shap(X[i], phi, base, leaves, feat, zero, one, pw, stack_i, stack_f,
                  feature, threshold, missing, default_left, left, right, leaf_value, internal_count, leaf_count)
            out[i, :F] += phi[:F]
    return out
