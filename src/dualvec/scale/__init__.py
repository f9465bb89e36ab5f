"""When one machine is not enough: a sharded, streaming centroid index built on one process or on
Dask, re-ranking of other engines' TREC runs, and full DESM ranking with FAISS."""

from .documents import iter_chunks, iter_documents
from .index import ENGINES, CentroidIndex, build_index

__all__ = ["ENGINES", "CentroidIndex", "build_index", "iter_chunks", "iter_documents"]
