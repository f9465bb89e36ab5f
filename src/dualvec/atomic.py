"""Atomic writes: a file appears at its path complete or not at all; a
dualvec directory (a model, an index) changes from one whole version to the
next, for writers and readers alike."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

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
#: Generations a save has started and not yet seen named by a header: ``name token`` per line.
PENDING = ".dualvec.pending"
#: Inside each generation dualvec writes: the token its header (or the pending list) records.
MARK = ".dualvec-generation"
_TOKEN = re.compile(r"[0-9a-f]{32}")
#: The most a file dualvec reads may hold when nothing declares its size (JSON headers and lists).
READ_LIMIT = 1 << 31


class MissingFile(DualvecError):
    """A file a header names is gone: a concurrent save may have replaced it (the reader retries)."""


def open_inside(path: str | os.PathLike, root: str | os.PathLike | None = None, *, size: int | None = None,
                limit: int | None = READ_LIMIT, what: str = "dualvec directory") -> BinaryIO:
    """Open a file of a model or index directory for reading: the one way dualvec does.

    The file must be a regular file (a FIFO would block, a device never end), reached through
    symlinks that stay inside ``root`` (default: the file's own directory); it must hold exactly
    ``size`` bytes when something declares its size, and at most ``limit`` bytes otherwise. The
    checks are made on the opened descriptor, so what is checked is what is read.
    """
    p = Path(path)
    base = Path(root) if root is not None else p.parent
    try:
        real = p.resolve(strict=True)
        inside = base.resolve(strict=True)
    except FileNotFoundError:
        raise MissingFile(f"{p} is missing: not a complete {what}") from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise DualvecError(f"{p}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    if real != inside and inside not in real.parents:
        raise DualvecError(f"{p} points outside {base} (to {real}); refusing to read it")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(real, flags)
    except FileNotFoundError:
        raise MissingFile(f"{p} is missing: not a complete {what}") from None
    except OSError as exc:
        raise DualvecError(f"{p}: cannot read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DualvecError(f"{p} is not a regular file")
        if size is not None and st.st_size != size:
            raise DualvecError(f"{p} holds {st.st_size:,} bytes, not the {size:,} its index declares")
        if limit is not None and st.st_size > limit:
            raise DualvecError(f"{p} holds {st.st_size:,} bytes, more than the {limit:,} dualvec reads from such a file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def inside_dir(path: str | os.PathLike, root: str | os.PathLike, what: str = "dualvec directory") -> Path:
    """``path``, a directory that (symlinks resolved) lies inside ``root``; a missing one is a
    :class:`MissingFile` (a concurrent save may have removed it)."""
    p = Path(path)
    try:
        real, inside = p.resolve(strict=True), Path(root).resolve(strict=True)
    except FileNotFoundError:
        raise MissingFile(f"{p} is missing: not a complete {what}") from None
    except (OSError, RuntimeError) as exc:
        raise DualvecError(f"{p}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    if real != inside and inside not in real.parents:
        raise DualvecError(f"{p} points outside {root} (to {real}); refusing to read it")
    if not real.is_dir():
        if not os.path.lexists(real):  # removed a moment ago by a concurrent save
            raise MissingFile(f"{p} is missing: not a complete {what}")
        raise DualvecError(f"{p} is not a directory: not a complete {what}")
    return p


def read_inside(path: str | os.PathLike, root: str | os.PathLike | None = None, *, size: int | None = None,
                limit: int | None = READ_LIMIT, what: str = "dualvec directory") -> bytes:
    """The whole of a file, opened by :func:`open_inside`."""
    with open_inside(path, root, size=size, limit=limit, what=what) as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise DualvecError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_header(path: Path, root: Path | None = None) -> dict | None:
    """The JSON object in ``path``, or ``None`` if it is missing, unreadable or not an object."""
    try:
        data = read_inside(path, root, limit=1 << 24)
        obj = json.loads(data.decode("utf-8", "surrogatepass"))
    except (DualvecError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[bool]:
    """An exclusive lock on ``directory`` (which must exist) for one writer at a time, released if
    the process dies; yields whether this call created the lock file (so that a writer refusing a
    directory that is not ours can remove it again and leave the directory as it found it)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: writers are not serialised
        yield False
        return
    flags = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd, created = os.open(directory / LOCK, flags | os.O_CREAT | os.O_EXCL, 0o644), True
    except FileExistsError:
        fd, created = os.open(directory / LOCK, flags), False
    except OSError as exc:
        raise DualvecError(f"{directory}: cannot lock it for writing ({exc.strerror or exc})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield created
    finally:
        os.close(fd)


def _pending(target: Path) -> list[tuple[str, str]]:
    """The generations saves started here (``(name, token)``); malformed lines are ignored."""
    try:
        text = read_inside(target / PENDING, target, limit=1 << 20).decode("ascii", "replace")
    except DualvecError:
        return []
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and DATA_DIR.fullmatch(parts[0]) and _TOKEN.fullmatch(parts[1]):
            out.append((parts[0], parts[1]))
    return out


def _write_pending(target: Path, entries: list[tuple[str, str]], append: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(target / PENDING, flags | (os.O_APPEND if append else os.O_TRUNC), 0o644)
    try:
        os.write(fd, "".join(f"{n} {t}\n" for n, t in entries).encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def is_generation(target: Path, name: object, token: object) -> bool:
    """Is ``target/name`` a generation dualvec wrote: a real directory (not a symlink) holding the
    mark file with ``token``? A user's folder that merely has a generation-like name never is."""
    if not (isinstance(name, str) and DATA_DIR.fullmatch(name) and isinstance(token, str)
            and _TOKEN.fullmatch(token)):
        return False
    gen = target / name
    try:
        if not stat.S_ISDIR(os.lstat(gen).st_mode):
            return False
        return read_inside(gen / MARK, gen, limit=64) == token.encode("ascii")
    except (OSError, DualvecError):
        return False


def _foreign(target: Path, header_name: str, is_ours: Callable[[dict], bool], locked_: bool) -> bool:
    """Is ``target`` a directory dualvec must not write into?

    Ours: a header of ours, or nothing but what savers write (the lock, the pending list and
    generations). Unlocked (a first look that must not refuse what a concurrent saver is
    creating), any generation-like name passes; under the lock, only generations proven ours.
    """
    header = read_header(target / header_name, target)
    if header is not None and is_ours(header):
        return False
    if (target / header_name).exists() or (target / header_name).is_symlink():
        return True  # a header, but not one of ours (or not readable)
    proven = ({n for n, t in _pending(target) if is_generation(target, n, t) or _empty_dir(target / n)}
              if locked_ else set())
    for p in target.iterdir():
        if p.name in (LOCK, PENDING):
            continue
        if locked_ and p.name in proven:
            continue
        if not locked_ and DATA_DIR.fullmatch(p.name):
            continue
        return True
    return False


def check_writable(path: str | os.PathLike, header_name: str, *, kind: str, is_ours: Callable[[dict], bool]) -> None:
    """Refuse a path that :func:`write_versioned_dir` would plainly refuse (a file, a directory
    that is not ours), touching nothing: for commands to call before long work. The save checks
    again, under the lock."""
    target = Path(path)
    if (target.is_symlink() and not target.exists() or target.exists() and not target.is_dir()
            or target.is_dir() and _foreign(target, header_name, is_ours, locked_=False)):
        raise DualvecError(f"{target} exists and is not a {kind} directory; refusing to overwrite it")


def write_versioned_dir(path: str | os.PathLike, header_name: str, fill: Callable[[Path], dict[str, Any]],
                        *, kind: str, is_ours: Callable[[dict], bool],
                        legacy_files: Callable[[dict, Path], list[str]] = lambda h, d: []) -> Path:
    """Save a dualvec directory so that every reader sees the old version or the new one, whole.

    The data of each save goes into a fresh ``data-<16 hex>`` subdirectory
    (``fill`` writes it and returns the header), which is flushed; then the
    header, naming that subdirectory and its token, atomically replaces the old
    header. Only then is the previous generation removed, with any generation a
    killed save left behind.

    dualvec deletes only what it can prove it wrote: the generation the old
    header names, and generations listed as started in the pending list, each
    only if it holds the mark file with the token recorded for it (a save
    creates the directory itself, exclusively, then marks it, then lists it).
    A user's folder that merely looks like a generation is never removed. The
    files of a version-1 directory, or of a generation written before tokens,
    are removed only if ``legacy_files`` (called under the lock, before anything
    changes) vouches for them, and such a generation's directory only once
    that leaves it empty.

    Savers take turns on a lock file, taken before the directory is examined;
    a directory whose header is not one of ours is refused unless it holds
    nothing but what savers write. A kill at any point leaves a loadable
    directory.
    """
    target = Path(path)
    refusal = f"{target} exists and is not a {kind} directory; refusing to overwrite it"
    check_writable(target, header_name, kind=kind, is_ours=is_ours)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DualvecError(f"cannot create {target} ({exc.strerror or exc})") from None
    with locked(target) as created_lock:
        if _foreign(target, header_name, is_ours, locked_=True):
            if created_lock:
                (target / LOCK).unlink(missing_ok=True)
            raise DualvecError(refusal)
        old = read_header(target / header_name, target)
        old = old if old is not None and is_ours(old) else None
        legacy = legacy_files(old, target) if old is not None and "data_token" not in old else []
        data, token = _new_generation(target)
        tmp = target / data
        retired = [(old.get("data"), old.get("data_token"))] if old is not None else []
        retired = [(n, t) for n, t in retired if is_generation(target, n, t)]
        try:
            header = dict(fill(tmp), data=data, data_token=token)
            fsync_dir(tmp)
            if retired:  # listed before the header moves on, so a kill after that still finds it
                _write_pending(target, retired, append=True)
            payload = json.dumps(header, indent=2, ensure_ascii=False).encode("utf-8", "surrogatepass")
            _replace_from(tmp, target / header_name, payload)
            fsync_dir(target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        # The new generation is in place: remove the ones proven ours that no header names any more.
        doomed = [(n, t) for n, t in _pending(target) if n != data]
        for name, tok in doomed:
            _remove_generation(target, name, tok)
        _write_pending(target, [(n, t) for n, t in doomed if os.path.lexists(target / n)], append=False)
        old_data = old.get("data") if old is not None else None
        for name in legacy:  # a version-1 directory's files, or an untokened generation's
            parts = name.split("/")
            if not (len(parts) == 1 or len(parts) == 2 and parts[0] == old_data and DATA_DIR.fullmatch(parts[0])) \
                    or not safe_name(parts[-1]):
                continue
            p = target / name
            if p.is_file() and not p.is_symlink():
                p.unlink(missing_ok=True)
        if isinstance(old_data, str) and DATA_DIR.fullmatch(old_data) and legacy and _empty_dir(target / old_data):
            with contextlib.suppress(OSError):
                (target / old_data).rmdir()  # only if nothing but the files vouched for was in it
    return target


def _new_generation(target: Path) -> tuple[str, str]:
    """Create a generation directory (exclusively: it cannot be someone else's), mark it with a
    fresh token, and list it as pending so a killed save's leftovers can be proven ours."""
    while True:
        name, token = f"data-{uuid.uuid4().hex[:16]}", uuid.uuid4().hex
        _write_pending(target, [(name, token)], append=True)  # listed first: a kill leaves nothing unlisted
        try:
            (target / name).mkdir()
            break
        except FileExistsError:  # not ours (its mark can never hold our token): another name
            continue
    write_file(target / name / MARK, lambda fh: fh.write(token.encode("ascii")))
    return name, token


def _empty_dir(path: Path) -> bool:
    """A real directory holding nothing, or only a mark file (a save killed while marking it)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode) and all(
            c.name == MARK and stat.S_ISREG(os.lstat(c).st_mode) for c in path.iterdir())
    except OSError:
        return False


def _remove_generation(target: Path, name: object, token: object) -> None:
    """Remove a generation proven ours, its mark last (a kill midway leaves it still provably
    ours, for the next save to finish); a listed one a save was killed before marking holds
    nothing but possibly its mark, and goes with ``rmdir``."""
    if not (isinstance(name, str) and DATA_DIR.fullmatch(name)):
        return
    gen = target / name
    if is_generation(target, name, token):
        for child in gen.iterdir():
            if child.name == MARK:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    child.unlink()
    if _empty_dir(gen):
        with contextlib.suppress(OSError):
            (gen / MARK).unlink(missing_ok=True)
            gen.rmdir()


def _replace_from(tmp_dir: Path, target: Path, payload: bytes) -> None:
    """Atomically replace ``target`` with ``payload``, staged inside ``tmp_dir`` (a generation,
    which a killed save's cleanup removes whole, leaving no stray file beside the header)."""
    staged = tmp_dir / f".{target.name}.tmp"
    write_file(staged, lambda fh: fh.write(payload))
    os.replace(staged, target)


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
        header = read_header(root / header_name, root)
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
            if base is not root:
                inside_dir(base, root, kind)
            return read(header, base)
        except MissingFile:
            if attempt == attempts - 1 or read_header(root / header_name, root) == header:
                raise
    raise AssertionError("unreachable")
