"""The word2vec objective: :func:`train` and :func:`train_more` build a
:class:`~dualvec.model.DualVectors`: read the corpus once (:mod:`dualvec.text`),
choose the vocabulary, run the backend's kernels (:mod:`.backends`), keep both spaces.

Importing this module registers :func:`train_more` with the model layer
(:func:`dualvec.model.register_trainer`), so ``DualVectors.train_more`` works
without the model importing the training objectives above it.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import DualvecError
from ..model import OUT_HS_LINEARISED, OUT_NEGATIVE_SAMPLING, DualVectors, hs_linearised_out, register_trainer
from ..progress import Progress, wants_progress
from ..text.encoded import EncodedCorpus, ScannedCorpus, scan_corpus
from ..text.sources import CorpusLike
from ..text.tokenize import Tokenizer, default_tokenizer
from ..text.vocab import HuffmanTree, Vocabulary
from . import train_epochs
from .options import EpochStats, TrainingParams, Weights
from .state import grow_weights, init_weights, select_vocabulary


#: gensim 3's option names, for a hint when someone passes them.
GENSIM3_NAMES = {"size": "vector_size", "iter": "epochs", "max_vocab": "max_vocab_size"}


def _scan_and_encode(
    corpus: CorpusLike, tok: Tokenizer, params: TrainingParams, encoding_errors: str, bar: Progress,
    choose: Callable[[ScannedCorpus], tuple[Vocabulary, np.ndarray]], workdir: str | os.PathLike | None = None,
) -> tuple[Vocabulary, EncodedCorpus]:
    """Read the corpus once, let ``choose`` pick the vocabulary, encode; the caller closes the result."""
    bar.task("reading corpus", None)
    scanned = scan_corpus(corpus, tok, params.max_vocab_size, encoding_errors, workdir=workdir,
                          on_progress=lambda n: bar.update(n, f"{n:,} tokens"))
    try:
        if scanned.n_tokens == 0:
            name = f" {corpus}" if isinstance(corpus, (str, os.PathLike)) else ""
            raise DualvecError(f"the corpus{name} is empty: no tokens found")
        vocab, row_of = choose(scanned)
        return vocab, scanned.encode(row_of)
    except BaseException:
        scanned.discard()
        raise


def _warm_up(params: TrainingParams, workdir: str | os.PathLike | None) -> None:
    """Train one epoch of a tiny corpus with ``params``'s kernel, so that numba has loaded (or
    compiled) it before the real run; :func:`train` runs this in a thread while it reads the
    corpus, whose compiled scan releases the GIL. Loading a cached kernel took 0.2-0.5 s that
    otherwise came after the scan. Any failure is left for the real run to meet."""
    try:
        sentence = [f"w{i % 13}" for i in range(200)]  # long enough for batched CBOW's groups
        tiny = TrainingParams(**{**params.to_dict(), "epochs": 1, "workers": 1, "min_count": 1, "sample": 0.0,
                                 "max_vocab_size": None, "max_final_vocab": None}).validate()
        scanned = scan_corpus([sentence] * 2, workdir=workdir)
        vocab, row_of = select_vocabulary(scanned, tiny)
        encoded = scanned.encode(row_of)
        try:
            weights = init_weights(len(vocab), tiny, np.random.default_rng(0))
            train_epochs(encoded, vocab, weights, vocab.huffman_tree() if tiny.hs else None, tiny)
        finally:
            encoded.close()
    except Exception:  # noqa: BLE001 (an optimisation only)
        pass


def _from_weights(vocab: Vocabulary, weights: Weights, tree: HuffmanTree | None, params: TrainingParams,
                  tok: Tokenizer | None, history: list[EpochStats]) -> DualVectors:
    if weights.syn1neg is not None:
        out, kind = weights.syn1neg, OUT_NEGATIVE_SAMPLING
    else:
        assert weights.syn1 is not None and tree is not None
        out, kind = hs_linearised_out(weights.syn1, tree), OUT_HS_LINEARISED
    return DualVectors(vocab, weights.syn0, out, params=params, out_kind=kind,
                       hs_nodes=weights.syn1, tree=tree if params.hs else None,
                       tokenizer=tok, history=history)


def train(
    corpus: CorpusLike | None = None,
    *,
    sentences: CorpusLike | None = None,
    corpus_file: str | os.PathLike | None = None,
    tokenizer: Tokenizer | None = None,
    encoding_errors: str = "strict",
    progress: bool | None = None,
    workdir: str | os.PathLike | None = None,
    **options: Any,
) -> DualVectors:
    """Train word2vec on ``corpus`` and keep both spaces.

    ``corpus``: a text file (one sentence per line; ``.gz``/``.bz2`` fine), a
    directory of them, an iterable of token lists or strings, or a document
    collection (a BEIR directory, ``.jsonl``, ``.tsv``, ``.parquet``: each
    document's title and text, see :func:`~dualvec.text.sources.as_training_text`).
    ``sentences=`` (an iterable) and ``corpus_file=`` (a path) are gensim's ``Word2Vec`` names
    for the same argument: give the corpus one way.
    ``options`` are gensim's names (see :class:`~dualvec.training.TrainingParams`):
    ``sg``, ``hs``, ``negative``, ``ns_exponent``, ``cbow_mean``, ``window``,
    ``sample``, ``min_count``, ``max_vocab_size``, ``max_final_vocab``,
    ``alpha``, ``min_alpha``, ``epochs``, ``vector_size``, ``workers``, ``seed``.
    The corpus is read once and encoded into a temporary memory-mapped array
    (in ``workdir``, default the system temp directory), removed afterwards.
    """
    given = [c for c in (corpus, sentences, corpus_file) if c is not None]
    if len(given) != 1:
        raise DualvecError("no corpus: pass it first, or as sentences= or corpus_file= (gensim's names)" if not given
                           else "give the corpus once: as the first argument, sentences= or corpus_file=")
    corpus = given[0]
    known = set(TrainingParams.__dataclass_fields__)
    unknown = sorted(set(options) - known)
    if unknown:
        hints = [f"{u!r} is now {GENSIM3_NAMES[u]!r}" for u in unknown if u in GENSIM3_NAMES]
        raise DualvecError(f"unknown training option(s): {', '.join(unknown)}"
                           + (f" ({'; '.join(hints)}, as in gensim 4)" if hints else "")
                           + f"; known: {', '.join(sorted(known))}")
    params = TrainingParams(**options).validate()
    tok = tokenizer or default_tokenizer()
    warm = threading.Thread(target=_warm_up, args=(params, workdir), daemon=True)
    warm.start()
    with Progress(wants_progress(progress)) as bar:
        try:
            vocab, encoded = _scan_and_encode(corpus, tok, params, encoding_errors, bar,
                                              lambda scanned: select_vocabulary(scanned, params), workdir)
        finally:
            warm.join()
        try:
            if params.hs and len(vocab) < 2:
                raise DualvecError("hierarchical softmax needs at least 2 words in the vocabulary")
            weights = init_weights(len(vocab), params, np.random.default_rng(params.seed))
            tree = vocab.huffman_tree() if params.hs else None
            stats = train_epochs(encoded, vocab, weights, tree, params, progress=bar)
        finally:
            encoded.close()
    return _from_weights(vocab, weights, tree, params, tok, stats)


def train_more(
    model: DualVectors,
    corpus: CorpusLike,
    *,
    epochs: int | None = None,
    update_vocab: bool = True,
    alpha: float | None = None,
    min_alpha: float | None = None,
    workers: int | None = None,
    tokenizer: Tokenizer | None = None,
    encoding_errors: str = "strict",
    progress: bool | None = None,
) -> DualVectors:
    """``model`` trained further on more text, as a new model (gensim's ``build_vocab(update=True)`` + ``train``).

    With ``update_vocab``, new words reaching ``min_count`` in the new text
    join the vocabulary: their IN rows start random, their OUT rows at zero,
    and known words' counts grow. Under hierarchical softmax the Huffman
    tree is rebuilt for the new counts, so the inner-node weights restart
    from zero (a warning says so). ``model`` itself is unchanged;
    :meth:`DualVectors.train_more` is the in-place form.
    """
    if model.params is None:
        raise DualvecError("this model has no training parameters (it was imported); it cannot be trained further")
    if model.in_vectors.is_unit:
        raise DualvecError("the raw vectors were discarded; this model cannot be trained further")
    changes = {k: v for k, v in dict(epochs=epochs, alpha=alpha, min_alpha=min_alpha, workers=workers).items()
               if v is not None}
    params = TrainingParams(**{**model.params.to_dict(), **changes}).validate()
    tok = tokenizer or model.tokenizer or default_tokenizer()
    show = wants_progress(progress)

    def choose(scanned: ScannedCorpus) -> tuple[Vocabulary, np.ndarray]:
        if update_vocab:
            return select_vocabulary(scanned, params, existing=model.vocab)
        index = model.vocab.index
        return model.vocab, np.array([index.get(w, -1) for w in scanned.words], dtype=np.int64)

    with Progress(show) as bar:
        vocab, encoded = _scan_and_encode(corpus, tok, params, encoding_errors, bar, choose)
        try:
            rng = np.random.default_rng([params.seed, len(model.history)])
            weights = Weights(
                syn0=np.array(model.in_vectors.vectors, dtype=np.float32),
                syn1neg=(np.array(model.out_vectors.vectors, dtype=np.float32)
                         if model.out_kind == OUT_NEGATIVE_SAMPLING else None),
                syn1=np.array(model.hs_nodes, dtype=np.float32) if model.hs_nodes is not None else None,
            )
            tree = model.tree
            if len(vocab) != len(model.vocab):
                weights = grow_weights(weights, len(vocab), params, rng)
                if params.hs:
                    warnings.warn("the vocabulary grew: the hierarchical-softmax tree was rebuilt and its "
                                  "inner-node weights restart from zero", stacklevel=2)
                    tree = vocab.huffman_tree()
            stats = train_epochs(encoded, vocab, weights, tree, params, run=len(model.history), progress=bar)
        finally:
            encoded.close()
    return _from_weights(vocab, weights, tree, params, tok, model.history + stats)


register_trainer(train_more)
