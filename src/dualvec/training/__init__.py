"""Training on arrays: options, the starting vocabulary and weights, the
tables every trainer reads, and the trainers themselves (chosen by name).

Nothing here knows about string-keyed vectors; :mod:`dualvec.trainer` wraps
a run into a :class:`~dualvec.model.DualVectors`.
"""

from __future__ import annotations

from ..encoded import EncodedCorpus
from ..progress import Progress
from ..vocab import HuffmanTree, Vocabulary
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
