"""fastText ``.bin`` models (and ``.vec`` text files).

Layout of a ``.bin`` (fastText's ``FastText::saveModel``, native little-endian):

* ``int32 magic = 793712314, int32 version`` (11 or 12; files from before the
  magic start directly with ``dim, ws``);
* args: ``int32 dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket,
  minn, maxn, lrUpdateRate; float64 t`` (old files lack ``dim, ws`` here);
* dictionary: ``int32 size, nwords, nlabels; int64 ntokens`` (+ ``int64
  pruneidx_size`` from version 12), then per entry a NUL-terminated UTF-8
  word, ``int64 count, int8 type``, then the pruning index pairs (the
  ``pruneidx_size`` field, -1 when unpruned, exists in every file with the magic);
* ``bool quant_input`` (files with the magic only) and the input matrix ``int64 rows, cols`` + float32 rows
  (nwords word rows, then ``bucket`` n-gram rows);
* ``bool quant_output`` and the output matrix.

IN = fastText's word vector (word row averaged with its n-gram rows);
OUT = the output row of each word under negative sampling or softmax. Under
``loss hs`` the output rows are Huffman-tree nodes, and in supervised models
labels, not words: no OUT space is given then. Quantized models (``.ftz``) are
refused.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from ..errors import DualvecError
from .fasttext_kernels import word_vectors
from ..model import OUT_NEGATIVE_SAMPLING, DualVectors
from ..training import TrainingParams
from ..text.vocab import Vocabulary
from .word2vec import read_word2vec_file

MAGIC = 793712314
KNOWN_VERSIONS = (11, 12)
LOSS = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
MODEL = {1: "cbow", 2: "skipgram", 3: "supervised"}


class _Reader:
    """Bounds-checked reads over a file, with one-line errors naming it."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = open(path, "rb")
        self.size = os.fstat(self.fh.fileno()).st_size

    def read(self, n: int) -> bytes:
        data = self.fh.read(n)
        if len(data) != n:
            raise DualvecError(f"{self.path}: truncated fastText file (ended at byte {self.fh.tell()})")
        return data

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.read(struct.calcsize("<" + fmt)))

    def word(self, limit: int = 1 << 16) -> bytes:
        out = bytearray()
        while True:
            b = self.read(1)
            if b == b"\x00":
                return bytes(out)
            out += b
            if len(out) > limit:
                raise DualvecError(f"{self.path}: corrupt dictionary (a word longer than {limit} bytes)")

    def matrix(self, mmap: bool, has_quant_flag: bool) -> np.ndarray:
        if has_quant_flag and self.unpack("?")[0]:
            raise DualvecError(f"{self.path}: quantized fastText models (.ftz) are not supported")
        rows, cols = self.unpack("qq")
        start = self.fh.tell()
        if rows < 0 or cols <= 0 or start + rows * cols * 4 > self.size:
            raise DualvecError(f"{self.path}: truncated or corrupt matrix ({rows} x {cols} at byte {start})")
        if mmap:
            arr = np.memmap(self.path, dtype="<f4", mode="r", offset=start, shape=(rows, cols))
        else:
            arr = np.fromfile(self.fh, dtype="<f4", count=rows * cols, offset=0).reshape(rows, cols)
        self.fh.seek(start + rows * cols * 4)
        return arr


def load_fasttext(path: str | os.PathLike, mmap: bool = True) -> DualVectors:
    """IN (word + n-gram average) and OUT (output rows) of a fastText ``.bin`` model."""
    p = Path(path)
    if not p.is_file():
        raise DualvecError(f"file not found: {p}")
    r = _Reader(p)
    try:
        magic, version = r.unpack("ii")
        if magic == MAGIC:
            if version not in KNOWN_VERSIONS:
                raise DualvecError(f"{p}: fastText format version {version} is unknown (dualvec reads "
                                   f"{', '.join(map(str, KNOWN_VERSIONS))})")
            dim, ws = r.unpack("ii")
        else:  # before the magic number: the file starts with dim, ws
            dim, ws, version = magic, version, 0
        epoch, min_count, neg, _ngrams, loss, model_kind, bucket, minn, maxn, _lr = r.unpack("10i")
        (t,) = r.unpack("d")
        if not (0 < dim < 100_000 and 0 <= minn <= maxn < 100 and bucket >= 0 and loss in LOSS):
            raise DualvecError(f"{p}: not a fastText model (implausible header: dim {dim}, minn {minn}, "
                               f"maxn {maxn}, loss {loss})")
        size, nwords, _nlabels = r.unpack("iii")
        (_ntokens,) = r.unpack("q")
        prune = r.unpack("q")[0] if version else -1  # -1: not pruned (files with the magic only)
        if not (0 < nwords <= size):
            raise DualvecError(f"{p}: corrupt dictionary ({nwords} words of {size} entries)")
        words, counts = [], []
        for i in range(size):
            raw = r.word()
            count, kind = r.unpack("qb")
            if i < nwords:
                words.append(raw.decode("utf-8", "backslashreplace"))
                counts.append(count)
        if prune > 0:
            raise DualvecError(f"{p}: pruned (quantized) fastText models are not supported")
        r.read(max(prune, 0) * 8)
        inp = r.matrix(mmap, has_quant_flag=bool(version))
        outp = r.matrix(mmap, has_quant_flag=bool(version))
        if inp.shape != (nwords + bucket, dim):
            raise DualvecError(f"{p}: input matrix is {inp.shape}, expected ({nwords + bucket}, {dim})")
    finally:
        r.fh.close()
    encoded = [f"<{w}>".encode("utf-8", "surrogatepass") for w in words]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    _check_ngram_work(p, np.diff(offsets), dim, bucket, maxn, inp.size)
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    vin = word_vectors(buf, offsets, nwords, bucket, minn, maxn if bucket else 0, inp)
    vout = None
    supervised = MODEL.get(model_kind) == "supervised"  # output rows are labels, not words
    if not supervised and LOSS[loss] in ("ns", "softmax", "ova") and outp.shape[0] >= nwords and outp.shape[1] == dim:
        vout = np.ascontiguousarray(outp[:nwords], dtype=np.float32)
    params = TrainingParams(vector_size=dim, sg=MODEL.get(model_kind) == "skipgram", hs=LOSS[loss] == "hs",
                            negative=neg if LOSS[loss] == "ns" else 0, window=ws, sample=t,
                            min_count=max(min_count, 1), epochs=max(epoch, 1))
    recorded = ["vector_size", "sg", "hs", "negative", "window", "sample", "min_count", "epochs"]
    return DualVectors(Vocabulary(words, np.array(counts, dtype=np.int64)), vin, vout, params=params,
                       params_recorded=recorded, out_kind=OUT_NEGATIVE_SAMPLING if vout is not None else None)


#: The n-gram averaging may cost this many times the input matrix's element count (real models:
#: 2M words of ~10 characters, maxn 6, about 30x), or ``_WORK_FLOOR`` operations, whichever is more.
_WORK_PER_ELEMENT = 64
_WORK_FLOOR = 1 << 31


def _check_ngram_work(path: Path, lengths: np.ndarray, dim: int, bucket: int, maxn: int, elements: int) -> None:
    """Refuse a file whose words' n-grams would cost far more work than its bytes justify (long
    words, a large ``maxn`` and a huge dimension make a 3 MB file take minutes)."""
    lengths = lengths.astype(np.int64)
    if bucket and maxn:
        ngrams = int((lengths * np.minimum(lengths, maxn)).sum())  # at most min(maxn, len) n-grams per character
        work = ngrams * (dim + 4 * maxn)  # one matrix row added, and the n-gram hashed, per n-gram
    else:
        ngrams, work = len(lengths), len(lengths) * dim
    if work > max(_WORK_FLOOR, _WORK_PER_ELEMENT * elements):
        raise DualvecError(f"{path}: its words' character n-grams (up to {ngrams:,} of up to {maxn} characters, "
                           f"dimension {dim}) would cost far more work than its {elements:,} stored numbers "
                           "justify: words too long or maxn too large for a fastText model")


def is_fasttext_bin(path: str | os.PathLike) -> bool:
    """The magic number, or (files from before it) a plausible args header."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(48)
    except OSError:
        return False
    if len(head) < 48:
        return False
    ints = struct.unpack("<12i", head)
    if ints[0] == MAGIC:
        return True
    dim, ws, epoch, min_count, neg, ngrams, loss, model, bucket, minn, maxn, lr = ints
    return (0 < dim < 100_000 and 0 < ws < 1000 and 0 < epoch < 100_000 and 0 <= min_count < 1_000_000
            and 0 <= neg < 1000 and loss in LOSS and model in MODEL and bucket >= 0 and 0 <= minn <= maxn < 100
            and 0 < lr < 1_000_000)


def load_fasttext_vec(path: str | os.PathLike, limit: int | None = None) -> DualVectors:
    """A fastText ``.vec`` file: word2vec text format (IN only)."""
    words, vin = read_word2vec_file(path, binary=False, limit=limit)
    return DualVectors(Vocabulary(words, np.zeros(len(words), dtype=np.int64)), vin, counts_known=False)
