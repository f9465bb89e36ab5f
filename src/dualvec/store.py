"""dualvec's own on-disk format: a directory, never a pickle.

::

    model/
      dualvec.json      header: format version, dims, training parameters, files
      vocab.json        the words, in row order (JSON, so any string round-trips)
      counts.npy        int64 word counts, same order
      in_vectors.npy    float32 (V, D)
      out_vectors.npy   float32 (V, D), when the model has an OUT space
      hs_*.npy          hierarchical-softmax nodes and Huffman paths, when trained with hs

Arrays are plain ``.npy`` files read with ``allow_pickle=False``, so loading a
model never runs code, and can be memory-mapped read-only so that several
processes share one copy in the page cache.

Saving is atomic: everything is written into a temporary sibling directory,
flushed, and only then renamed into place, so an interrupted save leaves the
previous model untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import DualvecError

FORMAT_NAME = "dualvec"
FORMAT_VERSION = 1
HEADER = "dualvec.json"
VOCAB = "vocab.json"


def is_model_dir(path: str | os.PathLike) -> bool:
    return (Path(path) / HEADER).is_file()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_file(path: Path, write) -> None:
    with open(path, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())


def write_file_atomic(path: str | os.PathLike, write: Callable[[Any], None]) -> Path:
    """Create file ``path`` atomically: ``write(fh)`` fills a temporary sibling
    (binary mode), which is flushed and renamed over ``path`` only once complete."""
    target = Path(path)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        _write_file(tmp, write)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_dir_atomic(path: str | os.PathLike, marker: str, fill: Callable[[Path], None], kind: str) -> Path:
    """Create directory ``path`` atomically: ``fill`` writes into a temporary
    sibling, which is flushed and renamed into place only once complete.

    An existing ``path`` is replaced only if it holds ``marker`` (it is one of
    ours) or is empty; anything else is refused, never overwritten.
    """
    target = Path(path)
    if target.exists() and not (target.is_dir() and ((target / marker).is_file() or not any(target.iterdir()))):
        raise DualvecError(f"{target} exists and is not a {kind} directory; refusing to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        fill(tmp)
        _fsync_dir(tmp)
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(target, old)
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def write_json(path: Path, obj: Any) -> None:
    data = json.dumps(obj, indent=None if isinstance(obj, list) else 2, ensure_ascii=False)
    _write_file(path, lambda fh: fh.write(data.encode("utf-8", "surrogatepass")))


def write_arrays(directory: Path, arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """Save each array as ``<stem>.npy`` (no pickle); return stem -> file name."""
    for stem, arr in arrays.items():
        _write_file(directory / f"{stem}.npy", lambda fh, a=arr: np.save(fh, np.asarray(a), allow_pickle=False))
    return {stem: f"{stem}.npy" for stem in arrays}


def write_model_dir(path: str | os.PathLike, header: dict[str, Any], words: list[str],
                    arrays: dict[str, np.ndarray]) -> Path:
    """Write a model directory atomically. ``arrays`` maps file stems to arrays."""

    def fill(tmp: Path) -> None:
        files = write_arrays(tmp, arrays)
        write_json(tmp / VOCAB, words)
        write_json(tmp / HEADER, dict(header, format=FORMAT_NAME, format_version=FORMAT_VERSION, files=files))

    return write_dir_atomic(path, HEADER, fill, kind="dualvec model")


def load_json(path: Path) -> Any:
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read().decode("utf-8", "surrogatepass"))
    except FileNotFoundError:
        raise DualvecError(f"{path} is missing: not a complete dualvec model") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DualvecError(f"{path} is corrupt ({exc.__class__.__name__}: {exc})") from None
    except OSError as exc:
        raise DualvecError(f"{path}: cannot read ({exc})") from None


def load_array(path: Path, mmap: bool) -> np.ndarray:
    """``np.load`` without pickles, turning every failure into a one-line error."""
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise DualvecError(f"{path} is missing: not a complete dualvec model") from None
    except (ValueError, OSError, EOFError) as exc:
        raise DualvecError(f"{path} is corrupt or truncated ({exc})") from None
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
    header = load_json(root / HEADER)
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise DualvecError(f"{root / HEADER} is not a dualvec header")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise DualvecError(f"{root}: format version {version!r} is newer than this dualvec reads ({FORMAT_VERSION})")
    words = load_json(root / VOCAB)
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise DualvecError(f"{root / VOCAB} is corrupt: expected a list of words")
    files = header.get("files")
    if not isinstance(files, dict):
        raise DualvecError(f"{root / HEADER} lists no array files")
    arrays = {}
    for stem, name in files.items():
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
            raise DualvecError(f"{root / HEADER} names an unsafe file: {name!r}")
        arrays[stem] = load_array(root / name, mmap)
    return header, words, arrays
