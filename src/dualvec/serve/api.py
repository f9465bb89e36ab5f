"""The explorer's JSON API (FastAPI): what the page asks, and what a script may ask too.

Every endpoint is read-only over a memory-mapped model (and, with ``--index``,
an index). Bad input — an unknown word or document, an empty query, a ``topn``
out of range — is a 4xx answer ``{"detail": "..."}``; nothing a client sends
gets a 500 with a traceback. Endpoints are plain functions, which FastAPI runs
in its thread pool, so slow requests do not block the others (the numpy
products release the GIL). The schema is at ``/openapi.json``, browsable at
``/docs`` with Swagger UI's files from the swagger-ui-bundle-v2 package (nothing
from a CDN, so it works offline; without that package there is no ``/docs``).
"""

from __future__ import annotations

import bisect
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from ..errors import DualvecError, UnknownWordError
from ..model import OUT_HS_LINEARISED, SPACES, DualVectors, parse_space
from ..projection import pca2 as _pca2
from ..projection import robust_scale as _robust_scale
from ..projection import word_map as _word_map
from ..ranking import MODES, Analyzer, Ranker
from ..ranking.analysis import english_stopwords
from ..ranking.in_domain import IN_DOMAIN
from ..ranking.desm import query_vector

#: Most neighbours, completions or map points one request may ask for.
MAX_TOPN = 200
#: The whole-vocabulary view's projections, and the most words it projects (from each space).
PROJECTIONS = ("pca", "umap")
MAX_PROJECTED = 5000
#: How many projections (method, n, stop words) the explorer keeps, least recently used dropped
#: first: each holds up to 2 x MAX_PROJECTED points (about 3 MB), and a client asking for n = 5000,
#: 4999, 4998, ... grew the server by 3 MB a request when every one was kept (issue 29).
PROJECTIONS_KEPT = 8
STATIC = files("dualvec.serve") / "static"
_WORD = re.compile(r"\w+|\W+")


TopN = Annotated[int, Query(ge=1, le=MAX_TOPN, description=f"How many (1-{MAX_TOPN}).")]
#: The longest query and passage the text view shades (an answer is ~10x its passage), and the
#: largest request body taken at all (a larger one is a 413 before it is read).
MAX_QUERY_CHARS = 2000
MAX_PASSAGE_CHARS = 100_000
MAX_BODY_BYTES = 1 << 20
#: A body over the limit but under this is read and dropped before the 413 goes out: a client still
#: sending when the server answers and closes gets a reset, and never sees the answer.
MAX_DRAINED_BYTES = 64 << 20


class TextRequest(BaseModel):
    query: str = Field(..., max_length=MAX_QUERY_CHARS, description="Query text (one word or several).")
    passage: str | None = Field(None, max_length=MAX_PASSAGE_CHARS, description="Text to shade; or give doc_id.")
    doc_id: str | None = Field(None, max_length=1000,
                               description="A document of the index to shade instead of a passage.")


class _JSON(JSONResponse):
    """JSON whose strings may hold lone surrogates (a word read from a model file): written as
    ``\\udXXX`` escapes, which JSON allows, instead of failing to encode (a 500)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
            "utf-8", "backslashreplace")


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
        # Without an index, the Text view drops stop words as a default index would.
        self.analyzer = ranker.analyzer if ranker is not None else Analyzer(model.tokenizer, "english", None)
        self.mismatch = model_mismatch(model, ranker)
        self._projections: OrderedDict[tuple[str, int, bool], dict[str, Any]] = OrderedDict()
        self._projection_lock = threading.Lock()
        self._fitting: dict[tuple[str, int, bool], threading.Lock] = {}
        self._mean_units: dict[str, np.ndarray] = {}

    def mean_unit(self, space: str) -> np.ndarray:
        """The mean of a space's unit vectors over the training corpus's tokens (each word weighted
        by its count; equally where the model recorded no counts): its dot product with a unit
        query is the query's mean cosine with a word of the corpus, what is typical in this model."""
        if space not in self._mean_units:
            unit = self.model.space(space).unit
            counts = self.model.vocab.counts if self.model.counts_known else None
            w = np.ones(len(unit)) if counts is None else np.asarray(counts, dtype=np.float64)
            self._mean_units[space] = (w @ unit) / max(float(w.sum()), 1e-12)
        return self._mean_units[space]

    def words_of(self, text: str) -> list[str]:
        """The model's words in a box's text: split on spaces and commas, each piece kept as typed if the
        model knows it, else cut and case-folded by the model's tokeniser ("Insulin" -> "insulin")."""
        out: list[str] = []
        for piece in re.split(r"[\s,]+", text):
            if not piece:
                continue
            out.extend([piece] if piece in self.model else self.analyzer.tokenizer(piece) or [piece])
        return out

    def count(self, word: str) -> int | None:
        """A word's corpus count (None where the model's source recorded none)."""
        if not self.model.counts_known:
            return None
        row = self.model.vocab.index.get(word)
        return None if row is None else int(self.model.vocab.counts[row])

    def suggestions(self, n: int = 6) -> list[str]:
        """Content words the model knows, for placeholders: frequent, not stop words, not numbers."""
        from bm25s.stopwords import STOPWORDS_EN_PLUS  # a longer list than the ranker's: no "were", "from"

        stop = english_stopwords() | frozenset(STOPWORDS_EN_PLUS)
        words = self.model.words
        picked = [w for w in words[min(100, len(words) // 4):3000] if w not in stop and w.isalpha() and len(w) > 4]
        return picked[:: max(1, len(picked) // (4 * n))][:n] or words[:n]

    # -- words -------------------------------------------------------------------------

    def approximate(self, space: str) -> bool:
        return self.model.is_approximate(space)

    def info(self) -> dict[str, Any]:
        m = self.model
        info = m.info()
        return {
            "words": len(m), "vector_size": m.vector_size, "out_space": m.out_kind,
            "out_is_approximate": m.out_kind == OUT_HS_LINEARISED, "spaces": self.spaces,
            "params": info["params"], "tokenizer": tokenizer_text(m.tokenizer), "corpus_words": info["corpus_words"],
            "tuning": tuning_text(m),
            "history": [{"epoch": h.epoch, "loss": h.loss, "words_per_second": h.words_per_second,
                         "seconds": h.seconds} for h in m.history],
            "index": None if self.ranker is None else {
                "documents": len(self.ranker.doc_ids), "config": self.ranker.config.to_dict(),
                "desm_weight": self.ranker.config.alpha, "space": self.ranker.config.space,
                "spaces": [s for s in self.spaces if parse_space(s)[1] in self.ranker.centroids],
                "modes": list(MODES), "has_texts": self.ranker.texts is not None,
                "desm_models": self.ranker.config.desm_models, "first_stage": self.ranker.config.first_stage,
                # whose DESM ranks by default, as the ranker mixes it ("the index's model", "in-domain", ...)
                "desm_of": [model_label(n) for n in self.ranker.desm_models_used()],
                "learned": None if self.ranker.learned is None else {
                    "learner": self.ranker.learned.name, "features": list(self.ranker.learned.feature_names_)},
                # every model the index ranks with beside its own (the in-domain one), and how it was trained
                "extra_models": [{"name": name, "words": len(x.model), "vector_size": x.model.vector_size,
                                  "tokenizer": tokenizer_text(x.model.tokenizer), "params": info["params"],
                                  "corpus_words": info["corpus_words"], "tuning": tuning_text(x.model),
                                  "trained_on": "the indexed documents' text, when the index was built"
                                  if name == IN_DOMAIN else None}
                                 for name, x in self.ranker.extra_models.items() for info in [x.model.info()]]},
            "model_mismatch": self.mismatch,
            "lowercase": bool(getattr(self.analyzer.tokenizer, "lowercase", False)),
            "most_frequent": m.words[:12],
            "suggestions": self.suggestions(),
            "umap": _has_umap(), "docs": _swagger_assets() is not None,
        }

    def complete(self, prefix: str, limit: int) -> list[str]:
        """Words starting with ``prefix``, most frequent first (case folded, where the tokeniser folds it)."""
        if getattr(self.analyzer.tokenizer, "lowercase", False):
            prefix = prefix.lower()
        lo = bisect.bisect_left(self._sorted, prefix)
        hits = []
        for i in range(lo, min(lo + 20_000, len(self._sorted))):
            if not self._sorted[i].startswith(prefix):
                break
            hits.append(self._rank[i])
        return [self.model.words[r] for r in sorted(hits)[:limit]]

    def neighbors(self, positive: Sequence[str], negative: Sequence[str], topn: int) -> dict[str, Any]:
        """The nearest words in every pairing of the spaces, with cosines."""
        positive = [w for text in positive for w in self.words_of(text)]
        negative = [w for text in negative for w in self.words_of(text)]
        if not positive and not negative:
            raise DualvecError("give a word")
        columns = {}
        found = self.model.most_similar_spaces(list(positive), list(negative), spaces=self.spaces, topn=topn)
        for space, hits in found.items():
            columns[space] = {"approximate": self.approximate(space),
                              "neighbors": [{"word": w, "cos": _round(c), "count": self.count(w)} for w, c in hits]}
        return {"positive": list(positive), "negative": list(negative), "columns": columns,
                "counts": {w: self.count(w) for w in [*positive, *negative]}}

    def map(self, text: str, topn: int) -> dict[str, Any]:
        """2-D layouts of a word's (or several words' centroid's) IN-IN and IN-OUT neighbourhoods.

        One projection serves both panels: a PCA fitted on the union of their words' unit IN
        vectors, so a word shared by the panels has the same coordinates in both. Axes are scaled
        by percentiles (:func:`~dualvec.projection.robust_scale`), so one outlier is clamped to the
        edge and marked rather than squeezing the rest into a heap. The numbers are
        :func:`dualvec.projection.word_map`'s, which :func:`dualvec.plot.plot_spaces` draws too.
        """
        words = self.words_of(text)
        layout = _word_map(self.model, words, topn, [s for s in ("in-in", "in-out") if s in self.spaces])
        xy, clamped, explained = layout.xy, layout.clamped, layout.explained
        where = {w: i for i, w in enumerate(layout.words)}
        panels = {}
        for space, found in layout.neighbours.items():
            points = []
            for w, c in [*((w, None) for w in words), *found]:
                i = where[w]
                points.append({"word": w, "cos": None if c is None else _round(c), "x": _round(xy[i, 0]),
                               "y": _round(xy[i, 1]), "query": c is None, "clamped": bool(clamped[i]),
                               "count": self.count(w)})
            panels[space] = {"approximate": self.approximate(space), "points": points}
        return {"word": " ".join(words), "words": words, "projection": "pca of the union's unit IN vectors",
                "explained": [_round(v) for v in explained], "panels": panels}

    def projection(self, method: str, n: int, stopwords: bool) -> dict[str, Any]:
        """The ``n`` most frequent words' IN and OUT vectors projected together into 2-D, like the
        Embedding Projector: PCA, or UMAP (umap-learn, cosine) when installed. Computed once per
        setting and kept in memory (the last PROJECTIONS_KEPT settings); both spaces go into one fit,
        so their positions compare, each space centred on its mean first (so that a word's IN and
        OUT points can meet)."""
        if method not in PROJECTIONS:
            raise DualvecError(f"unknown projection {method!r}; use one of {', '.join(PROJECTIONS)}")
        key = (method, n, stopwords)
        with self._projection_lock:
            if key in self._projections:
                self._projections.move_to_end(key)
                return self._projections[key]
            lock = self._fitting.setdefault(key, threading.Lock())
        try:
            with lock:  # one fit per setting: a second request for it waits and reuses it, others go on
                with self._projection_lock:
                    done = self._projections.get(key)
                if done is None:
                    done = self._project(method, n, stopwords)
                with self._projection_lock:
                    self._projections[key] = done
                    self._projections.move_to_end(key)
                    while len(self._projections) > PROJECTIONS_KEPT:
                        self._projections.popitem(last=False)
                return done
        finally:
            with self._projection_lock:  # a later request makes a new lock (and finds the fit, if still kept)
                self._fitting.pop(key, None)

    def _project(self, method: str, n: int, stopwords: bool) -> dict[str, Any]:
        m = self.model
        stop = frozenset() if stopwords else english_stopwords()
        words = [w for w in m.words[: n + len(stop) + 1] if w not in stop][:n]
        rows = m.in_vectors.lookup_rows(words)
        spaces = ["in"] + (["out"] if m.out_vectors is not None else [])
        # Each space centred on its own mean first: OUT vectors share a direction of their own, and
        # uncentred the first component only separates the IN cloud from the OUT cloud.
        points = np.vstack([_centred(m.space(s).unit[rows]) for s in spaces])
        started = time.perf_counter()
        if method == "umap":
            umap = _umap()
            xy = umap.UMAP(n_components=2, metric="cosine", n_neighbors=min(15, len(points) - 1),
                           random_state=0, n_jobs=1, init="random" if len(points) < 8 else "spectral"
                           ).fit_transform(points)
            explained: list[float] = []
        else:
            xy, explained = _pca2(points)
        xy, clamped = _robust_scale(np.asarray(xy, dtype=np.float64))
        out = []
        for k, s in enumerate(spaces):
            for j, w in enumerate(words):
                i = k * len(words) + j
                out.append({"word": w, "space": s, "x": _round(xy[i, 0]), "y": _round(xy[i, 1]),
                            "clamped": bool(clamped[i]), "count": self.count(w)})
        return {"method": method, "n": len(words), "stopwords": stopwords, "spaces": spaces, "centred": True,
                "explained": [_round(v) for v in explained], "seconds": round(time.perf_counter() - started, 3),
                "points": out}

    # -- text and search -----------------------------------------------------------------

    def text(self, req: TextRequest) -> dict[str, Any]:
        """Each passage word's cosine with the query in IN-OUT and IN-IN, with DESM and BM25.

        DESM is the mean over the query's known words q of cos(q, D̄), D̄ the centroid of the
        passage's unit vectors (stop words out, as the ranker analyses them); ``desm_terms`` gives
        each word's cos(q, D̄), so the page shows how the score is made. ``typical`` gives, per
        pairing, the query's mean cosine with a word of the training corpus (:meth:`mean_unit`):
        the page centres its colour scale there.
        """
        if not req.query.strip():
            raise DualvecError("the query is empty")
        if (req.passage is None) == (req.doc_id is None):
            raise DualvecError("give a passage or a doc_id, not both or neither")
        if req.doc_id is not None:
            if self.ranker is None or self.ranker.texts is None:
                raise DualvecError("this server has no index with document texts (start it with --index)")
            passage = self.ranker.texts[int(self.ranker.rows([req.doc_id])[0])]
            if len(passage) > MAX_PASSAGE_CHARS:
                raise DualvecError(f"document {req.doc_id!r} is longer than {MAX_PASSAGE_CHARS:,} characters, "
                                   "the most the text view shades")
        else:
            passage = req.passage or ""
        m = self.model
        analyzer = self.analyzer
        tokenize = analyzer.tokenizer
        q_terms = analyzer.terms(req.query)
        known_q = [t for t in q_terms if t in m]
        q_in = query_vector(m, known_q, "in")
        q_norm = max(float(np.linalg.norm(q_in)), 1e-12)
        index = m.vocab.index
        kept = set(analyzer.terms(passage))
        spaces = [s for s in ("in-out", "in-in") if s in self.spaces]
        tokens = []
        for piece in _WORD.findall(passage):
            toks = tokenize(piece)
            entry: dict[str, Any] = {"text": piece}
            if len(toks) == 1:
                entry["term"] = toks[0]
                if toks[0] not in kept:
                    entry["stop"] = True  # the ranker drops it: not part of DESM, not shaded
                elif toks[0] in index and q_in.any():
                    row = index[toks[0]]
                    for space in spaces:
                        d = m.space(parse_space(space)[1]).unit[row]
                        entry[space] = _round(float(np.dot(q_in, d)) / q_norm)
                elif toks[0] not in index:
                    entry["unknown"] = True
            tokens.append(entry)
        d_terms = analyzer.terms(passage)
        d_rows = [index[t] for t in d_terms if t in index]
        q_rows = [index[t] for t in known_q]
        scores: dict[str, float | None] = {}
        contributions: dict[str, list[dict[str, Any]]] = {}
        for space in spaces:
            d_unit = m.space(parse_space(space)[1]).unit
            centroid = d_unit[d_rows].mean(axis=0) if d_rows else np.zeros(m.vector_size, np.float32)
            norm = float(np.linalg.norm(centroid))
            if norm > 0 and q_rows:
                cos = m.in_vectors.unit[q_rows] @ (centroid / norm)
                contributions[space] = [{"term": t, "cos": _round(c)} for t, c in zip(known_q, cos)]
                scores[f"desm_{space}"] = _round(float(cos.mean()))
            else:
                contributions[space] = []
                scores[f"desm_{space}"] = None
        # The middle of each panel's colour scale: with a general model every IN-OUT cosine may be
        # negative (OUT vectors share a direction), so 0 is not "unrelated"; the typical cosine is.
        typical = {space: _round(float(q_in @ self.mean_unit(parse_space(space)[1])) / q_norm) if q_in.any() else None
                   for space in spaces}
        bm25 = None
        if req.doc_id is not None and self.ranker is not None:
            bm25 = _round(self.ranker.explain(req.query, req.doc_id)["bm25"])
        message = None
        if not passage.strip():
            message = "the passage is empty: nothing to score"
        elif not d_rows:
            message = "no passage word (stop words aside) is in the model: DESM is undefined"
        elif not known_q:
            message = "no query word is in the model: nothing to shade"
        return {"query": req.query, "query_terms": known_q, "unknown_query_terms": [t for t in q_terms if t not in m],
                "doc_id": req.doc_id, "tokens": tokens, "scores": {**scores, "bm25": bm25},
                "desm_terms": contributions, "typical": typical, "passage_terms": len(d_rows), "message": message,
                "approximate": self.model.out_kind == OUT_HS_LINEARISED}

    def search(self, q: str, k: int, desm_weight: float | None = None, mode: str = "rerank",
               space: str | None = None) -> dict[str, Any]:
        """A query's ranked documents, each with the components its score adds up from and each
        query term's share, and the pipeline and formula that ranked them (the ranker's own
        :meth:`~dualvec.ranking.Ranker.explain_ranking`, so what is shown is what was computed)."""
        if self.ranker is None:
            raise DualvecError("this server has no index (start it with --index)")
        if not q.strip():
            raise DualvecError("the query is empty")
        r = self.ranker
        space = space or r.config.space
        weight = r.config.alpha if desm_weight is None else desm_weight
        if mode not in MODES:
            raise DualvecError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if space not in SPACES or parse_space(space)[1] not in r.centroids:
            raise DualvecError(f"the index cannot score space {space!r}; use one of "
                               f"{', '.join(s for s in self.spaces if parse_space(s)[1] in r.centroids)}")
        query = r.analyze(q)
        learned = desm_weight is None and mode == "rerank" and r.learned is not None  # tune --save stored one
        ranking = r.explain_ranking(query, k, mode=mode, alpha=None if learned else weight, space=space)
        results = []
        for hit in ranking["results"]:
            doc_id = hit["doc_id"]
            ex = r.explain(query, doc_id, space=space)
            text = r.texts[int(r.rows([doc_id])[0])] if r.texts is not None else None
            title, body = _split_title(text) if text is not None else (None, None)
            results.append({"doc_id": doc_id, "score": _round(hit["score"]), "bm25": _round(ex["bm25"]),
                            "desm": _round(ex["desm"]),
                            "components": [_component(c) for c in hit["components"]],
                            "bm25_terms": [{"term": t, "score": _round(s)} for t, s in ex["bm25_terms"]],
                            "desm_terms": [{"term": t, "score": _round(s)} for t, s in ex["desm_terms"]],
                            "desm_terms_model": model_label(ex["desm_model"]),
                            "title": title, "snippet": body[:300] if body is not None else None})
        stop_only = bool(q.strip()) and not query.terms and bool(self.analyzer.tokenizer(q))
        return {"query": q, "stages": pipeline(ranking, len(r.doc_ids)), "formula": formula(ranking),
                "ranker": ranking["ranker"], "bias": _round(ranking["bias"]), "pool": ranking["pool"],
                "desm_weight": None if learned else weight, "space": space, "mode": mode, "k": k,
                "learned": ranking.get("learner"), "normalization": ranking.get("normalization"),
                "models": [{"name": n, "label": model_label(n)} for n in ranking.get("models", [])],
                "expansion": {stage: [{"term": t, "weight": _round(w)} for t, w in terms.items()]
                              for stage, terms in query.added.items()},
                "unknown_terms": [t for t in query.terms if t not in r.model],
                "results": results,
                "message": None if results else "every query word is a stop word, which the ranker drops"
                if stop_only else "no query word is in the collection or the model"}


#: How the page names a score's components (a learner's features keep their own names).
COMPONENT_LABELS = {"bm25": "BM25", "desm": "DESM"}


def tokenizer_text(tokenizer: Any) -> str | None:
    """A tokeniser as a user would write it: ``\\w+, lowercased`` (the pattern itself, not its
    Python repr), a preset's name where it is one, ``None`` where the model recorded none."""
    if tokenizer is None:
        return None
    pattern = getattr(tokenizer, "pattern", None)
    if pattern is None:
        return getattr(tokenizer, "__name__", type(tokenizer).__name__)
    lowercase = bool(getattr(tokenizer, "lowercase", False))
    from ..text.tokenize import TOKENIZER_PRESETS

    name = next((n for n, preset in TOKENIZER_PRESETS.items() if preset == (pattern, lowercase)), None)
    return (f"{name}: " if name else "") + f"{pattern}{', lowercased' if lowercase else ', case kept'}"


def tuning_text(model: DualVectors) -> str | None:
    """How a model was tuned for ranking after word2vec (its tuning record, in a line), or ``None``."""
    t = getattr(model, "tuning", None)
    if not t:
        return None
    settings = t.get("settings") if isinstance(t.get("settings"), dict) else {}
    parts = [str(t[k]) for k in ("objective",) if t.get(k)]
    if settings.get("epochs") is not None:
        parts.append(f"{settings['epochs']} epochs")
    if t.get("pairs_per_epoch") is not None:
        parts.append(f"{t['pairs_per_epoch']:,} pairs an epoch")
    if t.get("pooling"):
        parts.append(f"pooling {t['pooling']}")
    return ", ".join(parts)


def model_label(name: str) -> str:
    """A model of the index by name: ``""`` is the index's own (the model it was built on)."""
    return name or "the index's model"


def _component(c: dict[str, Any]) -> dict[str, Any]:
    out = {"name": c["name"], "label": COMPONENT_LABELS.get(c["name"], c["name"]),
           **{key: None if c[key] is None else _round(c[key]) for key in ("raw", "normalized", "weight", "contribution")}}
    if "models" in c:
        out["models"] = [{"name": m["name"], "label": model_label(m["name"]), "raw": _round(m["raw"]),
                          "normalized": _round(m["normalized"])} for m in c["models"]]
    return out


def _norm_text(ranking: dict[str, Any]) -> str:
    pool = ranking["pool"]
    if ranking["mode"] != "rerank":
        over = f"all {pool:,} documents"
    elif ranking["first_stage"] == "bm25":
        over = f"the {pool:,} documents BM25 retrieved"
    else:
        over = f"the {pool:,} documents the first stage retrieved (this mixture over every document)"
    return f"{'min-max' if ranking['normalization'] == 'minmax' else 'z-score'} normalised over {over}"


def _desm_text(ranking: dict[str, Any]) -> str:
    """Whose DESM ranked: the index's model, another one (a model tuned for ranking), or several's mean."""
    models = ranking["models"]
    return f"DESM {ranking['space'].upper()}" + ("" if models == [""] else f" of {' + '.join(map(model_label, models))}")


def formula(ranking: dict[str, Any]) -> str:
    """The formula a ranking applied, in words and symbols, from :meth:`Ranker.explain_ranking`."""
    if ranking["ranker"] == "learned":
        first = ranking["results"][0]["components"] if ranking["results"] else []
        pool = f"each document feature z-scored over the {ranking['pool']:,} documents of the pool"
        if any(c["weight"] is not None for c in first):
            return f"score = Σ weight × feature, {pool}"
        if any(c["contribution"] is not None for c in first):
            return (f"score = the {ranking['learner']} trees' constant {ranking['bias']:+.3f} + each feature's "
                    f"contribution (its SHAP value), {pool}")
        return f"score = the {ranking['learner']} ranker's output over the features, {pool}"
    a = ranking["alpha"]
    text = f"score = {1 - a:g} × BM25 + {a:g} × DESM, each {_norm_text(ranking)}"
    models = ranking["models"]
    if models != [""] and len(models) == 1:
        text += f"; DESM = {model_label(models[0])}'s"
    if len(models) > 1:
        text += (f"; DESM = the mean of {len(models)} models' DESM ({', '.join(model_label(m) for m in models)}), "
                 "each normalised the same way, normalised again")
    return text


def pipeline(ranking: dict[str, Any], documents: int) -> list[str]:
    """The steps a ranking went through, first to last (query expansion, candidates, scoring)."""
    if ranking["ranker"] == "learned":  # the learner's own pool, whatever expansion the index sets
        return [f"BM25 ∪ RM3 top {ranking['first_stage_k']} ({ranking['pool']:,} documents)",
            f"learned ranker ({ranking['learner']}, {len(ranking['features'])} features)"]
    steps = list(ranking["stages"])
    desm = _desm_text(ranking)
    if ranking["mode"] == "full":
        return steps + [f"every document ({documents:,}): BM25 and {desm}", "mixture"]
    k = ranking["first_stage_k"]
    top = f"top {k}" + (f" ({ranking['pool']:,} documents)" if ranking["pool"] < k else "")
    if ranking["first_stage"] == "bm25":
        return steps + [f"BM25 {top}", desm, "mixture"]
    return steps + [f"every document ({documents:,}): BM25 and {desm}, mixed", top, "mixture again over them"]


def _default_tokenizer():
    from ..text.tokenize import default_tokenizer

    return default_tokenizer()


def _centred(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64)
    return rows - rows.mean(axis=0) if len(rows) else rows


def _split_title(text: str) -> tuple[str | None, str]:
    """A document's title and body, where the collection joined them as "title. text" (BEIR), the
    index keeping one string; ``None`` and the whole text where it starts with no short sentence."""
    m = re.match(r"(.{1,250}?[.?!])\.?\s+(\S.*)", text, re.DOTALL)
    return (m.group(1), m.group(2)) if m else (None, text)


def _has_umap() -> bool:
    from importlib.util import find_spec

    return find_spec("umap") is not None


def _umap():
    try:
        import umap
    except ImportError:
        raise DualvecError("the UMAP projection needs umap-learn: pip install 'dualvec[explore]'") from None
    return umap


def model_mismatch(model: DualVectors, ranker: Ranker | None) -> str | None:
    """Why the served model is not the index's, or ``None`` when it is (or there is no index).

    An index records its model's fingerprint and keeps a copy of that model: Search scores with
    the copy (its centroids are in that model's spaces), while Words, Map and Text use the model
    served. A difference is worth a warning, not a refusal: comparing a model with an index built
    on another is a fair thing to do.
    """
    if ranker is None or ranker.model is model:
        return None
    a, b = model.fingerprint, ranker.model.fingerprint
    if a is not None and b is not None:
        same = a == b
    else:  # an imported model records no fingerprint: compare what is cheap to compare
        same = (model.words == ranker.model.words and model.vector_size == ranker.model.vector_size
                and np.array_equal(model.in_vectors.unit[:1000], ranker.model.in_vectors.unit[:1000]))
    if same:
        return None
    return (f"the index was built on another model ({len(ranker.model):,} words, {ranker.model.vector_size} "
            f"dimensions) than the one served ({len(model):,} words, {model.vector_size} dimensions): "
            "Search ranks with the index's model, Words, Map and Text show the served one")


def _swagger_assets():
    """The directory of Swagger UI's files that swagger-ui-bundle-v2 ships, or ``None`` without it."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    return swagger_ui_path if (Path(swagger_ui_path) / "swagger-ui-bundle.js").is_file() else None


def create_app(model: DualVectors, ranker: Ranker | None = None) -> FastAPI:
    """The explorer: the page at ``/``, its JSON API under ``/api``."""
    ex = Explorer(model, ranker)
    swagger = _swagger_assets()
    # FastAPI's own /docs loads Swagger UI from a CDN (a blank page offline): ours serves the assets that
    # swagger-ui-bundle-v2 ships, and without that package there is no /docs (the schema stays at /openapi.json).
    app = FastAPI(title="dualvec explorer", version="1", docs_url=None, redoc_url=None, default_response_class=_JSON,
                  description="Both embedding spaces of a word2vec model, and DESM ranking, over JSON.")

    @app.exception_handler(DualvecError)
    async def bad_input(request: Request, exc: DualvecError) -> JSONResponse:
        status = 404 if isinstance(exc, UnknownWordError) or "unknown document" in str(exc) else 400
        return _JSON({"detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:  # FastAPI's, but through
        return _JSON({"detail": jsonable_encoder(exc.errors())}, status_code=422)  # _JSON: it echoes the input

    @app.middleware("http")
    async def bounded_body(request: Request, call_next):  # refused before the body is read
        if "transfer-encoding" in request.headers:
            return _JSON({"detail": "a request body must come with its Content-Length"}, status_code=411)
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            if length.isdigit() and int(length) <= MAX_DRAINED_BYTES:
                async for _ in request.stream():  # dropped as it comes: nothing is kept
                    pass
            return _JSON({"detail": f"the request body is larger than {MAX_BODY_BYTES:,} bytes "
                                    f"(a passage holds at most {MAX_PASSAGE_CHARS:,} characters)"}, status_code=413)
        return await call_next(request)

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

    @app.get("/api/map", summary="2-D layouts of a word's IN-IN and IN-OUT neighbourhoods (one shared PCA)")
    def word_map(word: Annotated[str, Query(min_length=1)], topn: TopN = 15) -> dict[str, Any]:
        return ex.map(word, topn)

    @app.get("/api/projection", summary="The most frequent words' IN and OUT vectors in 2-D (PCA or UMAP)")
    def projection(method: Annotated[str, Query(description=f"One of {', '.join(PROJECTIONS)}.")] = "pca",
                   n: Annotated[int, Query(ge=2, le=MAX_PROJECTED, description="How many words.")] = 1000,
                   stopwords: Annotated[bool, Query(description="Keep English stop words.")] = False,
                   ) -> dict[str, Any]:
        return ex.projection(method, n, stopwords)

    @app.post("/api/text", summary="A passage's words shaded by their cosine with the query, and DESM")
    def text(req: TextRequest) -> dict[str, Any]:
        return ex.text(req)

    @app.get("/api/search", summary="Rank the index's documents (needs --index)")
    def search(q: Annotated[str, Query(max_length=2000)], k: TopN = 10,
               desm_weight: Annotated[float | None, Query(ge=0, le=1, description="DESM's weight in the mixture "
                                                          "(default: the index's).")] = None,
               mode: Annotated[str, Query(description=f"One of {', '.join(MODES)}.")] = "rerank",
               space: Annotated[str | None, Query(description="DESM's pairing (default: the index's).")] = None,
               ) -> dict[str, Any]:
        return ex.search(q, k, desm_weight, mode, space)

    @app.get("/api/document", summary="One indexed document's text")
    def document(doc_id: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
        if ranker is None or ranker.texts is None:
            raise DualvecError("this server has no index with document texts (start it with --index)")
        return {"doc_id": doc_id, "text": ranker.texts[int(ranker.rows([doc_id])[0])]}

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    if swagger is not None:
        app.mount("/swagger", StaticFiles(directory=str(swagger)), name="swagger")

        @app.get("/docs", include_in_schema=False)
        def docs() -> Any:
            from fastapi.openapi.docs import get_swagger_ui_html

            return get_swagger_ui_html(openapi_url="/openapi.json", title="dualvec explorer API",
                                       swagger_js_url="/swagger/swagger-ui-bundle.js",
                                       swagger_css_url="/swagger/swagger-ui.css",
                                       swagger_favicon_url="/swagger/favicon-32x32.png")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"))

    return app
