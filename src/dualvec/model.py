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
from collections.abc import Iterable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Union

import numpy as np

from .errors import DualvecError
from .store import ModelParts, read_model, write_model
from .text.tokenize import Tokenizer
from .text.vocab import HuffmanTree, Vocabulary
from .training.options import EpochStats, TrainingParams
from .vectors import Vectors

if TYPE_CHECKING:
    from .text.sources import CorpusLike

SPACES = ("in-in", "in-out", "out-in", "out-out")
#: What the OUT matrix is, recorded in the model's metadata.
OUT_NEGATIVE_SAMPLING = "negative-sampling"
OUT_HS_LINEARISED = "hs-linearised (approximate)"
OUT_IMPORTED = "imported"
#: How ranking pools a text's word vectors (:mod:`dualvec.ranking.desm`): word2vec's models the mean of unit
#: vectors (DESM as published); a model tuned for ranking (:mod:`dualvec.training.contrastive`) the sum of its
#: raw vectors, whose norms are the words' learned weights. A model records which (``model.tuning``).
POOLING_UNIT_MEAN = "unit-mean"
POOLING_SUM = "sum"
POOLINGS = (POOLING_UNIT_MEAN, POOLING_SUM)

Query = Union[str, np.ndarray]

#: ``train_more(model, corpus, **options) -> DualVectors``, set by :mod:`dualvec.training.word2vec` when it is
#: imported (``import dualvec`` does): the objective sits above the model it builds, so the model never imports it.
_train_more: Callable[..., DualVectors] | None = None


def register_trainer(train_more: Callable[..., DualVectors]) -> None:
    """Let :meth:`DualVectors.train_more` delegate to ``train_more`` (the word2vec objective's)."""
    global _train_more
    _train_more = train_more


def parse_space(space: str) -> tuple[str, str]:
    """``"in-out"`` -> ``("in", "out")``: the query's space and the candidates'."""
    if space not in SPACES:
        raise DualvecError(f"unknown space {space!r}; use one of {', '.join(SPACES)}")
    q, c = space.split("-")
    return q, c


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


class NoSuchMatrix(DualvecError, AttributeError):
    """A gensim name for a matrix this model does not have (``hasattr`` answers False)."""


class KeyedSpace:
    """One space of a model under gensim's ``KeyedVectors`` names: ``model.wv`` is the IN space.

    Lookups are the space's own :class:`Vectors` (``wv.vectors``, ``wv["word"]``,
    ``wv.key_to_index``, ``wv.index_to_key``, ``wv.get_vector``); similarities pair the space with
    itself (``model.wv.most_similar`` is ``model.most_similar(space="in-in")``), so nothing here
    mixes IN and OUT. For IN-OUT ask the model: ``model.most_similar(w, space="in-out")``.
    """

    def __init__(self, model: DualVectors, name: str):
        self._model = model
        self._name = name

    @property
    def _space(self) -> Vectors:
        return self._model.space(self._name)  # looked up each time: follows train_more

    @property
    def _pairing(self) -> str:
        return f"{self._name}-{self._name}"

    def __getattr__(self, attr: str) -> Any:  # vectors, key_to_index, get_vector, vector_size, unit, ...
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self._space, attr)

    def __getitem__(self, word: str | Iterable[str]) -> np.ndarray:
        return self._space[word]

    def __contains__(self, word: object) -> bool:
        return word in self._space

    def __len__(self) -> int:
        return len(self._space)

    def __iter__(self):
        return iter(self._space)

    def __repr__(self) -> str:
        return f"KeyedSpace({self._name.upper()} of {self._model!r})"

    def most_similar(self, positive: Query | Sequence[Query] | None = None,
                     negative: Query | Sequence[Query] | None = None, topn: int = 10,
                     restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        return self._model.most_similar(positive, negative, space=self._pairing, topn=topn,
                                        restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive: Query | Sequence[Query] | None = None,
                            negative: Query | Sequence[Query] | None = None, topn: int = 10,
                            restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        return self._model.most_similar_cosmul(positive, negative, space=self._pairing, topn=topn,
                                               restrict_vocab=restrict_vocab)

    def similarity(self, w1: str, w2: str) -> float:
        return self._model.similarity(w1, w2, space=self._pairing)

    def n_similarity(self, ws1: Sequence[str], ws2: Sequence[str]) -> float:
        return self._model.n_similarity(ws1, ws2, space=self._pairing)

    def doesnt_match(self, words: Sequence[str]) -> str:
        return self._model.doesnt_match(words, space=self._pairing)


def _check_finite(vocab: Vocabulary, matrix: np.ndarray, name: str) -> None:
    """Refuse NaN or infinite vectors, naming the first word that has one (blockwise: memory stays flat)."""
    if matrix.ndim != 2 or matrix.dtype.kind not in "fc":
        return
    for lo in range(0, matrix.shape[0], 1 << 16):
        bad = ~np.isfinite(matrix[lo : lo + (1 << 16)]).all(axis=1)
        if bad.any():
            row = lo + int(np.argmax(bad))
            word = vocab.words[row] if row < len(vocab) else f"row {row}"
            raise DualvecError(f"the {name} vector of {word!r} holds NaN or infinity")


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
        params_recorded: Iterable[str] | None = None,
        tuning: dict[str, Any] | None = None,
    ):
        self.vocab = vocab
        vocab.index  # noqa: B018 -- refuses a word listed twice, naming it
        _check_finite(vocab, in_vectors, "IN")
        if out_vectors is not None:
            _check_finite(vocab, out_vectors, "OUT")
        self.in_vectors = Vectors(vocab, in_vectors, "in", is_unit=unit)
        self.out_vectors = Vectors(vocab, out_vectors, "out", is_unit=unit) if out_vectors is not None else None
        if out_vectors is not None and out_vectors.shape[1] != in_vectors.shape[1]:
            raise DualvecError(
                f"IN vectors have {in_vectors.shape[1]} dims but OUT vectors have {out_vectors.shape[1]}"
            )
        self.params = params
        #: Which of ``params`` the source recorded (``None``: all of them, as for a model dualvec trained);
        #: an imported model's other settings are dualvec's defaults, shown as unknown.
        self.params_recorded = frozenset(params_recorded) if params_recorded is not None else None
        self.out_kind = out_kind if out_vectors is not None else None
        self.hs_nodes = hs_nodes
        self.tree = tree
        self.tokenizer = tokenizer
        self.counts_known = counts_known
        self.history: list[EpochStats] = list(history or [])
        #: How the model was tuned for ranking (:func:`dualvec.training.contrastive.tune`), ``None`` if it was not.
        self.tuning = tuning
        if tuning is not None and (not isinstance(tuning, dict) or tuning.get("pooling") not in POOLINGS):
            raise DualvecError(f"a model's tuning record needs a pooling, one of {', '.join(POOLINGS)}")
        #: The digest recorded when this model was saved (``None`` for a model never saved or loaded).
        self.fingerprint: str | None = None

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

    # -- gensim's names, for code written against gensim (never blurring IN and OUT) ----

    @property
    def wv(self) -> KeyedSpace:
        """gensim's ``model.wv``: the IN space, with ``KeyedVectors``' names (similarities IN-IN)."""
        return KeyedSpace(self, "in")

    def __getitem__(self, word: str | Iterable[str]) -> np.ndarray:
        """``model["word"]``: the IN vector, as gensim's ``model.wv["word"]``."""
        return self.in_vectors[word]

    __iter__ = None  # ``model[...]`` takes words, not positions: a model is not a sequence

    @property
    def syn1neg(self) -> np.ndarray:
        """gensim's ``syn1neg``: the OUT matrix of a negative-sampling (or imported) model."""
        if self.out_vectors is None:
            raise NoSuchMatrix("this model has no OUT vectors, so no syn1neg (it was loaded from IN vectors only)")
        if self.out_kind == OUT_HS_LINEARISED:
            raise NoSuchMatrix("this hierarchical-softmax model has no syn1neg: its inner nodes (gensim's syn1) are "
                               "model.hs_nodes, and model.out_vectors is their linearisation (approximate)")
        return self.out_vectors.vectors

    @property
    def syn1(self) -> np.ndarray:
        """gensim's ``syn1``: hierarchical softmax's inner-node rows (V − 1 of them; gensim allocates V)."""
        if self.hs_nodes is None:
            raise NoSuchMatrix("this model was not trained with hierarchical softmax: no syn1 (OUT is syn1neg)")
        return self.hs_nodes

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
            "params": ({k: (v if self.params_recorded is None or k in self.params_recorded else "unknown")
                        for k, v in self.params.to_dict().items()} if self.params else None),
            "epochs_trained": len(self.history),
            "last_epoch_loss": self.history[-1].loss if self.history else None,
            "pooling": self.pooling,
            "tuned_for_ranking": self.tuning,
        }

    # -- spaces -------------------------------------------------------------------

    @property
    def pooling(self) -> str:
        """How ranking pools this model's word vectors: one of :data:`POOLINGS`."""
        return self.tuning["pooling"] if self.tuning is not None else POOLING_UNIT_MEAN

    def pooled_matrix(self, name: str) -> np.ndarray:
        """The rows ranking sums for a text in space ``name``: unit rows (``"unit-mean"``, whose
        mean is DESM's), or the raw rows of a tuned model (``"sum"``, the norms its weights)."""
        space = self.space(name)
        if self.pooling == POOLING_UNIT_MEAN:
            return space.unit
        if space.is_unit:
            raise DualvecError("this model was tuned for ranking, but only its unit vectors are kept: "
                               "its pooling weights (the norms) are lost")
        return space.vectors

    def tuned_copy(self, in_vectors: np.ndarray, out_vectors: np.ndarray, tuning: dict[str, Any]) -> DualVectors:
        """This model's vocabulary, tokeniser and training record with new IN and OUT vectors and
        the ``tuning`` record (what :func:`dualvec.training.contrastive.tune` returns); the OUT
        vectors are the tuned encoder's document side, not a word2vec output layer."""
        return DualVectors(self.vocab, in_vectors, out_vectors, params=self.params,
                           out_kind=self.out_kind or OUT_IMPORTED, tokenizer=self.tokenizer,
                           counts_known=self.counts_known, history=self.history,
                           params_recorded=self.params_recorded, tuning=tuning)

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
        q, c = parse_space(space)
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

    def most_similar_cosmul(
        self,
        positive: Query | Sequence[Query] | None = None,
        negative: Query | Sequence[Query] | None = None,
        *,
        space: str = "in-in",
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """gensim's ``most_similar_cosmul`` (3CosMul, Levy and Goldberg 2014) in any pairing.

        Each candidate scores the product over ``positive`` of ``(1 + cos) / 2`` divided by the
        product over ``negative`` (plus 1e-6), cosines taken between the query words in the
        first space and the candidates in the second. Query words are left out of the result;
        ``restrict_vocab`` keeps only the most frequent N candidates.
        """
        qspace, cspace = self.space_pair(space)
        pos, neg = self._as_list(positive), self._as_list(negative)
        if not pos:
            raise DualvecError("most_similar_cosmul needs at least one positive word or vector")
        cand = cspace.unit if restrict_vocab is None else cspace.unit[:restrict_vocab]
        exclude: list[int] = []

        def shifted(term: Query) -> np.ndarray:
            if isinstance(term, str):
                row = int(qspace.lookup_rows([term])[0])
                exclude.append(row)
                vec = qspace.unit[row]
            else:
                vec = np.asarray(term, dtype=np.float32).ravel()
                if vec.shape != (qspace.vector_size,):
                    raise DualvecError(f"query vector has {vec.size} dims, this model has {qspace.vector_size}")
                n = np.linalg.norm(vec)
                vec = vec / n if n > 0 else vec
            return (1.0 + cand @ vec.astype(np.float32)) / 2.0

        num = np.prod([shifted(t) for t in pos], axis=0)
        den = np.prod([shifted(t) for t in neg], axis=0) if neg else np.ones(len(cand), dtype=np.float32)
        return self._top(num / (den + 1e-6), topn, exclude)

    def n_similarity(self, words_a: Sequence[str], words_b: Sequence[str], *, space: str = "in-in") -> float:
        """gensim's ``n_similarity``: the cosine of the mean raw vector of ``words_a`` (in the first
        space) and that of ``words_b`` (in the second)."""
        qspace, cspace = self.space_pair(space)
        words_a, words_b = self._as_list(words_a), self._as_list(words_b)
        if not words_a or not words_b:
            raise DualvecError("n_similarity needs at least one word on each side")
        a = np.asarray(qspace.vectors[qspace.lookup_rows(words_a)], dtype=np.float64).mean(axis=0)
        b = np.asarray(cspace.vectors[cspace.lookup_rows(words_b)], dtype=np.float64).mean(axis=0)
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        return float(a @ b / (na * nb)) if na > 0 and nb > 0 else 0.0

    def doesnt_match(self, words: Sequence[str], *, space: str = "in-in") -> str:
        """gensim's ``doesnt_match``: the word least similar to the mean of all of them.

        The mean is of the words' unit vectors in the pairing's first space; each word is then
        compared by its unit vector in the second (``"in-in"`` is gensim's). Words outside the
        vocabulary are left out with a warning, as gensim does.
        """
        qspace, cspace = self.space_pair(space)
        words = self._as_list(words)
        used = [w for w in words if w in qspace]
        if len(used) != len(words):
            import warnings

            ignored = ", ".join(repr(w) for w in dict.fromkeys(w for w in words if w not in qspace))
            warnings.warn(f"not in vocabulary, left out: {ignored}", stacklevel=2)
        if not used:
            raise DualvecError("doesnt_match needs at least one word in the vocabulary")
        rows = qspace.lookup_rows(used)
        mean = np.asarray(qspace.unit[rows], dtype=np.float64).mean(axis=0)
        n = np.linalg.norm(mean)
        mean = mean / n if n > 0 else mean
        sims = np.asarray(cspace.unit[rows], dtype=np.float64) @ mean
        return sorted(zip(sims.tolist(), used), reverse=True)[-1][1]

    def is_approximate(self, space: str) -> bool:
        """Whether the pairing ``space`` (``"in-out"``, ...) uses an OUT space that is hierarchical
        softmax's linearised approximation rather than a trained OUT matrix."""
        return self.out_kind == OUT_HS_LINEARISED and "out" in parse_space(space)

    def most_similar_spaces(
        self,
        positive: Query | Sequence[Query] | None = None,
        negative: Query | Sequence[Query] | None = None,
        *,
        spaces: Sequence[str] = SPACES,
        topn: int = 10,
        exclude_query: bool = True,
    ) -> dict[str, list[tuple[str, float]]]:
        """:meth:`most_similar` in several pairings at once: ``{space: [(word, cosine), ...]}``.

        Pairings that share the candidates' space are scored in one pass over
        that matrix (a V × 2 product instead of two V × 1), which halves the
        memory traffic that bounds these products.
        """
        pos, neg = self._as_list(positive), self._as_list(negative)
        queries = {}
        for space in spaces:
            qname, cname = parse_space(space)
            if qname not in queries:
                queries[qname] = self._query(pos, neg, self.space(qname))
            self.space(cname)  # a clear error for a model without OUT
        out: dict[str, list[tuple[str, float]]] = {}
        for cname in dict.fromkeys(parse_space(s)[1] for s in spaces):
            mine = [s for s in spaces if parse_space(s)[1] == cname]
            q = np.stack([queries[parse_space(s)[0]][0] for s in mine], axis=1)
            scores = self.space(cname).unit @ q
            for j, s in enumerate(mine):
                rows = queries[parse_space(s)[0]][1]
                out[s] = self._top(scores[:, j], topn, rows if exclude_query else [])
        return {s: out[s] for s in spaces}

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

        Similarities are unchanged; further training is no longer possible. A model tuned for
        ranking keeps its raw vectors: their norms are its pooling weights.
        """
        if self.pooling != POOLING_UNIT_MEAN:
            raise DualvecError("a model tuned for ranking needs its raw vectors (their norms are its pooling "
                               "weights); they cannot be discarded")
        self.in_vectors.discard_raw()
        if self.out_vectors is not None:
            self.out_vectors.discard_raw()

    # -- saving and loading ------------------------------------------------------------

    def to_parts(self) -> ModelParts:
        """What :func:`dualvec.store.write_model` saves."""
        return ModelParts(self.vocab.words, self.vocab.counts, self.in_vectors.vectors,
                          self.out_vectors.vectors if self.out_vectors is not None else None,
                          out_kind=self.out_kind, hs_nodes=self.hs_nodes, tree=self.tree, params=self.params,
                          tokenizer=self.tokenizer, counts_known=self.counts_known, history=self.history,
                          unit=self.in_vectors.is_unit, created_by=f"dualvec {_dualvec_version()}",
                          params_recorded=sorted(self.params_recorded) if self.params_recorded is not None else None,
                          tuning=self.tuning)

    @classmethod
    def from_parts(cls, parts: ModelParts, source: str | os.PathLike = "") -> DualVectors:
        try:
            vocab = Vocabulary(parts.words, parts.counts)
            vocab.index  # noqa: B018 -- fails early on duplicate words
        except DualvecError as exc:
            raise DualvecError(f"{source}: {exc}" if source else str(exc)) from None
        model = cls(vocab, parts.in_vectors, parts.out_vectors, params=parts.params, out_kind=parts.out_kind,
                    hs_nodes=parts.hs_nodes, tree=parts.tree, tokenizer=parts.tokenizer,
                    counts_known=parts.counts_known, history=parts.history, unit=parts.unit,
                    params_recorded=parts.params_recorded, tuning=parts.tuning)
        model.fingerprint = parts.fingerprint
        return model

    def save(self, path: str | os.PathLike) -> Path:
        """Save in dualvec's directory format (atomic; no pickle). See :mod:`dualvec.store`."""
        return write_model(path, self.to_parts())

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: bool = True) -> DualVectors:
        return load(path, mmap=mmap)

    # -- training more ----------------------------------------------------------------

    def train_more(self, corpus: CorpusLike, **options: Any) -> DualVectors:
        """Continue training on more text, in place, and return the model.

        ``options``: ``epochs``, ``update_vocab``, ``alpha``, ``min_alpha``,
        ``workers``, ``tokenizer``, ``encoding_errors``, ``progress``; see
        :func:`dualvec.training.word2vec.train_more`.
        """
        if _train_more is None:  # pragma: no cover (``import dualvec`` registers it)
            raise DualvecError("no trainer is registered: import dualvec.training.word2vec first")
        trained = _train_more(self, corpus, **options)
        self.vocab, self.in_vectors, self.out_vectors = trained.vocab, trained.in_vectors, trained.out_vectors
        self.params, self.out_kind, self.hs_nodes, self.tree = (trained.params, trained.out_kind,
                                                                trained.hs_nodes, trained.tree)
        self.params_recorded = None  # every setting of the run just made is known
        self.tokenizer, self.counts_known, self.history = trained.tokenizer, trained.counts_known, trained.history
        self.tuning = trained.tuning  # word2vec's update undoes a tuning for ranking: it pools as word2vec again
        return self


def load(path: str | os.PathLike, mmap: bool = True) -> DualVectors:
    """Load a model saved by :meth:`DualVectors.save`.

    With ``mmap=True`` the matrices are mapped read-only, so several processes
    share one copy; training further copies them into memory first.
    """
    return DualVectors.from_parts(read_model(path, mmap=mmap), source=path)
