"""What every command shares: the app, the consoles, the one-line errors and the option aliases."""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ..text.tokenize import TOKENIZER_PRESETS, RegexTokenizer
from ..errors import DualvecError

try:  # typer >= 0.26 carries its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors
from ..formats import import_model
from ..model import SPACES, DualVectors, parse_space
from ..ranking import RankerConfig
from ..training import TrainingParams

#: The library's defaults, which the options below show and pass on.
TRAIN = TrainingParams()
RANK = RankerConfig()

app = typer.Typer(
    help="Train word2vec keeping both embedding spaces (IN and OUT), explore them, and convert models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain help that wraps at any width, instead of panels that cut option names
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console()
err = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("dualvec")
        except PackageNotFoundError:  # pragma: no cover (run from a source tree that was never installed)
            number = "unknown"
        out.print(f"dualvec {number}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                                help="Print dualvec's version and exit.")] = False) -> None:
    """Train word2vec keeping both embedding spaces (IN and OUT), explore them, and convert models."""


def count_option(help: str):
    """``-k``/``--k``/``--topn``: how many results, the same three names on every command that takes a count
    (``-k`` as search engines say it, ``--topn`` as gensim does)."""
    return typer.Option("-k", "--k", "--topn", help=help, min=1)


#: Old option names still accepted, each with a ``warning:`` line: ``(command, old) -> new``.
DEPRECATED = {
    ("index", "--alpha"): "--desm-weight",
    ("search", "--alpha"): "--desm-weight",
    ("rank", "--alpha"): "--desm-weight",
    ("rerank", "--alpha"): "--desm-weight",
    ("index", "--workers"): "--dask-workers",
    ("export", "--which"): "--space",
    ("tune", "--run"): "--output",
}


def renamed(old: str, old_value, new: str, new_value, default=None):
    """An option's value given by its ``new`` name or, with a warning, by its ``old`` one; ``default``
    when neither was given."""
    if old_value is None:
        return default if new_value is None else new_value
    if new_value is not None:
        raise DualvecError(f"{old} is the old name of {new}: give only {new}")
    warnings.warn(f"{old} is deprecated here: it is now {new}", stacklevel=1)
    return old_value


def one_of(what: str, positional, option, flag: str):
    """A value that may be given positionally or by ``flag`` (not both; one is needed)."""
    if positional is not None and option is not None:
        raise DualvecError(f"{what} given twice: positionally and by {flag}")
    if positional is None and option is None:
        raise DualvecError(f"no {what} given: pass it as an argument or with {flag}")
    return positional if positional is not None else option

ProgressOpt = Annotated[Optional[bool], typer.Option("--progress/--no-progress",
                                                     help="Progress bars (default: when stderr is a terminal).")]
TokenizerOpt = Annotated[str, typer.Option(help=f"Tokeniser preset: {', '.join(TOKENIZER_PRESETS)} "
                                                "(whitespace = word2vec.c's splitting, case kept).")]
TokenPatternOpt = Annotated[Optional[str], typer.Option(help="Regular expression for a token (overrides the "
                                                             "preset's).")]
LowercaseOpt = Annotated[Optional[bool], typer.Option("--lowercase/--keep-case",
                                                      help="Lowercase before tokenising (default: the preset's).")]

#: What a MODEL argument accepts.
MODEL_HELP = "Model: a dualvec directory, a gensim model, a fastText .bin/.vec or a word2vec.c file."
#: What an INDEX argument accepts.
INDEX_HELP = "Index directory written by 'dualvec index'."
#: What a QUERIES argument accepts.
QUERIES_HELP = "Queries: a collection directory, or a .jsonl / SMART / id<TAB>text file."
#: The DESM weight's old name, still accepted (with a warning) where it meant the DESM weight.
AlphaAlias = Annotated[Optional[float], typer.Option("--alpha", hidden=True, help="Deprecated name of --desm-weight.")]
#: A collection directory's judged split, the same default everywhere.
SplitOpt = Annotated[Optional[str], typer.Option(help="Judged split of a collection directory (default: test, "
                                                      "else the first it has).")]


def make_tokenizer(preset: str | None, pattern: str | None, lowercase: bool | None) -> RegexTokenizer | None:
    """The tokeniser the options describe (``None`` when none was asked for)."""
    if preset is None and pattern is None and lowercase is None:
        return None
    base = RegexTokenizer.preset(preset or "default")
    return RegexTokenizer(pattern or base.pattern, base.lowercase if lowercase is None else lowercase)


def printable(text: str) -> str:
    """Control characters from files (a word, a path) shown escaped, never sent raw to the terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))


def error_line(message: str) -> None:
    """The one line every failure prints."""
    err.print(f"[bold red]error:[/] {escape(printable(message))}", highlight=False, soft_wrap=True)


def friendly(fn):
    """Turn dualvec's errors into one line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _show_warning
                return fn(*args, **kwargs)
        except DualvecError as exc:
            error_line(str(exc))
            raise typer.Exit(1) from None
        except OSError as exc:
            error_line(f"{exc.strerror or exc}: {exc.filename or ''}")
            raise typer.Exit(1) from None
        except MemoryError:
            error_line("out of memory")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, click_errors.ClickException):
            raise
        except Exception as exc:  # a bug, or input no check foresaw: still one line (DUALVEC_DEBUG=1 for more)
            if os.environ.get("DUALVEC_DEBUG"):
                raise
            error_line(f"unexpected {type(exc).__name__}: {exc} (please report; DUALVEC_DEBUG=1 shows where)")
            raise typer.Exit(1) from None

    return wrapper


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    err.print(f"[yellow]warning:[/] {escape(printable(str(message)))}", highlight=False, soft_wrap=True)


def open_model(path: Path) -> DualVectors:
    """Any model dualvec reads: its own directory, gensim, fastText, word2vec.c files."""
    return import_model(path)


def spaces_arg(space: str) -> list[str]:
    """``"all"`` -> every pairing; otherwise the one pairing, checked."""
    if space == "all":
        return list(SPACES)
    parse_space(space)
    return [space]


def queries_and_qrels(source: Path, split: str | None, number_by_order: bool = False):
    """Queries (and judgments, if any) from a collection directory or a queries file."""
    from ..text.collections import read_collection, read_smart, read_texts

    if source.is_dir():
        coll = read_collection(source)
        if split is None:
            split = "test" if "test" in coll.qrels else next(iter(coll.qrels), None)
        if split is None:
            return coll.queries, None
        return coll.split_queries(split), coll.qrels[split]
    if not source.exists():
        raise DualvecError(f"queries not found: {source}")
    if number_by_order:
        return read_smart(source, fields="W", number_by_order=True), None
    return read_texts(source), None


def say_if_compiling(vector_size: int, sg: bool, batch: bool, progress: bool | None) -> None:
    """Say so when training is about to wait ~10 s for numba to compile its kernel (first run of a
    dimension). A status line, like the progress bars: shown when they are (a terminal, or --progress)."""
    from ..progress import wants_progress
    from ..training.numba_driver import kernels_cached

    if wants_progress(progress) and not kernels_cached(vector_size, sg=sg, batch=batch):
        err.print("compiling the training kernels (first run only, ~10 s)")
