"""BM25 first stage, through the ``bm25s`` library.

Variant: bm25s's ``method="lucene"`` (Lucene's BM25: idf = log(1 + (N - df +
0.5) / (df + 0.5)), no (k1 + 1) factor in the numerator), with ``k1`` and ``b``
as given (defaults k1 = 0.9, b = 0.4, Anserini's defaults; tune them with
``dualvec tune``). Terms come from :class:`~dualvec.ranking.analysis.Analyzer`.

Besides bm25s's term -> document score matrix, the index keeps the forward
view, document -> (term, count): what pseudo-relevance feedback reads.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..atomic import open_inside
from ..errors import DualvecError, check_number
from ..store import array_header, load_array

#: The files bm25s reads (JSON, then arrays); bm25s opens them itself, so each is checked first.
_BM25S_JSON = ("params.index.json", "vocab.index.json")
_BM25S_ARRAYS = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "nonoccurrence_array.index.npy")
DEFAULT_K1 = 0.9
DEFAULT_B = 0.4
_FORWARD = ("forward_terms", "forward_counts", "forward_offsets")


def _check_files(directory: Path, root: Path) -> None:
    """Every file in the BM25 directory is a regular file inside the index, its arrays hold
    what their headers declare, and its JSON files are of bounded size: bm25s, which opens them
    by name, never meets a FIFO, a device or a link out of the index."""
    try:
        entries = sorted(directory.iterdir())
    except OSError as exc:
        raise DualvecError(f"{directory}: the BM25 index is missing or unreadable ({exc.strerror or exc})") from None
    for p in entries:
        if p.name in _BM25S_ARRAYS or p.suffix == ".npy":
            with open_inside(p, root, limit=None, what="dualvec index") as fh:
                array_header(fh, p)
        else:
            with open_inside(p, root, limit=1 << 30 if p.name in _BM25S_JSON else 1 << 20, what="dualvec index"):
                pass


class BM25:
    """A bm25s index over analysed documents (row i = document i)."""

    def __init__(self, k1: float = DEFAULT_K1, b: float = DEFAULT_B, method: str = "lucene"):
        check_number("BM25 k1", k1, 0)
        check_number("BM25 b", b, 0, 1)
        self.k1, self.b, self.method = k1, b, method
        self._index = None
        self._vocab: dict[str, int] = {}
        self._terms: list[str] = []
        self._cache: dict = {}
        # document i's distinct term ids and counts: [offsets[i], offsets[i+1])
        self.forward_terms = np.zeros(0, np.int32)
        self.forward_counts = np.zeros(0, np.int32)
        self.forward_offsets = np.zeros(1, np.int64)

    def index(self, doc_terms: list[list[str]]) -> BM25:
        import bm25s

        self._index = bm25s.BM25(k1=self.k1, b=self.b, method=self.method)
        self._index.index(doc_terms, show_progress=False)
        self._set_vocab()
        ids, counts, lengths = [], [], np.zeros(len(doc_terms) + 1, np.int64)
        for i, terms in enumerate(doc_terms):
            c = Counter(terms)
            ids.extend(self._vocab[t] for t in c)
            counts.extend(c.values())
            lengths[i + 1] = len(c)
        self.forward_terms = np.array(ids, np.int32)
        self.forward_counts = np.array(counts, np.int32)
        self.forward_offsets = np.cumsum(lengths)
        return self

    def _set_vocab(self) -> None:
        self._cache = {}
        self._vocab = self._index.vocab_dict
        self._terms = [""] * (max(self._vocab.values(), default=-1) + 1)
        for t, i in self._vocab.items():
            self._terms[i] = t

    def _check_matrix(self, path: str | os.PathLike) -> None:
        """The term-document matrix bm25s loaded is a well-formed CSC matrix over ``n_docs``
        documents (one vectorised pass): a flipped bit in ``indices`` otherwise became an
        IndexError deep in scoring."""
        s = self._index.scores
        try:
            n = int(s["num_docs"])
            data, indices, indptr = (np.asarray(s[k]) for k in ("data", "indices", "indptr"))
        except (KeyError, TypeError, ValueError):
            raise DualvecError(f"{path}: the BM25 index is missing its term-document matrix") from None
        ok = (n >= 0 and data.ndim == indices.ndim == indptr.ndim == 1 and len(indptr) >= 1
              and indptr[0] == 0 and len(data) == len(indices) == indptr[-1]
              and not np.any(np.diff(indptr) < 0)
              and (len(indices) == 0 or (indices.min() >= 0 and indices.max() < n))
              and np.isfinite(data).all())
        if not ok:
            raise DualvecError(f"{path}: the BM25 index's term-document matrix is corrupt (it does not "
                               f"match its {n} documents)")

    @property
    def n_docs(self) -> int:
        return 0 if self._index is None else int(self._index.scores["num_docs"])

    def _require(self) -> None:
        if self._index is None:
            raise DualvecError("the BM25 index is empty: index documents first")

    def __contains__(self, term: object) -> bool:
        return term in self._vocab and self._column(self._vocab[term])[0].size > 0

    def term(self, term_id: int) -> str:
        return self._terms[term_id]

    @property
    def term_ids(self) -> dict[str, int]:
        """Term -> term id."""
        return self._vocab

    @property
    def terms(self) -> list[str]:
        """Term id -> term."""
        return self._terms

    def doc_freqs(self) -> np.ndarray:
        """Documents holding each term id."""
        df = np.diff(np.asarray(self._index.scores["indptr"]))
        return np.pad(df, (0, max(0, len(self._terms) - len(df))))

    def cached(self, key: str, make):
        """A value derived from this index, computed once (feedback filters, stems)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def _column(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(documents, scores) of one term: a column of bm25s's sparse score matrix."""
        s = self._index.scores
        indptr = s["indptr"]
        if term_id + 1 >= len(indptr):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        lo, hi = int(indptr[term_id]), int(indptr[term_id + 1])
        return np.asarray(s["indices"][lo:hi]), np.asarray(s["data"][lo:hi])

    def doc_freq(self, term_id: int) -> int:
        return int(self._column(term_id)[0].size)

    def weighted_scores(self, weights: Mapping[str, float]) -> np.ndarray:
        """Σ_t w_t · BM25(t, d) for every document (float32): a weighted query,
        as Lucene's boosted term queries score it. Unknown terms add nothing."""
        self._require()
        out = np.zeros(self.n_docs, dtype=np.float64)
        for term, w in weights.items():
            tid = self._vocab.get(term)
            if tid is None or w == 0:
                continue
            docs, data = self._column(tid)
            out[docs] += w * data.astype(np.float64)
        return out.astype(np.float32)

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """BM25 score of every document (float32); a repeated term counts again."""
        return self.weighted_scores(Counter(query_terms))

    def term_scores(self, weights: Mapping[str, float], doc: int) -> list[tuple[str, float]]:
        """Each weighted query term's share w_t · BM25(t, d) of one document's score (BM25 is a
        sum over terms), read from the term's column rather than scoring every document."""
        self._require()
        out = []
        for term, w in weights.items():
            tid = self._vocab.get(term)
            docs, data = self._column(tid) if tid is not None else (np.zeros(0, np.int64), None)
            hit = np.flatnonzero(docs == doc)
            out.append((term, w * float(data[hit[0]]) if len(hit) else 0.0))
        return out

    def doc_term_counts(self, doc: int) -> tuple[np.ndarray, np.ndarray]:
        """(term ids, counts) of one document."""
        if self.forward_offsets is None:
            raise DualvecError("this index was built by an older dualvec, without the forward index that "
                               "pseudo-relevance feedback reads: re-index the collection to use RM3")
        lo, hi = self.forward_offsets[doc], self.forward_offsets[doc + 1]
        return self.forward_terms[lo:hi], self.forward_counts[lo:hi]

    def save(self, path: str | os.PathLike) -> None:
        self._index.save(str(path), allow_pickle=False)
        for name in _FORWARD:
            np.save(Path(path) / f"{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, path: str | os.PathLike, k1: float, b: float, method: str, mmap: bool = True,
             root: str | os.PathLike | None = None) -> BM25:
        import bm25s

        self = cls(k1, b, method)
        _check_files(Path(path), Path(root) if root is not None else Path(path))
        try:
            self._index = bm25s.BM25.load(str(Path(path)), mmap=mmap, allow_pickle=False)
        except DualvecError:
            raise
        except Exception as exc:  # bm25s and numpy raise many kinds on a damaged index
            raise DualvecError(f"{path}: the BM25 index is missing or corrupt ({type(exc).__name__}: {exc})") from None
        self._set_vocab()
        self._check_matrix(path)
        if not (Path(path) / "forward_offsets.npy").exists():  # an index from before the forward view
            self.forward_terms = self.forward_counts = self.forward_offsets = None
            return self
        for name in _FORWARD:
            setattr(self, name, load_array(Path(path) / f"{name}.npy", mmap, root=root))
        n, fo, ft = self.n_docs, self.forward_offsets, self.forward_terms
        if fo.ndim != 1 or len(fo) != n + 1 or fo[0] != 0 or np.any(np.diff(fo) < 0) or fo[-1] != len(ft) \
                or len(self.forward_counts) != len(ft) or (len(ft) and (ft.min() < 0 or ft.max() >= len(self._terms))):
            raise DualvecError(f"{path}: the BM25 forward index does not match its {n} documents")
        return self
