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

from ..corpus import TOKENIZER_PRESETS, RegexTokenizer
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
)
out = Console()
err = Console(stderr=True)

ProgressOpt = Annotated[Optional[bool], typer.Option("--progress/--no-progress",
                                                     help="Progress bars (default: when stderr is a terminal).")]
TokenizerOpt = Annotated[str, typer.Option(help=f"Tokeniser preset: {', '.join(TOKENIZER_PRESETS)} "
                                                "(whitespace = word2vec.c's splitting, case kept).")]
TokenPatternOpt = Annotated[Optional[str], typer.Option(help="Regular expression for a token (overrides the "
                                                             "preset's).")]
LowercaseOpt = Annotated[Optional[bool], typer.Option("--lowercase/--keep-case",
                                                      help="Lowercase before tokenising (default: the preset's).")]


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
    from ..irdata import read_collection, read_smart, read_texts

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
