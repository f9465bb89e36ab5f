"""Progress reporting for long work, behind a tiny interface.

Library code reports through :class:`Progress`; it draws a rich progress bar
on a terminal (or when forced) and does nothing otherwise, so tests and
pipelines stay quiet.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

#: What the bars opened now belong to (see :func:`labelled`).
_LABELS: list[str] = []


@contextmanager
def labelled(what: str) -> Iterator[None]:
    """Every bar opened inside says it belongs to ``what`` ("in-domain model: epoch 1/15"), so work done
    as a part of something else (a model trained while indexing) is not taken for the whole."""
    _LABELS.append(what)
    try:
        yield
    finally:
        _LABELS.pop()


def wants_progress(progress: bool | None) -> bool:
    """``None`` means: show a bar when standard error is a terminal."""
    if progress is None:
        return sys.stderr.isatty()
    return bool(progress)


class Progress(AbstractContextManager):
    """One bar at a time: ``task(description, total)`` then ``update(done, **fields)``."""

    def __init__(self, enabled: bool, unit: str = "words"):
        self.enabled = enabled
        self.unit = unit
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress as RichProgress, TaskProgressColumn, TextColumn
            from rich.progress import TimeRemainingColumn

            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(bar_width=16),
                TaskProgressColumn(),
                TextColumn("{task.fields[info]}"),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
            self._bar = None

    def task(self, description: str, total: int | None) -> None:
        if self._bar is not None:
            self._task = self._bar.add_task(": ".join([*_LABELS, description]), total=total, info="")

    def update(self, completed: int, info: str = "") -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=completed, info=info)

    def log(self, message: str) -> None:
        if self._bar is not None:
            self._bar.console.print(message)
