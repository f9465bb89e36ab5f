"""Training options and what a run reports: gensim 4's names and defaults."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from ..errors import DualvecError, check_number
from .backends import BACKENDS

#: The most training threads a run may ask for (a typo of 1000000 would start that many).
MAX_WORKERS = 1024


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class TrainingParams:
    """word2vec options, named and defaulted as in gensim 4's ``Word2Vec``.

    ``max_final_vocab`` keeps the N most frequent words (ties by first
    appearance); gensim instead raises ``min_count`` until the vocabulary
    fits, which can leave fewer than N.

    ``batch`` trains with small dense products (HogBatch, Ji et al. 2016):
    skip-gram trains each centre word's context window as one batch sharing
    one draw of negatives (and, under hierarchical softmax, the centre word's
    Huffman path); CBOW with negative sampling shares one draw of negatives
    among a group of centre words spread over the sentence, and runs the
    exact updates on corpora of sentences too short for such groups.
    ``batch=False`` is the classic update of word2vec.c and gensim.

    ``backend`` names the trainer that runs the epochs (see
    :mod:`dualvec.training.backends`); ``"numba"`` is the CPU one.
    """

    vector_size: int = 100
    sg: bool = False
    hs: bool = False
    negative: int = 5
    ns_exponent: float = 0.75
    cbow_mean: bool = True
    batch: bool = True
    window: int = 5
    sample: float = 1e-3
    min_count: int = 5
    max_vocab_size: int | None = None
    max_final_vocab: int | None = None
    alpha: float = 0.025
    min_alpha: float = 0.0001
    epochs: int = 5
    workers: int = field(default_factory=_default_workers)
    seed: int = 1
    backend: str = "numba"

    def validate(self) -> TrainingParams:
        def need(cond: bool, msg: str) -> None:
            if not cond:
                raise DualvecError(msg)

        check_number("vector_size", self.vector_size, 1, integer=True)
        check_number("window", self.window, 1, integer=True)
        check_number("negative", self.negative, 0, integer=True)
        need(self.hs or self.negative > 0, "choose negative > 0, hs=True, or both: nothing to train otherwise")
        check_number("min_count", self.min_count, 1, integer=True)
        check_number("epochs", self.epochs, 1, integer=True)
        check_number("workers", self.workers, 1, MAX_WORKERS, integer=True)
        check_number("alpha", self.alpha, 0, above=True)
        check_number("min_alpha", self.min_alpha, 0, self.alpha)
        check_number("sample", self.sample, 0)
        check_number("ns_exponent", self.ns_exponent)
        check_number("seed", self.seed, 0, 2**32 - 1, integer=True)
        need(self.backend in BACKENDS,
             f"unknown backend {self.backend!r}; use one of {', '.join(BACKENDS)}")
        for name in ("max_vocab_size", "max_final_vocab"):
            v = getattr(self, name)
            if v is not None:
                check_number(name, v, 1, integer=True)
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainingParams:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class Weights:
    """The trained matrices: IN, OUT under negative sampling, HS inner nodes."""

    syn0: np.ndarray
    syn1neg: np.ndarray | None
    syn1: np.ndarray | None


@dataclass
class EpochStats:
    epoch: int
    loss: float  # mean negative log-likelihood per (context, target) example
    examples: int
    words: int  # corpus tokens processed (before sub-sampling)
    seconds: float

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else 0.0
