"""Document ranking with dual embeddings: query analysis, BM25 (bm25s),
query-expansion stages (RM3, embedding expansion), DESM and the mixture."""

from .analysis import Analyzer, Query
from .bm25 import BM25
from .desm import DESM, build_centroids, query_vector
from .expansion import Expansion
from .ranker import MODES, NORMALIZATIONS, Candidates, Ranker, RankerConfig, normalize
from .rm3 import RM3
from .stages import Stage

__all__ = ["MODES", "NORMALIZATIONS", "BM25", "DESM", "RM3", "Analyzer", "Candidates", "Expansion", "Query",
           "Ranker", "RankerConfig", "Stage", "build_centroids", "normalize", "query_vector"]
