"""The ``dualvec`` command line.

Every command prints a one-line ``error: ...`` and exits with status 1 on bad
input (a missing corpus, an unknown word, a corrupt model), never a traceback. The root app
lives in :mod:`._common`; each command group registers its commands on it from a module of
its own, imported here.
"""

from __future__ import annotations

import os
import sys

import typer

from . import evaluation, formats, model, ranking, serve  # noqa: F401  (each registers its commands)
from ._common import app, click_errors, err, error_line

__all__ = ["app", "main", "run"]


def main() -> None:
    """The ``dualvec`` command: bad usage, too, is one ``error:`` line and exit status 1."""
    no_args = getattr(click_errors, "NoArgsIsHelpError", ())
    try:
        code = app(standalone_mode=False)
    except no_args:
        app(["--help"], standalone_mode=False)
        code = 0
    except click_errors.UsageError as exc:
        ctx = exc.ctx
        hint = f" (see 'dualvec {ctx.info_name} --help')" if ctx is not None and ctx.parent is not None else ""
        error_line(exc.format_message() + hint)
        code = 1
    except click_errors.ClickException as exc:
        error_line(exc.format_message())
        code = 1
    except typer.Abort:
        err.print("interrupted")
        code = 130
    except typer.Exit as exc:
        code = exc.exit_code
    sys.exit(code if isinstance(code, int) else 0)


def run() -> None:
    """The console script: :func:`main`, then leave without the interpreter's teardown.

    Tearing down numba's compiled code and the arrays of a training run took 0.3-0.4 s after the
    model was already saved; a command has nothing left to do then. Output is flushed first,
    and every file dualvec writes is closed (and atomically renamed) before ``main`` returns.
    """
    code: object = 0
    try:
        main()  # ends in sys.exit with an int status
    except SystemExit as exc:
        code = exc.code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 1)


if __name__ == "__main__":
    run()
