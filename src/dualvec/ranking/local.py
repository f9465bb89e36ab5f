"""Locally trained embeddings for query expansion (Diaz, Mitra and Craswell, ACL 2016).

A global model blurs the senses a word has across a whole corpus; a model
trained, per query, on the documents that query retrieves knows the sense the
query means. For each query:

1. BM25 retrieves the top ``fb_docs`` documents (1000, as in the paper), which
   query likelihood (Dirichlet smoothing, μ = ``mu``) re-scores:
   P(d|q) ∝ exp(Σ_t w_t · log((tf(t, d) + μ·P(t|C)) / (|d| + μ)));
2. ``sample_docs`` documents are drawn from them with replacement, each with
   probability P(d|q) (the paper samples its training text by P(d|q)); their
   text is the local corpus;
3. word2vec trains on it for ``epochs`` epochs, starting from the index's own
   model (``start="general"``: its vectors trained further, vocabulary fixed)
   or from scratch (``start="scratch"``: skip-gram, ``vector_size`` dims);
4. the ``terms`` words nearest the query's mean unit vector in the local model
   (``space``, IN-IN by default as in the paper's U·Uᵀ), limited to words
   whose BM25 term occurs in the collection, not stop words and not the
   query's own, weighted by their cosine's margin over the best word left out
   (as :mod:`.expansion` does) and scaled to sum 1, are mixed with the query:
   q' = λ·q + (1 − λ)·E, λ = ``original_query_weight``.

Training takes a fraction of a second to a second or two per query (see
benchmarks/RESULTS.md), so this is an opt-in stage (``dualvec index --local``).
The documents' texts must be in the index (``Ranker.index`` keeps them).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..errors import DualvecError, check_number
from ..model import parse_space
from .expansion import nearest_collection_terms, stems_in_collection
from .stages import expand

if TYPE_CHECKING:
    from ..model import DualVectors
    from .analysis import Query
    from .stages import StageIndex

STARTS = ("general", "scratch")


@dataclass
class LocalEmbedding:
    """Per-query embeddings trained on the query's top documents, sampled by P(d|q); expansion by them."""

    name: ClassVar[str] = "local"
    fb_docs: int = 1000
    sample_docs: int = 300
    mu: float = 1000.0
    start: str = "general"
    epochs: int = 3
    vector_size: int = 100  # start="scratch" only
    space: str = "in-in"
    terms: int = 10
    original_query_weight: float = 0.7
    seed: int = 0

    def validate(self) -> LocalEmbedding:
        parse_space(self.space)
        if self.start not in STARTS:
            raise DualvecError(f"local embeddings start from one of {', '.join(STARTS)}, not {self.start!r}")
        for name in ("fb_docs", "sample_docs", "epochs", "vector_size", "terms"):
            check_number(f"local embeddings' {name}", getattr(self, name), 1, integer=True)
        check_number("local embeddings' mu", self.mu, 0, above=True)
        check_number("local embeddings' original_query_weight", self.original_query_weight, 0, 1)
        check_number("local embeddings' seed", self.seed, 0, 2**32 - 1, integer=True)
        return self

    # -- 1, 2: the local corpus -------------------------------------------------------

    def document_weights(self, index: StageIndex, query: Query) -> tuple[np.ndarray, np.ndarray]:
        """(index rows of the top ``fb_docs`` BM25 documents, P(d|q) by query likelihood over them)."""
        bm25 = index.bm25
        scores = bm25.weighted_scores(query.weights)
        k = min(self.fb_docs, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = np.sort(top[scores[top] > 0])
        if len(top) == 0:
            return top, np.zeros(0)
        lengths, p_coll = bm25.cached("local-ql", lambda: _collection_stats(bm25))
        ids = {bm25.term_ids[t]: w for t, w in query.weights.items() if t in bm25.term_ids}
        tf = _term_counts(bm25, top, np.fromiter(ids, dtype=np.int64, count=len(ids)))
        w = np.fromiter(ids.values(), dtype=np.float64, count=len(ids))
        w = w / w.sum()
        ptc = p_coll[list(ids)]
        ll = (np.log((tf + self.mu * ptc) / (lengths[top, None] + self.mu)) * w).sum(axis=1)
        p = np.exp(ll - ll.max())
        return top, p / p.sum()

    def local_corpus(self, index: StageIndex, query: Query) -> tuple[list[str], np.ndarray]:
        """The sampled documents' texts (repeats kept) and the distinct rows drawn."""
        if index.texts is None:
            raise DualvecError("local embeddings need the documents' text in the index: re-index the collection")
        rows, p = self.document_weights(index, query)
        if len(rows) == 0:
            return [], rows
        rng = np.random.default_rng([self.seed, zlib.crc32(query.text.encode("utf-8", "surrogatepass"))])
        drawn = rows[rng.choice(len(rows), size=self.sample_docs, p=p)]
        return [index.texts[int(r)] for r in drawn], np.unique(drawn)

    # -- 3: the local model -------------------------------------------------------------

    def local_model(self, index: StageIndex, texts: list[str]) -> DualVectors:
        from ..training.word2vec import train, train_more

        general = index.model
        if self.start == "general":
            if general is None or general.params is None or general.in_vectors.is_unit:
                raise DualvecError("local embeddings with start='general' need a model dualvec can train "
                                   "further; use start='scratch'")
            return train_more(general, texts, epochs=self.epochs, update_vocab=False, workers=1,
                              tokenizer=index.analyzer.tokenizer, progress=False)
        return train(texts, tokenizer=index.analyzer.tokenizer, progress=False, sg=True,
                     vector_size=self.vector_size, epochs=self.epochs, window=5, negative=5, sample=0.0,
                     min_count=2, workers=1, seed=self.seed + 1)

    # -- 4: expansion -------------------------------------------------------------------

    def expansion_terms(self, index: StageIndex, query: Query) -> dict[str, float]:
        """BM25 term -> weight (summing to 1) of the ``terms`` words nearest the query in its local model."""
        texts, _ = self.local_corpus(index, query)
        if not texts:
            return {}
        try:
            local = self.local_model(index, texts)
        except DualvecError as exc:
            if "empty" in str(exc) or "no words" in str(exc).lower():
                return {}
            raise
        stems = None
        if self.start == "general" and local.words == index.model.words:  # the vocabulary stayed fixed
            stems = index.bm25.cached("local-stems", lambda: stems_in_collection(index, index.model.words)).copy()
            # Only words of the local corpus: the others kept their general vectors.
            seen = {w for t in texts for w in index.analyzer.tokenizer(t)}
            stems[[w not in seen for w in local.words]] = -1
        return nearest_collection_terms(index, local, query, self.space, self.terms, stems)

    def apply(self, index: StageIndex, query: Query) -> Query:
        added = self.expansion_terms(index, query)
        return expand(query, self.name, added, self.original_query_weight)


def _collection_stats(bm25) -> tuple[np.ndarray, np.ndarray]:
    """Each document's length (over its BM25 terms) and each term's collection probability P(t|C)."""
    offsets = np.asarray(bm25.forward_offsets, dtype=np.int64)
    counts = np.asarray(bm25.forward_counts, dtype=np.float64)
    csum = np.concatenate([[0.0], np.cumsum(counts)])
    lengths = csum[offsets[1:]] - csum[offsets[:-1]]
    cf = np.bincount(np.asarray(bm25.forward_terms, dtype=np.int64), weights=counts, minlength=len(bm25.terms))
    return lengths, cf / max(cf.sum(), 1.0)


def _term_counts(bm25, rows: np.ndarray, term_ids: np.ndarray) -> np.ndarray:
    """tf(t, d): a (len(rows) × len(term_ids)) matrix read from the forward index."""
    if bm25.forward_offsets is None:
        raise DualvecError("this index was built by an older dualvec, without the forward index that "
                           "local embeddings read: re-index the collection")
    offsets = np.asarray(bm25.forward_offsets, dtype=np.int64)
    lo, hi = offsets[rows], offsets[rows + 1]
    lens = hi - lo
    out = np.zeros((len(rows), len(term_ids)))
    if lens.sum() == 0 or len(term_ids) == 0:
        return out
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    at = starts + np.arange(lens.sum())
    terms, counts = np.asarray(bm25.forward_terms)[at], np.asarray(bm25.forward_counts)[at]
    doc = np.repeat(np.arange(len(rows)), lens)
    col = {int(t): j for j, t in enumerate(term_ids)}
    hit = np.isin(terms, term_ids)
    for d, t, c in zip(doc[hit], terms[hit], counts[hit]):
        out[d, col[int(t)]] += c
    return out
