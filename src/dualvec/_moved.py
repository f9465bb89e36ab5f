"""Old import paths that keep working, with a DeprecationWarning, for one release.

The text layer moved into :mod:`dualvec.text` and ``train()``/``train_more()``
into :mod:`dualvec.training.word2vec`. Each old module (``dualvec.corpus``,
``dualvec.trainer``, ...) is a shim whose module ``__getattr__`` comes from
:func:`forward`. dualvec's own code never imports the old paths (tests/test_layers.py).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any


def forward(old: str, new: tuple[str, ...]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the old module ``old`` that finds each name in the first of the ``new``
    modules holding it, warning that the path moved."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        for target in new:
            module = importlib.import_module(target)
            if hasattr(module, name):
                warnings.warn(f"{old} is deprecated and will be removed in the next release; "
                              f"import {name} from {target}", DeprecationWarning, stacklevel=2)
                return getattr(module, name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return __getattr__
