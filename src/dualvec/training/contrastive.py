"""Dual spaces tuned for ranking: DESM's encoder trained contrastively on pairs cut from documents.

DESM is a dual encoder: query words in IN, document words in OUT, scored by the
cosine of the pooled vectors. word2vec trains those vectors to predict neighbouring
words, not to rank. :func:`tune` starts from a word2vec model and trains the same
encoder for ranking, with in-batch negatives and a softmax over the batch (InfoNCE,
the loss of Contriever and of static-retrieval models), on pairs cut from the
documents themselves, so no judgments are needed (``PAIR_KINDS``):

* ``"title"``: a document's title against its body;
* ``"sentence"``: a sentence against the text around it (the inverse cloze task,
  Lee et al. 2019);
* ``"crop"``: two independent random crops of one document (Izacard et al. 2021).

Pooling: a tuned model sums its words' raw vectors (``pooling="sum"``, recorded in the
model), so a word's norm is its pooling weight. The norms start at each word's IDF in
the documents (``init="idf"``) and training moves them with the directions. Ranking
(:mod:`dualvec.ranking.desm`) reads the pooling from the model, so the encoder trained
here is exactly the one that ranks; an untuned model ranks as before (the mean of unit
vectors).

The kernels (:mod:`.contrastive_kernels`) update only the rows a batch touched, by
row-wise Adagrad. With ``workers=1`` and a seed the result is reproducible bit for bit;
more workers train different batches at once on the shared matrices (Hogwild, as the
word2vec trainer does).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from ..errors import DualvecError, check_number
from ..model import POOLING_SUM, DualVectors
from ..progress import Progress, wants_progress
from ..vectors import unit_rows
from ..text.collections import split_title
from .contrastive_kernels import info_nce_step
from .driver import run_threads
from .options import MAX_WORKERS

#: The pairs tuning can cut from a document (see the module docstring).
PAIR_KINDS = ("title", "sentence", "crop")
#: Where the vectors' norms (the pooling weights) start: each word's IDF in the documents,
#: 1 (unit vectors), or word2vec's own norms.
INITS = ("idf", "unit", "raw")
#: A crop's length as a share of its document's, drawn uniformly in this range (Contriever's).
CROP_SHARE = (0.1, 0.5)
#: Sentences end at . ! ? followed by space, or at a line break.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
#: A sentence needs this many known words to be a query of the inverse cloze task.
MIN_SENTENCE_WORDS = 3


@dataclass
class ContrastiveSettings:
    """How :func:`tune` trains. Defaults chosen on SciFact train (benchmarks/RESULTS.md, issue 30)."""

    epochs: int = 5
    batch_size: int = 256  # pairs per step: each query's negatives are the other B - 1 documents
    temperature: float = 0.05
    learning_rate: float = 0.05  # Adagrad's
    pairs: tuple[str, ...] = PAIR_KINDS
    init: str = "idf"
    #: The longest bag: a body, a sentence's context or a crop is cut to this many words
    #: (bounds the cost of long documents; one long document gives one pair per this many words).
    max_words: int = 256
    workers: int = 1
    seed: int = 1

    def validate(self) -> ContrastiveSettings:
        check_number("epochs", self.epochs, 1, integer=True)
        check_number("batch_size", self.batch_size, 2, 1 << 16, integer=True)
        check_number("temperature", self.temperature, 0, 10, above=True)
        check_number("learning_rate", self.learning_rate, 0, 100, above=True)
        check_number("max_words", self.max_words, 4, 1 << 20, integer=True)
        check_number("workers", self.workers, 1, MAX_WORKERS, integer=True)
        check_number("seed", self.seed, 0, 2**32 - 1, integer=True)
        if isinstance(self.pairs, str) or not isinstance(self.pairs, (tuple, list)) or not self.pairs:
            raise DualvecError(f"pairs must be a non-empty list of {', '.join(PAIR_KINDS)}, not {self.pairs!r}")
        for kind in self.pairs:
            if kind not in PAIR_KINDS:
                raise DualvecError(f"unknown pair kind {kind!r}; use one or more of {', '.join(PAIR_KINDS)}")
        self.pairs = tuple(dict.fromkeys(self.pairs))
        if self.init not in INITS:
            raise DualvecError(f"unknown init {self.init!r}; use one of {', '.join(INITS)}")
        return self

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["pairs"] = list(self.pairs)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContrastiveSettings:
        """The inverse of :meth:`to_dict`; unknown keys are refused, the result validated."""
        if not isinstance(d, dict):
            raise DualvecError(f"contrastive settings must be an object, not {d!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise DualvecError(f"unknown contrastive setting(s): {', '.join(unknown)}; use {', '.join(sorted(known))}")
        d = dict(d)
        if isinstance(d.get("pairs"), list):
            d["pairs"] = tuple(d["pairs"])
        return cls(**d).validate()


#: The tuning of ``dualvec train --for-ranking`` on a general corpus (benchmarks/RESULTS.md, issue 30).
FOR_RANKING = ContrastiveSettings(epochs=2)


@dataclass
class PairSource:
    """The documents encoded once as vocabulary rows: what pairs are cut from.

    ``words``/``doc_offsets``: each document's body, end to end; ``sentence_starts``:
    the absolute positions where sentences start, document i's are
    ``sentence_starts[sentence_offsets[i]:sentence_offsets[i+1]]``; ``titles``/``title_offsets``
    each document's title (empty where it has none)."""

    words: np.ndarray
    doc_offsets: np.ndarray
    sentence_starts: np.ndarray
    sentence_offsets: np.ndarray
    titles: np.ndarray
    title_offsets: np.ndarray

    @property
    def n_docs(self) -> int:
        return len(self.doc_offsets) - 1


Document = str | tuple[str | None, str]


def encode_documents(model: DualVectors, documents: Iterable[Document],
                     terms: Callable[[str], list[str]] | None = None) -> PairSource:
    """Cut each document into title, body and sentences of known words (``terms`` analyses
    text: ranking's analyser, so tuning sees the words ranking looks up; the model's
    tokeniser by default). A document is its text (a title is split off as
    :func:`~dualvec.text.collections.split_title` does) or ``(title, body)``."""
    if terms is None:
        from ..text.tokenize import default_tokenizer

        terms = model.tokenizer or default_tokenizer()
    index = model.vocab.index
    words: list[int] = []
    doc_offsets, starts, sentence_offsets, titles, title_offsets = [0], [], [0], [], [0]
    for doc in documents:
        if isinstance(doc, tuple) and len(doc) == 2:
            title, body = doc
        elif isinstance(doc, str):
            title, body = split_title(doc)
        else:
            raise DualvecError(f"a document to tune on is a text or a (title, body) pair, not {type(doc).__name__}")
        if title:
            titles.extend(index[w] for w in terms(title) if w in index)
        for sentence in SENTENCE_END.split(body or ""):
            rows = [index[w] for w in terms(sentence) if w in index]
            if rows:
                starts.append(len(words))
                words.extend(rows)
        doc_offsets.append(len(words))
        sentence_offsets.append(len(starts))
        title_offsets.append(len(titles))
    if len(doc_offsets) == 1:
        raise DualvecError("no documents to tune on")
    if not words:
        raise DualvecError("the documents to tune on hold no word the model knows")
    as_array = lambda x, t: np.asarray(x, dtype=t) if x else np.zeros(0, dtype=t)  # noqa: E731
    return PairSource(as_array(words, np.int32), as_array(doc_offsets, np.int64), as_array(starts, np.int64),
                      as_array(sentence_offsets, np.int64), as_array(titles, np.int32),
                      as_array(title_offsets, np.int64))


def corpus_documents(path: str | os.PathLike) -> Iterator[Document]:
    """The documents of a training corpus, to cut pairs from: a collection's, WikiExtractor's (a folder,
    file or ``.tar.gz``: one ``(title, text)`` per ``<doc>``, the markup and the repeated title line
    dropped) or any text's paragraphs (:func:`~dualvec.text.sources.iter_titled_documents`)."""
    from ..text.sources import iter_titled_documents

    return iter_titled_documents(path)


def idf(source: PairSource, n_words: int) -> np.ndarray:
    """Each word's IDF over the documents (bodies and titles): log((N + 1) / (df + 1)), so a word
    in every document weighs almost 0 and one in none log(N + 1)."""
    df = np.zeros(n_words, np.float64)
    for i in range(source.n_docs):
        body = source.words[source.doc_offsets[i]:source.doc_offsets[i + 1]]
        title = source.titles[source.title_offsets[i]:source.title_offsets[i + 1]]
        df[np.unique(np.concatenate([body, title]))] += 1
    return np.log((source.n_docs + 1) / (df + 1))


def draw_pairs(source: PairSource, kinds: Iterable[str], max_words: int,
               rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """One epoch's pairs, (queries, documents) as row arrays, in document order: a title pair per
    document with a title; per started ``max_words`` of body, one sentence pair and one crop pair."""
    kinds = set(kinds)
    qs: list[np.ndarray] = []
    ds: list[np.ndarray] = []
    w = source.words
    half = max_words // 2
    for i in range(source.n_docs):
        lo, hi = int(source.doc_offsets[i]), int(source.doc_offsets[i + 1])
        n = hi - lo
        if n == 0:
            continue
        if "title" in kinds:
            t = source.titles[source.title_offsets[i]:source.title_offsets[i + 1]]
            if len(t):
                qs.append(t)
                ds.append(w[lo:min(hi, lo + max_words)])
        samples = -(-n // max_words)
        starts = source.sentence_starts[source.sentence_offsets[i]:source.sentence_offsets[i + 1]]
        if "sentence" in kinds and len(starts) >= 2:
            ends = np.append(starts[1:], hi)
            for j in rng.integers(0, len(starts), samples):
                s, e = int(starts[j]), int(ends[j])
                if e - s < MIN_SENTENCE_WORDS:
                    continue
                before = w[max(lo, s - half):s]
                after = w[e:min(hi, e + max_words - len(before))]
                if len(before) + len(after):
                    qs.append(w[s:e][:max_words])
                    ds.append(np.concatenate([before, after]))
        if "crop" in kinds and n >= 4:
            for _ in range(samples):
                for side in (qs, ds):
                    length = min(max_words, max(2, int(n * rng.uniform(*CROP_SHARE))))
                    s = lo + int(rng.integers(0, n - length + 1))
                    side.append(w[s:s + length])
    return qs, ds


def _bags(bags: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(bags) + 1, np.int64)
    np.cumsum([len(b) for b in bags], out=offsets[1:])
    return np.concatenate(bags).astype(np.int32, copy=False), offsets


@dataclass
class _Scratch:
    """One worker's buffers for the kernel (all zero between calls)."""

    grad_in: np.ndarray
    grad_out: np.ndarray
    seen_in: np.ndarray
    seen_out: np.ndarray
    touched: np.ndarray = field(repr=False)

    @classmethod
    def like(cls, matrix: np.ndarray) -> _Scratch:
        v = matrix.shape[0]
        return cls(np.zeros_like(matrix), np.zeros_like(matrix), np.zeros(v, np.uint8), np.zeros(v, np.uint8),
                   np.zeros(v, np.int64))


def starting_vectors(model: DualVectors, init: str, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Writable float32 copies of IN and OUT to tune (a model without OUT starts OUT from IN),
    with norms set by ``init`` (``weights``: the IDF, read when ``init`` is "idf")."""
    in_raw = model.in_vectors.vectors
    out_raw = model.out_vectors.vectors if model.out_vectors is not None else in_raw
    if init == "raw":
        return np.array(in_raw, dtype=np.float32, order="C"), np.array(out_raw, dtype=np.float32, order="C")
    in_v, out_v = unit_rows(in_raw), unit_rows(out_raw)  # fresh arrays: tuning writes into them
    if init == "idf":
        for m in (in_v, out_v):
            m *= weights.astype(np.float32)[:, None]
    return in_v, out_v


def tune(model: DualVectors, documents: Iterable[Document], settings: ContrastiveSettings | None = None, *,
         terms: Callable[[str], list[str]] | None = None, analysis: str = "the model's tokeniser",
         progress: bool | None = False) -> DualVectors:
    """A copy of ``model`` with both spaces tuned for ranking on pairs cut from ``documents``
    (see the module docstring); it records how it was trained (``model.tuning``).

    ``terms`` is the analysis ranking will apply (``Analyzer.terms``: the tokeniser, stop words
    removed), named in the record by ``analysis``."""
    s = (settings or ContrastiveSettings()).validate()
    started = time.perf_counter()
    with Progress(wants_progress(progress), unit="pairs") as bar:
        bar.task("reading documents to tune on", None)
        source = encode_documents(model, documents, terms)
        weights = idf(source, len(model.words)) if s.init == "idf" else None
        in_v, out_v = starting_vectors(model, s.init, weights)
        in_acc = np.zeros(len(in_v), np.float32)
        out_acc = np.zeros(len(out_v), np.float32)
        scratch = [_Scratch.like(in_v) for _ in range(s.workers)]
        rng = np.random.default_rng(s.seed)
        inv_t = 1.0 / s.temperature
        losses: list[float] = []
        n_pairs = 0
        for epoch in range(s.epochs):
            qs, ds = draw_pairs(source, s.pairs, s.max_words, rng)
            if len(qs) < 2:
                raise DualvecError(f"the documents give {len(qs)} pair(s) of kinds {', '.join(s.pairs)}; "
                                   "tuning needs at least 2 (more documents, or other pair kinds)")
            order = rng.permutation(len(qs))
            batches = [order[b:b + s.batch_size] for b in range(0, len(order), s.batch_size)]
            if len(batches) > 1 and len(batches[-1]) < 2:
                batches.pop()
            bar.task(f"tuning for ranking, epoch {epoch + 1}/{s.epochs}", len(order))
            epoch_loss = np.zeros(len(batches))

            done = [0] * s.workers

            def work(worker: int, stop: threading.Event) -> None:
                sc = scratch[worker]
                for b in range(worker, len(batches), s.workers):
                    if stop.is_set():
                        return
                    sel = batches[b]
                    q_rows, q_off = _bags([qs[k] for k in sel])
                    d_rows, d_off = _bags([ds[k] for k in sel])
                    epoch_loss[b] = info_nce_step(q_rows, q_off, d_rows, d_off, in_v, out_v, in_acc, out_acc,
                                                  sc.grad_in, sc.grad_out, sc.seen_in, sc.seen_out, sc.touched,
                                                  inv_t, s.learning_rate)
                    done[worker] += len(sel)

            run_threads(s.workers, work, lambda: bar.update(sum(done)))
            bar.update(len(order))
            if not (np.isfinite(in_v).all() and np.isfinite(out_v).all()):
                raise DualvecError("tuning diverged (a vector holds NaN or infinity): lower learning_rate "
                                   f"({s.learning_rate}) or raise temperature ({s.temperature})")
            losses.append(float(epoch_loss.mean()))
            n_pairs = len(order)
    record = {"objective": "info-nce", "pooling": POOLING_SUM, "settings": s.to_dict(), "analysis": analysis,
              "documents": source.n_docs, "pairs_per_epoch": n_pairs, "loss": losses,
              "started_from": model.fingerprint, "seconds": round(time.perf_counter() - started, 2)}
    return model.tuned_copy(in_v, out_v, record)


__all__ = ["INITS", "PAIR_KINDS", "ContrastiveSettings", "PairSource", "draw_pairs", "encode_documents", "idf",
           "tune"]
