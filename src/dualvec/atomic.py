"""Atomic writes: a file or directory appears at its path complete, or not at all."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import DualvecError


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
        fsync_dir(tmp)
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(target, old)
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, target)
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
