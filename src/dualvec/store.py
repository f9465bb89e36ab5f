"""dualvec's own on-disk format: a directory, never a pickle.

::

    model/
      dualvec.json          header: format version, dims, training parameters, the data directory, files
      data-<16 hex>/        one saved version of the model:
        vocab.json          the words, in row order (JSON, so any string round-trips)
        counts.npy          int64 word counts, same order
        in_vectors.npy      float32 (V, D)
        out_vectors.npy     float32 (V, D), when the model has an OUT space
        hs_*.npy            hierarchical-softmax nodes and Huffman paths, when trained with hs

Arrays are plain ``.npy`` files read with ``allow_pickle=False`` after their
declared size is checked against the file, so loading a model never runs code
or allocates what the file does not hold; they can be memory-mapped read-only
so that several processes share one copy in the page cache.

Saving writes a new data directory and then atomically replaces the header
(:func:`dualvec.atomic.write_versioned_dir`): a reader sees the old model or
the new one, whole; a killed save leaves the old model loadable; other files
in the directory are left alone. Version-1 directories (files beside the
header) are still read.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .atomic import (
    READ_LIMIT,
    check_writable,
    open_inside,
    read_header,
    read_inside,
    read_versioned_dir,
    safe_name,
    write_file,
    write_versioned_dir,
)
from .text.tokenize import NORMAL_FORMS, RegexTokenizer, Tokenizer, check_pattern
from .errors import DualvecError
from .training import EpochStats, TrainingParams
from .text.vocab import HuffmanTree

FORMAT_NAME = "dualvec"
FORMAT_VERSION = 2  # 2: the data in a data-<hex> subdirectory the header names
HEADER = "dualvec.json"
VOCAB = "vocab.json"


def is_model_dir(path: str | os.PathLike) -> bool:
    """Does ``path`` hold a dualvec model (a directory with a valid header)?"""
    header = read_header(Path(path) / HEADER)
    return header is not None and _is_model_header(header)


def _is_model_header(header: dict) -> bool:
    return header.get("format") == FORMAT_NAME


def check_model_target(path: str | os.PathLike) -> None:
    """Refuse, before any work, a path a model save would refuse (it touches nothing)."""
    check_writable(path, HEADER, kind="dualvec model", is_ours=_is_model_header)


def write_json(path: Path, obj: Any) -> None:
    data = json.dumps(obj, indent=None if isinstance(obj, list) else 2, ensure_ascii=False)
    write_file(path, lambda fh: fh.write(data.encode("utf-8", "surrogatepass")))


def write_arrays(directory: Path, arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """Save each array as ``<stem>.npy`` (no pickle); return stem -> file name."""
    for stem, arr in arrays.items():
        write_file(directory / f"{stem}.npy", lambda fh, a=arr: np.save(fh, np.asarray(a), allow_pickle=False))
    return {stem: f"{stem}.npy" for stem in arrays}


def write_model_dir(path: str | os.PathLike, header: dict[str, Any], words: list[str],
                    arrays: dict[str, np.ndarray]) -> Path:
    """Write a model directory (see :func:`dualvec.atomic.write_versioned_dir`). ``arrays`` maps file stems to arrays."""

    def fill(tmp: Path) -> dict[str, Any]:
        files = write_arrays(tmp, arrays)
        write_json(tmp / VOCAB, words)
        return dict(header, format=FORMAT_NAME, format_version=FORMAT_VERSION, files=files)

    def legacy_files(old: dict, target: Path) -> list[str]:
        """The files of a version-1 model, or of a generation saved before generations were
        marked, only if the header names just the files dualvec wrote and they load as the model
        it describes (for a generation: with the fingerprint it records). A forged header naming
        a user's file (``{"files": {"x": "NOTES.md"}}``) vouches for nothing."""
        files = old.get("files")
        if not (isinstance(files, dict) and files and all(
                stem in _V1_STEMS and name == f"{stem}.npy" for stem, name in files.items())):
            return []
        data = old.get("data")
        try:
            parts = read_model(target)
            if data is not None and (parts.fingerprint is None or parts_fingerprint(parts) != parts.fingerprint):
                return []
        except DualvecError:
            return []
        names = [VOCAB, *files.values()]
        return names if data is None else [f"{data}/{n}" for n in names]

    return write_versioned_dir(path, HEADER, fill, kind="dualvec model", is_ours=_is_model_header,
                               legacy_files=legacy_files)


#: The array files a version-1 model directory held (beside vocab.json).
_V1_STEMS = ("counts", "in_vectors", "out_vectors", "hs_nodes", "hs_codes", "hs_points", "hs_offsets")


def load_json(path: Path, max_bytes: int = READ_LIMIT, root: Path | None = None) -> Any:
    """A JSON file of a model or index directory, read through :func:`dualvec.atomic.open_inside`
    (a regular file inside ``root``, at most ``max_bytes``)."""
    data = read_inside(path, root, limit=max_bytes)
    try:
        return json.loads(data.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DualvecError(f"{path} is corrupt ({exc.__class__.__name__}: {exc})") from None
    except RecursionError:
        raise DualvecError(f"{path} is corrupt (nested too deeply)") from None
    except OSError as exc:
        raise DualvecError(f"{path}: cannot read ({exc})") from None


def array_header(fh: BinaryIO, path: Path) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """The shape, Fortran order, dtype and data offset an open ``.npy`` file declares, checked
    against the bytes it holds (so nothing is allocated that the file does not hold)."""
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unknown .npy version {version}")
        start = fh.tell()
        if dtype.hasobject or dtype.fields is not None or dtype.kind not in "biufc":
            raise ValueError(f"dtype {dtype} is not a plain numeric type")
        need = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
        have = os.fstat(fh.fileno()).st_size - start
        if need != have:
            raise ValueError(f"the header declares shape {shape} of {dtype} ({need:,} bytes) "
                             f"but the file holds {have:,}")
    except Exception as exc:  # noqa: BLE001 (numpy's header parser raises ValueError, SyntaxError, TokenError, ...)
        raise DualvecError(f"{path} is corrupt or truncated ({type(exc).__name__}: {exc})") from None
    return shape, fortran, dtype, start


def load_array(path: Path, mmap: bool, root: Path | None = None) -> np.ndarray:
    """An ``.npy`` file of a model or index directory, without pickles; every failure is a one-line error.

    The file is opened through :func:`dualvec.atomic.open_inside` (a regular file inside
    ``root``), and its header's shape and dtype are checked against the bytes it holds before
    anything is allocated; the array is read (or mapped) from that same open file.
    """
    with open_inside(path, root, limit=None) as fh:
        shape, fortran, dtype, start = array_header(fh, path)
        order = "F" if fortran else "C"
        try:
            if int(np.prod(shape, dtype=np.float64)) == 0:
                arr = np.zeros(shape, dtype=dtype, order=order)
            elif mmap:
                arr = np.memmap(fh, dtype=dtype, mode="r", offset=start, shape=shape, order=order)
            else:
                flat = np.empty(int(np.prod(shape)), dtype=dtype)
                fh.seek(start)
                if fh.readinto(memoryview(flat).cast("B")) != flat.nbytes:
                    raise ValueError("the file ended early")
                arr = flat.reshape(shape, order=order)
        except DualvecError:
            raise
        except Exception as exc:  # noqa: BLE001 (numpy's memmap and reshape raise several kinds)
            raise DualvecError(f"{path} is corrupt or truncated ({type(exc).__name__}: {exc})") from None
    if not isinstance(arr, np.ndarray):
        raise DualvecError(f"{path} does not hold a single array")
    return arr


def read_model_dir(path: str | os.PathLike, mmap: bool = True) -> tuple[dict, list[str], dict[str, np.ndarray]]:
    """Read and check a model directory: (header, words, arrays)."""
    root = Path(path)
    if not root.exists():
        raise DualvecError(f"model not found: {root}")
    if not root.is_dir():
        raise DualvecError(f"{root} is a file, not a dualvec model directory (use the import for other formats)")

    def read(header: dict, base: Path) -> tuple[dict, list[str], dict[str, np.ndarray]]:
        if not _is_model_header(header):
            raise DualvecError(f"{root / HEADER} is not a dualvec header")
        version = header.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise DualvecError(f"{root}: format version {version!r} is newer than this dualvec reads "
                               f"({FORMAT_VERSION})")
        words = load_json(base / VOCAB)
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise DualvecError(f"{base / VOCAB} is corrupt: expected a list of words")
        files = header.get("files")
        if not isinstance(files, dict):
            raise DualvecError(f"{root / HEADER} lists no array files")
        arrays = {}
        for stem, name in files.items():
            if not safe_name(name):
                raise DualvecError(f"{root / HEADER} names an unsafe file: {name!r}")
            arrays[stem] = load_array(base / name, mmap)
        return header, words, arrays

    return read_versioned_dir(root, HEADER, read, kind="dualvec model")


# -- a whole model --------------------------------------------------------------------


@dataclass
class ModelParts:
    """Everything a model directory holds, checked against each other: what
    :class:`~dualvec.model.DualVectors` is built from and saved as."""

    words: list[str]
    counts: np.ndarray  # int64 (V,)
    in_vectors: np.ndarray  # float32 (V, D)
    out_vectors: np.ndarray | None = None  # float32 (V, D)
    out_kind: str | None = None
    hs_nodes: np.ndarray | None = None  # float32 (V-1, D)
    tree: HuffmanTree | None = None
    params: TrainingParams | None = None
    tokenizer: Tokenizer | None = None
    counts_known: bool = True
    history: list[EpochStats] = field(default_factory=list)
    unit: bool = False  # the vectors are unit rows only (raw ones discarded)
    created_by: str = "dualvec"
    fingerprint: str | None = None  # of the saved content; set by write_model, read by read_model
    params_recorded: list[str] | None = None  # which params an imported model's source recorded
    tuning: dict[str, Any] | None = None  # how the model was tuned for ranking (training/contrastive.py)


def fingerprint(words: list[str], arrays: dict[str, np.ndarray]) -> str:
    """A digest of a model's words and arrays: what an index checks its model against."""
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps(words, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    for stem in sorted(arrays):
        arr = np.ascontiguousarray(arrays[stem])
        h.update(f"{stem}:{arr.dtype.str}:{arr.shape}".encode())
        h.update(memoryview(arr).cast("B"))
    return h.hexdigest()


def _arrays(parts: ModelParts) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {"counts": parts.counts, "in_vectors": parts.in_vectors}
    if parts.out_vectors is not None:
        arrays["out_vectors"] = parts.out_vectors
    if parts.hs_nodes is not None and parts.tree is not None:
        arrays.update(hs_nodes=parts.hs_nodes, hs_codes=parts.tree.codes, hs_points=parts.tree.points,
                      hs_offsets=parts.tree.offsets)
    return arrays


def file_digest(path: Path, root: Path | None = None) -> str:
    """A digest (blake2b, 128 bits) of a file's bytes, read through :func:`dualvec.atomic.open_inside`:
    what an index records of each of its arrays at save and checks at load."""
    h = hashlib.blake2b(digest_size=16)
    with open_inside(path, root, limit=None) as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def parts_fingerprint(parts: ModelParts) -> str:
    """The fingerprint :func:`write_model` would record for ``parts``."""
    return fingerprint(parts.words, _arrays(parts))


def write_model(path: str | os.PathLike, parts: ModelParts) -> Path:
    """Save ``parts`` as a model directory (atomic; no pickle)."""
    arrays = _arrays(parts)
    tok = parts.tokenizer
    header = {
        "created_by": parts.created_by,
        "vocab_size": len(parts.words),
        "vector_size": int(parts.in_vectors.shape[1]),
        "out_space": parts.out_kind,
        "unit_normalised_only": parts.unit,
        "counts_known": parts.counts_known,
        "tokenizer": tok.to_dict() if isinstance(tok, RegexTokenizer) else None,
        "params": parts.params.to_dict() if parts.params else None,
        "history": [asdict(s) for s in parts.history],
        "fingerprint": fingerprint(parts.words, arrays),
        "params_recorded": parts.params_recorded,
    }
    if parts.tuning is not None:  # an older dualvec ignores the key
        header["tuning"] = parts.tuning
    return write_model_dir(path, header, parts.words, arrays)


def check_huffman(codes: np.ndarray, points: np.ndarray, offsets: np.ndarray, n_words: int, where: Any) -> None:
    """Every index the training kernels follow must stay inside its array: a corrupt tree is refused here."""
    ok = (len(offsets) == n_words + 1 and offsets[0] == 0 and not np.any(np.diff(offsets) < 0)
          and offsets[-1] == len(codes) == len(points)
          and (len(codes) == 0 or (codes.max() <= 1 and points.min() >= 0 and points.max() < max(n_words - 1, 1))))
    if not ok:
        raise DualvecError(f"{where}: the hierarchical-softmax (Huffman) tree is corrupt")


def _params(spec: Any, root: Path) -> TrainingParams | None:
    if spec is None:
        return None
    try:
        if not isinstance(spec, dict):
            raise TypeError("not an object")
        params = TrainingParams.from_dict(spec)
        defaults = TrainingParams()
        for name, value in vars(params).items():  # JSON keeps types; a wrong one is corruption
            default = getattr(defaults, name)
            if isinstance(default, str):
                ok = isinstance(value, str)
            else:  # numbers and flags (a flag may have been saved as 0/1); optional sizes may be null
                ok = isinstance(value, (int, float)) or (default is None and value is None)
            if not ok:
                raise TypeError(f"{name} is {value!r}")
        return params.validate()
    except (TypeError, ValueError, DualvecError) as exc:
        raise DualvecError(f"{root / HEADER}: corrupt training parameters ({exc})") from None


def _names(spec: Any, root: Path) -> list[str] | None:
    if spec is None:
        return None
    if not (isinstance(spec, list) and all(isinstance(x, str) for x in spec)):
        raise DualvecError(f"{root / HEADER}: 'params_recorded' must be a list of names")
    return spec


def _tuning(spec: Any, root: Path) -> dict[str, Any] | None:
    """The record of a model's tuning for ranking: an object naming its pooling (the model checks which)."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get("pooling"), str):
        raise DualvecError(f"{root / HEADER}: the record of the model's tuning for ranking is corrupt")
    return spec


def _history(spec: Any, root: Path) -> list[EpochStats]:
    if spec is None:
        return []
    try:
        if not isinstance(spec, list):
            raise TypeError
        history = [EpochStats(**h) for h in spec]
        for h in history:
            if not all(isinstance(getattr(h, k), (int, float)) and not isinstance(getattr(h, k), bool)
                       for k in ("epoch", "loss", "examples", "words", "seconds")):
                raise TypeError
        return history
    except TypeError:
        raise DualvecError(f"{root / HEADER}: the training history in the header is corrupt") from None


def _expect(arr: np.ndarray | None, name: str, shape: tuple, dtype: Any, root: Path) -> None:
    if arr is None:
        return
    if arr.dtype != np.dtype(dtype) or arr.shape != shape:
        raise DualvecError(f"{root}: {name} has shape {arr.shape} and dtype {arr.dtype}, expected {shape} {np.dtype(dtype)}")


def read_model(path: str | os.PathLike, mmap: bool = True) -> ModelParts:
    """Read a model directory and check that its parts fit together.

    With ``mmap=True`` the matrices are mapped read-only, so several processes
    share one copy.
    """
    root = Path(path)
    header, words, arrays = read_model_dir(root, mmap=mmap)
    n = len(words)
    dim = header.get("vector_size")
    if header.get("vocab_size") != n or not isinstance(dim, int):
        raise DualvecError(f"{root}: header says {header.get('vocab_size')} words, vocab.json has {n}")
    if "in_vectors" not in arrays or "counts" not in arrays:
        raise DualvecError(f"{root}: the model has no IN vectors or counts")
    _expect(arrays["counts"], "counts", (n,), np.int64, root)
    _expect(arrays["in_vectors"], "in_vectors", (n, dim), np.float32, root)
    _expect(arrays.get("out_vectors"), "out_vectors", (n, dim), np.float32, root)
    tree = None
    if "hs_nodes" in arrays:
        _expect(arrays["hs_nodes"], "hs_nodes", (max(n - 1, 1), dim), np.float32, root)
        offsets = np.asarray(arrays["hs_offsets"])
        codes, points = np.asarray(arrays["hs_codes"]), np.asarray(arrays["hs_points"])
        _expect(offsets, "hs_offsets", (n + 1,), np.int64, root)
        _expect(codes, "hs_codes", (int(offsets[-1]),), np.uint8, root)
        _expect(points, "hs_points", (int(offsets[-1]),), np.int32, root)
        check_huffman(codes, points, offsets, n, root)
        tree = HuffmanTree(codes=codes, points=points, offsets=offsets)
    params = _params(header.get("params"), root)
    tok_spec = header.get("tokenizer")
    tok = None
    if tok_spec is not None:
        if not (isinstance(tok_spec, dict) and isinstance(tok_spec.get("lowercase"), bool)):
            raise DualvecError(f"{root / HEADER}: 'tokenizer' must be {{\"pattern\": ..., \"lowercase\": true/false}}")
        # no 'marks'/'normalize': saved before they were recorded, so it tokenises as then (\w+ without marks)
        marks, normalize = tok_spec.get("marks", False), tok_spec.get("normalize")
        if not isinstance(marks, bool) or not (normalize is None or normalize in NORMAL_FORMS):
            raise DualvecError(f"{root / HEADER}: the tokenizer's 'marks' must be true or false and its 'normalize' "
                               f"one of {', '.join(NORMAL_FORMS)} or null")
        try:  # only a one-class pattern from a file; any other is checked, then left out with a warning
            tok = RegexTokenizer.from_file(tok_spec.get("pattern"), tok_spec["lowercase"], marks, normalize)
        except DualvecError as exc:
            try:  # refused outright: not a pattern, or one that can backtrack exponentially
                check_pattern(tok_spec.get("pattern"))
            except DualvecError as bad:
                raise DualvecError(f"{root / HEADER}: {bad}") from None
            import warnings

            warnings.warn(f"{root / HEADER}: {exc}; the default tokeniser is used instead", stacklevel=2)
    history = _history(header.get("history"), root)
    return ModelParts(words, arrays["counts"], arrays["in_vectors"], arrays.get("out_vectors"),
                      out_kind=header.get("out_space"), hs_nodes=arrays.get("hs_nodes"), tree=tree, params=params,
                      tokenizer=tok, counts_known=bool(header.get("counts_known", True)), history=history,
                      unit=bool(header.get("unit_normalised_only", False)),
                      created_by=str(header.get("created_by", "dualvec")),
                      fingerprint=header.get("fingerprint") if isinstance(header.get("fingerprint"), str) else None,
                      params_recorded=_names(header.get("params_recorded"), root),
                      tuning=_tuning(header.get("tuning"), root))
