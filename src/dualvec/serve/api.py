"""The explorer's JSON API (FastAPI): what the page asks, and what a script may ask too.

Every endpoint is read-only over a memory-mapped model (and, with ``--index``,
an index). Bad input — an unknown word or document, an empty query, a ``topn``
out of range — is a 4xx answer ``{"detail": "..."}``; nothing a client sends
gets a 500 with a traceback. Endpoints are plain functions, which FastAPI runs
in its thread pool, so slow requests do not block the others (the numpy
products release the GIL). The schema is at ``/openapi.json``, browsable at
``/docs``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from importlib.resources import files
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from ..errors import DualvecError, UnknownWordError
from ..model import OUT_HS_LINEARISED, SPACES, DualVectors, parse_space
from ..ranking import Ranker
from ..ranking.desm import query_vector

#: Most neighbours, completions or map points one request may ask for.
MAX_TOPN = 200
STATIC = files("dualvec.serve") / "static"
_WORD = re.compile(r"\w+|\W+")


TopN = Annotated[int, Query(ge=1, le=MAX_TOPN, description=f"How many (1-{MAX_TOPN}).")]


class TextRequest(BaseModel):
    query: str = Field(..., description="Query text (one word or several).")
    passage: str | None = Field(None, description="Text to shade; or give doc_id.")
    doc_id: str | None = Field(None, description="A document of the index to shade instead of a passage.")


def _round(x: float) -> float:
    return round(float(x), 5)


class Explorer:
    """The state behind the API: one model, optionally one index, both read-only."""

    def __init__(self, model: DualVectors, ranker: Ranker | None = None):
        self.model = model
        self.ranker = ranker
        words = model.words
        # Completion: words sorted, each with its frequency rank (the vocabulary's row).
        order = sorted(range(len(words)), key=words.__getitem__)
        self._sorted = [words[i] for i in order]
        self._rank = order
        self.spaces = [s for s in SPACES if model.out_vectors is not None or "out" not in s]

    # -- words -------------------------------------------------------------------------

    def approximate(self, space: str) -> bool:
        return self.model.is_approximate(space)

    def info(self) -> dict[str, Any]:
        m = self.model
        info = m.info()
        return {
            "words": len(m), "vector_size": m.vector_size, "out_space": m.out_kind,
            "out_is_approximate": m.out_kind == OUT_HS_LINEARISED, "spaces": self.spaces,
            "params": info["params"], "tokenizer": info["tokenizer"], "corpus_words": info["corpus_words"],
            "history": [{"epoch": h.epoch, "loss": h.loss, "words_per_second": h.words_per_second,
                         "seconds": h.seconds} for h in m.history],
            "index": None if self.ranker is None else {
                "documents": len(self.ranker.doc_ids), "config": self.ranker.config.to_dict(),
                "has_texts": self.ranker.texts is not None},
            "most_frequent": m.words[:12],
        }

    def complete(self, prefix: str, limit: int) -> list[str]:
        """Words starting with ``prefix``, most frequent first."""
        lo = bisect.bisect_left(self._sorted, prefix)
        hits = []
        for i in range(lo, min(lo + 20_000, len(self._sorted))):
            if not self._sorted[i].startswith(prefix):
                break
            hits.append(self._rank[i])
        return [self.model.words[r] for r in sorted(hits)[:limit]]

    def neighbors(self, positive: Sequence[str], negative: Sequence[str], topn: int) -> dict[str, Any]:
        """The nearest words in every pairing of the spaces, with cosines."""
        if not positive and not negative:
            raise DualvecError("give a word")
        columns = {}
        found = self.model.most_similar_spaces(list(positive), list(negative), spaces=self.spaces, topn=topn)
        for space, hits in found.items():
            columns[space] = {"approximate": self.approximate(space),
                              "neighbors": [{"word": w, "cos": _round(c)} for w, c in hits]}
        return {"positive": list(positive), "negative": list(negative), "columns": columns}

    def map(self, word: str, topn: int) -> dict[str, Any]:
        """2-D layouts of a word's IN-IN and IN-OUT neighbourhoods.

        Both panels place their words by the same thing, a PCA of the words' unit IN vectors,
        so they compare: the same-type neighbours sit together, the co-occurring ones spread
        over several types.
        """
        panels = {}
        unit_in = self.model.in_vectors
        for space in [s for s in ("in-in", "in-out") if s in self.spaces]:
            hits = self.model.most_similar(word, space=space, topn=topn)
            rows = unit_in.lookup_rows([word] + [w for w, _ in hits])
            xy = _pca2(np.asarray(unit_in.unit[rows], dtype=np.float64))
            panels[space] = {"approximate": self.approximate(space), "points": [
                {"word": w, "cos": _round(c), "x": _round(x), "y": _round(y), "query": i == 0}
                for i, ((w, c), (x, y)) in enumerate(zip([(word, 1.0)] + hits, xy))]}
        return {"word": word, "panels": panels}

    # -- text and search -----------------------------------------------------------------

    def text(self, req: TextRequest) -> dict[str, Any]:
        """Each passage word's cosine with the query in IN-OUT and IN-IN, with DESM and BM25."""
        if not req.query.strip():
            raise DualvecError("the query is empty")
        if (req.passage is None) == (req.doc_id is None):
            raise DualvecError("give a passage or a doc_id, not both or neither")
        if req.doc_id is not None:
            if self.ranker is None or self.ranker.texts is None:
                raise DualvecError("this server has no index with document texts (start it with --index)")
            passage = self.ranker.texts[int(self.ranker.rows([req.doc_id])[0])]
        else:
            passage = req.passage or ""
        m = self.model
        analyzer = self.ranker.analyzer if self.ranker is not None else None
        tokenize = analyzer.tokenizer if analyzer is not None else (m.tokenizer or _default_tokenizer())
        q_terms = analyzer.terms(req.query) if analyzer is not None else tokenize(req.query)
        known_q = [t for t in q_terms if t in m]
        q_in = query_vector(m, known_q, "in")
        index = m.vocab.index
        tokens = []
        for piece in _WORD.findall(passage):
            toks = tokenize(piece)
            entry: dict[str, Any] = {"text": piece}
            if len(toks) == 1 and toks[0] in index and q_in.any():
                row = index[toks[0]]
                for space in [s for s in ("in-out", "in-in") if s in self.spaces]:
                    d = m.space(parse_space(space)[1]).unit[row]
                    entry[space] = _round(float(np.dot(q_in, d)) / max(float(np.linalg.norm(q_in)), 1e-12))
            tokens.append(entry)
        # DESM over the passage's terms as the ranker analyses them (stop words out), q̄ · D̂.
        d_terms = analyzer.terms(passage) if analyzer is not None else tokenize(passage)
        d_rows = [index[t] for t in d_terms if t in index]
        scores = {}
        for space in [s for s in ("in-out", "in-in") if s in self.spaces]:
            d_unit = m.space(parse_space(space)[1]).unit
            centroid = d_unit[d_rows].mean(axis=0) if d_rows else np.zeros(m.vector_size, np.float32)
            norm = float(np.linalg.norm(centroid))
            scores[f"desm_{space}"] = _round(float(q_in @ centroid) / norm) if norm > 0 and q_in.any() else 0.0
        bm25 = None
        if req.doc_id is not None and self.ranker is not None:
            bm25 = _round(self.ranker.explain(req.query, req.doc_id)["bm25"])
        return {"query": req.query, "query_terms": known_q, "unknown_query_terms": [t for t in q_terms if t not in m],
                "doc_id": req.doc_id, "tokens": tokens, "scores": {**scores, "bm25": bm25},
                "approximate": self.model.out_kind == OUT_HS_LINEARISED}

    def search(self, q: str, k: int) -> dict[str, Any]:
        """A query's ranked documents, each stage's score and each query term's share."""
        if self.ranker is None:
            raise DualvecError("this server has no index (start it with --index)")
        if not q.strip():
            raise DualvecError("the query is empty")
        r = self.ranker
        query = r.analyze(q)
        results = []
        for doc_id, score in r.search(query, k):
            ex = r.explain(query, doc_id)
            text = r.texts[int(r.rows([doc_id])[0])] if r.texts is not None else None
            results.append({"doc_id": doc_id, "score": _round(score), "bm25": _round(ex["bm25"]),
                            "desm": _round(ex["desm"]),
                            "bm25_terms": [{"term": t, "score": _round(s)} for t, s in ex["bm25_terms"]],
                            "desm_terms": [{"term": t, "score": _round(s)} for t, s in ex["desm_terms"]],
                            "snippet": text[:300] if text is not None else None})
        return {"query": q, "stages": ["bm25"] + [s.name for s in r.config.stages()] + ["desm"],
                "alpha": r.config.alpha, "space": r.config.space,
                "expansion": {stage: [{"term": t, "weight": _round(w)} for t, w in terms.items()]
                              for stage, terms in query.added.items()},
                "unknown_terms": [t for t in query.terms if t not in r.model],
                "results": results,
                "message": None if results else "no query word is in the collection or the model"}


def _default_tokenizer():
    from ..corpus import default_tokenizer

    return default_tokenizer()


def _pca2(points: np.ndarray) -> np.ndarray:
    """The first two principal coordinates of the rows, scaled into [-1, 1]."""
    centred = points - points.mean(axis=0)
    if len(points) < 2 or not centred.any():
        return np.zeros((len(points), 2))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T
    if xy.shape[1] < 2:
        xy = np.hstack([xy, np.zeros((len(xy), 1))])
    scale = np.abs(xy).max() or 1.0
    return xy / scale


def create_app(model: DualVectors, ranker: Ranker | None = None) -> FastAPI:
    """The explorer: the page at ``/``, its JSON API under ``/api``."""
    ex = Explorer(model, ranker)
    app = FastAPI(title="dualvec explorer", version="1",
                  description="Both embedding spaces of a word2vec model, and DESM ranking, over JSON.")

    @app.exception_handler(DualvecError)
    async def bad_input(request: Request, exc: DualvecError) -> JSONResponse:
        status = 404 if isinstance(exc, UnknownWordError) or "unknown document" in str(exc) else 400
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:  # a bug: still no traceback out
        return JSONResponse({"detail": f"internal error ({type(exc).__name__})"}, status_code=500)

    @app.get("/api/model", summary="Sizes, the OUT space's kind, training settings, loss per epoch")
    def model_info() -> dict[str, Any]:
        return ex.info()

    @app.get("/api/complete", summary="Vocabulary words starting with a prefix, most frequent first")
    def complete(prefix: Annotated[str, Query(min_length=1, max_length=200)], limit: TopN = 10) -> list[str]:
        return ex.complete(prefix, limit)

    @app.get("/api/neighbors", summary="Nearest words in IN-IN, IN-OUT, OUT-IN and OUT-OUT")
    def neighbors(positive: Annotated[list[str], Query()] = [],  # noqa: B006 -- FastAPI's list parameter
                  negative: Annotated[list[str], Query()] = [],  # noqa: B006
                  topn: TopN = 10) -> dict[str, Any]:
        return ex.neighbors([w for w in positive if w], [w for w in negative if w], topn)

    @app.get("/api/map", summary="2-D layouts of a word's IN-IN and IN-OUT neighbourhoods")
    def word_map(word: Annotated[str, Query(min_length=1)], topn: TopN = 15) -> dict[str, Any]:
        return ex.map(word, topn)

    @app.post("/api/text", summary="A passage's words shaded by their cosine with the query, and DESM")
    def text(req: TextRequest) -> dict[str, Any]:
        return ex.text(req)

    @app.get("/api/search", summary="Rank the index's documents (needs --index)")
    def search(q: Annotated[str, Query(max_length=2000)], k: TopN = 10) -> dict[str, Any]:
        return ex.search(q, k)

    @app.get("/api/document", summary="One indexed document's text")
    def document(doc_id: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
        if ranker is None or ranker.texts is None:
            raise DualvecError("this server has no index with document texts (start it with --index)")
        return {"doc_id": doc_id, "text": ranker.texts[int(ranker.rows([doc_id])[0])]}

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"))

    return app
