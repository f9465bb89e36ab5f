"""Evaluation: intrinsic embedding benchmarks (word similarity, analogies)."""

from .embeddings import AnalogyResult, SimilarityResult, analogy_accuracy, spearman, word_similarity

__all__ = ["AnalogyResult", "SimilarityResult", "analogy_accuracy", "spearman", "word_similarity"]
