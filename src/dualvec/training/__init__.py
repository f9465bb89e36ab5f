"""Training: options, the starting vocabulary and weights, the tables every
trainer reads, the kernels and the backends that run them (chosen by name),
and, one layer up, the objectives that turn a corpus into a model.

The package spans two layers (tests/test_layers.py):

* below the model, on arrays only: :mod:`.options`, :mod:`.state`,
  :mod:`.tables`, :mod:`.kernels`, :mod:`.backends`, :mod:`.numba_driver`
  and :mod:`.driver` (the thread driver any objective's kernels run on);
* above the model, one module per objective: :mod:`.word2vec`
  (:func:`~dualvec.training.word2vec.train`, ``train_more``), and a second
  objective as its sibling (``contrastive``), sharing the text layer's scan and
  encoding (:mod:`dualvec.text`), the thread driver and the progress reporting.

This ``__init__`` imports only the lower part, so the model can import
options from here; import an objective from its own module.
"""

from __future__ import annotations

from ..progress import Progress
from ..text.encoded import EncodedCorpus
from ..text.vocab import HuffmanTree, Vocabulary
from .backends import BACKENDS, get_backend
from .options import EpochStats, TrainingParams, Weights
from .state import grow_weights, init_rows, init_weights, select_vocabulary
from .tables import Tables, build_tables, scratch


def train_epochs(
    encoded: EncodedCorpus,
    vocab: Vocabulary,
    weights: Weights,
    tree: HuffmanTree | None,
    params: TrainingParams,
    *,
    run: int = 0,
    progress: Progress | None = None,
) -> list[EpochStats]:
    """Build the tables and run ``params.epochs`` epochs with ``params.backend``,
    updating ``weights`` in place; ``run`` numbers continued-training runs (seeds)."""
    tables = build_tables(vocab, tree, params)
    return get_backend(params.backend)(encoded, weights, tables, params, run=run, progress=progress)


__all__ = ["BACKENDS", "EpochStats", "Tables", "TrainingParams", "Weights", "build_tables", "get_backend",
           "grow_weights", "init_rows", "init_weights", "scratch", "select_vocabulary", "train_epochs"]
