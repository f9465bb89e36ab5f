"""DESM, BM25 and their mixture as a ranker and re-ranker.

    MM(Q, D) = α · norm(DESM(Q, D)) + (1 − α) · norm(BM25(Q, D))

BM25 and cosines live on different scales, so both are normalised per query
over the documents being ranked (``normalization="minmax"``, the default, maps
each to [0, 1]; ``"zscore"`` to mean 0 and deviation 1). α = 0 ranks by BM25
alone, α = 1 by DESM alone.

Two settings, as in the paper:

* ``mode="rerank"`` (telescoping): BM25 retrieves ``first_stage_k`` documents,
  the mixture re-orders them;
* ``mode="full"``: every document is scored. DESM alone is prone to false
  positives here (documents that are *about* the query's topic without being
  relevant, the paper's finding); the mixture is the remedy.

The index directory is self-contained: the model (so documents, queries and
embeddings share one tokeniser), unit document centroids in both spaces
(memory-mapped on load), the bm25s index and the document ids. No pickle.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, get_args, get_type_hints

import numpy as np

from ..errors import DualvecError, check_number
from ..model import DualVectors, load
from ..progress import Progress, wants_progress
from ..atomic import (check_writable, inside_dir, open_inside, read_header, read_held_dir, read_inside, safe_name, write_file,
                      write_versioned_dir)
from ..store import HEADER as MODEL_HEADER
from ..store import file_digest, load_array, load_json, write_arrays, write_json
from ..model import OUT_HS_LINEARISED, parse_space
from ..text.collections import check_run_id
from .analysis import Analyzer, Query
from .bm25 import BM25, DEFAULT_B, DEFAULT_K1
from .desm import DESM, known_rows, space_centroids
from .expansion import Expansion
from .in_domain import IndexedModel, check_centroids, check_model_name, desm_features
from .local import LocalEmbedding
from .rm3 import RM3
from .stages import Stage, StageIndex

NORMALIZATIONS = ("minmax", "zscore")
MODES = ("rerank", "full")
#: Whose DESM the mixture uses: "all" the mean of every model's normalised DESM (the index's own
#: and an in-domain one), "own" the index's own model's alone, "tuned" the models tuned for ranking
#: (:mod:`dualvec.training.contrastive`): the in-domain one where it is tuned, else the index's own
#: where it is, else every model (:meth:`Ranker.desm_models_used`).
DESM_MODELS = ("all", "own", "tuned")
#: What ``mode="rerank"`` re-ranks: BM25's top ``first_stage_k`` ("bm25"), or the top
#: ``first_stage_k`` of the mixture itself over every document ("fused": exact full ranking by the
#: embeddings fused with BM25, so recall is not limited to BM25's pool).
FIRST_STAGES = ("bm25", "fused")
INDEX_HEADER = "ranker.json"
INDEX_FORMAT = "dualvec-index"
INDEX_VERSION = 2  # 2: the data in a data-<hex> subdirectory, the model's fingerprint
#: Settings an index is built with; changing them means re-indexing.
INDEX_SETTINGS = ("stopwords", "stemmer", "desm_stopwords", "k1", "b", "bm25_method")
#: DESM's weight in the mixture by default (see benchmarks/RESULTS.md for how it was chosen).
DEFAULT_ALPHA = 0.1
#: The mixture ``dualvec index`` sets up when the index holds a model tuned for ranking (chosen on
#: SciFact train queries alone: benchmarks/RESULTS.md, "Dual spaces tuned for ranking").
TUNED_MIXTURE: dict[str, Any] = dict(alpha=0.6, normalization="zscore", first_stage="fused", desm_models="tuned")


def desm_models_used(desm_models: str, models: Mapping[str, DualVectors]) -> list[str]:
    """The names of the models whose DESM a mixture uses (:meth:`Ranker.desm_models_used`; the
    sharded index and PyTerrier choose by it too). ``models``: every model that scores the space,
    by name, the index's own (``""``) first."""
    names = list(models)
    if desm_models == "own" or names == [""]:
        return [""]
    if desm_models == "tuned":
        tuned = [name for name in names if models[name].tuning is not None]
        return [name for name in tuned if name] or tuned or names
    return names


def normalize(scores: np.ndarray, how: str = "minmax") -> np.ndarray:
    """Per-query normalisation over the last axis; constant scores become 0."""
    s = np.asarray(scores, dtype=np.float64)
    if s.shape[-1] == 0:
        return s
    if how == "minmax":
        lo, hi = s.min(axis=-1, keepdims=True), s.max(axis=-1, keepdims=True)
        span = hi - lo
        return np.divide(s - lo, span, out=np.zeros_like(s), where=span > 0)
    if how == "zscore":
        sd = s.std(axis=-1, keepdims=True)
        return np.divide(s - s.mean(axis=-1, keepdims=True), sd, out=np.zeros_like(s), where=sd > 0)
    raise DualvecError(f"unknown normalization {how!r}; use one of {', '.join(NORMALIZATIONS)}")


@dataclass
class RankerConfig:
    """How a :class:`Ranker` scores. ``alpha`` weighs DESM in the mixture.

    ``rm3`` and ``expansion`` are query-expansion stages (``None`` = off),
    run in that order before BM25 retrieves the ``first_stage_k`` candidates.
    A new stage is a module (see :mod:`.stages`) and one field here.
    """

    space: str = "in-out"
    alpha: float = DEFAULT_ALPHA
    normalization: str = "minmax"
    first_stage_k: int = 100
    k1: float = DEFAULT_K1
    b: float = DEFAULT_B
    bm25_method: str = "lucene"
    stopwords: str | None = "english"
    stemmer: str | None = "english"
    desm_stopwords: bool = True  # remove the stop words on the DESM side too
    rm3: RM3 | None = None
    expansion: Expansion | None = None
    local: LocalEmbedding | None = None  # locally trained embeddings (Diaz et al. 2016)
    desm_models: str = "all"  # one of DESM_MODELS
    first_stage: str = "bm25"  # one of FIRST_STAGES
    #: A learned ranker over :mod:`.features` in its JSON form (``tune --save``); when set,
    #: re-ranking (``search``, ``rerank``, ``score`` without an explicit ``alpha``) goes through it.
    learned: dict[str, Any] | None = None

    def stages(self) -> list[Stage]:
        """The query-expansion stages that are on, in order."""
        return [v for f in fields(self) if _stage_type(f.name) and (v := getattr(self, f.name)) is not None]

    def validate(self) -> RankerConfig:
        parse_space(self.space)
        if self.desm_models not in DESM_MODELS:
            raise DualvecError(f"unknown desm_models {self.desm_models!r}; use one of {', '.join(DESM_MODELS)}")
        if self.first_stage not in FIRST_STAGES:
            raise DualvecError(f"unknown first_stage {self.first_stage!r}; use one of {', '.join(FIRST_STAGES)}")
        check_number("alpha (the DESM weight)", self.alpha, 0, 1)
        if self.normalization not in NORMALIZATIONS:
            raise DualvecError(f"unknown normalization {self.normalization!r}; use one of {', '.join(NORMALIZATIONS)}")
        check_number("first_stage_k", self.first_stage_k, 1, integer=True)
        check_number("BM25 k1", self.k1, 0)
        check_number("BM25 b", self.b, 0, 1)
        for stage in self.stages():
            stage.validate()
        if self.learned is not None and not isinstance(self.learned, dict):
            raise DualvecError(f"ranker setting 'learned' must be an object or null, not {self.learned!r}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RankerConfig:
        """The inverse of :meth:`to_dict`; unknown keys are ignored, stages rebuilt from their dicts."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in d:
                continue
            value, stage = d[f.name], _stage_type(f.name)
            if stage is not None and value is not None:
                if not isinstance(value, dict):
                    raise DualvecError(f"ranker setting {f.name!r} must be an object or null, not {value!r}")
                known = {g.name for g in fields(stage)}
                value = stage(**{k: v for k, v in value.items() if k in known})
            kwargs[f.name] = value
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise DualvecError(f"corrupt ranker settings ({exc})") from None


def _is_index_header(header: dict) -> bool:
    return header.get("format") == INDEX_FORMAT


def _stage_type(name: str) -> type | None:
    """The stage class of a :class:`RankerConfig` field, or ``None`` for a plain setting."""
    hint = get_type_hints(RankerConfig).get(name)
    for t in get_args(hint) or (hint,):
        if isinstance(t, type) and is_dataclass(t) and hasattr(t, "apply"):
            return t
    return None


TEXTS = "texts.jsonl"


def _array_files(base: Path) -> list[str]:
    """The array files of an index generation whose digests its header records, by path inside
    it: every ``.npy`` of the index itself and of its BM25 part (each model inside records its own
    fingerprint)."""
    return sorted([p.name for p in base.iterdir() if p.suffix == ".npy" and p.is_file()]
                  + [f"bm25/{p.name}" for p in (base / "bm25").iterdir() if p.suffix == ".npy" and p.is_file()])


def _check_digests(root: Path, base: Path, header: dict) -> None:
    """Every array file the header records a digest of still holds those bytes (so centroids
    copied in from another index, or damaged, are refused), and every centroid file it names has
    one. An index from before digests records none and is read as it is."""
    digests = header.get("digests")
    if digests is None:
        return
    where = root / INDEX_HEADER
    if not isinstance(digests, dict):
        raise DualvecError(f"{where}: 'digests' must be an object")
    named = list((header.get("files") or {}).values()) if isinstance(header.get("files"), dict) else []
    for entry in (header.get("extra_models") or {}).values() if isinstance(header.get("extra_models"), dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("files"), dict):
            named.extend(entry["files"].values())
    for name in named:
        if name not in digests:
            raise DualvecError(f"{where} records no digest of {name!r}; re-index")
    for name, want in digests.items():
        parts = name.split("/")
        if not (isinstance(want, str) and all(map(safe_name, parts))
                and (len(parts) == 1 or len(parts) == 2 and parts[0] == "bm25")):
            raise DualvecError(f"{where} names an unsafe file among its digests: {name!r}")
        if file_digest(base / name, root) != want:
            raise DualvecError(f"{base / name} is not the file this index was saved with (its digest differs): "
                               "damaged, or copied in from another index; re-index")


class DocumentTexts:
    """The indexed documents' text, row by row: in memory after indexing, read one line at a
    time (through a memory-mapped table of line offsets) from a loaded index."""

    def __init__(self, texts: list[str] | None = None, path: Path | None = None, offsets: np.ndarray | None = None,
                 root: Path | None = None):
        self._texts, self._path, self._offsets = texts, path, offsets
        self._root = root  # the index directory the file must stay inside

    def __len__(self) -> int:
        return len(self._texts) if self._texts is not None else len(self._offsets) - 1

    def __getitem__(self, row: int) -> str:
        if not 0 <= row < len(self):
            raise DualvecError(f"no document at row {row}")
        if self._texts is not None:
            return self._texts[row]
        lo, hi = int(self._offsets[row]), int(self._offsets[row + 1])
        with open_inside(self._path, self._root, size=int(self._offsets[-1]), what="dualvec index") as fh:
            fh.seek(lo)
            return self._decode(row, fh.read(hi - lo))

    def _decode(self, row: int, line: bytes) -> str:
        try:
            text = json.loads(line)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser's depth
            raise DualvecError(f"{self._path}: document {row} is corrupt") from None
        if not isinstance(text, str):
            raise DualvecError(f"{self._path}: document {row} is not a string")
        return text

    def _all(self) -> list[str]:
        """Every document's text; a loaded table's file is read once, not opened per row."""
        if self._texts is not None:
            return self._texts
        data = read_inside(self._path, self._root, size=int(self._offsets[-1]), what="dualvec index")
        ends = self._offsets.tolist()
        return [self._decode(row, data[lo:hi]) for row, (lo, hi) in enumerate(zip(ends[:-1], ends[1:]))]

    def save(self, directory: Path) -> None:
        lines = [json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n"
                 for text in self._all()]
        write_file(directory / TEXTS, lambda fh: fh.writelines(lines))
        offsets = np.zeros(len(lines) + 1, dtype=np.int64)
        np.cumsum([len(x) for x in lines], out=offsets[1:])
        write_arrays(directory, {"texts_offsets": offsets})

    @classmethod
    def load(cls, directory: Path, n_docs: int, root: Path | None = None) -> DocumentTexts:
        offsets = load_array(directory / "texts_offsets.npy", mmap=True, root=root)
        if offsets.shape != (n_docs + 1,) or offsets.dtype != np.int64:
            raise DualvecError(f"{directory / TEXTS}: its offsets do not match the index's {n_docs} documents")
        with open_inside(directory / TEXTS, root, size=int(offsets[-1]), what="dualvec index"):
            pass  # a regular file inside the index, of the size its offsets declare
        if offsets[0] != 0 or np.any(np.diff(offsets) < 0):
            raise DualvecError(f"{directory / TEXTS}: its offsets do not match the index's {n_docs} documents")
        return cls(path=directory / TEXTS, offsets=offsets, root=root)


@dataclass
class Candidates:
    """One query's documents (index rows) with a raw score per stage: what tuning re-mixes.

    ``scores["bm25"]`` is the first stage (BM25 of the possibly expanded query),
    ``scores["desm"]`` DESM (with an in-domain model in the index and ``desm_models="all"``,
    the mean of both models' DESM, each normalised); further re-ranking stages add their own names.
    """

    query: Query
    rows: np.ndarray
    scores: dict[str, np.ndarray]
    #: Where ``scores["desm"]`` is not the index's own model's alone: each model it is made of, by
    #: name ("" the index's own), with its raw DESM; several were normalised and averaged. Empty
    #: for the index's own model alone.
    desm_parts: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def query_id(self) -> str:
        return self.query.query_id

    @property
    def bm25(self) -> np.ndarray:
        return self.scores["bm25"]

    @property
    def desm(self) -> np.ndarray:
        return self.scores["desm"]

    def mix(self, alpha: float, normalization: str) -> np.ndarray:
        if alpha == 0.0:
            return normalize(self.bm25, normalization)
        if alpha == 1.0:
            return normalize(self.desm, normalization)
        return alpha * normalize(self.desm, normalization) + (1 - alpha) * normalize(self.bm25, normalization)

    def components(self, alpha: float, normalization: str) -> dict[str, dict[str, np.ndarray]]:
        """What :meth:`mix` adds up, per row, by stage (``"bm25"``, ``"desm"``): the raw score,
        its normalised value, its weight and its contribution (weight x normalised value); the
        contributions sum to :meth:`mix`. A DESM mixed from several models also gives each
        model's raw and normalised DESM (``"models"``), whose mean was normalised again (one
        model other than the index's own: its DESM is the component's)."""
        parts: dict[str, dict[str, np.ndarray]] = {}
        for stage, weight in (("bm25", 1.0 - alpha), ("desm", alpha)):
            normed = normalize(self.scores[stage], normalization)
            parts[stage] = {"raw": self.scores[stage], "normalized": normed,
                            "weight": np.full(len(normed), weight), "contribution": weight * normed}
        if self.desm_parts:
            parts["desm"]["models"] = {name: {"raw": raw, "normalized": normalize(raw, normalization)}
                                       for name, raw in self.desm_parts.items()}
        return parts

    def ranked(self, alpha: float, normalization: str, k: int | None = None) -> list[tuple[int, float]]:
        """(index row, mixed score), best first, ties by row: the one place results are sorted."""
        scores = self.mix(alpha, normalization)
        order = np.lexsort((self.rows, -scores))[: k or len(scores)]
        return [(int(self.rows[i]), float(scores[i])) for i in order]


class Ranker:
    """Index a collection, then ``search``, ``rerank``, ``score`` and ``explain`` queries."""

    def __init__(self, model: DualVectors, config: RankerConfig | None = None, **overrides):
        unknown = set(overrides) - {f.name for f in fields(RankerConfig)}
        if unknown:
            raise DualvecError(f"unknown ranker option(s): {', '.join(sorted(unknown))}")
        self.model = model
        self.config = replace(config or RankerConfig(), **overrides).validate()
        self.analyzer = Analyzer(model.tokenizer, self.config.stopwords, self.config.stemmer,
                                 self.config.desm_stopwords)
        self.doc_ids: list[str] = []
        self._row_of: dict[str, int] = {}
        self.centroids: dict[str, np.ndarray] = {}
        self.bm25: BM25 | None = None
        self.texts: DocumentTexts | None = None  # the documents' text, for showing them
        self._desm: dict[str, DESM] = {}
        self._generation = None  # a loaded index's generation, held while the ranker lives (see load)
        #: Models beside the index's own (the in-domain model), by name, with their centroids.
        self.extra_models: dict[str, IndexedModel] = {}

    def with_config(self, **overrides) -> Ranker:
        """The same index scored another way (stages, alpha, space); index-time settings stay fixed."""
        fixed = [k for k in INDEX_SETTINGS if k in overrides and overrides[k] != getattr(self.config, k)]
        if fixed:
            raise DualvecError(f"'{fixed[0]}' is fixed when the index is built; re-index to change it")
        other = copy.copy(self)
        other.config = replace(self.config, **overrides).validate()
        other._desm = {}
        return other

    # -- indexing -----------------------------------------------------------------

    def index(self, docs: Mapping[str, str] | Iterable[tuple[str, str]], progress: bool | None = None, *,
              extra_models: Mapping[str, DualVectors] | None = None) -> Ranker:
        """Analyse every document once; build BM25 and the IN and OUT centroids, of the model
        and of each of ``extra_models`` (name -> model, e.g. ``{"in-domain": ...}``)."""
        extra_models = dict(extra_models or {})
        for name in extra_models:
            check_model_name(name)
        items = list(docs.items()) if isinstance(docs, Mapping) else list(docs)
        if not items:
            raise DualvecError("no documents to index")
        if self.model.tokenizer is None:
            warnings.warn("the model records no tokeniser (an imported model?): documents and queries are cut "
                          "by dualvec's default, which may not be how the embeddings' text was cut; "
                          "pass a tokenizer (dualvec index --tokenizer)", stacklevel=2)
        self._in_only_space()
        uses_out = "out" in self.config.space or (self.config.expansion and "out" in self.config.expansion.space)
        if self.model.out_kind == OUT_HS_LINEARISED and uses_out:
            warnings.warn("this model's OUT vectors are hierarchical softmax's linearised approximation; "
                          "DESM's IN-OUT scores are approximate too", stacklevel=2)
        with Progress(wants_progress(progress), unit="docs") as bar:
            bar.task("analysing documents", len(items))
            terms = []
            for n, (_, text) in enumerate(items, start=1):
                terms.append(self.analyzer.terms(text))
                if n % 1000 == 0:
                    bar.update(n)
            bar.update(len(items))
            self.doc_ids = [check_run_id(str(d), "document id") for d, _ in items]  # its runs must read back
            self.texts = DocumentTexts([str(t) for _, t in items])
            if len(set(self.doc_ids)) != len(self.doc_ids):
                raise DualvecError("the collection lists a document id twice")
            bar.task("BM25 index", 1)
            self.bm25 = BM25(self.config.k1, self.config.b, self.config.bm25_method).index(
                [self.analyzer.stem(t) for t in terms])
            bar.update(1)
            spaces = ["in"] + (["out"] if self.model.out_vectors is not None else [])
            bar.task("DESM centroids", len(spaces))
            self.centroids = {}
            rows, offsets = known_rows(self.model, terms)  # gathered once for both spaces
            for n, s in enumerate(spaces, start=1):
                self.centroids[s] = space_centroids(self.model, rows, offsets, s)
                bar.update(n)
            if extra_models:
                bar.task("centroids of the other models", len(extra_models))
            self.extra_models = {}
            for n, (name, other) in enumerate(extra_models.items(), start=1):
                self.extra_models[name] = IndexedModel.build(other, terms)
                bar.update(n)
        self._row_of = {d: i for i, d in enumerate(self.doc_ids)}
        self._desm = {}
        return self

    def _in_only_space(self) -> None:
        """A model with IN vectors only (a word2vec text file) has no OUT centroids: DESM falls back
        to 'in-in', with a warning, rather than an index that every search refuses."""
        if "out" in parse_space(self.config.space) and self.model.out_vectors is None:
            warnings.warn(f"the model has IN vectors only (no OUT space, as in a word2vec text file): DESM "
                          f"scores 'in-in' instead of {self.config.space!r}; for IN-OUT, index a model with both "
                          "spaces (dualvec train, or a gensim model)", stacklevel=3)
            self.config = replace(self.config, space="in-in")

    def reindex_bm25(self, docs: Mapping[str, str], k1: float, b: float) -> None:
        """Rebuild only the BM25 part with other parameters (for tuning)."""
        self._require_index()
        missing = [d for d in self.doc_ids if d not in docs]
        if missing:
            raise DualvecError(f"{len(missing)} indexed document(s) are missing from the texts given, "
                               f"e.g. {missing[0]!r}: pass the collection that was indexed")
        texts = [docs[d] for d in self.doc_ids]
        self.bm25 = BM25(k1, b, self.config.bm25_method).index([self.analyzer.bm25_terms(t) for t in texts])
        self.config.k1, self.config.b = k1, b

    def _require_index(self) -> None:
        if self.bm25 is None:
            raise DualvecError("the ranker has no documents: call index() or load an index")

    def desm(self, space: str | None = None) -> DESM:
        space = space or self.config.space
        if space not in self._desm:
            self._desm[space] = DESM(self.model, self.centroids, space)
        return self._desm[space]

    def models(self) -> dict[str, IndexedModel]:
        """The index's models by name: ``""`` its own, then the extra ones (``"in-domain"``)."""
        self._require_index()
        return {"": IndexedModel(self.model, self.centroids, self._desm), **self.extra_models}

    def desm_features(self, query: Query, rows: np.ndarray,
                      spaces: Sequence[str] = ("in-out", "in-in")) -> dict[str, np.ndarray]:
        """Raw DESM of ``query`` against index ``rows`` in each pairing of each model, named
        ``desm_in_out`` (the index's own model) and ``desm_in_out@in-domain`` (an extra one):
        features for a learned ranker, which then weighs each model."""
        return desm_features(self.models(), query.terms, np.asarray(rows, dtype=np.int64), spaces)

    def rows(self, doc_ids: Sequence[str]) -> np.ndarray:
        missing = [d for d in doc_ids if d not in self._row_of]
        if missing:
            raise DualvecError(f"unknown document id(s): {', '.join(map(repr, missing[:5]))}")
        return np.array([self._row_of[d] for d in doc_ids], dtype=np.int64)

    # -- scoring --------------------------------------------------------------------

    def analyze(self, query: str | Query, query_id: str = "") -> Query:
        """The query analysed once, then rewritten by every expansion stage that is on."""
        if isinstance(query, Query):
            return query
        q = self.analyzer.query(query, query_id)
        if self.bm25 is not None:
            view = self.stage_index()
            for stage in self.config.stages():
                q = stage.apply(view, q)
        return q

    def stage_index(self) -> StageIndex:
        """The parts of the index a stage reads (the stages never see the ranker itself)."""
        self._require_index()
        return StageIndex(self.bm25, self.analyzer, self.model, self.texts)

    def candidates(self, query: str | Query, *, mode: str = "rerank", space: str | None = None,
                   doc_ids: Sequence[str] | None = None, query_id: str = "",
                   alpha: float | None = None) -> Candidates:
        """The documents a query ranks, with raw BM25 and DESM scores; ``alpha`` is the DESM weight
        a fused first stage picks them with (the index's own when ``None``).

        A query none of whose words is in the collection or the model ranks no
        document (rather than every document at score 0).
        """
        self._require_index()
        if mode not in MODES:
            raise DualvecError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        q = self.analyze(query, query_id)
        desm = self.desm(space)
        bm25_all = self.bm25.weighted_scores(q.weights)
        if doc_ids is not None:
            rows = self.rows(doc_ids)
        elif not bm25_all.any() and not desm.knows_any(q.terms):
            rows = np.zeros(0, dtype=np.int64)
        elif mode == "full":
            rows = np.arange(len(self.doc_ids))
        else:
            k = min(self.config.first_stage_k, len(self.doc_ids))
            first = self.first_stage_scores(q, space, bm25_all, alpha)
            rows = np.argpartition(-first, k - 1)[:k]
            rows = rows[np.lexsort((rows, -first[rows]))]  # first-stage order, ties by row
        mixed, parts = self._mixed_desm(desm, q, rows, space)
        return Candidates(q, rows, {"bm25": bm25_all[rows], "desm": mixed}, parts)

    def first_stage_scores(self, q: Query, space: str | None = None, bm25_all: np.ndarray | None = None,
                           alpha: float | None = None) -> np.ndarray:
        """Every document's first-stage score for the analysed query ``q``: BM25 (``first_stage="bm25"``),
        or the mixture itself over every document (``"fused"``) at DESM weight ``alpha`` (the index's
        own when ``None``), so that a weight of 0 ranks BM25's own top k, as a baseline should."""
        bm25_all = self.bm25.weighted_scores(q.weights) if bm25_all is None else bm25_all
        if self.config.first_stage == "bm25":
            return bm25_all
        every = np.arange(len(self.doc_ids))
        desm = self._mixed_desm(self.desm(space), q, every, space)[0]
        return Candidates(q, every, {"bm25": bm25_all, "desm": desm}).mix(
            self.config.alpha if alpha is None else alpha, self.config.normalization)

    def desm_models_used(self, space: str | None = None) -> list[str]:
        """The models whose DESM the mixture uses in ``space``, by name (``""`` the index's own):
        the index's own alone (``desm_models="own"``, or no other model scores that space), every
        model (``"all"``), or the models tuned for ranking (``"tuned"``): the collection's own (the
        in-domain one) where it is tuned, else the index's own where it is, else every model. A general
        model tuned on other text ranked worse beside the in-domain one than that one alone
        (benchmarks/RESULTS.md, "Dual spaces tuned for ranking")."""
        space = space or self.config.space
        scoring = {"": self.model, **{name: m.model for name, m in self.extra_models.items()
                                      if parse_space(space)[1] in m.centroids}}
        return desm_models_used(self.config.desm_models, scoring)

    def _mixed_desm(self, desm: DESM, q: Query, rows: np.ndarray,
                    space: str | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The mixture's DESM over :meth:`desm_models_used`: one model's raw DESM, or the mean of
        each model's DESM normalised over ``rows``; and, unless it is the index's own model's
        alone, each model it is made of with its raw DESM by name (``""`` the index's own)."""
        space = space or self.config.space
        names = self.desm_models_used(space)
        if names == [""] or len(rows) == 0:
            return desm.scores(q.terms, rows), {}
        parts = {name: (desm if name == "" else self.extra_models[name].desm(space)).scores(q.terms, rows)
                 for name in names}
        if len(parts) == 1:
            return next(iter(parts.values())), parts
        how = self.config.normalization
        return np.mean([normalize(s, how) for s in parts.values()], axis=0), parts

    @property
    def learned(self):
        """The learned ranker the configuration holds (built once from its JSON), or ``None``."""
        d = self.config.learned
        if d is None:
            return None
        if getattr(self, "_learned_from", None) is not d:
            from .learned import learner_from_dict

            self._learned, self._learned_from = learner_from_dict(d), d
        return self._learned

    def features(self, k: int | None = None):
        """Per-(query, document) features over this index (:class:`~.features.DualvecFeatures`)."""
        from .features import DualvecFeatures

        return DualvecFeatures(self, k=k)

    def _uses_learned(self, mode: str, alpha: float | None) -> bool:
        return self.learned is not None and mode == "rerank" and alpha is None

    def _learned_scores(self, query: str | Query, doc_ids: Sequence[str] | None = None):
        """(the query's features, the learned ranker's scores of them)."""
        feats = self.features()
        learner = self.learned
        if tuple(learner.feature_names_) != feats.names:
            raise DualvecError("the index's learned ranker was fitted on features "
                               f"({', '.join(learner.feature_names_)}) this index does not compute "
                               f"({', '.join(feats.names)}); tune it again")
        # the features analyse the query themselves (a Query another stage expanded is re-read from its text)
        q = self.analyzer.query(query.text, query.query_id) if isinstance(query, Query) else self.analyzer.query(query)
        f = feats.compute(q, doc_ids)
        return f, (learner.predict(f.X) if len(f.rows) else np.zeros(0))

    def _learned_ranked(self, query: str | Query, doc_ids: Sequence[str] | None, k: int | None):
        f, scores = self._learned_scores(query, doc_ids)
        order = np.lexsort((f.rows, -scores))[: k or len(scores)]
        return [(self.doc_ids[int(f.rows[i])], float(scores[i])) for i in order]

    def _alpha(self, alpha: float | None) -> float:
        """The DESM weight asked for, or the index's own; in [0, 1]."""
        a = self.config.alpha if alpha is None else alpha
        if not 0.0 <= a <= 1.0:
            raise DualvecError(f"alpha must be in [0, 1], not {a}")
        return a

    def _ranked(self, cand: Candidates, alpha: float | None, k: int | None) -> list[tuple[str, float]]:
        return [(self.doc_ids[r], s) for r, s in cand.ranked(self._alpha(alpha), self.config.normalization, k)]

    def search(self, query: str | Query, k: int = 10, *, mode: str = "rerank", alpha: float | None = None,
               space: str | None = None) -> list[tuple[str, float]]:
        """The top ``k`` documents as ``(doc_id, score)``, best first; none for a query with no known word.

        With a learned ranker in the index (and no ``alpha`` given, ``mode="rerank"``), it ranks
        the union of the BM25 and RM3 top ``first_stage_k``."""
        if self._uses_learned(mode, alpha):
            self._require_index()
            return self._learned_ranked(query, None, k)
        return self._ranked(self.candidates(query, mode=mode, space=space, alpha=alpha), alpha, k)

    def rerank(self, query: str, candidates: Sequence[str], *, alpha: float | None = None,
               space: str | None = None) -> list[tuple[str, float]]:
        """Re-order given documents (e.g. another system's top-k) by the mixture, or by the
        index's learned ranker when it holds one (and no ``alpha`` is given)."""
        if self._uses_learned("rerank", alpha):
            self._require_index()
            return self._learned_ranked(query, list(candidates), None)
        return self._ranked(self.candidates(query, doc_ids=candidates, space=space), alpha, None)

    def rerank_scored(self, query: str, scored: Mapping[str, float], *, alpha: float | None = None,
                      space: str | None = None, normalization: str | None = None) -> list[tuple[str, float]]:
        """Re-order another system's scored candidates: its scores are the first stage, mixed with
        this index's DESM (however the index mixes its models) as :meth:`rerank` mixes BM25.

        What ``dualvec rerank`` does with a ranker index; ties keep index-row order."""
        self._require_index()
        docs = list(scored)
        first = np.fromiter(scored.values(), np.float64, len(docs))
        if not np.isfinite(first).all():
            raise DualvecError("the first stage's scores are not all finite numbers")
        cand = self.candidates(query, doc_ids=docs, space=space)
        cand = Candidates(cand.query, cand.rows, {"bm25": first, "desm": cand.desm})
        ranked = cand.ranked(self.config.alpha if alpha is None else alpha, normalization or self.config.normalization)
        return [(self.doc_ids[r], s) for r, s in ranked]

    def score(self, query: str, doc_ids: Sequence[str], *, alpha: float | None = None,
              space: str | None = None) -> np.ndarray:
        """Mixture scores of ``doc_ids`` in their given order (normalised over them); the learned
        ranker's scores when the index holds one (and no ``alpha`` is given)."""
        if self._uses_learned("rerank", alpha):
            self._require_index()
            return self._learned_scores(query, list(doc_ids))[1]
        cand = self.candidates(query, doc_ids=doc_ids, space=space)
        return cand.mix(self.config.alpha if alpha is None else alpha, self.config.normalization)

    def explain(self, query: str | Query, doc_id: str, space: str | None = None) -> dict:
        """Raw BM25 and DESM scores of one document, split by query term, with each stage's added terms."""
        self._require_index()
        row = int(self.rows([doc_id])[0])
        cand = self.candidates(query, doc_ids=[doc_id], space=space)
        q = cand.query
        rows = np.array([row])
        # Raw DESM per model: the mixture's DESM of two models is normalised over the documents
        # ranked, which for one document alone is always 0 and says nothing.
        extra = {name: float(m.desm(space or self.config.space).scores(q.terms, rows)[0])
                 for name, m in self.extra_models.items() if parse_space(space or self.config.space)[1] in m.centroids}
        # Per-term DESM of the first model the mixture ranks with (the tuned in-domain one, say),
        # named in "desm_model" ("" the index's own), so the breakdown explains a DESM that ranked.
        used = self.desm_models_used(space)[0]
        by_term = self.desm(space) if used == "" else self.extra_models[used].desm(space or self.config.space)
        return {
            "doc_id": doc_id,
            "bm25": float(cand.bm25[0]),
            "desm": float(self.desm(space).scores(q.terms, rows)[0]),  # the index's own model
            **({"desm_by_model": extra} if extra else {}),
            "desm_model": used,
            "bm25_terms": self.bm25.term_scores(q.weights, row),
            "desm_terms": by_term.term_contributions(q.terms, row),
            "expansion": q.added,
            "unknown_terms": [t for t in q.terms if t not in self.model],
            **self._explain_learned(query, doc_id),
        }

    def _explain_learned(self, query: str | Query, doc_id: str) -> dict:
        """With a linear learned ranker: each feature's raw value and contribution (weight x the
        value normalised over the query's pool, the document added if it is not in it)."""
        learner = self.learned
        if learner is None or not hasattr(learner, "weights_"):  # trees: explain_ranking gives their parts
            return {}
        feats = self.features()
        pool = feats.compute(self.analyzer.query(query.text if isinstance(query, Query) else query))
        ids = pool.doc_ids if doc_id in pool.doc_ids else pool.doc_ids + [doc_id]
        f = feats.compute(pool.query, ids)
        i = ids.index(doc_id)
        contrib = learner.contributions(f.X)[i]
        return {"learned": learner.name, "learned_score": float(contrib.sum()),
                "features": [(n, float(v), float(w), float(c)) for n, v, w, c in
                             zip(feats.names, f.X[i], learner.weights_, contrib)]}

    def explain_ranking(self, query: str | Query, k: int = 10, *, mode: str = "rerank", alpha: float | None = None,
                        space: str | None = None) -> dict[str, Any]:
        """The top ``k`` as :meth:`search` ranks them, each with the components its score adds up from.

        ``ranker`` is ``"mixture"`` (``alpha`` x norm(DESM) + (1 - ``alpha``) x norm(BM25), each
        normalised by ``normalization`` over the ``pool`` documents, which ``first_stage`` chose in
        rerank mode; ``models`` names whose DESM it is, and with several DESM is the mean of each
        model's normalised DESM, normalised again) or ``"learned"`` (``learner``'s
        score of the ``features``, z-scored over the pool: a sum of per-feature contributions plus
        the learner's constant ``bias``, 0 for a linear one). Each result is ``{"doc_id", "score",
        "components": [{"name", "raw", "normalized", "weight", "contribution", "models"?}]}``; the
        contributions (and ``bias``) add up to ``score``. A learner without per-feature
        contributions gives ``weight`` and ``contribution`` as ``None``.
        """
        q = self.analyze(query)
        out: dict[str, Any] = {"mode": mode, "stages": [st.name for st in self.config.stages()],
                               "first_stage": self.config.first_stage, "first_stage_k": self.config.first_stage_k,
                               "documents": len(self.doc_ids)}
        if self._uses_learned(mode, alpha):
            self._require_index()
            f, scores = self._learned_scores(q, None)
            learner = self.learned
            order = np.lexsort((f.rows, -scores))[: k or len(scores)]
            has = hasattr(learner, "contributions") and len(f.rows) > 0
            Xn = learner.normalized(f.X) if len(f.rows) else f.X
            contrib = learner.contributions(f.X) if has else None
            weights = getattr(learner, "weights_", None)
            bias = float(np.mean(scores - contrib.sum(axis=1))) if has else 0.0
            results = [{"doc_id": self.doc_ids[int(f.rows[i])], "score": float(scores[i]), "components": [
                {"name": name, "raw": float(f.X[i, j]), "normalized": float(Xn[i, j]),
                 "weight": None if weights is None else float(weights[j]),
                 "contribution": None if contrib is None else float(contrib[i, j])}
                for j, name in enumerate(learner.feature_names_)]} for i in order]
            return {**out, "ranker": "learned", "learner": learner.name, "pool": len(f.rows), "bias": bias,
                    "features": list(learner.feature_names_), "results": results}
        a = self._alpha(alpha)
        how = self.config.normalization
        cand = self.candidates(q, mode=mode, space=space, alpha=a)
        parts = cand.components(a, how)
        results = []
        for row, score in cand.ranked(a, how, k):
            i = int(np.flatnonzero(cand.rows == row)[0])
            comps = []
            for stage, part in parts.items():
                comp = {"name": stage, **{key: float(part[key][i]) for key in ("raw", "normalized", "weight",
                                                                                  "contribution")}}
                if "models" in part:
                    comp["models"] = [{"name": name, "raw": float(m["raw"][i]), "normalized": float(m["normalized"][i])}
                                      for name, m in part["models"].items()]
                comps.append(comp)
            results.append({"doc_id": self.doc_ids[row], "score": score, "components": comps})
        return {**out, "ranker": "mixture", "alpha": a, "normalization": how, "pool": len(cand.rows),
                "space": space or self.config.space, "models": list(cand.desm_parts) or [""], "bias": 0.0,
                "results": results}

    def run(self, queries: Mapping[str, str], *, k: int = 100, mode: str = "rerank", alpha: float | None = None,
            space: str | None = None, progress: bool | None = None) -> dict[str, dict[str, float]]:
        """Rank every query: ``{query_id: {doc_id: score}}`` (a TREC run)."""
        out: dict[str, dict[str, float]] = {}
        with Progress(wants_progress(progress), unit="queries") as bar:
            bar.task("ranking", len(queries))
            for n, (qid, text) in enumerate(queries.items(), start=1):
                out[qid] = dict(self.search(text, k, mode=mode, alpha=alpha, space=space))
                if n % 50 == 0:
                    bar.update(n)
            bar.update(len(queries))
        return out

    # -- persistence -------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write a self-contained index directory (atomic for readers too; no pickle)."""
        self._require_index()

        def fill(tmp: Path) -> dict:
            self.model.save(tmp / "model")
            self.bm25.save(tmp / "bm25")
            write_json(tmp / "doc_ids.json", self.doc_ids)
            if self.texts is not None:
                self.texts.save(tmp)
            files = write_arrays(tmp, {f"centroids_{s}": c for s, c in self.centroids.items()})
            model_header = read_header(tmp / "model" / MODEL_HEADER) or {}
            header = {"format": INDEX_FORMAT, "format_version": INDEX_VERSION, "config": self.config.to_dict(),
                      "documents": len(self.doc_ids), "files": files,
                      "model_fingerprint": model_header.get("fingerprint")}
            if self.extra_models:  # an older dualvec ignores the key and loads the rest
                header["extra_models"] = {name: m.save(tmp, name) for name, m in self.extra_models.items()}
            header["digests"] = {name: file_digest(tmp / name) for name in _array_files(tmp)}
            return header

        return write_versioned_dir(path, INDEX_HEADER, fill, kind="dualvec index", is_ours=_is_index_header)

    @staticmethod
    def check_target(path: str | os.PathLike) -> None:
        """Refuse, before any work, a path :meth:`save` would refuse (it touches nothing)."""
        check_writable(path, INDEX_HEADER, kind="dualvec index", is_ours=_is_index_header)

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: bool = True, **overrides) -> Ranker:
        """Open an index written by :meth:`save`; ``overrides`` change scoring options (alpha, space, ...)."""
        root = Path(path)
        if not (root / INDEX_HEADER).is_file():
            raise DualvecError(f"{root} is not a dualvec index (no {INDEX_HEADER})")
        # The generation read stays held while this ranker lives: a re-save of the index never
        # removes files it reads later (document texts, by path) or maps.
        ranker, ranker._generation = read_held_dir(root, INDEX_HEADER,
                                                   lambda h, base: cls._read(root, h, base, mmap, overrides),
                                                   kind="dualvec index")
        return ranker

    @classmethod
    def _read(cls, root: Path, header: dict, base: Path, mmap: bool, overrides: dict) -> Ranker:
        if header.get("format") != INDEX_FORMAT:
            raise DualvecError(f"{root / INDEX_HEADER} is not a dualvec index header")
        version = header.get("format_version", 0)
        if not isinstance(version, int) or version > INDEX_VERSION:
            raise DualvecError(f"{root}: index format {version!r} is newer than this dualvec")
        settings = header.get("config", {})
        if not isinstance(settings, dict):
            raise DualvecError(f"{root / INDEX_HEADER}: 'config' must be an object")
        config = RankerConfig.from_dict(settings)
        for key in INDEX_SETTINGS:
            if key in overrides and overrides[key] != getattr(config, key):
                raise DualvecError(f"'{key}' is fixed when the index is built; re-index to change it")
        model = load(inside_dir(base / "model", root, "dualvec index"), mmap=mmap)
        expected = header.get("model_fingerprint")
        if expected is not None and model.fingerprint != expected:
            raise DualvecError(f"{root}: the model inside the index is not the one it was built with "
                               "(its fingerprint differs); re-index")
        try:
            self = cls(model, config, **overrides)
        except TypeError as exc:
            raise DualvecError(f"{root / INDEX_HEADER}: corrupt settings ({exc})") from None
        try:  # a saved learned ranker is checked whole when the index opens, not at the first search
            _ = self.learned
        except DualvecError as exc:
            raise DualvecError(f"{root / INDEX_HEADER}: {exc}; rebuild the index (dualvec index, then "
                               "dualvec tune --save)") from None
        doc_ids = load_json(base / "doc_ids.json", root=root)
        if not isinstance(doc_ids, list):
            raise DualvecError(f"{base / 'doc_ids.json'} is corrupt: expected a list of ids")
        self.doc_ids = [str(d) for d in doc_ids]
        self.centroids = {}
        files = header.get("files", {})
        if not isinstance(files, dict):
            raise DualvecError(f"{root / INDEX_HEADER}: 'files' must be an object")
        for stem, name in files.items():
            if not safe_name(name) or not str(stem).startswith("centroids_"):
                raise DualvecError(f"{root / INDEX_HEADER} names an unsafe file: {name!r}")
            arr = load_array(base / name, mmap, root=root)
            check_centroids(arr, base / name, len(self.doc_ids), self.model.vector_size)
            self.centroids[stem.removeprefix("centroids_")] = arr
        self.bm25 = BM25.load(inside_dir(base / "bm25", root, "dualvec index"), config.k1, config.b,
                              config.bm25_method, mmap=mmap, root=root)
        if self.bm25.n_docs != len(self.doc_ids):
            raise DualvecError(f"{root}: the BM25 index holds {self.bm25.n_docs} documents, not {len(self.doc_ids)}")
        self._row_of = {d: i for i, d in enumerate(self.doc_ids)}
        if "space" not in overrides:  # an index an older dualvec built of an IN-only model, as 'in-out'
            self._in_only_space()
        self.texts = DocumentTexts.load(base, len(self.doc_ids), root) if os.path.lexists(base / TEXTS) else None
        extra = header.get("extra_models", {})
        if not isinstance(extra, dict):
            raise DualvecError(f"{root / INDEX_HEADER}: 'extra_models' must be an object")
        self.extra_models = {name: IndexedModel.load(base, name, entry, len(self.doc_ids), mmap, root)
                             for name, entry in extra.items()}
        if len(self._row_of) != len(self.doc_ids):
            raise DualvecError(f"{base / 'doc_ids.json'} lists a document id twice")
        _check_digests(root, base, header)  # last: what each part's own checks find is said in their words
        return self
