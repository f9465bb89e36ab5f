"""Evaluation: intrinsic embedding benchmarks (word similarity, analogies),
IR metrics and significance tests, and parameter tuning for ranking."""

from .embeddings import AnalogyResult, SimilarityResult, analogy_accuracy, spearman, word_similarity
from .ir import DEFAULT_MEASURES, IRResult, evaluate, paired_randomization_test
from .tuning import cross_validate, tune_alpha, tune_bm25

__all__ = ["DEFAULT_MEASURES", "AnalogyResult", "IRResult", "SimilarityResult", "analogy_accuracy",
           "cross_validate", "evaluate", "paired_randomization_test", "spearman", "tune_alpha", "tune_bm25",
           "word_similarity"]
