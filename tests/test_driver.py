"""The shared thread driver (dualvec.training.driver) that every objective's kernels run on."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from dualvec.training.driver import run_threads, slice_cuts, thread_seed


def test_every_thread_runs_and_polls_are_made():
    seen = np.zeros(4, np.int64)
    polls = []

    def work(t: int, stop: threading.Event) -> None:
        seen[t] += t + 1
        stop.wait(0.25)  # long enough for the driver to poll; returns at once if stopped

    run_threads(4, work, poll=lambda: polls.append(1))
    assert seen.tolist() == [1, 2, 3, 4]
    assert polls


def test_an_error_in_one_thread_stops_the_others_and_is_raised():
    stopped = []

    def work(t: int, stop: threading.Event) -> None:
        if t == 0:
            raise ValueError("kernel failed")
        stopped.append(stop.wait(10))  # True: the failure stopped this thread, not the 10 s timeout

    with pytest.raises(ValueError, match="kernel failed"):
        run_threads(3, work)
    assert stopped == [True, True]


def test_slices_cover_every_item_once_in_about_equal_work():
    offsets = np.cumsum([0] + [5] * 100).astype(np.int64)
    cuts = slice_cuts(offsets, 4)
    assert cuts[0] == 0 and cuts[-1] == 100 and np.all(np.diff(cuts) >= 0)
    assert np.diff(cuts).tolist() == [25, 25, 25, 25]


def test_thread_seeds_differ_by_thread_and_epoch_and_repeat():
    a = thread_seed(1, 0, 0, 0)[0]
    assert a != 0 and a == thread_seed(1, 0, 0, 0)[0]
    assert len({int(thread_seed(1, 0, e, t)[0]) for e in range(3) for t in range(3)}) == 9
