"""The dual-vectors model: both embedding spaces of one word2vec model.

``model.in_vectors`` holds W_IN (gensim's ``wv.vectors``), ``model.out_vectors``
W_OUT (``syn1neg``), with the same vocabulary and row order. Similarities can
pair them any way: ``space="in-out"`` means the query is looked up in IN and
the candidates in OUT. IN-IN neighbours are words of the same type (yale ->
harvard); IN-OUT neighbours are words that co-occur (yale -> faculty), the
observation behind DESM (Mitra et al., 2016).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Union

import numpy as np

from .corpus import CorpusLike, RegexTokenizer, Tokenizer, default_tokenizer
from .encoded import EncodedCorpus, ScannedCorpus, scan_corpus
from .errors import DualvecError
from .progress import Progress, wants_progress
from .store import read_model_dir, write_model_dir
from .training import (EpochStats, TrainingParams, Weights, grow_weights, init_weights,
                       select_vocabulary, train_epochs)
from .vectors import Vectors
from .vocab import HuffmanTree, Vocabulary

SPACES = ("in-in", "in-out", "out-in", "out-out")
#: What the OUT matrix is, recorded in the model's metadata.
OUT_NEGATIVE_SAMPLING = "negative-sampling"
OUT_HS_LINEARISED = "hs-linearised (approximate)"
OUT_IMPORTED = "imported"

Query = Union[str, np.ndarray]


def _dualvec_version() -> str:
    try:
        return version("dualvec")
    except PackageNotFoundError:  # running from a source tree
        return "unknown"


def hs_linearised_out(syn1: np.ndarray, tree: HuffmanTree) -> np.ndarray:
    """Approximate per-word OUT vectors for a hierarchical-softmax model.

    Under HS, ``log P(w|h) = Σ_j log σ(s_j · h·syn1[p_j])`` over the inner nodes
    p_j on w's path, with s_j = +1 for code bit 0 and -1 for bit 1. Around
    h·syn1 = 0, ``log σ(x) ≈ -log 2 + x/2``, so ``log P(w|h) ≈ const + h·u_w``
    with ``u_w = ½ Σ_j s_j · syn1[p_j]``: a first-order linearisation, good
    for ranking neighbours but not the exact HS score.
    """
    n = len(tree.offsets) - 1
    syn1 = np.asarray(syn1, dtype=np.float32)
    out = np.zeros((n, syn1.shape[1]), dtype=np.float32)
    for lo in range(0, n, 4096):  # in blocks: the full path matrix would be ~17x the vocabulary
        hi = min(n, lo + 4096)
        a, b = tree.offsets[lo], tree.offsets[hi]
        signs = 0.5 - tree.codes[a:b].astype(np.float32)  # ½·s_j: +½ for bit 0, -½ for bit 1
        contrib = signs[:, None] * syn1[tree.points[a:b]]
        starts = tree.offsets[lo:hi] - a
        nonempty = np.diff(tree.offsets[lo : hi + 1]) > 0
        out[lo:hi][nonempty] = np.add.reduceat(contrib, starts[nonempty], axis=0)
    return out


class DualVectors:
    """IN and OUT vectors of one vocabulary, with neighbours in any pairing.

    Build one with :func:`train`, :func:`load`, or an import from
    :mod:`dualvec.formats`.
    """

    def __init__(
        self,
        vocab: Vocabulary,
        in_vectors: np.ndarray,
        out_vectors: np.ndarray | None = None,
        *,
        params: TrainingParams | None = None,
        out_kind: str | None = None,
        hs_nodes: np.ndarray | None = None,
        tree: HuffmanTree | None = None,
        tokenizer: Tokenizer | None = None,
        counts_known: bool = True,
        history: list[EpochStats] | None = None,
        unit: bool = False,
    ):
        self.vocab = vocab
        self.in_vectors = Vectors(vocab, in_vectors, "in", is_unit=unit)
        self.out_vectors = Vectors(vocab, out_vectors, "out", is_unit=unit) if out_vectors is not None else None
        if out_vectors is not None and out_vectors.shape[1] != in_vectors.shape[1]:
            raise DualvecError(
                f"IN vectors have {in_vectors.shape[1]} dims but OUT vectors have {out_vectors.shape[1]}"
            )
        self.params = params
        self.out_kind = out_kind if out_vectors is not None else None
        self.hs_nodes = hs_nodes
        self.tree = tree
        self.tokenizer = tokenizer
        self.counts_known = counts_known
        self.history: list[EpochStats] = list(history or [])

    # -- basic facts ------------------------------------------------------------

    @property
    def words(self) -> list[str]:
        return self.vocab.words

    @property
    def vector_size(self) -> int:
        return self.in_vectors.vector_size

    def __len__(self) -> int:
        return len(self.vocab)

    def __contains__(self, word: object) -> bool:
        return word in self.vocab

    def __repr__(self) -> str:
        out = f", OUT: {self.out_kind}" if self.out_vectors is not None else ", no OUT"
        return f"DualVectors({len(self)} words x {self.vector_size} dims{out})"

    def info(self) -> dict[str, Any]:
        """A summary: sizes, what OUT is, and how the model was trained."""
        return {
            "words": len(self),
            "vector_size": self.vector_size,
            "out_space": self.out_kind,
            "hierarchical_softmax_tree": self.tree is not None,
            "unit_normalised_only": self.in_vectors.is_unit,
            "corpus_words": self.vocab.total_words if self.counts_known else None,
            "tokenizer": repr(self.tokenizer) if self.tokenizer is not None else None,
            "params": self.params.to_dict() if self.params else None,
            "epochs_trained": len(self.history),
            "last_epoch_loss": self.history[-1].loss if self.history else None,
        }

    # -- spaces -------------------------------------------------------------------

    def space(self, name: str) -> Vectors:
        """The ``"in"`` or ``"out"`` vectors."""
        if name == "in":
            return self.in_vectors
        if name == "out":
            if self.out_vectors is None:
                raise DualvecError("this model has no OUT vectors (it was loaded from IN vectors only)")
            return self.out_vectors
        raise DualvecError(f"unknown space {name!r}; use 'in' or 'out'")

    def space_pair(self, space: str) -> tuple[Vectors, Vectors]:
        """(query vectors, candidate vectors) for a pairing such as ``"in-out"``."""
        if space not in SPACES:
            raise DualvecError(f"unknown space {space!r}; use one of {', '.join(SPACES)}")
        q, c = space.split("-")
        return self.space(q), self.space(c)

    def _query(self, positive: Sequence[Query], negative: Sequence[Query], qspace: Vectors) -> tuple[np.ndarray, list[int]]:
        """Mean of the unit query vectors (negatives subtracted), and the rows to exclude."""
        terms: list[tuple[float, Query]] = [(1.0, p) for p in positive] + [(-1.0, n) for n in negative]
        if not terms:
            raise DualvecError("give at least one positive or negative word or vector")
        acc = np.zeros(qspace.vector_size, dtype=np.float64)
        words = [t for _, t in terms if isinstance(t, str)]
        rows = dict(zip(words, qspace.lookup_rows(words))) if words else {}
        for weight, term in terms:
            if isinstance(term, str):
                vec = qspace.unit[rows[term]]
            else:
                vec = np.asarray(term, dtype=np.float64).ravel()
                if vec.shape != (qspace.vector_size,):
                    raise DualvecError(
                        f"query vector has {vec.size} dims, this model has {qspace.vector_size}"
                    )
                n = np.linalg.norm(vec)
                vec = vec / n if n > 0 else vec
            acc += weight * vec
        norm = np.linalg.norm(acc)
        return (acc / norm if norm > 0 else acc).astype(np.float32), [int(rows[w]) for w in words]

    @staticmethod
    def _as_list(x: Query | Sequence[Query] | None) -> list[Query]:
        if x is None:
            return []
        if isinstance(x, (str, np.ndarray)):
            return [x]
        return list(x)

    def _top(self, scores: np.ndarray, topn: int, exclude: Iterable[int]) -> list[tuple[str, float]]:
        scores = scores.astype(np.float64, copy=True)
        for r in exclude:
            if r < len(scores):
                scores[r] = -np.inf
        k = min(topn, int(np.isfinite(scores).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        words = self.vocab.words
        return [(words[i], float(scores[i])) for i in top]

    def most_similar(
        self,
        positive: Query | Sequence[Query] | None = None,
        negative: Query | Sequence[Query] | None = None,
        *,
        space: str = "in-in",
        topn: int = 10,
        exclude_query: bool = True,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """The ``topn`` most cosine-similar words, as ``(word, cosine)`` pairs.

        ``space="in-out"`` looks the query up in IN and ranks OUT vectors (the
        first name is the query's space, the second the candidates'). The
        query is the mean of the unit vectors of ``positive`` minus those of
        ``negative`` (words or raw vectors), as in gensim. Query words are
        left out of the result unless ``exclude_query=False``;
        ``restrict_vocab`` keeps only the most frequent N candidates.
        """
        qspace, cspace = self.space_pair(space)
        q, rows = self._query(self._as_list(positive), self._as_list(negative), qspace)
        cand = cspace.unit if restrict_vocab is None else cspace.unit[:restrict_vocab]
        return self._top(cand @ q, topn, rows if exclude_query else [])

    def most_similar_batch(
        self, words: Sequence[str], *, space: str = "in-in", topn: int = 10, exclude_query: bool = True,
        batch_size: int = 1024,
    ) -> list[list[tuple[str, float]]]:
        """:meth:`most_similar` for many single-word queries, as matrix products."""
        qspace, cspace = self.space_pair(space)
        rows = qspace.lookup_rows(words)
        results: list[list[tuple[str, float]]] = []
        for lo in range(0, len(rows), batch_size):
            block = rows[lo : lo + batch_size]
            scores = qspace.unit[block] @ cspace.unit.T
            for r, s in zip(block, scores):
                results.append(self._top(s, topn, [int(r)] if exclude_query else []))
        return results

    def similarity(self, a: str, b: str, *, space: str = "in-in") -> float:
        """Cosine of ``a`` (in the first space) and ``b`` (in the second); 0 for a zero vector."""
        qspace, cspace = self.space_pair(space)
        ra, rb = qspace.lookup_rows([a])[0], cspace.lookup_rows([b])[0]
        return float(np.dot(qspace.unit[ra], cspace.unit[rb]))

    def hs_log_prob(self, word: Query) -> np.ndarray:
        """Exact hierarchical-softmax ``log P(w | h)`` of every word w, for h = IN[word].

        ``log P(w|h) = Σ_j log σ(s_j · h·syn1[p_j])`` over the inner nodes p_j of
        w's Huffman path (s_j = +1 for code bit 0, -1 for bit 1). This is what
        an HS model learned; the OUT vectors of an HS-only model are its linear
        approximation. ``word`` may also be a raw hidden vector.
        """
        if self.tree is None or self.hs_nodes is None:
            raise DualvecError("this model was not trained with hierarchical softmax (hs=1)")
        if isinstance(word, str):
            h = np.asarray(self.in_vectors.vectors[self.in_vectors.get_index(word)], dtype=np.float64)
        else:
            h = np.asarray(word, dtype=np.float64).ravel()
            if h.shape != (self.vector_size,):
                raise DualvecError(f"query vector has {h.size} dims, this model has {self.vector_size}")
        node_scores = np.asarray(self.hs_nodes, dtype=np.float64) @ h
        t = self.tree
        x = (1.0 - 2.0 * t.codes) * node_scores[t.points]
        log_sig = -np.logaddexp(0.0, -x)  # log σ(x), stable for large |x|
        return np.add.reduceat(log_sig, t.offsets[:-1]) if len(log_sig) else np.zeros(len(self))

    def most_probable(self, word: Query, *, topn: int = 10, exclude_query: bool = True) -> list[tuple[str, float]]:
        """Words ranked by the exact HS ``log P(w | IN[word])`` (see :meth:`hs_log_prob`)."""
        rows = [self.in_vectors.get_index(word)] if isinstance(word, str) and exclude_query else []
        return self._top(self.hs_log_prob(word), topn, rows)

    def discard_raw_vectors(self) -> None:
        """Keep only unit-normalised rows in both spaces, halving memory use.

        Similarities are unchanged; further training is no longer possible.
        """
        self.in_vectors.discard_raw()
        if self.out_vectors is not None:
            self.out_vectors.discard_raw()

    # -- saving -------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Save in dualvec's directory format (atomic; no pickle). See :mod:`dualvec.store`."""
        arrays: dict[str, np.ndarray] = {"counts": self.vocab.counts, "in_vectors": self.in_vectors.vectors}
        if self.out_vectors is not None:
            arrays["out_vectors"] = self.out_vectors.vectors
        if self.hs_nodes is not None and self.tree is not None:
            arrays.update(hs_nodes=self.hs_nodes, hs_codes=self.tree.codes, hs_points=self.tree.points,
                          hs_offsets=self.tree.offsets)
        tok = self.tokenizer
        header = {
            "created_by": f"dualvec {_dualvec_version()}",
            "vocab_size": len(self),
            "vector_size": self.vector_size,
            "out_space": self.out_kind,
            "unit_normalised_only": self.in_vectors.is_unit,
            "counts_known": self.counts_known,
            "tokenizer": ({"pattern": tok.pattern, "lowercase": tok.lowercase}
                          if isinstance(tok, RegexTokenizer) else None),
            "params": self.params.to_dict() if self.params else None,
            "history": [asdict(s) for s in self.history],
        }
        return write_model_dir(path, header, self.vocab.words, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: bool = True) -> DualVectors:
        return load(path, mmap=mmap)

    # -- training more ----------------------------------------------------------------

    def train_more(
        self,
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
        """Continue training on more text, in place (gensim's ``build_vocab(update=True)`` + ``train``).

        With ``update_vocab``, new words reaching ``min_count`` in the new text
        join the vocabulary: their IN rows start random, their OUT rows at zero,
        and known words' counts grow. Under hierarchical softmax the Huffman
        tree is rebuilt for the new counts, so the inner-node weights restart
        from zero (a warning says so). Returns the model.
        """
        if self.params is None:
            raise DualvecError("this model has no training parameters (it was imported); it cannot be trained further")
        if self.in_vectors.is_unit:
            raise DualvecError("the raw vectors were discarded; this model cannot be trained further")
        changes = {k: v for k, v in dict(epochs=epochs, alpha=alpha, min_alpha=min_alpha, workers=workers).items()
                   if v is not None}
        params = TrainingParams(**{**self.params.to_dict(), **changes}).validate()
        tok = tokenizer or self.tokenizer or default_tokenizer()
        show = wants_progress(progress)
        def choose(scanned: ScannedCorpus) -> tuple[Vocabulary, np.ndarray]:
            if update_vocab:
                return select_vocabulary(scanned, params, existing=self.vocab)
            index = self.vocab.index
            return self.vocab, np.array([index.get(w, -1) for w in scanned.words], dtype=np.int64)

        with Progress(show) as bar:
            vocab, encoded = _scan_and_encode(corpus, tok, params, encoding_errors, bar, choose)
            try:
                rng = np.random.default_rng([params.seed, len(self.history)])
                weights = Weights(
                    syn0=np.array(self.in_vectors.vectors, dtype=np.float32),
                    syn1neg=(np.array(self.out_vectors.vectors, dtype=np.float32)
                             if self.out_kind == OUT_NEGATIVE_SAMPLING else None),
                    syn1=np.array(self.hs_nodes, dtype=np.float32) if self.hs_nodes is not None else None,
                )
                tree = self.tree
                if len(vocab) != len(self.vocab):
                    weights = grow_weights(weights, len(vocab), params, rng)
                    if params.hs:
                        warnings.warn("the vocabulary grew: the hierarchical-softmax tree was rebuilt and its "
                                      "inner-node weights restart from zero", stacklevel=2)
                        tree = vocab.huffman_tree()
                stats = train_epochs(encoded, vocab, weights, tree, params, run=len(self.history), progress=bar)
            finally:
                encoded.close()
        trained = _from_weights(vocab, weights, tree, params, tok, self.history + stats)
        self.__dict__.update(trained.__dict__)
        return self


# -- building, training and loading -----------------------------------------------------


def _scan_and_encode(
    corpus: CorpusLike, tok: Tokenizer, params: TrainingParams, encoding_errors: str, bar: Progress,
    choose: Callable[[ScannedCorpus], tuple[Vocabulary, np.ndarray]],
) -> tuple[Vocabulary, EncodedCorpus]:
    """Read the corpus once, let ``choose`` pick the vocabulary, encode; the caller closes the result."""
    bar.task("reading corpus", None)
    scanned = scan_corpus(corpus, tok, params.max_vocab_size, encoding_errors,
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
    corpus: CorpusLike,
    *,
    tokenizer: Tokenizer | None = None,
    encoding_errors: str = "strict",
    progress: bool | None = None,
    workdir: str | os.PathLike | None = None,
    **options: Any,
) -> DualVectors:
    """Train word2vec on ``corpus`` and keep both spaces.

    ``corpus``: a text file (one sentence per line; ``.gz``/``.bz2`` fine), a
    directory of them, or an iterable of token lists or strings.
    ``options`` are gensim's names (see :class:`~dualvec.training.TrainingParams`):
    ``sg``, ``hs``, ``negative``, ``ns_exponent``, ``cbow_mean``, ``window``,
    ``sample``, ``min_count``, ``max_vocab_size``, ``max_final_vocab``,
    ``alpha``, ``min_alpha``, ``epochs``, ``vector_size``, ``workers``, ``seed``.
    The corpus is read once and encoded into a temporary memory-mapped array
    (in ``workdir``, default the system temp directory), removed afterwards.
    """
    known = set(TrainingParams.__dataclass_fields__)
    unknown = sorted(set(options) - known)
    if unknown:
        raise DualvecError(f"unknown training option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    params = TrainingParams(**options).validate()
    tok = tokenizer or default_tokenizer()
    with Progress(wants_progress(progress)) as bar:
        vocab, encoded = _scan_and_encode(corpus, tok, params, encoding_errors, bar,
                                          lambda scanned: select_vocabulary(scanned, params))
        try:
            if params.hs and len(vocab) < 2:
                raise DualvecError("hierarchical softmax needs at least 2 words in the vocabulary")
            weights = init_weights(len(vocab), params, np.random.default_rng(params.seed))
            tree = vocab.huffman_tree() if params.hs else None
            stats = train_epochs(encoded, vocab, weights, tree, params, progress=bar)
        finally:
            encoded.close()
    return _from_weights(vocab, weights, tree, params, tok, stats)


def _expect(arr: np.ndarray | None, name: str, shape: tuple, dtype: Any, root: Path) -> None:
    if arr is None:
        return
    if arr.dtype != np.dtype(dtype) or arr.shape != shape:
        raise DualvecError(f"{root}: {name} has shape {arr.shape} and dtype {arr.dtype}, expected {shape} {np.dtype(dtype)}")


def load(path: str | os.PathLike, mmap: bool = True) -> DualVectors:
    """Load a model saved by :meth:`DualVectors.save`.

    With ``mmap=True`` the matrices are mapped read-only, so several processes
    share one copy; training further copies them into memory first.
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
        if np.any(np.diff(offsets) < 0) or (len(points) and (points.min() < 0 or points.max() >= n - 1)):
            raise DualvecError(f"{root}: the hierarchical-softmax tree is corrupt")
        tree = HuffmanTree(codes=codes, points=points, offsets=offsets)
    try:
        vocab = Vocabulary(words, arrays["counts"])
        vocab.index  # noqa: B018 -- fails early on duplicate words
    except DualvecError as exc:
        raise DualvecError(f"{root}: {exc}") from None
    params = TrainingParams.from_dict(header["params"]) if isinstance(header.get("params"), dict) else None
    tok_spec = header.get("tokenizer")
    tok = RegexTokenizer(tok_spec["pattern"], tok_spec["lowercase"]) if isinstance(tok_spec, dict) else None
    try:
        history = [EpochStats(**h) for h in header.get("history") or []]
    except TypeError:
        raise DualvecError(f"{root}: the training history in the header is corrupt") from None
    return DualVectors(vocab, arrays["in_vectors"], arrays.get("out_vectors"), params=params,
                       out_kind=header.get("out_space"), hs_nodes=arrays.get("hs_nodes"), tree=tree,
                       tokenizer=tok, counts_known=bool(header.get("counts_known", True)),
                       history=history, unit=bool(header.get("unit_normalised_only", False)))
