"""The thread driver every training objective runs its kernels on.

A numba kernel declared ``nogil`` runs truly in parallel on Python threads.
:func:`run_threads` starts one thread per worker on ``work(thread, stop)``,
waits while calling ``poll`` (progress reports) about every 0.1 s, raises the
first error a thread met once all have ended, and on Ctrl-C sets ``stop`` (a
worker checks it between kernel calls), waits for the threads and re-raises,
so no thread is left writing into arrays the caller is about to drop.
:func:`slice_cuts` splits sentences (or pairs) into contiguous slices of about
equal work, and :func:`thread_seed` gives each thread of each epoch its own
reproducible xorshift state.

Used by the word2vec backend (:mod:`.numba_driver`) and meant for any sibling
objective (``contrastive``): share this rather than copy a thread loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from .tables import scratch


def run_threads(n_threads: int, work: Callable[[int, threading.Event], None],
                poll: Callable[[], None] | None = None) -> None:
    """Run ``work(thread, stop)`` for ``thread`` in ``range(n_threads)`` on threads and wait for all of them."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def guarded(t: int) -> None:
        try:
            work(t, stop)
        except BaseException as exc:  # surfaced in the calling thread
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in range(n_threads)]
    for th in threads:
        th.start()
    try:
        # Wait on a live thread rather than sleep: join returns the moment the last thread
        # ends, where a 0.1 s sleep rounded short epochs' seconds up by as much as 3%.
        while alive := [th for th in threads if th.is_alive()]:
            alive[0].join(0.1)
            if poll is not None:
                poll()
    except KeyboardInterrupt:
        stop.set()
        for th in threads:
            th.join()
        raise
    for th in threads:
        th.join()
    if errors:
        raise errors[0]


def slice_cuts(offsets: np.ndarray, n_threads: int) -> np.ndarray:
    """Item indices cutting ``len(offsets) - 1`` items (item ``i`` spans ``offsets[i]:offsets[i+1]``) into
    ``n_threads`` contiguous slices of about equal total length: slice ``t`` is ``cuts[t]:cuts[t+1]``."""
    n_items = len(offsets) - 1
    cuts = np.searchsorted(offsets, np.linspace(0, int(offsets[-1]), n_threads + 1).astype(np.int64))
    cuts[0], cuts[-1] = 0, n_items
    return cuts


def thread_seed(seed: int, run: int, epoch: int, thread: int) -> np.ndarray:
    """A one-element uint64 xorshift state for one thread of one epoch of one run, never zero."""
    s = np.random.SeedSequence([seed & 0xFFFFFFFF, run, epoch, thread]).generate_state(1, np.uint64)
    state = scratch(1, np.uint64)
    state[0] = s[0] | np.uint64(1)  # xorshift needs a non-zero state
    return state
