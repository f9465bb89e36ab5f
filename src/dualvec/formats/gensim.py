"""gensim word2vec models of every version, read without gensim and without
running their pickles blindly.

gensim saves models as pickles (optionally gzip/bz2-compressed), with large
arrays either inline or in sidecar files ``<file>.<attribute path>.npy``
listed in each object's ``__numpys``. A pickle can name any callable, so
:class:`RestrictedUnpickler` admits only what a word2vec model holds — numpy
arrays and dtypes, a few builtins and containers — and maps every gensim class
to an inert stand-in that just keeps its attributes. Anything else is refused
with :class:`~dualvec.errors.DualvecError`: nothing in the file gets to run.

Where the parts live, by gensim version:

=============  ========================  ===========================  =======================
version        IN vectors                words / counts               OUT (syn1neg, syn1)
=============  ========================  ===========================  =======================
4.x            ``wv.vectors``            ``wv.index_to_key``,         ``syn1neg``, ``syn1``
                                         ``wv.expandos["count"]``
3.3 – 3.8      ``wv.vectors``            ``wv.index2word``,           ``trainables.syn1neg``
                                         ``wv.vocab[w].count``
0.13.4 – 3.2   ``wv.syn0``               ``wv.index2word``, ``wv.vocab``  ``syn1neg``, ``syn1``
0.12 – 0.13.3  ``syn0``                  ``index2word``, ``vocab``    ``syn1neg``, ``syn1``
=============  ========================  ===========================  =======================

Hierarchical-softmax paths come from ``wv.expandos["code"/"point"]`` (4.x) or
each ``Vocab``'s ``code`` and ``point``.
"""

from __future__ import annotations

import bz2
import codecs
import collections
import copyreg
import gzip
import io
import os
import pickle
import pickletools
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DualvecError
from ..model import OUT_IMPORTED, OUT_NEGATIVE_SAMPLING, DualVectors, hs_linearised_out
from ..store import check_huffman, load_array
from ..training import TrainingParams
from ..text.vocab import HuffmanTree, Vocabulary


class GensimObject:
    """Inert stand-in for any gensim class: keeps the pickled attributes, runs nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots)
            state = {**(state[0] or {}), **(state[1] or {})}
        if isinstance(state, dict):
            self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"<stand-in for {type(self).__module__}.{type(self).__qualname__}>"


_STANDINS: dict[tuple[str, str], type] = {}


def _standin(module: str, name: str) -> type:
    key = (module, name)
    if key not in _STANDINS:
        _STANDINS[key] = type(name, (GensimObject,), {"__module__": f"dualvec-standin:{module}"})
    return _STANDINS[key]


def _inert(*args: Any, **kwargs: Any) -> GensimObject:
    """Stand-in for callables a pickle references (hash, RNG constructors): returns an inert object."""
    return GensimObject()


# numpy arrays, dtypes and scalars are never built by numpy's own unpickling code: a crafted
# dtype state (an object field with its flags forced to 0) makes numpy read pointers from the
# file. The stand-ins below take the pickled parts, check them and build plain numeric arrays
# from the raw bytes; :func:`_materialize` swaps them for the real thing after loading.
_SAFE_KINDS = "biufcUSO"  # numbers and fixed-size strings from raw bytes; objects only from a list
MAX_PICKLED_ARRAY_BYTES = 1 << 34


class _PickledDtype:
    """A dtype as pickled: ``numpy.dtype(spec, align, copy)`` then a BUILD state."""

    def __init__(self, spec: Any = None, align: Any = False, copy: Any = True) -> None:
        if not isinstance(spec, str):
            raise DualvecError(f"refusing a pickled dtype built from {type(spec).__name__}")
        try:
            self.dtype = np.dtype(spec)
        except (TypeError, ValueError):
            raise DualvecError(f"refusing an unknown pickled dtype {spec!r}") from None
        if self.dtype.kind not in _SAFE_KINDS or self.dtype.fields is not None or self.dtype.subdtype is not None:
            raise DualvecError(f"refusing a pickled array of dtype {spec!r}: only plain numeric arrays are read")

    def __setstate__(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) >= 5 and all(x is None for x in state[2:5])):
            raise DualvecError("refusing a structured or sub-array dtype in the pickle")
        order = state[1]
        if order not in ("<", ">", "|", "="):
            raise DualvecError(f"refusing a pickled dtype with byte order {order!r}")
        if order in "<>":
            self.dtype = self.dtype.newbyteorder(order)


def _dtype_of(d: Any) -> np.dtype:
    if isinstance(d, _PickledDtype):
        return d.dtype
    raise DualvecError("refusing a pickled array whose dtype is not a plain dtype")


class _PickledArray:
    """An ndarray as pickled: ``_reconstruct(ndarray, (0,), b'b')`` then a BUILD state
    ``(version, shape, dtype, is_fortran, raw bytes)``."""

    def __init__(self, cls: Any = None, shape: Any = None, typecode: Any = None) -> None:
        if cls is not np.ndarray:
            raise DualvecError("refusing to reconstruct anything but a numpy array")
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 5):
            raise DualvecError("refusing a numpy array with an unknown pickled state")
        _, shape, dtype, fortran, raw = state
        dt = _dtype_of(dtype)
        raw = _latin1_bytes(raw)
        if not (isinstance(shape, tuple) and all(isinstance(n, int) and 0 <= n < 1 << 40 for n in shape)):
            raise DualvecError(f"refusing a pickled array of shape {shape!r}")
        if dt.kind == "O":
            # numpy pickles an object array's elements as a list, which the restricted unpickler
            # has already checked; an object array is never read from raw bytes.
            if not isinstance(raw, list) or len(raw) != int(np.prod(shape, dtype=np.float64)):
                raise DualvecError("refusing an object array that is not pickled as a list of its elements")
            arr = np.empty(len(raw), dtype=object)
            arr[:] = raw
            self.array = arr.reshape(shape, order="F" if fortran else "C")
            return
        if not isinstance(raw, (bytes, bytearray)):
            raise DualvecError("refusing a pickled array without raw bytes")
        need = int(np.prod(shape, dtype=np.float64)) * dt.itemsize
        if need != len(raw) or need > MAX_PICKLED_ARRAY_BYTES:
            raise DualvecError(f"a pickled array declares shape {shape} of {dt} ({need:,} bytes) "
                               f"but holds {len(raw):,} bytes")
        self.array = np.frombuffer(bytes(raw), dtype=dt).reshape(shape, order="F" if fortran else "C")


def _latin1_bytes(raw: Any) -> Any:
    """Python 2 pickles carry raw bytes as ``str``, which the latin-1 decoding maps back one to one."""
    return raw.encode("latin1") if isinstance(raw, str) else raw


def _scalar(dtype: Any, raw: Any = None) -> Any:
    dt = _dtype_of(dtype)
    raw = _latin1_bytes(raw)
    if dt.kind == "O" or not isinstance(raw, (bytes, bytearray)) or len(raw) != dt.itemsize:
        raise DualvecError("refusing a pickled numpy scalar with the wrong number of bytes")
    return np.frombuffer(bytes(raw), dtype=dt)[0]


class _Budget:
    """What :func:`_materialize` has rebuilt, each object once (memoised by id), and how many
    references it followed: a few hundred bytes of shared nested tuples reference 2**60 paths."""

    def __init__(self, limit: int):
        self.done: dict[int, Any] = {}
        self.keep: list[Any] = []  # the originals, so that their ids stay theirs while we walk
        self.steps, self.limit = 0, limit

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.limit:
            raise DualvecError(f"the pickle references more than {self.limit:,} objects for its size "
                               "(shared structure, not a gensim model)")


def _materialize(obj: Any, depth: int = 0, budget: _Budget | None = None) -> Any:
    """Replace the array and dtype stand-ins by numpy objects, through containers and gensim stand-ins.
    Each object is rebuilt once: a shared one (the same tuple in many places) is looked up again."""
    budget = _Budget(1 << 22) if budget is None else budget
    budget.step()
    key = id(obj)
    if key in budget.done:
        return budget.done[key]
    if isinstance(obj, _PickledArray):
        result = obj.array
        if result is not None and result.dtype == object and depth <= 64:
            result = _materialize(result, depth + 1, budget)
    elif isinstance(obj, _PickledDtype):
        result = obj.dtype
    elif depth > 64 or not isinstance(obj, (GensimObject, dict, list, tuple, np.ndarray)):
        return obj
    else:
        budget.done[key] = obj  # a cycle back to a container sees the container itself
        if isinstance(obj, GensimObject):
            for k, v in list(obj.__dict__.items()):
                obj.__dict__[k] = _materialize(v, depth + 1, budget)
        elif isinstance(obj, dict):
            for k, v in list(obj.items()):
                obj[k] = _materialize(v, depth + 1, budget)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                obj[i] = _materialize(v, depth + 1, budget)
        elif isinstance(obj, tuple):
            obj_t = tuple(_materialize(v, depth + 1, budget) for v in obj)
            budget.done[key] = obj_t
            budget.keep.append(obj)
            return obj_t
        elif obj.dtype == object:
            for idx in np.ndindex(obj.shape):
                obj[idx] = _materialize(obj[idx], depth + 1, budget)
        return obj
    budget.done[key] = result
    budget.keep.append(obj)
    return result


def _bytes(*args: Any) -> bytes:
    """``bytes`` for a pickle's REDUCE: ``bytes(n)`` would allocate n zero bytes from a few bytes of file."""
    if args and isinstance(args[0], int):
        raise DualvecError("refusing bytes(n) in a pickle: gensim never writes it")
    return bytes(*args)


_BUILTINS = {"int": int, "long": int, "float": float, "str": str, "unicode": str, "bytes": _bytes, "list": list,
             "dict": dict, "set": set, "frozenset": frozenset, "tuple": tuple, "bool": bool, "object": object,
             "complex": complex, "slice": slice}
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,  # only ever passed to _PickledArray, never called
    ("numpy", "dtype"): _PickledDtype,
    ("numpy.core.multiarray", "_reconstruct"): _PickledArray,
    ("numpy._core.multiarray", "_reconstruct"): _PickledArray,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("collections", "defaultdict"): collections.defaultdict,
    ("UserString", "defaultdict"): collections.defaultdict,  # a Python 3.4 pickling quirk
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("_codecs", "encode"): codecs.encode,  # Python 2 byte strings
    ("copy_reg", "_reconstructor"): copyreg._reconstructor,
    ("copyreg", "_reconstructor"): copyreg._reconstructor,
}
for _b in ("builtins", "__builtin__"):
    _ALLOWED.update({(_b, k): v for k, v in _BUILTINS.items()})
    _ALLOWED[(_b, "hash")] = _inert  # a model's ``hashfxn`` attribute: referenced, never called by us


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickle only the classes a word2vec model is made of (see the module docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module.startswith("numpy.random"):
            return _inert  # the model's RandomState / Generator: not needed to read vectors
        if module == "gensim.utils" and name == "call_on_class_only":
            return _inert
        if module == "gensim" or module.startswith("gensim."):
            return _standin(module, name)
        raise DualvecError(f"refusing to load {module}.{name}: a word2vec model does not need it "
                           "(the file may be malicious or not a gensim word2vec model)")

    def persistent_load(self, pid: Any) -> Any:
        raise DualvecError("refusing a pickle with persistent ids")


def _open(path: Path):
    """The file, decompressed on the fly if it is gzip or bzip2 (gensim saves ``.gz``/``.bz2`` as such)."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise DualvecError(f"file not found: {path}") from None
    except OSError as exc:
        raise DualvecError(f"{path}: cannot read ({exc.strerror or exc})") from None
    magic = fh.read(3)
    fh.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fh)
    if magic == b"BZh":
        return bz2.BZ2File(fh)
    return fh


_CORRUPT = (OSError, EOFError, ValueError, zlib.error)


def _read_bytes(path: Path) -> bytes:
    with _open(path) as fh:
        try:
            return fh.read()
        except _CORRUPT as exc:
            raise DualvecError(f"{path}: corrupt compressed file ({exc})") from None


def is_pickle(path: str | os.PathLike) -> bool:
    """Does the file start like a pickle (protocol 2+, or protocol 0/1 opening a dict or object)?

    Only a few bytes are read (decompressed), never the whole file.
    """
    try:
        with _open(Path(path)) as fh:
            head = fh.read(2)
    except (DualvecError, *_CORRUPT):
        return False
    return head[:1] == b"\x80" or head[:1] in (b"(", b"c", b"}")


class _Source:
    """The pickle's bytes as a file with ``read`` and ``readline`` only.

    Every counted opcode then reads through ``BytesIO.read``, which returns only the bytes
    present, so a forged length fails as truncation before anything of that size exists.
    (Given ``readinto``, the C unpickler would allocate a declared bytearray first.)
    """

    def __init__(self, data: bytes):
        buf = io.BytesIO(data)
        self.read, self.readline = buf.read, buf.readline


def _check_lengths(data: bytes, path: Path) -> None:
    """Walk the opcodes once, without building anything: every counted opcode (bytes, strings,
    frames, bytearrays) must fit in the bytes that follow it, and only protocols 0-4 (all gensim
    writes) are accepted. This is what keeps a forged length from becoming an allocation; it
    costs about a second per two million opcodes."""
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name == "PROTO" and arg > 4:
                raise DualvecError(f"{path}: pickle protocol {arg}; gensim models use protocols 0-4")
            if op.name in ("BYTEARRAY8", "NEXT_BUFFER", "READONLY_BUFFER"):
                raise DualvecError(f"{path}: refusing the pickle opcode {op.name} (protocol 5; gensim never writes it)")
    except DualvecError:
        raise
    except Exception as exc:  # genops says which count does not fit, or what is malformed
        raise DualvecError(f"{path}: corrupt or truncated gensim file ({exc})") from None


def unpickle(path: str | os.PathLike) -> Any:
    """Unpickle a gensim file with :class:`RestrictedUnpickler` (latin-1 for Python 2 pickles)."""
    p = Path(path)
    data = _read_bytes(p)
    _check_lengths(data, p)
    try:
        obj = RestrictedUnpickler(_Source(data), encoding="latin1").load()
        return _materialize(obj, 0, _Budget(max(1 << 20, 64 * len(data))))
    except DualvecError as exc:
        raise DualvecError(f"{p}: {exc}") from None
    except RecursionError:
        raise DualvecError(f"{p}: the pickle nests too deeply") from None
    except MemoryError:
        raise DualvecError(f"{p}: corrupt gensim file (it declares an object larger than memory)") from None
    except Exception as exc:  # truncated or corrupt pickle streams raise a zoo of errors
        raise DualvecError(f"{p}: corrupt or truncated gensim file ({type(exc).__name__}: {exc})") from None


def _load_sidecars(obj: Any, fname: str, mmap: bool, depth: int = 0) -> None:
    """gensim's SaveLoad._load_specials: arrays saved apart, recursively."""
    if depth > 8 or not isinstance(obj, GensimObject):
        return
    attrs = obj.__dict__
    for sub in attrs.get("__recursive_saveloads", []) or []:
        if not (isinstance(sub, str) and sub.replace("_", "a").isalnum()):
            raise DualvecError(f"refusing a sidecar path through {sub!r}: it must stay beside the model")
        _load_sidecars(attrs.get(sub), f"{fname}.{sub}", mmap, depth + 1)
    for attrib in attrs.get("__numpys", []) or []:
        if not (isinstance(attrib, str) and attrib.replace("_", "a").isalnum()):
            raise DualvecError(f"refusing a sidecar array named {attrib!r}: it must stay beside the model")
        path = Path(f"{fname}.{attrib}.npy")
        if not path.exists():
            raise DualvecError(f"{path} is missing: the model's '{attrib}' array was saved beside it")
        attrs[attrib] = load_array(path, mmap)
    for attrib in attrs.get("__ignoreds", []) or []:
        attrs[attrib] = None


def _get(obj: Any, *paths: str) -> Any:
    """The first non-None attribute along dotted ``paths``."""
    for path in paths:
        cur = obj
        for part in path.split("."):
            cur = getattr(cur, part, None) if not isinstance(cur, dict) else cur.get(part)
            if cur is None:
                break
        if cur is not None:
            return cur
    return None


def _by_index(vocab: dict, n_rows: int) -> list[str]:
    """The words of an old gensim ``vocab`` ({word: Vocab(index, count)}) in row order: every
    index a whole number, each row 0..n-1 named exactly once."""
    rows: list[Any] = [None] * len(vocab)
    for word, entry in vocab.items():
        index = getattr(entry, "index", None)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise DualvecError(f"the model's vocabulary gives {str(word)[:100]!r} the index {index!r}, "
                               "not a whole number")
        if not 0 <= index < len(rows) or rows[index] is not None:
            why = "out of range" if not 0 <= index < len(rows) else f"{rows[index]!r}'s too"
            raise DualvecError(f"the model's vocabulary gives {str(word)[:100]!r} the index {index}, "
                               f"which is {why}")
        rows[int(index)] = word
    return rows


def _words_and_vocab(model: Any, n_rows: int) -> tuple[list[str], np.ndarray, dict | None]:
    words = _get(model, "wv.index_to_key", "index_to_key", "wv.index2word", "index2word", "index2entity",
                 "wv.index2entity")
    vocab = _get(model, "wv.vocab", "vocab")
    if words is None and isinstance(vocab, dict):
        words = _by_index(vocab, n_rows)
    if words is None:
        raise DualvecError("the model holds no word list (index_to_key / index2word)")
    if not isinstance(words, (list, tuple, np.ndarray)):
        raise DualvecError(f"the model's word list is a {type(words).__name__}, not a list")
    words = [w.decode("utf-8", "replace") if isinstance(w, bytes) else str(w) for w in words]
    if len(words) != n_rows:
        raise DualvecError(f"the model lists {len(words)} words but has {n_rows} vector rows")
    counts = np.zeros(len(words), dtype=np.int64)
    expandos = _get(model, "wv.expandos", "expandos")
    try:
        if isinstance(expandos, dict) and "count" in expandos:
            counts = np.asarray(expandos["count"]).astype(np.int64)
        elif isinstance(vocab, dict):
            counts = np.array([int(getattr(vocab.get(w), "count", 0) or 0) for w in words], dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise DualvecError("the model's word counts are not integers") from None
    if counts.shape != (len(words),) or (counts < 0).any():
        raise DualvecError("the model's word counts do not match its words")
    return words, counts, vocab if isinstance(vocab, dict) else None


def _tree(model: Any, words: list[str], vocab: dict | None) -> HuffmanTree | None:
    expandos = _get(model, "wv.expandos", "expandos")
    if isinstance(expandos, dict) and "code" in expandos and "point" in expandos:
        codes, points = expandos["code"], expandos["point"]
    elif vocab is not None and all(hasattr(vocab.get(w), "code") for w in words[:1]):
        codes = [getattr(vocab[w], "code", ()) for w in words]
        points = [getattr(vocab[w], "point", ()) for w in words]
    else:
        return None
    try:
        return _flat_tree(codes, points, len(words))
    except (TypeError, ValueError, OverflowError):
        raise DualvecError("the model's Huffman codes and points are corrupt") from None


def _flat_tree(codes: Any, points: Any, n_words: int) -> HuffmanTree:
    if len(codes) != n_words or len(points) != n_words:
        raise DualvecError("the model's Huffman codes and points do not match its words")
    lengths = np.array([len(c) for c in codes], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat_codes = np.concatenate([np.asarray(c, dtype=np.uint8) for c in codes]) if offsets[-1] else np.zeros(0, np.uint8)
    flat_points = (np.concatenate([np.asarray(p, dtype=np.int32) for p in points]) if offsets[-1]
                   else np.zeros(0, np.int32))
    check_huffman(flat_codes, flat_points, offsets, n_words, "the model")
    return HuffmanTree(flat_codes, flat_points, offsets)


def _params(model: Any, dim: int) -> tuple[TrainingParams | None, list[str]]:
    """The training parameters a gensim model recorded, and which ones it recorded."""
    values = {
        "vector_size": dim,
        "sg": _get(model, "sg"), "hs": _get(model, "hs"), "negative": _get(model, "negative"),
        "ns_exponent": _get(model, "ns_exponent", "vocabulary.ns_exponent"),
        "cbow_mean": _get(model, "cbow_mean"), "window": _get(model, "window"),
        "sample": _get(model, "sample", "vocabulary.sample"), "min_count": _get(model, "min_count", "vocabulary.min_count"),
        "alpha": _get(model, "alpha"), "min_alpha": _get(model, "min_alpha"),
        "epochs": _get(model, "epochs", "iter"), "seed": _get(model, "seed"),
    }
    if values["sg"] is None and values["negative"] is None:
        return None, []
    kwargs = {}
    for key, value in values.items():
        if value is None:
            continue
        try:
            kwargs[key] = type(getattr(TrainingParams(), key))(value)
        except (TypeError, ValueError):
            continue
    try:
        return TrainingParams(**kwargs).validate(), sorted(kwargs)
    except DualvecError:
        return None, []


def _matrix(value: Any, name: str) -> np.ndarray:
    """A 2-D real matrix, or a clear error (gensim attributes can hold anything in a crafted file)."""
    if not isinstance(value, np.ndarray):
        raise DualvecError(f"the model's {name} is a {type(value).__name__}, not an array")
    if value.ndim != 2 or value.dtype.kind not in "fiu":
        raise DualvecError(f"the model's {name} have shape {value.shape} and dtype {value.dtype}, "
                           "not a (words, dims) matrix of numbers")
    return value


def from_gensim(model: Any) -> DualVectors:
    """A :class:`DualVectors` from a gensim model object (real, or a stand-in from :func:`load_gensim`).

    Works for ``Word2Vec`` of any version and for bare ``KeyedVectors`` (IN only).
    """
    vin = _get(model, "wv.vectors", "wv.syn0", "syn0", "vectors")
    if vin is None:
        raise DualvecError("no word vectors found (wv.vectors / wv.syn0 / syn0)")
    vin = _matrix(vin, "word vectors")
    words, counts, vocab = _words_and_vocab(model, vin.shape[0])
    syn1neg = _get(model, "syn1neg", "trainables.syn1neg")
    syn1 = _get(model, "syn1", "trainables.syn1")
    syn1neg = _matrix(syn1neg, "syn1neg") if syn1neg is not None else None
    syn1 = _matrix(syn1, "syn1") if syn1 is not None else None
    if syn1 is not None and syn1.shape[0] == len(words) and len(words) > 1:
        syn1 = syn1[: len(words) - 1]  # gensim allocates V rows; a Huffman tree of V words has V - 1 inner nodes
    if syn1 is not None and syn1.shape != (max(len(words) - 1, 1), vin.shape[1]):
        raise DualvecError(f"syn1 has shape {syn1.shape}; {len(words)} words need {len(words) - 1} inner nodes")
    tree = _tree(model, words, vocab) if syn1 is not None else None
    if syn1neg is not None and syn1neg.shape == vin.shape:
        out, kind = syn1neg, OUT_NEGATIVE_SAMPLING
    elif syn1 is not None and tree is not None:
        from ..model import OUT_HS_LINEARISED

        out, kind = hs_linearised_out(np.asarray(syn1, dtype=np.float32), tree), OUT_HS_LINEARISED
    else:
        out, kind = None, None
    as32 = lambda a: a if a.dtype == np.float32 else a.astype(np.float32)  # noqa: E731
    params, recorded = _params(model, vin.shape[1])
    return DualVectors(
        Vocabulary(words, counts), as32(vin), as32(out) if out is not None else None,
        params=params, params_recorded=recorded, out_kind=kind or (OUT_IMPORTED if out is not None else None),
        hs_nodes=as32(np.asarray(syn1)) if (syn1 is not None and tree is not None) else None,
        tree=tree, counts_known=bool(counts.any()),
    )


def load_gensim(path: str | os.PathLike, mmap: bool = True) -> DualVectors:
    """Open a gensim-saved word2vec model or KeyedVectors file, of any gensim version."""
    p = Path(path)
    obj = unpickle(p)
    if not isinstance(obj, GensimObject):
        raise DualvecError(f"{p}: the pickle holds a {type(obj).__name__}, not a gensim model")
    _load_sidecars(obj, str(p), mmap)
    try:
        return from_gensim(obj)
    except DualvecError as exc:
        raise DualvecError(f"{p}: {exc}") from None


def to_gensim(model: DualVectors, space: str | None = None):
    """gensim objects for a dualvec model (needs gensim installed).

    ``space=None``: a ``Word2Vec`` whose ``wv`` is IN and ``syn1neg`` is OUT, in
    dualvec's row order, so gensim's whole API (and its ``save``) works;
    ``space="in"`` or ``"out"``: a ``KeyedVectors`` of that space alone, with
    the counts as ``count``.
    """
    try:
        from gensim.models import KeyedVectors, Word2Vec
    except ImportError:
        raise DualvecError("writing gensim models needs gensim: pip install 'dualvec[gensim]' "
                           "(or pip install gensim)") from None
    counts = np.asarray(model.vocab.counts, dtype=np.int64)
    words = list(model.words)
    if space is not None:
        vectors = model.space(space)
        kv = KeyedVectors(model.vector_size, count=0)
        kv.add_vectors(words, np.asarray(vectors.vectors, dtype=np.float32))
        kv.allocate_vecattrs(["count"], [np.int64])
        kv.expandos["count"][:] = counts
        return kv
    if model.out_vectors is None or model.out_kind not in (OUT_NEGATIVE_SAMPLING, OUT_IMPORTED):
        raise DualvecError("a gensim Word2Vec needs negative-sampling OUT vectors; export a space instead")
    params = model.params or TrainingParams()
    w2v = Word2Vec(vector_size=model.vector_size, sg=int(params.sg), negative=max(params.negative, 1), hs=0,
                   window=params.window, min_count=1, sample=params.sample, seed=params.seed, workers=1,
                   alpha=params.alpha, min_alpha=params.min_alpha, ns_exponent=params.ns_exponent,
                   cbow_mean=int(params.cbow_mean), epochs=params.epochs)
    # gensim sorts its vocabulary by count; build it, then put the rows back in dualvec's order
    # (ties would otherwise move, and syn1neg[i] would be another word's row).
    freqs = counts if counts.any() else np.arange(len(model), 0, -1)
    w2v.build_vocab_from_freq({w: max(int(c), 1) for w, c in zip(words, freqs)})
    wv = w2v.wv
    perm = np.array([wv.key_to_index[w] for w in words], dtype=np.int64)
    for key, values in list(wv.expandos.items()):
        wv.expandos[key] = np.asarray(values)[perm]
    wv.index_to_key = words
    wv.key_to_index = {w: i for i, w in enumerate(words)}
    wv.vectors = np.array(model.in_vectors.vectors, dtype=np.float32)
    w2v.syn1neg = np.array(model.out_vectors.vectors, dtype=np.float32)
    w2v.make_cum_table()
    w2v.min_count = params.min_count  # what the model was trained with, not what rebuilding it needed
    return w2v
