"""Document ranking with dual embeddings: DESM, BM25 (bm25s) and their mixture."""

from .analysis import Analyzer
from .bm25 import BM25
from .desm import DESM, build_centroids, query_vector
from .ranker import MODES, NORMALIZATIONS, Candidates, Ranker, RankerConfig, normalize

__all__ = ["MODES", "NORMALIZATIONS", "BM25", "DESM", "Analyzer", "Candidates", "Ranker", "RankerConfig",
           "build_centroids", "normalize", "query_vector"]
