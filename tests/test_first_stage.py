"""The fused first stage (the mixture over every document) picks its pool with the DESM weight
asked for, so that a weight of 0 is BM25's own top k: the baseline the docs compare against."""

from __future__ import annotations

import numpy as np

from dualvec.ranking import Ranker
from synthetic import topical_model_and_docs


def test_desm_weight_zero_on_a_fused_index_is_bm25s_own_top_k():
    model, truth, docs = topical_model_and_docs()
    base = Ranker(model, stopwords=None).index(docs)
    fused = base.with_config(first_stage="fused", first_stage_k=3, alpha=1.0)  # its own pool: DESM's
    bm25 = base.with_config(first_stage="bm25", first_stage_k=3)
    for t, name in enumerate(truth["names"]):
        query = f"{name} {truth['words'][t][0]}"
        q = base.analyze(query)
        raw = base.bm25.weighted_scores(q.weights)
        own = [base.doc_ids[i] for i in np.lexsort((np.arange(len(raw)), -raw))[:3] if raw[i] > 0]
        got = [d for d, _ in fused.search(query, k=3, alpha=0.0)]
        assert got[: len(own)] == own, (query, got, own)
        assert got == [d for d, _ in bm25.search(query, k=3, alpha=0.0)]
        # and the pool does follow the weight: with DESM alone it is DESM's own top 3
        full = [d for d, _ in fused.search(query, k=3, mode="full", alpha=1.0)]
        assert [d for d, _ in fused.search(query, k=3, alpha=1.0)] == full
