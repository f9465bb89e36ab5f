"""IR evaluation with ``ir-measures``: aggregate and per-query metrics, and a
paired randomisation test between two runs.

Measures follow ir-measures names (pytrec_eval underneath): nDCG@k with the
graded gains of the judgments, AP (MAP over queries), RR@10 (MRR@10), R@100.
Queries judged but absent from a run count as 0, so runs that retrieve nothing
for a query are not rewarded (trec_eval's ``-c``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DualvecError
from ..text.collections import Qrels, Run

DEFAULT_MEASURES = ("nDCG@1", "nDCG@3", "nDCG@10", "AP", "RR@10", "R@100")


@dataclass
class IRResult:
    aggregate: dict[str, float]  # measure -> mean over judged queries
    per_query: dict[str, dict[str, float]]  # measure -> {query id: value}


def evaluate(run: Run, qrels: Qrels, measures: Sequence[str] = DEFAULT_MEASURES) -> IRResult:
    """Score a run against judgments; every judged query with a relevant document counts."""
    import ir_measures

    try:
        parsed = [ir_measures.parse_measure(m) for m in measures]
    except (ValueError, NameError, SyntaxError) as exc:
        raise DualvecError(f"unknown measure in {list(measures)}: {exc}") from None
    judged = [q for q, docs in qrels.items() if any(g > 0 for g in docs.values())]
    if not judged:
        raise DualvecError("the judgments hold no relevant document")
    qrels_d = {q: {d: int(g) for d, g in qrels[q].items()} for q in judged}
    run_d = {q: {d: float(s) for d, s in run[q].items()} for q in judged if q in run and run[q]}
    per_query: dict[str, dict[str, float]] = {str(m): {q: 0.0 for q in judged} for m in parsed}
    if run_d:
        for metric in ir_measures.iter_calc(parsed, qrels_d, run_d):
            per_query[str(metric.measure)][metric.query_id] = float(metric.value)
    aggregate = {name: float(np.mean(list(values.values()))) for name, values in per_query.items()}
    return IRResult(aggregate, per_query)


def paired_randomization_test(a: Mapping[str, float], b: Mapping[str, float], *, trials: int = 10_000,
                              seed: int = 0) -> float:
    """Two-sided p-value that runs a and b differ in mean per-query score.

    Fisher's randomisation test as used in IR (Smucker, Allan, Carterette,
    2007): swap each query's pair of scores at random and count how often the
    mean difference is at least as extreme as the observed one.
    """
    queries = sorted(set(a) & set(b))
    if not queries:
        raise DualvecError("the two runs share no query")
    diff = np.array([a[q] - b[q] for q in queries])
    observed = abs(diff.mean())
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(trials, len(diff)))
    extreme = (np.abs((signs * diff).mean(axis=1)) >= observed - 1e-12).sum()
    return float((extreme + 1) / (trials + 1))
