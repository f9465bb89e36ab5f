"""PyTerrier transformers over dualvec indexes and models; no Java needed.

Install with ``pip install 'dualvec[pyterrier]'``; ``import dualvec`` never imports this module.

* :class:`DualvecRetriever` (Q → R): an index's first stage (BM25, with RM3 or embedding
  expansion when the index is configured with them), or with ``alpha=None`` its whole ranking,
  as ``dualvec rank`` gives it (the index's mixture, or the learned ranker it holds);
* :class:`DESMReranker` (R → R): re-scores any retriever's results by
  α·norm(DESM) + (1 − α)·norm(the frame's score), the mixture :meth:`Ranker.rerank` computes;
* :class:`DualvecFeatures` (R → R): adds ``features`` (BM25, RM3, DESM in each pairing and
  for each model), for ``pt.ltr``, LightGBM and the ``**`` feature union;
* :func:`topics` and :func:`qrels`: frames from any collection dualvec reads;
* :class:`DualvecIndex`: the factory, in the manner of pyterrier-dr's ``FlexIndex``:
  ``.retriever()``, ``.reranker()``, ``.features()``.

So ``DualvecRetriever(IDX) >> DESMReranker(IDX)`` is ``dualvec rank IDX``, document for
document, and ``DualvecRetriever(IDX)`` alone is ``dualvec rank IDX --alpha 0``.

Names change only here: PyTerrier's ``qid`` is dualvec's query id, ``docno`` its document
id. Ranks start at 0 (``pt.model.add_ranks``); rows come in dualvec's order (best first,
ties as dualvec breaks them), queries in the input's order. Missing columns raise
PyTerrier's ``InputValidationError``; bad values raise :class:`~dualvec.errors.DualvecError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DualvecError

try:
    import pandas as pd
    import pyterrier as pt
except ImportError as exc:  # pragma: no cover - exercised only without the extra

    class PyTerrierMissing(DualvecError, ImportError):
        """dualvec.pyterrier needs the ``pyterrier`` extra."""

    raise PyTerrierMissing(f"dualvec.pyterrier needs PyTerrier ({exc.name or exc}): "
                           "pip install 'dualvec[pyterrier]'") from exc

from .text.collections import Collection, check_run_id, read_collection, read_qrels, read_texts
from .model import DualVectors, parse_space
from .model import load as load_model
from .ranking import MODES, RM3, Analyzer, Candidates, Ranker, RankerConfig, normalize
from .ranking.desm import known_rows, query_vector, space_centroids
from .ranking.ranker import DEFAULT_ALPHA, INDEX_FORMAT, INDEX_HEADER

__all__ = ["DESMReranker", "DualvecFeatures", "DualvecIndex", "DualvecRetriever", "qrels", "topics"]

#: The columns a retriever adds to the query frame.
RESULT_COLUMNS = ("docno", "score", "rank")
#: DESM pairings the features compute by default (query space - document space).
FEATURE_SPACES = ("in-out", "in-in")


# -- the index ----------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _load(path: str, stamp: float) -> Ranker:
    """A ranker index, loaded once per path (and per version of its header)."""
    return Ranker.load(path)


class DualvecIndex:
    """A dualvec ranker index, opened once, and the factory of its transformers.

    ``DualvecIndex("scifact.idx")`` or ``DualvecIndex(ranker)`` (a loaded or freshly built
    :class:`~dualvec.ranking.Ranker`). The index is memory-mapped and read lazily.
    """

    def __init__(self, index: str | os.PathLike | Ranker, **_artifact_options: Any):
        if isinstance(index, DualvecIndex):
            index = index.ranker if index.path is None else index.path
        if isinstance(index, Ranker):
            self.path, self._ranker = None, index
        elif isinstance(index, (str, os.PathLike)):
            self.path, self._ranker = str(Path(index)), None
        else:
            raise DualvecError(f"a dualvec index is a path or a Ranker, not {type(index).__name__}")

    @property
    def ranker(self) -> Ranker:
        if self._ranker is None:
            header = Path(self.path) / INDEX_HEADER
            stamp = header.stat().st_mtime if header.is_file() else 0.0
            self._ranker = _load(str(Path(self.path).resolve()), stamp)
        return self._ranker

    def _key(self) -> Any:
        return str(Path(self.path).resolve()) if self.path is not None else id(self._ranker)

    def __repr__(self) -> str:
        return f"DualvecIndex({self.path!r})" if self.path is not None else "DualvecIndex(<Ranker>)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DualvecIndex):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((DualvecIndex, self._key()))

    # the factory methods (pyterrier-dr's FlexIndex.retriever / scorer)
    def retriever(self, k: int = 100, **options: Any) -> DualvecRetriever:
        """Q → R: the first stage (``alpha=None``: the index's whole ranking); see :class:`DualvecRetriever`."""
        return DualvecRetriever(self, k=k, **options)

    def reranker(self, space: str | None = None, alpha: float | None = None,
                 text_field: str = "text") -> DESMReranker:
        """R → R: the DESM mixture over any retriever's results, in the index's space by default."""
        return DESMReranker(self, space=space, alpha=alpha, text_field=text_field)

    scorer = reranker

    def features(self, spaces: Sequence[str] = FEATURE_SPACES, models: Any = None,
                 text_field: str = "text") -> DualvecFeatures:
        """R → R plus ``features``; see :class:`DualvecFeatures`."""
        return DualvecFeatures(self, spaces=spaces, models=models, text_field=text_field)


#: ``pt.Artifact.load`` names: ``type.format`` of a dualvec ranker index (pyproject's entry points).
ARTIFACT_TYPE, ARTIFACT_FORMAT = "dualvec_index", "ranker"


def artifact_metadata(path: str, directory_listing: Sequence[str]) -> dict | None:
    """PyTerrier's metadata adapter (``pyterrier.artifact.metadata_adapter``): a dualvec index
    says what it is without a ``pt_meta.json``, so ``pt.Artifact.load(IDX)`` opens a :class:`DualvecIndex`."""
    if INDEX_HEADER not in directory_listing:
        return None
    from .atomic import read_header

    header = read_header(Path(path) / INDEX_HEADER, Path(path))  # bounded, a regular file; None if not JSON
    if not isinstance(header, dict) or header.get("format") != INDEX_FORMAT:
        return None
    return {"type": ARTIFACT_TYPE, "format": ARTIFACT_FORMAT, "package_hint": "dualvec[pyterrier]"}


def _index(index: Any) -> DualvecIndex:
    return index if isinstance(index, DualvecIndex) else DualvecIndex(index)


def _short(index: DualvecIndex) -> str:
    return repr(index.path) if index.path is not None else repr(index)


# -- frames -------------------------------------------------------------------------------


def _frame_ids(inp: pd.DataFrame, column: str, what: str) -> pd.Series:
    """A frame's ``qid`` or ``docno`` column as strings, refused (:class:`DualvecError`, naming the
    id) where a value is missing, where one id comes as two values (qid ``1`` and ``"1"`` would be
    one query to dualvec but two to PyTerrier's grouping) or where it holds whitespace (a TREC
    run could not hold it, as :func:`~dualvec.text.collections.check_run_id` says)."""
    raw = inp[column]
    if raw.isna().any():
        raise DualvecError(f"a row of the frame has no {column} (a missing value)")
    ids = raw.astype(str)
    if raw.dtype == object:
        kinds = pd.DataFrame({"id": ids, "kind": raw.map(lambda v: type(v).__name__)}).drop_duplicates()
        twice = kinds[kinds["id"].duplicated(keep=False)]
        if len(twice):
            same = twice[twice["id"] == twice["id"].iloc[0]]
            raise DualvecError(f"the {column} {same['id'].iloc[0]!r} comes as {' and '.join(same['kind'])} values: "
                               f"give each {what} one {column} (PyTerrier's are strings)")
    for value in ids.unique():
        check_run_id(value, what)
    return ids


def _first_scores(group: pd.DataFrame, qid: str) -> np.ndarray:
    """The frame's ``score`` of one query's rows, each a finite number (as ``dualvec rerank``
    requires of a run's scores), else one :class:`DualvecError` naming the query and document."""
    values = pd.to_numeric(group["score"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        raw, docno = group["score"].iloc[i], group["docno"].iloc[i]
        raw = raw.item() if isinstance(raw, np.generic) else raw
        number = isinstance(raw, (int, float, np.number)) and not isinstance(raw, bool)
        kind = "a finite number" if number else "a number"
        raise DualvecError(f"query {qid!r}: the score {raw!r} of document {str(docno)!r} is not {kind}")
    return values


def _frame_texts(group: pd.DataFrame, column: str, qid: str) -> list[str]:
    """One query's document texts. A missing one (None or NaN) is refused, not read as the word
    "nan" nor as an empty text: it is a document whose text was not found (an id that
    ``pt.text.get_text`` did not know), and an empty text would rank it last without a word."""
    texts = group[column]
    missing = texts.isna().to_numpy()
    if missing.any():
        docno = group["docno"].iloc[int(np.argmax(missing))]
        raise DualvecError(f"query {qid!r}: document {str(docno)!r} has no text (a missing value in the "
                           f"{column!r} column)")
    return [str(t) for t in texts]


def _queries_in_order(inp: pd.DataFrame) -> list[tuple[str, str]]:
    """(qid, query) of each query once, in the frame's order."""
    seen: dict[str, str] = {}
    for qid, query in zip(_frame_ids(inp, "qid", "query id"), inp["query"]):
        if qid not in seen:
            seen[qid] = "" if query is None or (isinstance(query, float) and np.isnan(query)) else str(query)
    return list(seen.items())


def _with_ranks(res: pd.DataFrame) -> pd.DataFrame:
    res = res.reset_index(drop=True)
    pt.model.add_ranks(res)
    res["rank"] = res["rank"].astype("int64")
    return res


# -- Q -> R --------------------------------------------------------------------------------


class DualvecRetriever(pt.Transformer):
    """Q → R over a dualvec index: the ``k`` best documents of each query.

    ``index`` is an index directory, a :class:`~dualvec.ranking.Ranker` or a :class:`DualvecIndex`.
    ``options`` are the ranker's (``mode``, ``alpha``, ``space``, ``normalization``,
    ``first_stage_k``, ``rm3``, ``expansion``; index-time settings such as ``k1`` are fixed):

    * ``alpha=0.0`` (the default): the first stage alone, BM25 of the query after the index's
      expansion stages (RM3, embedding expansion), raw BM25 scores; its ``k`` documents are
      the candidates a :class:`DESMReranker` re-orders (``first_stage_k`` follows ``k``): BM25's
      top ``k``, or, in an index whose first stage is ``"fused"`` (a model tuned for ranking),
      the top ``k`` of its mixture over every document, as ``dualvec rank`` re-ranks them. When
      the index holds a learned ranker, the candidates are the ones it ranks: the union of
      BM25's and RM3's top ``k`` (up to 2k documents), in BM25 order;
    * ``alpha=None``: the index's whole ranking, as ``dualvec rank`` and ``Ranker.search`` give
      it (its mixture, or the learned ranker the index holds);
    * any other ``alpha``: the mixture at that weight.
    """

    def __init__(self, index: Any, k: int = 100, **options: Any):
        super().__init__()
        self.index = _index(index)
        self.k = int(k)
        if self.k < 1:
            raise DualvecError(f"k must be at least 1, not {k}")
        self.options = dict(options)
        unknown = set(options) - {f.name for f in fields(RankerConfig)} - {"mode", "alpha"}
        if unknown:
            raise DualvecError(f"unknown ranker option(s): {', '.join(sorted(unknown))}")
        self.mode = self.options.get("mode", "rerank")
        if self.mode not in MODES:
            raise DualvecError(f"unknown mode {self.mode!r}; use one of {', '.join(MODES)}")
        self.alpha = self.options.get("alpha", 0.0)
        if self.alpha is not None and not 0.0 <= self.alpha <= 1.0:
            raise DualvecError(f"alpha must be in [0, 1], not {self.alpha}")
        self._ranker: Ranker | None = None

    @property
    def ranker(self) -> Ranker:
        """The index's ranker with this retriever's options (checked on first use)."""
        if self._ranker is None:
            config = {k: v for k, v in self.options.items() if k not in ("mode", "alpha")}
            if self.alpha == 0.0:
                config.setdefault("first_stage_k", self.k)
            base = self.index.ranker
            self._ranker = base.with_config(**config) if config else base
        return self._ranker

    def search(self, query: str, query_id: str = "") -> list[tuple[str, float]]:
        """One query's ``(docno, score)``, best first."""
        ranker = self.ranker
        if self.alpha == 0.0 and self.mode == "rerank" and getattr(ranker, "learned", None) is not None:
            feats = ranker.features()
            pool = feats.compute(ranker.analyzer.query(query, query_id))  # the learned ranker's pool
            bm25 = pool.X[:, feats.names.index("bm25")]
            order = np.lexsort((pool.rows, -bm25))
            return [(pool.doc_ids[i], float(bm25[i])) for i in order]
        if self.alpha == 0.0:
            cand = ranker.candidates(query, mode=self.mode, query_id=query_id)
            order = np.lexsort((cand.rows, -cand.bm25))[: self.k]
            return [(ranker.doc_ids[int(cand.rows[i])], float(cand.bm25[i])) for i in order]
        return ranker.search(query, self.k, mode=self.mode, alpha=self.alpha)

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        pt.validate.query_frame(inp, extra_columns=["query"])
        rows: list[tuple[str, str, float]] = []
        for qid, query in _queries_in_order(inp) if len(inp) else []:
            rows.extend((qid, docno, score) for docno, score in self.search(query, qid))
        res = pd.DataFrame(rows, columns=["qid", "docno", "score"]).astype({"qid": str, "docno": str,
                                                                          "score": "float64"})
        queries = inp.drop(columns=[c for c in RESULT_COLUMNS if c in inp.columns]).assign(
            qid=inp["qid"].astype(str)).drop_duplicates("qid")
        res = queries.merge(res, on="qid", how="inner", sort=False) if len(res) else \
            queries.iloc[:0].assign(docno=pd.Series(dtype=str), score=pd.Series(dtype="float64"))
        return _with_ranks(res)

    def fuse_rank_cutoff(self, k: int) -> DualvecRetriever | None:
        """A retriever of fewer documents, for a rank cutoff after this one (same ranking, cut)."""
        if k >= self.k:
            return None
        if self.alpha == 0.0 and self.mode == "rerank" and getattr(self.ranker, "learned", None) is not None:
            return None  # the learned ranker's pool is not cut at k
        options = dict(self.options)
        if self.alpha == 0.0:
            options.setdefault("first_stage_k", self.k)
        return DualvecRetriever(self.index, k=k, **options)

    def subtransformers(self) -> dict:
        return {}  # the index is not a pipeline stage

    def __repr__(self) -> str:
        opts = "".join(f", {k}={v!r}" for k, v in sorted(self.options.items()))
        return f"DualvecRetriever({_short(self.index)}, k={self.k}{opts})"

    def _key(self) -> tuple:
        return (self.index, self.k, tuple(sorted((k, repr(v)) for k, v in self.options.items())))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DualvecRetriever):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((DualvecRetriever, self._key()))


# -- R -> R: DESM ---------------------------------------------------------------------------


def _open_model_or_index(source: Any) -> tuple[DualvecIndex | None, DualVectors]:
    """(index or None, model) from an index (path, Ranker, DualvecIndex) or a model (path, DualVectors)."""
    if isinstance(source, DualVectors):
        return None, source
    if isinstance(source, (str, os.PathLike)) and not (Path(source) / INDEX_HEADER).is_file():
        if not Path(source).exists():
            raise DualvecError(f"no dualvec index or model at {source}")
        return None, load_model(source, mmap=True)
    index = _index(source)
    return index, index.ranker.model


class DESMReranker(pt.Transformer):
    """R → R: each query's results re-scored by the DESM mixture, re-ranked.

    score = α·norm(DESM(query, document)) + (1 − α)·norm(the frame's ``score``), both
    normalised over the query's results (the index's ``normalization``, min-max by default):
    the frame's score is the lexical component, as BM25 is in :meth:`Ranker.rerank`, so this
    re-ranks Terrier, Anserini (pyterrier-anserini), or dualvec's own first stage alike.

    * ``index_or_model``: an index (directory, Ranker, :class:`DualvecIndex`) or a model (a
      dualvec model directory or a :class:`~dualvec.DualVectors`).
    * Document text comes from the ``text_field`` column when the frame has it; without it,
      from the index by ``docno`` (its stored centroids). A bare model needs the column.
    * ``alpha=None``: the index's weight (a bare model: dualvec's default, 0.1). ``space=None``:
      the index's pairing. Frames without a ``score`` column are scored by the index's BM25
      (then this is exactly :meth:`Ranker.rerank`).
    * An index holding a learned ranker, with ``alpha=None``: the learned ranker re-scores the
      documents from the index's own features (:meth:`Ranker.rerank`); the frame's score and
      text are not used, and every ``docno`` must be in the index.
    """

    def __init__(self, index_or_model: Any, space: str | None = "in-out", alpha: float | None = None,
                 text_field: str = "text"):
        super().__init__()
        self.index, self.model = _open_model_or_index(index_or_model)
        self.source = index_or_model if self.index is None else self.index
        self.space = space
        self.alpha = alpha
        self.text_field = text_field
        if space is not None:
            parse_space(space)
        if alpha is not None and not 0.0 <= alpha <= 1.0:
            raise DualvecError(f"alpha must be in [0, 1], not {alpha}")
        self._analyzer: Analyzer | None = None

    # settings, the index's unless given
    def _space(self) -> str:
        return self.space or (self.index.ranker.config.space if self.index is not None else "in-out")

    def _alpha(self) -> float:
        if self.alpha is not None:
            return self.alpha
        return self.index.ranker.config.alpha if self.index is not None else DEFAULT_ALPHA

    def _learned(self) -> bool:
        return (self.alpha is None and self.index is not None
                and getattr(self.index.ranker, "learned", None) is not None)

    def _normalization(self) -> str:
        return self.index.ranker.config.normalization if self.index is not None else "minmax"

    @property
    def analyzer(self) -> Analyzer:
        if self._analyzer is None:
            self._analyzer = (self.index.ranker.analyzer if self.index is not None
                              else Analyzer(self.model.tokenizer))
        return self._analyzer

    def desm(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """DESM of ``query`` against documents given by their text (the index's analysis). With an
        index that mixes several models' DESM (an in-domain model beside its own, ``desm_models="all"``),
        the mean of each model's DESM normalised over the documents, as the index computes it (over
        the models :meth:`Ranker.desm_models_used` names: with ``desm_models="tuned"``, the tuned
        in-domain model's DESM alone)."""
        qspace, dspace = parse_space(self._space())
        analyzer = self.analyzer
        if dspace == "out" and self.model.out_vectors is None:
            raise DualvecError(f"the model has no OUT vectors for space {self._space()!r}")
        models = [self.model]
        if self.index is not None:
            held = _index_models(self.index.ranker)  # the models whose DESM the index mixes
            models = [held[name][0] for name in self.index.ranker.desm_models_used(self._space())]
        terms = [analyzer.terms(t) for t in texts]
        scores = [space_centroids(m, *known_rows(m, terms), dspace) @ query_vector(m, analyzer.terms(query), qspace)
                  for m in models]
        if len(scores) == 1 or not len(texts):
            return scores[0]
        return np.mean([normalize(x, self._normalization()) for x in scores], axis=0)

    def _score_query(self, query: str, qid: str, group: pd.DataFrame, mode: str) -> np.ndarray:
        """Mixed scores of one query's rows (in the group's order) and the order to emit them."""
        docnos = group["docno"].astype(str).tolist()
        ranker = self.index.ranker if self.index is not None else None
        if self._learned():  # the index's learned ranker, over its own features
            # in index-row order, as the learned ranker's own pool is (its per-query sums then match)
            ranked = ranker.rerank(query, sorted(docnos, key=ranker._row_of.get) if all(
                d in ranker._row_of for d in docnos) else docnos)
            position = {d: i for i, d in enumerate(docnos)}
            return (np.array([position[d] for d, _ in ranked], dtype=np.int64),
                    np.array([s for _, s in ranked], dtype=np.float64))
        rows = None
        if ranker is not None and all(d in ranker._row_of for d in docnos):
            rows = ranker.rows(docnos)
        if mode == "index-bm25":  # no score column: Ranker.rerank itself
            cand = ranker.candidates(query, doc_ids=docnos, space=self._space(), query_id=qid)
        else:
            if self.text_field in group.columns:
                desm = self.desm(query, _frame_texts(group, self.text_field, qid))
            else:
                if rows is None:
                    unknown = [d for d in docnos if d not in ranker._row_of]
                    raise DualvecError(f"the frame has no {self.text_field!r} column and the index has no document "
                                       f"{unknown[0]!r}: add the text (e.g. pt.text.get_text) or use its index")
                # the index's own DESM of these rows, however it mixes its models
                desm = ranker.candidates(query, doc_ids=docnos, space=self._space(), query_id=qid).desm
            first = _first_scores(group, qid)
            cand = Candidates(self.analyzer.query(query, qid), np.arange(len(docnos)) if rows is None else rows,
                              {"bm25": first, "desm": np.asarray(desm, dtype=np.float64)})
        # Candidates.ranked: the mixture and its tie-break (index row; the frame's order otherwise)
        ranked = cand.ranked(self._alpha(), self._normalization())
        position = {int(r): i for i, r in enumerate(cand.rows)}
        order = np.array([position[r] for r, _ in ranked], dtype=np.int64)
        return order, np.array([s for _, s in ranked], dtype=np.float64)

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        with pt.validate.any(inp) as v:
            v.result_frame(extra_columns=["query", "score", self.text_field], mode="text")
            if self.index is not None:
                v.result_frame(extra_columns=["query", "score"], mode="index")
                v.result_frame(extra_columns=["query"], mode="index-bm25")
        if not len(inp):
            return _with_ranks(inp.assign(score=pd.Series(dtype="float64")))
        inp = inp.reset_index(drop=True)
        qids, docnos = _frame_ids(inp, "qid", "query id"), _frame_ids(inp, "docno", "document id")
        if pd.DataFrame({"q": qids, "d": docnos}).duplicated().any():
            raise DualvecError("the frame lists a document twice for one query")
        parts = []
        for qid, group in inp.groupby(qids, sort=False):
            if "rank" in group.columns:
                group = group.sort_values("rank", kind="stable")
            query = group["query"].iloc[0]
            order, scores = self._score_query("" if pd.isna(query) else str(query), qid, group, v.mode)
            parts.append(group.iloc[order].assign(score=scores))
        return _with_ranks(pd.concat(parts, ignore_index=True))

    def subtransformers(self) -> dict:
        return {}

    def __repr__(self) -> str:
        src = _short(self.index) if self.index is not None else (
            repr(str(self.source)) if isinstance(self.source, (str, os.PathLike)) else "<DualVectors>")
        return (f"DESMReranker({src}, space={self.space!r}, alpha={self.alpha!r}, "
                f"text_field={self.text_field!r})")

    def _key(self) -> tuple:
        src = self.index if self.index is not None else (
            str(Path(self.source).resolve()) if isinstance(self.source, (str, os.PathLike)) else id(self.model))
        return (src, self.space, self.alpha, self.text_field)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DESMReranker):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((DESMReranker, self._key()))


# -- R -> R: features --------------------------------------------------------------------------


def _feature_name(space: str, model_name: str = "") -> str:
    """``desm_in_out`` for the index's model, ``desm_in_out@local`` for a model named ``local``
    (the names of :mod:`dualvec.ranking.features`)."""
    q, d = parse_space(space)
    return f"desm_{q}_{d}" + (f"@{model_name}" if model_name else "")


def _stage_view(ranker: Ranker) -> Any:
    """What a stage's ``apply`` reads: the ranker's stage index where it has one."""
    return ranker.stage_index() if hasattr(ranker, "stage_index") else ranker


def _index_models(ranker: Ranker) -> dict[str, tuple[DualVectors, Mapping[str, np.ndarray]]]:
    """The index's models by name (``""`` its own), each with its documents' unit centroids."""
    models = ranker.models() if callable(getattr(ranker, "models", None)) else {}
    if not models:
        return {"": (ranker.model, ranker.centroids)}
    return {name: (m.model, m.centroids) for name, m in models.items()}


class DualvecFeatures(pt.Transformer):
    """R → R with ``features``: one numpy array per row, named in :attr:`feature_names`.

    For each (query, document) the features of dualvec's learned ranker
    (:mod:`dualvec.ranking.features`): ``bm25`` (BM25 of the query), ``rm3`` (BM25 of its RM3
    expansion, Anserini's parameters), DESM in each of ``spaces`` for each model
    (``desm_in_out``, ``desm_in_in`` for the index's own model, ``desm_in_out@NAME`` for another),
    then the query features (``query_length``, ...). Values are raw, not normalised.

    ``models=None``: every model the index holds. Otherwise a mapping of names to models:
    ``None`` for a model the index holds (``""`` its own, ``"in-domain"``, ...), or a
    :class:`~dualvec.DualVectors` or model directory, whose DESM is computed from the
    documents' text (the ``text_field`` column, else the text the index stores). With the
    defaults the features are exactly the ones the index's learned ranker reads. The input's
    columns (``score``, ``rank``) are kept; every ``docno`` must be in the index.
    """

    def __init__(self, index: Any, spaces: Sequence[str] = FEATURE_SPACES, models: Any = None,
                 text_field: str = "text"):
        super().__init__()
        self.index = _index(index)
        self.spaces = tuple([spaces] if isinstance(spaces, str) else spaces)
        for sp in self.spaces:
            parse_space(sp)
        self.text_field = text_field
        self.models = models
        self._outside: dict[str, DualVectors | None] | None = None
        if models is not None:
            if not isinstance(models, Mapping):
                raise DualvecError("models must be a mapping of names to models, e.g. {'': None, 'local': 'local.dv'}")
            self._outside = {str(name): None if m is None else (m if isinstance(m, DualVectors)
                                                                 else load_model(m, mmap=True))
                             for name, m in models.items()}
        self._cols: list[tuple[str, str, str, Any]] | None = None
        self._r1_features: Any = None

    def _columns(self) -> list[tuple[str, str, str, Any]]:
        """(feature name, kind, space, source) per column, kind one of first/desm/text/query."""
        if self._cols is None:
            self._cols = self._make_columns()
        return self._cols

    def _make_columns(self) -> list[tuple[str, str, str, Any]]:
        ranker = self.index.ranker
        held = _index_models(ranker)
        if self._outside is None:
            chosen: dict[str, DualVectors | None] = {name: None for name in held}
        else:
            chosen = self._outside
            missing = [n for n, m in chosen.items() if m is None and n not in held]
            if missing:
                raise DualvecError(f"the index holds no model {missing[0]!r} (it holds: "
                                   f"{', '.join(repr(n) for n in held)})")
        cols: list[tuple[str, str, str, Any]] = [("bm25", "first", "", None), ("rm3", "first", "", None)]
        for name, m in chosen.items():
            model, cents = held[name] if m is None else (m, None)
            for sp in self.spaces:
                qs, ds = parse_space(sp)
                if ("out" in (qs, ds) and model.out_vectors is None) or (cents is not None and ds not in cents):
                    continue  # a pairing this model has no vectors for (an IN-only model)
                cols.append((_feature_name(sp, name), "desm" if m is None else "text", sp, (model, cents)))
        r1 = self._r1()
        if r1 is not None:
            from .ranking.features import QUERY_FEATURES

            cols.extend((n, "query", "", None) for n in QUERY_FEATURES if n in r1.names)
        names = [c[0] for c in cols]
        if len(set(names)) != len(names):
            raise DualvecError(f"two features share a name: {', '.join(names)}")
        return cols

    def _r1(self) -> Any:
        """dualvec's own feature computer (:meth:`Ranker.features`), where this dualvec has one."""
        ranker = self.index.ranker
        if self._r1_features is None and callable(getattr(ranker, "features", None)):
            self._r1_features = ranker.features()
        return self._r1_features

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The names of the ``features`` columns, in order (reads the index)."""
        return tuple(c[0] for c in self._columns())

    def compute(self, query: str, docnos: Sequence[str], texts: Sequence[str] | None = None) -> np.ndarray:
        """The feature matrix (documents × features) of one query's documents."""
        ranker = self.index.ranker
        cols = self._columns()
        rows = ranker.rows(list(docnos))
        q = ranker.analyzer.query(query)
        r1 = self._r1()
        known: dict[str, np.ndarray] = {}
        if r1 is not None:
            f = r1.compute(q, list(docnos))
            known = {n: f.X[:, j] for j, n in enumerate(r1.names)}
        else:  # an older dualvec: BM25 and RM3 computed here
            bm25_all = ranker.bm25.weighted_scores(q.weights)
            expanded = RM3().apply(_stage_view(ranker), q) if bm25_all.any() else q
            rm3_all = bm25_all if expanded is q else ranker.bm25.weighted_scores(expanded.weights)
            known = {"bm25": bm25_all[rows], "rm3": rm3_all[rows]}
        X = np.zeros((len(rows), len(cols)), dtype=np.float64)
        if not len(rows):
            return X
        for j, (name, kind, sp, src) in enumerate(cols):
            if name in known:
                X[:, j] = known[name]
                continue
            qs, ds = parse_space(sp)
            model, cents = src
            if kind == "desm":
                X[:, j] = np.asarray(cents[ds])[rows] @ query_vector(model, q.terms, qs)
                continue
            if texts is None:
                if ranker.texts is None:
                    raise DualvecError(f"feature {name!r} needs the documents' text: the frame has no "
                                       f"{self.text_field!r} column and the index stores no text")
                texts = [ranker.texts[int(r)] for r in rows]
            doc_cents = space_centroids(model, *known_rows(model, map(ranker.analyzer.terms, texts)), ds)
            X[:, j] = doc_cents @ query_vector(model, q.terms, qs)
        return X

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        pt.validate.result_frame(inp, extra_columns=["query"])
        if not len(inp):
            return inp.assign(features=pd.Series(dtype=object))
        inp = inp.reset_index(drop=True)
        features = np.empty(len(inp), dtype=object)
        _frame_ids(inp, "docno", "document id")
        for qid, group in inp.groupby(_frame_ids(inp, "qid", "query id"), sort=False):
            query = group["query"].iloc[0]
            texts = _frame_texts(group, self.text_field, qid) if self.text_field in group.columns else None
            X = self.compute("" if pd.isna(query) else str(query), group["docno"].astype(str).tolist(), texts)
            for i, row in zip(group.index, X):
                features[i] = row
        return inp.assign(features=list(features))

    def subtransformers(self) -> dict:
        return {}

    def __repr__(self) -> str:
        models = "" if self.models is None else f", models={list(self._outside)!r}"
        return f"DualvecFeatures({_short(self.index)}, spaces={list(self.spaces)!r}{models})"

    def _key(self) -> tuple:
        models = None if self._outside is None else tuple((n, id(m)) for n, m in self._outside.items())
        return (self.index, self.spaces, models, self.text_field)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DualvecFeatures):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((DualvecFeatures, self._key()))


# -- topics and qrels ------------------------------------------------------------------------------


def _collection(coll: str | os.PathLike | Collection) -> Collection:
    return coll if isinstance(coll, Collection) else read_collection(coll)


def _split(c: Collection, split: str | None) -> str | None:
    if split is None:
        return "test" if "test" in c.qrels else next(iter(c.qrels), None)
    if split not in c.qrels:
        c.split_queries(split)  # raises, naming the splits there are
    return split


def topics(coll: str | os.PathLike | Collection, split: str | None = None) -> pd.DataFrame:
    """The queries of a collection as a PyTerrier topics frame (``qid``, ``query``).

    ``coll``: a collection directory (BEIR, Cranfield, LISA), a queries file (``.jsonl``, SMART,
    ``id<TAB>text``) or a :class:`~dualvec.text.collections.Collection`. A collection with judgments gives
    the queries judged in ``split`` (default ``test``, else its first split), as ``dualvec rank`` does.
    """
    if isinstance(coll, (str, os.PathLike)) and Path(coll).is_file():
        queries = read_texts(coll)
    else:
        c = _collection(coll)
        name = _split(c, split)
        queries = c.queries if name is None else c.split_queries(name)
    return pd.DataFrame({"qid": list(queries), "query": list(queries.values())}, dtype=str)


def qrels(coll: str | os.PathLike | Collection, split: str | None = None, *,
          all_queries: bool = False) -> pd.DataFrame:
    """The judgments of a collection as a PyTerrier qrels frame (``qid``, ``docno``, ``label``).

    ``coll``: a collection directory or :class:`~dualvec.text.collections.Collection` (``split`` as in
    :func:`topics`), or a TREC / BEIR / Cranfield qrels file. Queries with no relevant document
    are left out unless ``all_queries``: ``dualvec evaluate`` does not count them, while
    ``pt.Experiment`` would count each one as 0.
    """
    if isinstance(coll, (str, os.PathLike)) and Path(coll).is_file():
        judged = read_qrels(coll)
    else:
        c = _collection(coll)
        name = _split(c, split)
        if name is None:
            raise DualvecError(f"{c.name or 'the collection'} holds no judgments")
        judged = c.qrels[name]
    rows = [(q, d, int(g)) for q, docs in judged.items() for d, g in docs.items()
            if all_queries or any(v > 0 for v in docs.values())]
    return pd.DataFrame(rows, columns=["qid", "docno", "label"]).astype({"qid": str, "docno": str,
                                                                        "label": "int64"})
