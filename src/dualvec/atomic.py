"""Atomic writes: a file appears at its path complete or not at all; a
dualvec directory (a model, an index) changes from one whole version to the
next, for writers and readers alike."""

from __future__ import annotations

import contextlib
import json
import os
import re
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


_O_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_READ = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _filled(fill: Callable[[Path], dict], gen: PinnedDir) -> dict:
    """``fill(gen.path())``, its errors naming the directory as the user named it: the path it
    writes by is ``/proc/self/fd/N``, which means nothing to a user."""
    where = gen.path()
    try:
        return fill(where)
    except DualvecError as exc:
        if str(where) == str(gen.shown):
            raise
        shown = re.sub(re.escape(str(where)) + r"(?![0-9])", lambda _: str(gen.shown), str(exc))
        raise type(exc)(shown) from None


class PinnedDir:
    """A directory opened once and reached only through its descriptor from then on (``*at``
    calls: ``os.open(name, dir_fd=)``, ``os.replace(src_dir_fd=, dst_dir_fd=)``, ...): once a save
    has checked and locked it, renaming it or swapping a symlink in for its path cannot send a
    write anywhere else. Needs the ``*at`` calls of POSIX systems."""

    def __init__(self, fd: int, shown: Path):
        self.fd, self.shown = fd, shown  # ``shown``: the path it was opened by, for messages

    @classmethod
    def open(cls, path: Path) -> PinnedDir:
        """The directory ``path`` leads to now (through symlinks: a user may save through one)."""
        try:
            return cls(os.open(path, _O_DIR), path)
        except OSError as exc:
            raise DualvecError(f"cannot open {path} ({exc.strerror or exc})") from None

    def sub(self, name: str) -> PinnedDir:
        """The real subdirectory ``name`` (never a symlink followed); OSError if there is none."""
        return PinnedDir(os.open(name, _O_DIR | _NOFOLLOW, dir_fd=self.fd), self.shown / name)

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> PinnedDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def path(self) -> Path:
        """A path to this very directory, for code that writes by path (``fill``, a nested save):
        ``/proc/self/fd/N`` where the system has it (it names the opened directory whatever
        happens to the original path); elsewhere the original path, checked to still lead here."""
        proc = Path(f"/proc/self/fd/{self.fd}")
        try:
            if os.path.samestat(os.stat(proc), os.fstat(self.fd)):
                return proc
        except OSError:
            pass
        return self.by_path()

    def by_path(self) -> Path:
        """The path it was opened by, checked to still lead here: for a writer that must write by
        path (another process's), to call before each write."""
        try:
            if os.path.samestat(os.stat(self.shown), os.fstat(self.fd)):
                return self.shown
        except OSError:
            pass
        raise DualvecError(f"{self.shown} was moved or replaced while saving; refusing to write elsewhere")

    def lstat(self, name: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except OSError:
            return None

    def names(self) -> list[str]:
        return os.listdir(self.fd)

    def read(self, name: str, limit: int) -> bytes | None:
        """A regular file's bytes (not through a symlink, at most ``limit``), or ``None``."""
        try:
            fd = os.open(name, _O_READ, dir_fd=self.fd)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
                return None
            return os.read(fd, st.st_size)
        except OSError:
            return None
        finally:
            os.close(fd)

    def write(self, name: str, data: bytes, *, append: bool = False, exclusive: bool = False) -> None:
        """Write (or append) ``data`` to the file ``name``, flushed; never through a symlink."""
        flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        flags |= os.O_EXCL if exclusive else os.O_APPEND if append else os.O_TRUNC
        fd = os.open(name, flags, 0o644, dir_fd=self.fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def unlink(self, name: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=self.fd)

    def rmtree(self, name: str) -> None:
        """Remove the real directory ``name`` and everything below it, through descriptors (a
        symlink inside is removed, never followed)."""
        try:
            sub = self.sub(name)
        except OSError:
            return
        with sub:
            for child in sub.names():
                st = sub.lstat(child)
                if st is not None and stat.S_ISDIR(st.st_mode):
                    sub.rmtree(child)
                else:
                    sub.unlink(child)
        with contextlib.suppress(OSError):
            os.rmdir(name, dir_fd=self.fd)


def _header_at(d: PinnedDir, name: str) -> dict | None:
    """The JSON object in ``d/name``, or ``None`` if it is missing, unreadable or not an object."""
    data = d.read(name, 1 << 24)
    if data is None:
        return None
    try:
        obj = json.loads(data.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


@contextlib.contextmanager
def locked(directory: Path | PinnedDir) -> Iterator[bool]:
    """An exclusive lock on ``directory`` (which must exist) for one writer at a time, released if
    the process dies; yields whether this call created the lock file (so that a writer refusing a
    directory that is not ours can remove it again and leave the directory as it found it)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: writers are not serialised
        yield False
        return
    flags = os.O_RDWR | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    name, dir_fd = (LOCK, directory.fd) if isinstance(directory, PinnedDir) else (directory / LOCK, None)
    shown = directory.shown if isinstance(directory, PinnedDir) else directory
    try:
        fd, created = os.open(name, flags | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dir_fd), True
    except FileExistsError:
        try:
            fd, created = os.open(name, flags, dir_fd=dir_fd), False
        except OSError as exc:
            raise DualvecError(f"{shown}: cannot lock it for writing ({exc.strerror or exc})") from None
    except OSError as exc:
        raise DualvecError(f"{shown}: cannot lock it for writing ({exc.strerror or exc})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield created
    finally:
        os.close(fd)


def _pending(d: PinnedDir) -> list[tuple[str, str]]:
    """The generations saves started here (``(name, token)``); malformed lines are ignored."""
    text = (d.read(PENDING, 1 << 20) or b"").decode("ascii", "replace")
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and DATA_DIR.fullmatch(parts[0]) and _TOKEN.fullmatch(parts[1]):
            out.append((parts[0], parts[1]))
    return out


def _write_pending(d: PinnedDir, entries: list[tuple[str, str]], append: bool) -> None:
    d.write(PENDING, "".join(f"{n} {t}\n" for n, t in entries).encode("ascii"), append=append)


def is_generation(d: PinnedDir, name: object, token: object) -> bool:
    """Is ``d/name`` a generation dualvec wrote: a real directory (not a symlink) holding the
    mark file with ``token``? A user's folder that merely has a generation-like name never is."""
    if not (isinstance(name, str) and DATA_DIR.fullmatch(name) and isinstance(token, str)
            and _TOKEN.fullmatch(token)):
        return False
    try:
        with d.sub(name) as gen:
            return gen.read(MARK, 64) == token.encode("ascii")
    except OSError:
        return False


def _foreign(d: PinnedDir, header_name: str, is_ours: Callable[[dict], bool], locked_: bool) -> bool:
    """Is the directory ``d`` one dualvec must not write into?

    Ours: a header of ours, or nothing but what savers write (the lock, the pending list and
    generations). Unlocked (a first look that must not refuse what a concurrent saver is
    creating), any generation-like name passes; under the lock, only generations proven ours.
    """
    header = _header_at(d, header_name)
    if header is not None and is_ours(header):
        return False
    if d.lstat(header_name) is not None:
        return True  # a header, but not one of ours (or not readable)
    proven = ({n for n, t in _pending(d) if is_generation(d, n, t) or _empty_dir(d, n)}
              if locked_ else set())
    for name in d.names():
        if name in (LOCK, PENDING):
            continue
        if locked_ and name in proven:
            continue
        if not locked_ and DATA_DIR.fullmatch(name):
            continue
        return True
    return False


def check_writable(path: str | os.PathLike, header_name: str, *, kind: str, is_ours: Callable[[dict], bool]) -> None:
    """Refuse a path that :func:`write_versioned_dir` would plainly refuse (a file, a directory
    that is not ours), touching nothing: for commands to call before long work. The save checks
    again, under the lock."""
    target = Path(path)
    refusal = DualvecError(f"{target} exists and is not a {kind} directory; refusing to overwrite it")
    if target.is_symlink() and not target.exists() or target.exists() and not target.is_dir():
        raise refusal
    if target.is_dir():
        with PinnedDir.open(target) as d:
            if _foreign(d, header_name, is_ours, locked_=False):
                raise refusal


def write_versioned_dir(path: str | os.PathLike, header_name: str, fill: Callable[[Path], dict[str, Any]],
                        *, kind: str, is_ours: Callable[[dict], bool],
                        legacy_files: Callable[[dict, Path], list[str]] = lambda h, d: []) -> Path:
    """Save a dualvec directory so that every reader sees the old version or the new one, whole.

    The data of each save goes into a fresh ``data-<16 hex>`` subdirectory
    (``fill`` writes it and returns the header), which is flushed; then the
    header, naming that subdirectory and its token, atomically replaces the old
    header. Only then is the previous generation removed, with any generation a
    killed save left behind, unless a reader holds it (:func:`hold_generation`):
    such a one stays listed for a later save to remove.

    The directory is opened once, before the lock, and every later step goes
    through that descriptor (:class:`PinnedDir`); ``fill`` is given a path to the
    new generation that names the opened directory (``/proc/self/fd/N``). So a
    rename of the directory, or a symlink swapped in for it, after it was checked
    cannot make the save write anywhere else: it completes in the directory it
    checked.

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
    with PinnedDir.open(target) as d, locked(d) as created_lock:
        if _foreign(d, header_name, is_ours, locked_=True):
            if created_lock:
                d.unlink(LOCK)
            raise DualvecError(refusal)
        old = _header_at(d, header_name)
        old = old if old is not None and is_ours(old) else None
        legacy = legacy_files(old, d.path()) if old is not None and "data_token" not in old else []
        data, token = _new_generation(d)
        retired = [(old.get("data"), old.get("data_token"))] if old is not None else []
        retired = [(n, t) for n, t in retired if is_generation(d, n, t)]
        try:
            with d.sub(data) as gen:
                header = dict(_filled(fill, gen), data=data, data_token=token)
                os.fsync(gen.fd)
                if retired:  # listed before the header moves on, so a kill after that still finds it
                    _write_pending(d, retired, append=True)
                payload = json.dumps(header, indent=2, ensure_ascii=False).encode("utf-8", "surrogatepass")
                _replace_from(gen, d, header_name, payload)
            os.fsync(d.fd)
        except BaseException:
            d.rmtree(data)
            raise
        # The new generation is in place: remove the ones proven ours that no header names any more.
        doomed = [(n, t) for n, t in _pending(d) if n != data]
        for name, tok in doomed:
            _remove_generation(d, name, tok)
        _write_pending(d, [(n, t) for n, t in doomed if d.lstat(n) is not None], append=False)
        old_data = old.get("data") if old is not None else None
        for name in legacy:  # a version-1 directory's files, or an untokened generation's
            parts = name.split("/")
            if not (len(parts) == 1 or len(parts) == 2 and parts[0] == old_data and DATA_DIR.fullmatch(parts[0])) \
                    or not safe_name(parts[-1]):
                continue
            try:
                holder = d.sub(parts[0]) if len(parts) == 2 else None
            except OSError:
                continue
            where = holder or d
            st = where.lstat(parts[-1])
            if st is not None and stat.S_ISREG(st.st_mode):
                where.unlink(parts[-1])
            if holder is not None:
                holder.close()
        if isinstance(old_data, str) and DATA_DIR.fullmatch(old_data) and legacy and _empty_dir(d, old_data):
            with contextlib.suppress(OSError):
                os.rmdir(old_data, dir_fd=d.fd)  # only if nothing but the files vouched for was in it
    return target


def _new_generation(d: PinnedDir) -> tuple[str, str]:
    """Create a generation directory (exclusively: it cannot be someone else's), mark it with a
    fresh token, and list it as pending so a killed save's leftovers can be proven ours."""
    while True:
        name, token = f"data-{uuid.uuid4().hex[:16]}", uuid.uuid4().hex
        _write_pending(d, [(name, token)], append=True)  # listed first: a kill leaves nothing unlisted
        try:
            os.mkdir(name, dir_fd=d.fd)
            break
        except FileExistsError:  # not ours (its mark can never hold our token): another name
            continue
    with d.sub(name) as gen:
        gen.write(MARK, token.encode("ascii"), exclusive=True)
    return name, token


def _empty_dir(d: PinnedDir, name: str) -> bool:
    """``d/name`` is a real directory holding nothing, or only a mark file (a save killed while marking it)."""
    try:
        with d.sub(name) as gen:
            return all(c == MARK and (st := gen.lstat(c)) is not None and stat.S_ISREG(st.st_mode)
                       for c in gen.names())
    except OSError:
        return False


def _remove_generation(d: PinnedDir, name: object, token: object) -> None:
    """Remove a generation proven ours, its mark last (a kill midway leaves it still provably
    ours, for the next save to finish), unless a reader holds it (a shared lock on its mark:
    it stays for a later save); a listed one a save was killed before marking holds nothing
    but possibly its mark, and goes with ``rmdir``."""
    if not (isinstance(name, str) and DATA_DIR.fullmatch(name)):
        return
    if is_generation(d, name, token):
        try:
            gen = d.sub(name)
        except OSError:
            return
        with gen:
            try:
                mark = os.open(MARK, _O_READ, dir_fd=gen.fd)
            except OSError:
                return
            try:
                if not _try_lock(mark, shared=False):
                    return  # a reader holds it
                for child in gen.names():
                    if child == MARK:
                        continue
                    st = gen.lstat(child)
                    if st is not None and stat.S_ISDIR(st.st_mode):
                        gen.rmtree(child)
                    else:
                        gen.unlink(child)
                gen.unlink(MARK)  # still holding the lock: a reader that opened it sees it unlinked
            finally:
                os.close(mark)
    if _empty_dir(d, name):
        with contextlib.suppress(OSError):
            with d.sub(name) as gen:
                gen.unlink(MARK)
            os.rmdir(name, dir_fd=d.fd)


def _try_lock(fd: int, shared: bool) -> bool:
    """Take a shared (readers) or exclusive (the remover) lock on ``fd`` without waiting; ``True``
    on systems without ``flock``."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _replace_from(gen: PinnedDir, d: PinnedDir, name: str, payload: bytes) -> None:
    """Atomically replace ``d/name`` with ``payload``, staged inside the generation ``gen`` (which a
    killed save's cleanup removes whole, leaving no stray file beside the header)."""
    staged = f".{name}.tmp"
    gen.write(staged, payload)
    os.replace(staged, name, src_dir_fd=gen.fd, dst_dir_fd=d.fd)


def safe_name(name: object) -> bool:
    """A plain file name inside its directory: no separators, no parent, not hidden."""
    return (isinstance(name, str) and bool(name) and "/" not in name and "\\" not in name
            and not name.startswith(".") and "\0" not in name)


class GenerationHold:
    """A reader's shared lock on a generation's mark file: while it is held no save removes that
    generation, so a long-lived reader (the explorer, a search that reads document texts after
    loading) keeps reading the version it opened. Released by :meth:`close`, when garbage
    collected, or when the process ends."""

    def __init__(self, fd: int):
        self._fd: int | None = fd
        self._os_close = os.close  # kept: at interpreter exit the module's globals may be gone first

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                self._os_close(fd)

    def __del__(self) -> None:
        self.close()


def hold_generation(root: Path, header: dict, what: str = "dualvec directory") -> GenerationHold | None:
    """Hold the generation ``header`` names (see :class:`GenerationHold`); a :class:`MissingFile` if
    a save removed it (or is removing it) since the header was read, so the reader retries with
    the new header. ``None`` for a directory with nothing to hold: version 1, a generation from
    before marks, a mark that does not hold the header's token."""
    data, token = header.get("data"), header.get("data_token")
    if not (isinstance(data, str) and DATA_DIR.fullmatch(data) and isinstance(token, str)
            and _TOKEN.fullmatch(token)):
        return None
    mark = root / data / MARK
    gone = MissingFile(f"{root / data} is missing: not a complete {what}")
    try:
        fd = os.open(mark, _O_READ)
    except FileNotFoundError:
        if not os.path.lexists(root / data):
            raise gone from None
        return None
    except OSError:
        return None
    try:
        if not _try_lock(fd, shared=True):
            raise gone  # a save is removing it
        st = os.fstat(fd)
        try:
            now = os.stat(mark, follow_symlinks=False)
        except FileNotFoundError:
            raise gone from None
        if st.st_nlink == 0 or not os.path.samestat(st, now):
            raise gone  # removed between opening and locking
        if not stat.S_ISREG(st.st_mode) or os.pread(fd, 64, 0) != token.encode("ascii"):
            os.close(fd)
            return None
        return GenerationHold(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise


def read_versioned_dir(root: Path, header_name: str, read: Callable[[dict, Path], T], *, kind: str,
                       attempts: int = 5) -> T:
    """``read(header, data_dir)`` of the directory's current generation.

    If a file vanishes while reading (a concurrent save replaced the
    generation), the header is read again and the read retried.
    """
    return read_held_dir(root, header_name, read, kind=kind, attempts=attempts, hold=False)[0]


def read_held_dir(root: Path, header_name: str, read: Callable[[dict, Path], T], *, kind: str,
                  attempts: int = 10, hold: bool = True) -> tuple[T, GenerationHold | None]:
    """:func:`read_versioned_dir`, holding the generation read (:func:`hold_generation`) before
    anything in it is read: returns what ``read`` returned and the hold, which the caller keeps
    as long as it may read more of the generation (files opened later, by path)."""
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
        held = None
        try:
            if base is not root:
                inside_dir(base, root, kind)
                held = hold_generation(root, header, kind) if hold else None
            return read(header, base), held
        except MissingFile:
            if held is not None:
                held.close()
            if attempt == attempts - 1 or read_header(root / header_name, root) == header:
                raise
        except BaseException:
            if held is not None:
                held.close()
            raise
    raise AssertionError("unreachable")
