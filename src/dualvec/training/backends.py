"""Trainers by name: each runs the epochs over an encoded corpus.

A backend is a function ``run_epochs(encoded, weights, tables, params, *,
run, progress) -> list[EpochStats]`` that updates ``weights`` in place. The
CPU backend is :mod:`.numba_driver`; a GPU or distributed trainer is a new
module and one line here. Modules are imported only when chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

#: backend name -> module holding its ``run_epochs``.
BACKENDS: dict[str, str] = {
    "numba": "dualvec.training.numba_driver",
}


def get_backend(name: str) -> Callable:
    return import_module(BACKENDS[name]).run_epochs
