"""An in-domain model: word2vec trained at index time on the collection's own text.

A general model (Wikipedia) knows what words mean in general; a model of the
collection knows what they mean *there* (in SciFact, "cell" is biology, in
Cranfield "flow" is air). Training one takes seconds to a minute with
dualvec's trainer. :func:`train_in_domain` trains it from the documents' text
alone, cut by the general model's tokeniser so that both models see the same
words; it never reads the general model's vectors. The index keeps it as a
named extra model (:class:`IndexedModel`: the model and its unit document
centroids), and its DESM scores become features of their own, named per model
(:func:`desm_features`), so a learned ranker decides how much to trust each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..text.tokenize import Tokenizer
from ..errors import DualvecError
from ..atomic import inside_dir, read_header, safe_name
from ..model import DualVectors, load, parse_space
from ..store import HEADER as MODEL_HEADER
from ..store import load_array, write_arrays
from .desm import DESM, known_rows, space_centroids

#: The name the index stores the in-domain model under.
IN_DOMAIN = "in-domain"
#: Training settings of the in-domain model (see benchmarks/RESULTS.md, "In-domain and local embeddings").
#: One thread and a fixed seed: the same collection always gives the same model, so the same
#: ``dualvec index`` command gives the same index and the same runs (two threads moved nDCG@10 by
#: up to 0.01 between builds).
IN_DOMAIN_OPTIONS: dict[str, Any] = dict(sg=True, vector_size=100, epochs=15, window=10, negative=10,
                                         sample=1e-4, min_count=2, workers=1, seed=1)
#: Whether ``dualvec index MODEL COLLECTION`` trains one (``--in-domain/--no-in-domain``).
IN_DOMAIN_BY_DEFAULT = True
#: Whether ``dualvec index`` then tunes it for ranking on pairs cut from the collection's documents
#: (``--tune/--no-tune``; :func:`tune_in_domain`).
TUNE_BY_DEFAULT = True
#: Below this many tokens a collection is too little text for word2vec: beside a general
#: model, ``dualvec index`` then trains no in-domain model (and says so).
MIN_TOKENS = 20_000


def count_tokens(texts: Iterable[str], tokenizer: Tokenizer | None = None) -> int:
    from ..text.tokenize import default_tokenizer

    tok = tokenizer or default_tokenizer()
    return sum(len(tok(t)) for t in texts)

#: What an extra model may be called (it names files and features).
MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


def check_model_name(name: object) -> str:
    if not isinstance(name, str) or not MODEL_NAME.fullmatch(name):
        raise DualvecError(f"a model beside the index's own needs a name of lowercase letters, digits and '-', "
                           f"not {name!r}")
    return name


def train_in_domain(texts: Iterable[str], *, tokenizer: Tokenizer | None = None, progress: bool | None = False,
                    **options: Any) -> DualVectors:
    """A skip-gram model of ``texts`` alone (the collection's documents), cut by ``tokenizer``.

    ``options`` override :data:`IN_DOMAIN_OPTIONS` (gensim's names: ``vector_size``,
    ``epochs``, ``min_count``, ...).
    """
    from ..training.word2vec import train

    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if not texts:
        raise DualvecError("no document text to train an in-domain model on")
    opts = {**IN_DOMAIN_OPTIONS, **options}
    try:
        return train(texts, tokenizer=tokenizer, progress=progress, **opts)
    except DualvecError as exc:
        raise DualvecError(f"in-domain model: {exc}") from None


def tune_for_ranking(model: DualVectors, documents: Iterable[Any], *, stopwords: str | None = "english",
                     settings: Any = None, progress: bool | None = False) -> DualVectors:
    """``model`` tuned for ranking on pairs cut from ``documents``, through the analysis the index
    gives DESM (the model's tokeniser, ``stopwords`` removed, no stemming), so the encoder tuned is
    the one that ranks (:func:`dualvec.training.contrastive.tune`). ``dualvec train --for-ranking``
    and :func:`tune_in_domain` both tune through here."""
    from ..training.contrastive import tune
    from .analysis import Analyzer

    analyzer = Analyzer(model.tokenizer, stopwords, None, desm_stopwords=True)
    analysis = f"the model's tokeniser, {stopwords or 'no'} stop words removed, unstemmed"
    return tune(model, documents, settings, terms=analyzer.terms, analysis=analysis, progress=progress)


def tune_in_domain(model: DualVectors, texts: Iterable[str], *, stopwords: str | None = "english",
                   settings: Any = None, progress: bool | None = False) -> DualVectors:
    """:func:`tune_for_ranking` on the collection's documents, its errors saying it was the in-domain model."""
    try:
        return tune_for_ranking(model, texts, stopwords=stopwords, settings=settings, progress=progress)
    except DualvecError as exc:
        raise DualvecError(f"tuning the in-domain model: {exc}") from None


@dataclass
class IndexedModel:
    """A model beside the index's own: its vectors and the documents' unit centroids in its spaces."""

    model: DualVectors
    centroids: dict[str, np.ndarray]
    _desm: dict[str, DESM] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, model: DualVectors, docs_terms: Sequence[Sequence[str]]) -> IndexedModel:
        """Centroids of every document's terms (the analyser's embedding-side terms)."""
        rows, offsets = known_rows(model, docs_terms)
        spaces = ["in"] + (["out"] if model.out_vectors is not None else [])
        return cls(model, {s: space_centroids(model, rows, offsets, s) for s in spaces})

    def save(self, directory: Path, name: str) -> dict[str, Any]:
        """Write the model (``model-<name>/``) and its centroids into an index's data directory;
        return the header entry :meth:`load` reads."""
        sub = f"model-{check_model_name(name)}"
        self.model.save(directory / sub)
        files = write_arrays(directory, {f"centroids-{name}_{s}": c for s, c in self.centroids.items()})
        model_header = read_header(directory / sub / MODEL_HEADER) or {}
        return {"model": sub, "fingerprint": model_header.get("fingerprint"),
                "files": {s: files[f"centroids-{name}_{s}"] for s in self.centroids}}

    @classmethod
    def load(cls, directory: Path, name: object, entry: object, n_docs: int, mmap: bool = True,
             root: Path | None = None) -> IndexedModel:
        """The model ``name`` of an index's header (``entry``), memory-mapped, fingerprint-checked."""
        where = root or directory
        try:
            check_model_name(name)
        except DualvecError:
            raise DualvecError(f"{where}: the index names an extra model {name!r}, not a valid name") from None
        if not isinstance(entry, dict) or not safe_name(entry.get("model")) or not isinstance(entry.get("files"), dict):
            raise DualvecError(f"{where}: the entry of extra model {name!r} is corrupt")
        model = load(inside_dir(directory / entry["model"], where, "dualvec index"), mmap=mmap)
        expected = entry.get("fingerprint")
        if expected is not None and model.fingerprint != expected:
            raise DualvecError(f"{where}: the {name} model inside the index is not the one it was built with "
                               "(its fingerprint differs); re-index")
        centroids = {}
        for space, file in entry["files"].items():
            if space not in ("in", "out") or not safe_name(file):
                raise DualvecError(f"{where}: extra model {name!r} names an unsafe file: {file!r}")
            arr = load_array(directory / file, mmap, root=where)
            check_centroids(arr, directory / file, n_docs, model.vector_size)
            centroids[space] = arr
        if "in" not in centroids:
            raise DualvecError(f"{where}: extra model {name!r} has no IN centroids")
        return cls(model, centroids)

    def desm(self, space: str = "in-out") -> DESM:
        if space not in self._desm:
            self._desm[space] = DESM(self.model, self.centroids, space)
        return self._desm[space]


def check_centroids(arr: np.ndarray, path: Path, n_docs: int, dim: int) -> None:
    """Loaded document centroids fit the index (one float32 row per document) and are finite:
    a NaN row would change every other document's normalised score."""
    if arr.shape != (n_docs, dim) or arr.dtype != np.float32:
        raise DualvecError(f"{path}: shape {arr.shape} does not match the index")
    if not np.isfinite(arr).all():
        raise DualvecError(f"{path} holds NaN or infinity: the index is damaged; re-index")


def feature_name(model: str, space: str) -> str:
    """The feature name of DESM in ``space`` for model ``model`` (``""``: the index's own), as
    :mod:`.features` names it: ``desm_in_out``, ``desm_in_out@in-domain``."""
    from .features import desm_feature

    return desm_feature(space, model)


def desm_features(models: Mapping[str, IndexedModel], terms: Sequence[str], rows: np.ndarray,
                  spaces: Sequence[str] = ("in-out", "in-in")) -> dict[str, np.ndarray]:
    """Raw DESM of the query's ``terms`` against index ``rows``, per pairing per model, named by
    :func:`feature_name` (``models[""]`` is the index's own model; a pairing whose document
    space a model lacks is left out). :meth:`Ranker.desm_features` passes the index's models."""
    out: dict[str, np.ndarray] = {}
    for name, m in models.items():
        for s in spaces:
            if parse_space(s)[1] in m.centroids:
                out[feature_name(name, s)] = m.desm(s).scores(terms, rows)
    return out
