"""Atomic writes: a file appears at its path complete or not at all; a
dualvec directory (a model, an index) changes from one whole version to the
next, for writers and readers alike."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .errors import DualvecError

T = TypeVar("T")


def fsync_dir(path: Path) -> None:
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


def write_file(path: Path, write) -> None:
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
        write_file(tmp, write)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


#: The name of a generation's data directory inside a dualvec directory.
DATA_DIR = re.compile(r"data-[0-9a-f]{16}")
LOCK = ".dualvec.lock"


class MissingFile(DualvecError):
    """A file a header names is gone: a concurrent save may have replaced it (the reader retries)."""


def read_header(path: Path) -> dict | None:
    """The JSON object in ``path``, or ``None`` if it is missing, unreadable or not an object."""
    try:
        if not path.is_file():
            return None
        with open(path, "rb") as fh:
            obj = json.loads(fh.read(1 << 24).decode("utf-8", "surrogatepass"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` for one saver at a time (released if the process dies)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: savers are not serialised
        yield
        return
    fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_versioned_dir(path: str | os.PathLike, header_name: str, fill: Callable[[Path], dict[str, Any]],
                        *, kind: str, is_ours: Callable[[dict], bool],
                        legacy_files: Callable[[dict], list[str]] = lambda h: []) -> Path:
    """Save a dualvec directory so that every reader sees the old version or the new one, whole.

    The data of each save goes into a fresh ``data-<16 hex>`` subdirectory
    (``fill`` writes it and returns the header), which is flushed; then the
    header, naming that subdirectory, atomically replaces the old header. Only
    then is the previous generation removed, with any generation a killed save
    left behind. A kill at any point leaves a loadable directory. Savers take
    turns on a lock file. Files dualvec did not write (a user's notes beside
    the model) are never touched; a directory whose header is not one of ours
    is refused unless it is empty.
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise DualvecError(f"{target} exists and is not a {kind} directory; refusing to overwrite it")
    if target.is_dir():
        header = read_header(target / header_name)
        if not (header is not None and is_ours(header)) and any(p.name != LOCK for p in target.iterdir()):
            raise DualvecError(f"{target} exists and is not a {kind} directory; refusing to overwrite it")
    target.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        old = read_header(target / header_name)
        old = old if old is not None and is_ours(old) else None
        data = f"data-{uuid.uuid4().hex[:16]}"
        tmp = target / data
        tmp.mkdir()
        try:
            header = dict(fill(tmp), data=data)
            fsync_dir(tmp)
            payload = json.dumps(header, indent=2, ensure_ascii=False).encode("utf-8", "surrogatepass")
            write_file_atomic(target / header_name, lambda fh: fh.write(payload))
            fsync_dir(target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        # The new generation is in place: remove the ones no header names any more.
        for p in target.iterdir():
            if p.is_dir() and not p.is_symlink() and DATA_DIR.fullmatch(p.name) and p.name != data:
                shutil.rmtree(p, ignore_errors=True)
            elif p.name.startswith(f".{header_name}.tmp-"):
                p.unlink(missing_ok=True)
        if old is not None and "data" not in old:  # a version-1 directory kept its files at the top
            for name in legacy_files(old):
                if safe_name(name):
                    (target / name).unlink(missing_ok=True)
    return target


def safe_name(name: object) -> bool:
    """A plain file name inside its directory: no separators, no parent, not hidden."""
    return (isinstance(name, str) and bool(name) and "/" not in name and "\\" not in name
            and not name.startswith(".") and "\0" not in name)


def read_versioned_dir(root: Path, header_name: str, read: Callable[[dict, Path], T], *, kind: str,
                       attempts: int = 5) -> T:
    """``read(header, data_dir)`` of the directory's current generation.

    If a file vanishes while reading (a concurrent save replaced the
    generation), the header is read again and the read retried.
    """
    for attempt in range(attempts):
        header = read_header(root / header_name)
        if header is None:
            raise DualvecError(f"{root / header_name} is missing or corrupt: not a {kind}")
        data = header.get("data")
        if data is None:
            base = root  # format version 1: files beside the header
        elif isinstance(data, str) and DATA_DIR.fullmatch(data):
            base = root / data
        else:
            raise DualvecError(f"{root / header_name} names an unsafe data directory: {data!r}")
        try:
            return read(header, base)
        except MissingFile:
            if attempt == attempts - 1 or read_header(root / header_name) == header:
                raise
    raise AssertionError("unreachable")
