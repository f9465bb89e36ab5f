"""A sharded, streaming index of document centroids, built by one process or by Dask workers.

::

    index/
      model/                   the model (documents and queries are analysed with its tokeniser)
      model-<name>/            each model beside it (the in-domain one, as a ranker index names it)
      shards/shard-000000.*    per chunk of documents: ids (JSON), IN and OUT unit centroids (.npy),
                               and each other model's (shard-000000@<name>.in.npy, ...)
      manifest.json            written last: the shards, their sizes, the models' fingerprints

The index holds the same models as the in-memory ranker index ``dualvec index`` writes without
``--engine`` (the general model and the in-domain one trained on the collection, or whatever
extra models it is given) and mixes their DESM the same way (``desm_models="all"``: the mean of
each model's DESM normalised over a query's candidates), so the same command ranks the same on
every engine.

The collection is read in chunks (:mod:`.documents`), chunk i becoming shard i, so one process or
many build the same index. Each shard's files are written atomically and the manifest only once
every shard is complete, so a crashed build is never presented as complete; running the build
again reuses every shard whose ids match its chunk and builds only the rest.

At this scale the first stage is another engine (Anserini/Pyserini, Elasticsearch/OpenSearch,
bm25s): :meth:`CentroidIndex.rerank` re-orders its TREC run by the DESM mixture, in batches (one
numba call per batch: gather, dot, normalise, mix, sort). :meth:`CentroidIndex.search` ranks the
whole collection by DESM, exactly (a product per shard) or through FAISS (``faiss-cpu``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import repeat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import LOCK, PinnedDir, inside_dir, locked, open_inside, read_header, write_file_atomic
from ..errors import DualvecError
from ..model import DualVectors, load, parse_space
from ..progress import Progress, wants_progress
from ..ranking.analysis import Analyzer
from ..ranking.desm import known_rows, space_centroids
from ..ranking.in_domain import check_model_name
from ..ranking.ranker import DEFAULT_ALPHA, DESM_MODELS, NORMALIZATIONS, desm_models_used
from ..store import array_header, is_model_dir, load_array, load_json, parts_fingerprint
from .documents import iter_chunks

MANIFEST = "manifest.json"
FORMAT = "dualvec-centroids"
VERSION = 1
DEFAULT_CHUNK = 50_000
ENGINES = ("local", "dask")
_SHARD = re.compile(r"shard-\d{6}")


# -- building ---------------------------------------------------------------------------


_MODELS: dict[str, DualVectors] = {}  # per process: a worker loads the index's model once


def _model(model_dir: str) -> DualVectors:
    if model_dir not in _MODELS:
        _MODELS[model_dir] = load(model_dir, mmap=True)
    return _MODELS[model_dir]


def _extra_dir(name: str) -> str:
    """The directory of an extra model, named as a ranker index names it."""
    return f"model-{check_model_name(name)}"


def shard_file(shard: Path, model: str, space: str) -> Path:
    """A shard's centroids of ``model`` (``""``: the index's own) in ``space``."""
    return shard.with_name(f"{shard.name}{'@' + model if model else ''}.{space}.npy")


@dataclass
class Chunk:
    """One chunk's documents, shipped to a worker as one object."""

    ids: list[str]
    texts: list[str]


def _spaces(model: DualVectors) -> list[str]:
    return ["in"] + (["out"] if model.out_vectors is not None else [])


def build_shard(model_dir: str | Sequence[tuple[str, str]], shard: str, chunk: Chunk, stopwords: str | None,
                desm_stopwords: bool) -> int:
    """Centroids of one chunk, written as shard files (runs in a worker; returns the documents done).

    ``model_dir``: the index's model directory, or ``(name, directory)`` of each model, the
    index's own (``""``) first; every model's centroids are of the terms its analyser (the own
    model's tokeniser) gives, as the in-memory index computes them. Each document's terms become
    vocabulary rows as it is analysed (:func:`known_rows`), so a 50,000-paragraph chunk never
    holds its ~5 M tokens as string objects.
    """
    models = [("", model_dir)] if isinstance(model_dir, str) else list(model_dir)
    analyzer = Analyzer(_model(models[0][1]).tokenizer, stopwords, None, desm_stopwords)
    ids = chunk.ids
    base = Path(shard)
    for name, directory in models:
        model = _model(directory)
        rows, offsets = known_rows(model, (analyzer.terms(t) for t in chunk.texts))
        for space in _spaces(model):
            cents = space_centroids(model, rows, offsets, space)
            write_file_atomic(shard_file(base, name, space), lambda fh, c=cents: np.save(fh, c, allow_pickle=False))
    data = json.dumps(ids, ensure_ascii=False).encode("utf-8", "surrogatepass")
    write_file_atomic(base.with_name(f"{base.name}.ids.json"), lambda fh: fh.write(data))  # last: marks it complete
    return len(ids)


def _shard_done(shard: Path, ids: list[str], models: Mapping[str, DualVectors]) -> bool:
    """Is the shard on disk complete and built from exactly these documents, for every model?"""
    try:
        if load_json(shard.with_name(f"{shard.name}.ids.json")) != ids:
            return False
        return all(load_array(shard_file(shard, name, s), mmap=True).shape == (len(ids), m.vector_size)
                   for name, m in models.items() for s in _spaces(m))
    except DualvecError:
        return False


class _Local:
    """Runs shard builds in this process, one after the other."""

    workers = 1

    def ship(self, data: Any) -> Any:
        return data

    def submit(self, fn: Callable, *args: Any) -> Any:
        return fn(*args)

    def drain(self, pending: list, keep: int) -> list:
        return []

    def close(self) -> None:
        pass


#: A LocalCluster starts at most this many worker processes per CPU (``--dask-workers``).
MAX_WORKERS_PER_CPU = 4


def _check_workers(workers: int | None) -> None:
    cap = MAX_WORKERS_PER_CPU * (os.cpu_count() or 1)
    if workers is not None and not 1 <= workers <= cap:
        raise DualvecError(f"--dask-workers {workers}: a local cluster takes 1 to {cap} workers "
                           f"({MAX_WORKERS_PER_CPU} per CPU); for more, start a cluster and pass --scheduler")


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


class _Dask:
    """Runs shard builds on a Dask cluster: the given scheduler, or a LocalCluster started here."""

    def __init__(self, scheduler: str | None, workers: int | None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise DualvecError("the dask engine needs dask.distributed: pip install 'dask[distributed]'") from None
        self._cluster = None
        if scheduler is None:
            _check_workers(workers)
            import logging
            import signal

            # The workers are started ignoring SIGINT (they inherit it): a Ctrl-C reaches this process,
            # which stops the build and closes the cluster, instead of every worker printing a traceback.
            before = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
            try:
                # No dashboard, and the scheduler's HTTP server (health, metrics) on a free port:
                # its default, 8787, is taken by any other cluster on the machine. Workers log only
                # CRITICAL: a failed task reaches the client as its exception anyway, while a worker
                # whose heartbeat outlives the scheduler at close (a loaded machine) logged an ERROR
                # traceback after Ctrl-C's "interrupted".
                self._cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.CRITICAL,
                                             scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
                self.client = Client(self._cluster)
            finally:
                if before is not None:
                    signal.signal(signal.SIGINT, before)
        else:
            try:
                self.client = Client(scheduler, timeout="30s")
            except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address ("garbage")
                raise DualvecError(f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); give an "
                                   "address such as tcp://127.0.0.1:8786") from None
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self._defer_interrupts()  # last: build_index's finally (close) restores the handler

    def _defer_interrupts(self) -> None:
        """While the build runs, a Ctrl-C only sets a flag, which the build loop turns into
        KeyboardInterrupt between Dask calls: raised inside one of distributed's blocking calls,
        it made distributed's event loop log a traceback of its own (a NameError in ``sync``)."""
        import signal

        self._interrupted = False
        self._sigint = None
        if _main_thread():
            def note(signum, frame):
                self._interrupted = True

            self._sigint = signal.signal(signal.SIGINT, note)

    def _check_interrupt(self) -> None:
        if self._interrupted:
            raise KeyboardInterrupt

    def ship(self, data: Any) -> Any:
        """Send a chunk to a worker ahead of its task (not inside the task graph)."""
        self._check_interrupt()
        return self.client.scatter(data)

    def submit(self, fn: Callable, *args: Any) -> Any:
        self._check_interrupt()
        return self.client.submit(fn, *args, pure=False)

    def drain(self, pending: list, keep: int) -> list:
        """Wait until at most ``keep`` builds are in flight (bounded memory); raise the first failure.
        Waits in short steps, so that a Ctrl-C is seen within a quarter of a second."""
        from dask.distributed import wait

        while len(pending) > keep:
            self._check_interrupt()
            try:
                done, rest = wait(pending, timeout=0.25, return_when="FIRST_COMPLETED")
            except TimeoutError:  # distributed's TimeoutError is the builtin one
                continue
            for f in done:
                f.result()
            pending = list(rest)
        self._check_interrupt()
        return pending

    def close(self) -> None:
        """Close the client and the cluster, quietly: after a Ctrl-C or a failed build the reason
        is already on its way up, and a worker's cancelled task is no news."""
        import contextlib
        import logging

        import signal

        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        with contextlib.suppress(Exception):
            self.client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()
        if getattr(self, "_sigint", None) is not None:
            signal.signal(signal.SIGINT, self._sigint)
            self._sigint = None


def build_index(model: DualVectors, collection: str | os.PathLike, output: str | os.PathLike, *,
                chunk_size: int = DEFAULT_CHUNK, engine: str = "local", scheduler: str | None = None,
                workers: int | None = None, stopwords: str | None = "english", desm_stopwords: bool = True,
                extra_models: Mapping[str, DualVectors] | None = None, desm_models: str = "all",
                alpha: float = DEFAULT_ALPHA, normalization: str = "minmax",
                progress: bool | None = None) -> CentroidIndex:
    """Index a collection's DESM centroids in shards (see the module docstring).

    ``extra_models``: models beside ``model`` by name (``{"in-domain": ...}``, as
    :meth:`dualvec.ranking.Ranker.index` takes them), whose centroids the shards hold too;
    ``desm_models``: how re-ranking mixes their DESM (``"all"``: the mean of each model's
    normalised DESM, as the ranker index does; ``"own"``: the index's own model alone;
    ``"tuned"``: the models tuned for ranking); ``alpha`` and ``normalization``: the mixture's
    DESM weight and normalisation that re-ranking uses unless told otherwise (``dualvec index``
    passes what it gives the in-memory index).

    Everything is checked before anything is touched, under a lock taken before the directory is
    examined: the collection exists and is readable, the directory is empty or an index of ours,
    its model is this one. A rebuild removes the old manifest only just before it rewrites a shard
    that manifest lists, so a refused rebuild, or one that finds every shard current, leaves a
    complete index complete.
    """
    if engine not in ENGINES:
        raise DualvecError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if engine == "dask" and scheduler is None:
        _check_workers(workers)  # before anything is created
    if desm_models not in DESM_MODELS:
        raise DualvecError(f"unknown desm_models {desm_models!r}; use one of {', '.join(DESM_MODELS)}")
    _check_mixture(alpha, normalization)
    extra_models = dict(extra_models or {})
    for name in extra_models:
        check_model_name(name)
    _check_collection(collection)
    root = Path(output)
    refusal = f"{root} exists and is not a dualvec centroid index; refusing to write into it"
    if root.exists() and not root.is_dir() or root.is_dir() and not _is_index_dir(root):
        raise DualvecError(refusal)  # plainly not ours: refused before anything is created in it
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DualvecError(f"cannot create {root} ({exc.strerror or exc})") from None
    # Pinned before the lock: each write by path below first checks that the path still leads to
    # the directory checked and locked here (a symlink swapped in for it gets nothing written).
    with PinnedDir.open(root) as pinned, locked(pinned) as created_lock:
        if not _is_index_dir(pinned.by_path()):
            if created_lock:
                pinned.unlink(LOCK)
            raise DualvecError(refusal)
        model_dir = root / "model"
        if os.path.lexists(model_dir):
            kept = read_header(inside_dir(model_dir, root, "centroid index") / "dualvec.json", model_dir) or {}
            if kept.get("fingerprint") != (model.fingerprint or parts_fingerprint(model.to_parts())):
                raise DualvecError(f"{root} was built with another model; index into a new directory")
        for name, other in extra_models.items():
            where = root / _extra_dir(name)
            if os.path.lexists(where):
                kept = read_header(inside_dir(where, root, "centroid index") / "dualvec.json", where) or {}
                if kept.get("fingerprint") != (other.fingerprint or parts_fingerprint(other.to_parts())):
                    raise DualvecError(f"{root} was built with another {name} model; index into a new directory")
        return _build(model, collection, root, chunk_size=chunk_size, engine=engine, scheduler=scheduler,
                      workers=workers, stopwords=stopwords, desm_stopwords=desm_stopwords,
                      extra_models=extra_models, desm_models=desm_models,
                      mixture={"alpha": alpha, "normalization": normalization}, progress=progress,
                      guard=pinned.by_path)


def _check_mixture(alpha: Any, normalization: Any) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise DualvecError(f"alpha must be in [0, 1], not {_short(alpha)}")
    if normalization not in NORMALIZATIONS:
        raise DualvecError(f"unknown normalization {_short(normalization)}; use one of {', '.join(NORMALIZATIONS)}")


def _check_collection(collection: str | os.PathLike) -> None:
    """The collection is there and readable (checked before an index is touched)."""
    p = Path(collection)
    if not p.exists():
        raise DualvecError(f"collection not found: {p}")
    if not os.access(p, os.R_OK | (os.X_OK if p.is_dir() else 0)):
        raise DualvecError(f"{p}: cannot read the collection (permission denied)")


def _is_index_dir(root: Path) -> bool:
    """Empty (but for the lock), or a centroid index of ours: our manifest, or (a build that had
    not finished) our model and no manifest at all."""
    if not {p.name for p in root.iterdir()} - {LOCK}:
        return True
    if os.path.lexists(root / MANIFEST):
        return (read_header(root / MANIFEST, root) or {}).get("format") == FORMAT
    return is_model_dir(root / "model")


def _listed_shards(root: Path) -> set[str]:
    """The shards the directory's current manifest lists (none if it has none)."""
    entries = (read_header(root / MANIFEST, root) or {}).get("shards")
    return {e.get("name") for e in entries if isinstance(e, dict)} if isinstance(entries, list) else set()


def _build(model: DualVectors, collection: str | os.PathLike, root: Path, *, chunk_size: int, engine: str,
           scheduler: str | None, workers: int | None, stopwords: str | None, desm_stopwords: bool,
           extra_models: Mapping[str, DualVectors], desm_models: str, mixture: dict[str, Any],
           progress: bool | None, guard: Callable[[], Path]) -> CentroidIndex:
    """The build itself, in a directory :func:`build_index` has checked and holds the lock on;
    ``guard()`` before each write refuses a directory that is no longer the one checked."""
    model_dir = root / "model"
    dirs = {"": model_dir, **{name: root / _extra_dir(name) for name in extra_models}}
    for name, m in {"": model, **extra_models}.items():
        if not os.path.lexists(dirs[name]):
            guard()
            m.save(dirs[name])
    guard()
    (root / "shards").mkdir(exist_ok=True)
    saved_models = {name: load(d) for name, d in dirs.items()}
    saved = saved_models[""]
    listed = _listed_shards(root)  # what a reader of the current manifest may read
    spaces = _spaces(saved)
    model_dirs = [(name, str(d)) for name, d in dirs.items()]
    runner: _Local | _Dask = _Local() if engine == "local" else _Dask(scheduler, workers)
    shards: list[dict[str, Any]] = []
    pending: list = []
    try:
        with Progress(wants_progress(progress), unit="docs") as bar:
            bar.task("indexing", None)
            done = 0
            for i, chunk in enumerate(iter_chunks(collection, chunk_size)):
                name = f"shard-{i:06d}"
                ids = [d for d, _ in chunk]
                shards.append({"name": name, "documents": len(ids)})
                if not _shard_done(root / "shards" / name, ids, saved_models):
                    guard()
                    if name in listed:  # about to change a shard the manifest lists: no longer complete
                        (root / MANIFEST).unlink(missing_ok=True)
                        listed = set()
                    data = runner.ship(Chunk(ids, [t for _, t in chunk]))
                    pending.append(runner.submit(build_shard, model_dirs, str(root / "shards" / name), data,
                                                 stopwords, desm_stopwords))
                    pending = runner.drain(pending, 2 * runner.workers)
                done += len(ids)
                bar.update(done)
            runner.drain(pending, 0)
    finally:
        runner.close()
    if not shards:
        raise DualvecError(f"{collection}: no documents")
    manifest = {"format": FORMAT, "format_version": VERSION, "model_fingerprint": saved.fingerprint,
                "vector_size": saved.vector_size, "spaces": spaces, "chunk_size": chunk_size,
                "analysis": {"stopwords": stopwords, "desm_stopwords": desm_stopwords},
                "documents": sum(s["documents"] for s in shards), "shards": shards, "source": str(collection),
                "mixture": mixture}
    if extra_models:  # an older dualvec ignores these keys and ranks by the own model alone
        manifest["extra_models"] = {name: {"model": _extra_dir(name), "fingerprint": m.fingerprint,
                                           "vector_size": m.vector_size, "spaces": _spaces(m)}
                                    for name, m in saved_models.items() if name}
        manifest["desm_models"] = desm_models
    payload = json.dumps(manifest, indent=1).encode()
    guard()
    write_file_atomic(root / MANIFEST, lambda fh: fh.write(payload))
    return CentroidIndex.load(root)


# -- using ------------------------------------------------------------------------------


_SPACES = ("in", "out")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Shards(Sequence):
    """One space's shard centroids, mapped when read (checked again then) and let go after use:
    an index never holds a descriptor per shard just for being open."""

    def __init__(self, root: Path, paths: list[Path]):
        self._root, self._paths = root, paths

    def __len__(self) -> int:
        return len(self._paths)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return np.asarray(load_array(self._paths[i], mmap=True, root=self._root))

#: A re-ranking batch holds at most this many (query, candidate) cells, whatever the run: its
#: arrays are batch x deepest query, so one deep query among shallow ones would size them all.
RERANK_CELLS = 1 << 20


def _batches(run: Mapping[str, Mapping[str, Any]], batch_size: int, cells: int) -> Iterable[list[str]]:
    """The run's query ids in order, in batches of at most ``batch_size`` queries whose padded
    arrays (queries x deepest) stay within ``cells``; a query deeper than that is a batch alone,
    its arrays the size of its own candidates."""
    if batch_size < 1:
        raise DualvecError(f"batch size must be at least 1, not {batch_size}")
    batch: list[str] = []
    deepest = 0
    for q in run:
        depth = len(run[q])
        if batch and (len(batch) == batch_size or (len(batch) + 1) * max(deepest, depth) > cells):
            yield batch
            batch, deepest = [], 0
        batch.append(q)
        deepest = max(deepest, depth)
    if batch:
        yield batch


@dataclass
class ShardedModel:
    """A model beside the index's own (the in-domain one): its vectors and its shard centroids."""

    model: DualVectors
    centroids: dict[str, Sequence[np.ndarray]]  # space -> one array per shard (mapped when read)


#: A full ranking that mixes several models holds at most this many (query, document) scores
#: per model at once (it normalises each model's scores over the whole collection).
FULL_CELLS = 1 << 24


@dataclass
class CentroidIndex:
    """A complete sharded index, memory-mapped: re-rank other engines' runs, or rank by DESM."""

    root: Path
    model: DualVectors
    analyzer: Analyzer
    doc_ids: list[str]
    centroids: dict[str, Sequence[np.ndarray]]  # space -> one array per shard (mapped when read)
    offsets: np.ndarray  # first global row of each shard, then the total
    #: Models beside the index's own, by name (``"in-domain"``), and how their DESM is mixed
    #: with the own model's (``"all"``: the mean of each one's normalised DESM; ``"own"``: not).
    extra_models: dict[str, ShardedModel] = field(default_factory=dict)
    desm_models: str = "all"
    #: The mixture's DESM weight and normalisation when :meth:`rerank` is given none.
    alpha: float = DEFAULT_ALPHA
    normalization: str = "minmax"

    @classmethod
    def from_ranker(cls, ranker: Any) -> CentroidIndex:
        """The centroids of an in-memory :class:`~dualvec.ranking.Ranker` index (and of its
        extra models), as one shard."""
        extra = {name: ShardedModel(m.model, {s: [np.asarray(c)] for s, c in m.centroids.items()})
                 for name, m in ranker.extra_models.items()}
        return cls(Path("."), ranker.model, ranker.analyzer, list(ranker.doc_ids),
                   {s: [np.asarray(c)] for s, c in ranker.centroids.items()},
                   np.array([0, len(ranker.doc_ids)], np.int64), extra, ranker.config.desm_models,
                   ranker.config.alpha, ranker.config.normalization)

    @classmethod
    def open(cls, path: str | os.PathLike) -> CentroidIndex:
        """A centroid index, or the centroids of a ranker index (``dualvec index`` without --engine)."""
        root = Path(path)
        if os.path.lexists(root / MANIFEST) or (root / "shards").is_dir():
            return cls.load(root)
        from ..ranking import Ranker

        return cls.from_ranker(Ranker.load(root))

    @classmethod
    def load(cls, path: str | os.PathLike) -> CentroidIndex:
        """Open a complete index. Every file is read through :func:`dualvec.atomic.open_inside`
        and every shard's arrays are checked here, but mapped only when used (one descriptor at a
        time per shard, so an index of thousands of shards opens under the usual limit of 1024)."""
        root = Path(path)
        where = root / MANIFEST
        if not os.path.lexists(where):
            if (root / "shards").is_dir():
                raise DualvecError(f"{root}: the index is incomplete (no manifest: the build did not finish); "
                                   "run the build again to complete it")
            raise DualvecError(f"{root} is not a dualvec centroid index (no {MANIFEST})")
        manifest = load_json(where, max_bytes=1 << 28, root=root)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
                or not isinstance(manifest.get("shards"), list):
            raise DualvecError(f"{where} is not a dualvec centroid-index manifest")
        spaces = manifest.get("spaces", ["in"])
        if not (isinstance(spaces, list) and spaces and all(isinstance(x, str) and x in _SPACES for x in spaces)
                and len(set(spaces)) == len(spaces)):
            raise DualvecError(f"{where}: 'spaces' must be a list of {' and '.join(map(repr, _SPACES))}, "
                               f"not {_short(spaces)}")
        model = load(inside_dir(root / "model", root, "centroid index"))
        if manifest.get("model_fingerprint") != model.fingerprint:
            raise DualvecError(f"{root}: the model is not the one the index was built with")
        analysis = manifest.get("analysis") or {}
        if not isinstance(analysis, dict):
            raise DualvecError(f"{where}: 'analysis' must be an object, not {_short(analysis)}")
        stop = analysis.get("stopwords", "english")
        if stop is not None and not isinstance(stop, str):
            raise DualvecError(f"{where}: 'analysis.stopwords' must be a name or null, not {_short(stop)}")
        analyzer = Analyzer(model.tokenizer, stop, None, bool(analysis.get("desm_stopwords", True)))
        models = {"": (model, spaces), **cls._load_extra_models(root, manifest)}
        desm_models = manifest.get("desm_models", "all")
        if desm_models not in DESM_MODELS:
            raise DualvecError(f"{where}: 'desm_models' must be one of {', '.join(DESM_MODELS)}, "
                               f"not {_short(desm_models)}")
        mixture = manifest.get("mixture", {"alpha": DEFAULT_ALPHA, "normalization": "minmax"})
        try:
            _check_mixture(mixture.get("alpha") if isinstance(mixture, dict) else None,
                           mixture.get("normalization") if isinstance(mixture, dict) else None)
        except DualvecError as exc:
            raise DualvecError(f"{where}: 'mixture': {exc}") from None
        shard_dir = inside_dir(root / "shards", root, "centroid index")
        ids: list[str] = []
        paths: dict[tuple[str, str], list[Path]] = {(m, s): [] for m, (_, ss) in models.items() for s in ss}
        sizes = [0]
        for entry in manifest["shards"]:
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not _SHARD.fullmatch(name):
                raise DualvecError(f"{where} names an unsafe shard: {_short(name)}")
            shard_ids = load_json(shard_dir / f"{name}.ids.json", root=root)
            if not isinstance(shard_ids, list) or len(shard_ids) != entry.get("documents"):
                raise DualvecError(f"{root}: shard {name} does not match the manifest")
            ids.extend(str(d) for d in shard_ids)
            for (m, space), found in paths.items():
                file = shard_file(shard_dir / name, m, space)
                with open_inside(file, root, limit=None, what="centroid index") as fh:
                    shape, _, dtype, _ = array_header(fh, file)
                if shape != (len(shard_ids), models[m][0].vector_size) or dtype != np.float32:
                    raise DualvecError(f"{root}: shard {name} has {m + ' ' if m else ''}{space} centroids "
                                       f"of shape {shape}")
                found.append(file)
            sizes.append(len(shard_ids))
        centroids = {s: _Shards(root, paths["", s]) for s in spaces}
        extra = {m: ShardedModel(vectors, {s: _Shards(root, paths[m, s]) for s in ss})
                 for m, (vectors, ss) in models.items() if m}
        return cls(root, model, analyzer, ids, centroids, np.cumsum(sizes).astype(np.int64), extra, desm_models,
                   float(mixture["alpha"]), mixture["normalization"])

    @staticmethod
    def _load_extra_models(root: Path, manifest: dict) -> dict[str, tuple[DualVectors, list[str]]]:
        """The manifest's extra models, each loaded from its own directory and fingerprint-checked,
        with the spaces its shards hold."""
        where = root / MANIFEST
        entries = manifest.get("extra_models", {})
        if not isinstance(entries, dict):
            raise DualvecError(f"{where}: 'extra_models' must be an object, not {_short(entries)}")
        out = {}
        for name, entry in entries.items():
            try:
                check_model_name(name)
            except DualvecError:
                raise DualvecError(f"{where} names an extra model {_short(name)}, not a valid name") from None
            spaces = entry.get("spaces") if isinstance(entry, dict) else None
            if not (isinstance(spaces, list) and "in" in spaces and all(isinstance(x, str) and x in _SPACES
                                                                         for x in spaces)
                    and len(set(spaces)) == len(spaces)):
                raise DualvecError(f"{where}: the entry of extra model {name!r} is corrupt")
            vectors = load(inside_dir(root / _extra_dir(name), root, "centroid index"))
            if entry.get("fingerprint") != vectors.fingerprint:
                raise DualvecError(f"{root}: the {name} model is not the one the index was built with")
            out[name] = (vectors, spaces)
        return out

    def __len__(self) -> int:
        return len(self.doc_ids)

    @property
    def row_of(self) -> dict[str, int]:
        if not hasattr(self, "_row_of"):
            row_of = {d: i for i, d in enumerate(self.doc_ids)}
            if len(row_of) != len(self.doc_ids):
                raise DualvecError(f"{self.root}: the collection lists a document id twice")
            self._row_of = row_of
        return self._row_of

    def query_vectors(self, texts: Iterable[str], space: str = "in-out") -> np.ndarray:
        """Each text's unit query vector q̄/‖q̄‖ (zero when no word is known).

        DESM's q̄ is the mean of the query words' unit vectors; scaling it to length 1 changes no
        ranking and no normalised score, and lets one kernel call serve every query at once.
        """
        return self._query_vectors(self.model, map(self.analyzer.terms, texts), space)

    def _shards(self, space: str, centroids: Mapping[str, Sequence[np.ndarray]] | None = None):
        from numba.typed import List

        _, dspace = parse_space(space)
        centroids = self.centroids if centroids is None else centroids
        if dspace not in centroids:
            raise DualvecError(f"the index has no {dspace.upper()} centroids")
        typed = List()
        for arr in centroids[dspace]:
            typed.append(arr)
        return typed

    def mixed_models(self, space: str = "in-out") -> dict[str, tuple[DualVectors, Mapping[str, Sequence[np.ndarray]]]]:
        """The models whose DESM the mixture averages, by name (``""`` the index's own first):
        the own model alone, or (``desm_models="all"``) with every extra model that has the
        document space's centroids; ``"tuned"``: the in-domain model where it is tuned for ranking,
        else the own one where it is, else all), by the rule :class:`~dualvec.ranking.Ranker` mixes
        them by (:func:`~dualvec.ranking.ranker.desm_models_used`)."""
        _, dspace = parse_space(space)
        models = {"": (self.model, self.centroids),
                  **{n: (m.model, m.centroids) for n, m in self.extra_models.items() if dspace in m.centroids}}
        return {n: models[n] for n in desm_models_used(self.desm_models, {n: m for n, (m, _) in models.items()})}

    def _query_vectors(self, model: DualVectors, terms: Iterable[Sequence[str]], space: str) -> np.ndarray:
        qspace, _ = parse_space(space)
        return space_centroids(model, *known_rows(model, terms), qspace)

    def rerank(self, queries: Mapping[str, str], run: Mapping[str, Mapping[str, float]], *,
               alpha: float | None = None, space: str = "in-out", normalization: str | None = None,
               batch_size: int = 4096, depth: int | None = None) -> dict[str, dict[str, float]]:
        """Re-order a first-stage run by α·norm(DESM) + (1 − α)·norm(first stage); ``alpha`` and
        ``normalization`` default to the index's (what ``dualvec index`` chose)."""
        from .kernels import rerank_batch

        alpha = self.alpha if alpha is None else alpha
        normalization = self.normalization if normalization is None else normalization

        if not 0.0 <= alpha <= 1.0:
            raise DualvecError(f"alpha must be in [0, 1], not {alpha}")
        how = {"minmax": 0, "zscore": 1}.get(normalization)
        if how is None:
            raise DualvecError(f"unknown normalization {normalization!r}; use minmax or zscore")
        missing_q = [q for q in run if q not in queries]
        if missing_q:
            raise DualvecError(f"the run has {len(missing_q)} query id(s) with no query text, "
                               f"e.g. {', '.join(map(repr, missing_q[:5]))}")
        from .kernels import desm_batch, mean_of_normalised, mix_and_sort

        row_of = self.row_of
        models = self.mixed_models(space)
        shards = {name: self._shards(space, cents) for name, (_, cents) in models.items()}
        out: dict[str, dict[str, float]] = {}
        for batch in _batches(run, batch_size, RERANK_CELLS):
            k = max((len(run[q]) for q in batch), default=0)
            rows = np.zeros((len(batch), k), np.int64)
            first = np.zeros((len(batch), k), np.float64)
            counts = np.zeros(len(batch), np.int64)
            docs = []
            for i, q in enumerate(batch):
                cands = run[q]  # in the run's order: the kernel's sort keeps it among ties
                docs.append(list(cands))
                n = counts[i] = len(cands)
                rows[i, :n] = np.fromiter(map(row_of.get, cands, repeat(-1)), np.int64, n)
                first[i, :n] = np.fromiter(cands.values(), np.float64, n)
                if not np.isfinite(first[i, :n]).all():
                    raise DualvecError(f"the run's scores for query {q!r} are not all finite numbers")
            if (rows[np.arange(k)[None, :] < counts[:, None]] < 0).any():
                self._raise_unknown(run)
            terms = [self.analyzer.terms(queries[q]) for q in batch]
            if len(models) == 1:  # the own model, or the one tuned for ranking
                (name, (m, _)), = models.items()
                qv = self._query_vectors(m, terms, space)
                order, mixed, _ = rerank_batch(shards[name], self.offsets, qv, rows, first, counts, alpha, how)
            else:  # each model's DESM, normalised per query and averaged, then mixed
                desms = np.stack([desm_batch(shards[name], self.offsets, self._query_vectors(m, terms, space),
                                             rows, counts) for name, (m, _) in models.items()])
                order, mixed = mix_and_sort(mean_of_normalised(desms, counts, how), first, counts, float(alpha), how)
            for i, q in enumerate(batch):
                n = counts[i] if depth is None else min(depth, counts[i])
                top = order[i, :n]
                names = docs[i]
                out[q] = dict(zip([names[j] for j in top], mixed[i, top].tolist()))
        return out

    def _raise_unknown(self, run: Mapping[str, Mapping[str, float]]) -> None:
        unknown = sorted({d for docs in run.values() for d in docs if d not in self.row_of})
        raise DualvecError(f"the run names {len(unknown)} document id(s) not in the index, "
                           f"e.g. {', '.join(map(repr, unknown[:5]))}")

    def search(self, queries: Mapping[str, str], *, k: int = 100, space: str = "in-out",
               faiss_index: Any = None, batch_size: int = 256) -> dict[str, dict[str, float]]:
        """Rank the whole collection by DESM: exactly, or through a FAISS index of the centroids."""
        qids = list(queries)
        if list(self.mixed_models(space)) != [""] and faiss_index is None:
            return self._search_mixed(queries, k, space)
        qv = self.query_vectors([queries[q] for q in qids], space)
        out: dict[str, dict[str, float]] = {}
        if faiss_index is not None:
            scores, rows = faiss_index.search(np.ascontiguousarray(qv), k)
            for i, q in enumerate(qids):
                out[q] = {self.doc_ids[r]: float(s) for r, s in zip(rows[i], scores[i]) if r >= 0}
            return out
        _, dspace = parse_space(space)
        for lo in range(0, len(qids), batch_size):
            q = qv[lo : lo + batch_size]
            best_s = np.full((len(q), 0), -np.inf, np.float32)
            best_r = np.zeros((len(q), 0), np.int64)
            for s, arr in enumerate(self.centroids[dspace]):
                scores = q @ arr.T  # one product per shard and batch
                kk = min(k, scores.shape[1])
                top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
                best_s = np.hstack([best_s, np.take_along_axis(scores, top, 1)])
                best_r = np.hstack([best_r, top + self.offsets[s]])
                keep = np.argsort(-best_s, axis=1, kind="stable")[:, :k]
                best_s, best_r = np.take_along_axis(best_s, keep, 1), np.take_along_axis(best_r, keep, 1)
            for i, qid in enumerate(qids[lo : lo + batch_size]):
                out[qid] = {self.doc_ids[r]: float(s) for r, s in zip(best_r[i], best_s[i])}
        return out

    def _search_mixed(self, queries: Mapping[str, str], k: int, space: str) -> dict[str, dict[str, float]]:
        """Full ranking by the mixture of several models' DESM: each model's scores normalised over
        the whole collection, averaged and normalised again (the ranker's ``mode="full"`` scores at
        DESM weight 1); a few
        queries at a time, so that every model's scores of every document fit in memory."""
        from ..ranking.ranker import normalize

        models = self.mixed_models(space)
        normalization = self.normalization
        _, dspace = parse_space(space)
        qids = list(queries)
        terms = [self.analyzer.terms(queries[q]) for q in qids]
        step = max(1, FULL_CELLS // max(len(self), 1))
        out: dict[str, dict[str, float]] = {}
        for lo in range(0, len(qids), step):
            part = terms[lo : lo + step]
            mixed = np.zeros((len(part), len(self)), np.float64)
            for m, cents in models.values():
                qv = self._query_vectors(m, part, space)
                scores = np.hstack([qv @ np.asarray(arr).T for arr in cents[dspace]])
                mixed += normalize(scores, normalization) / len(models)
            mixed = normalize(mixed, normalization)  # the score the ranker gives at DESM weight 1
            kk = min(k, len(self))
            for i, qid in enumerate(qids[lo : lo + step]):
                top = np.argpartition(-mixed[i], kk - 1)[:kk]
                top = top[np.lexsort((top, -mixed[i, top]))]  # best first, ties by row
                out[qid] = {self.doc_ids[r]: float(mixed[i, r]) for r in top}
        return out

    def faiss(self, kind: str = "flat", *, space: str = "in-out", nlist: int | None = None, m: int = 32,
              nprobe: int = 16) -> Any:
        """A FAISS inner-product index of the unit centroids: ``flat`` (exact), ``ivf`` or ``hnsw``."""
        try:
            import faiss
        except ImportError:
            raise DualvecError("FAISS search needs faiss-cpu: pip install faiss-cpu") from None
        _, dspace = parse_space(space)
        d = self.model.vector_size
        if kind == "flat":
            index = faiss.IndexFlatIP(d)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, m, faiss.METRIC_INNER_PRODUCT)
        elif kind == "ivf":
            nlist = nlist or max(1, int(4 * np.sqrt(len(self))))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
            sample = np.vstack(self.centroids[dspace])[:: max(1, len(self) // (64 * nlist))]
            index.train(np.ascontiguousarray(sample, dtype=np.float32))
            index.nprobe = nprobe
        else:
            raise DualvecError(f"unknown FAISS index {kind!r}; use flat, ivf or hnsw")
        for arr in self.centroids[dspace]:
            index.add(np.ascontiguousarray(arr, dtype=np.float32))
        return index
