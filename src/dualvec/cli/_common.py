"""What every command shares: the app, the consoles, the one-line errors and the option aliases."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..text.tokenize import TOKENIZER_PRESETS, RegexTokenizer
from ..errors import DualvecError, check_number

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


def desm_weight_value(alpha: float | None, desm_weight: float | None) -> float | None:
    """``--desm-weight`` (or its old name ``--alpha``), a finite number in [0, 1]; ``None`` for the
    index's own. Checked here, not by click's range, so that ``nan`` is refused too, in one line."""
    value = renamed("--alpha", alpha, "--desm-weight", desm_weight)
    if value is not None:
        check_number("--desm-weight (the DESM weight)", value, 0.0, 1.0)
    return value


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


def validate_options(settings) -> None:
    """``settings.validate()`` of a settings dataclass filled from options of the same names; its error
    names the option typed (``--min-alpha``) where the library names the field (``min_alpha``)."""
    try:
        settings.validate()
    except DualvecError as exc:
        text = str(exc)
        for f in sorted(dataclasses.fields(settings), key=lambda f: -len(f.name)):
            if text.startswith(f.name + " "):
                raise DualvecError("--" + f.name.replace("_", "-") + text[len(f.name):]) from None
        raise


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


def index_kind(path: Path) -> str | None:
    """``"ranker"`` (dualvec index), ``"centroids"`` (dualvec index --engine) or ``None`` (not an index),
    from the directory's bounded header alone."""
    from ..atomic import read_header
    from ..ranking.ranker import INDEX_FORMAT, INDEX_HEADER
    from ..scale.index import FORMAT as CENTROIDS_FORMAT
    from ..scale.index import MANIFEST

    if not path.is_dir():
        return None
    if ((read_header(path / INDEX_HEADER, path) or {}).get("format")) == INDEX_FORMAT:
        return "ranker"
    if ((read_header(path / MANIFEST, path) or {}).get("format")) == CENTROIDS_FORMAT:
        return "centroids"
    return None


def index_model_dir(path: Path, kind: str) -> Path:
    """The model directory inside an index (a ranker index's current generation holds it)."""
    from ..atomic import read_header, safe_name
    from ..ranking.ranker import INDEX_HEADER

    if kind == "centroids":
        return path / "model"
    data = (read_header(path / INDEX_HEADER, path) or {}).get("data")
    return path / data / "model" if safe_name(data) else path / "model"


def refuse_index(path: Path, hint: str | None = None) -> None:
    """Where a model is wanted, an index is refused with what to pass instead (``hint``, or the model
    inside it)."""
    kind = index_kind(Path(path))
    if kind is not None:
        inner = index_model_dir(Path(path), kind)
        raise DualvecError(f"{path} is a dualvec index, not a model: "
                           + (hint or f"pass a model, such as the index's own, {inner}")
                           + f" ('dualvec info {path}' describes the index)")


def open_model(path: Path, hint: str | None = None) -> DualVectors:
    """Any model dualvec reads: its own directory, gensim, fastText, word2vec.c files (an index is
    refused, see :func:`refuse_index`)."""
    refuse_index(path, hint)
    return import_model(path)


def spaces_arg(space: str) -> list[str]:
    """``"all"`` -> every pairing; otherwise the one pairing, checked."""
    if space == "all":
        return list(SPACES)
    parse_space(space)
    return [space]


#: Below this share of matching document ids, a collection is not the one an index was built from.
MIN_SHARED_DOCS = 0.5


def check_same_documents(collection_ids, indexed_ids, collection: str, index: str) -> None:
    """Refuse a collection whose documents are not an index's (fewer than :data:`MIN_SHARED_DOCS` of the
    smaller of the two share an id): its queries would be ranked against another collection's documents.
    Warn when some, but most, differ."""
    indexed = indexed_ids if isinstance(indexed_ids, (set, frozenset, dict)) else set(indexed_ids)
    ids = set(collection_ids)
    shared = sum(1 for d in ids if d in indexed)
    smaller = min(len(ids), len(indexed))
    if smaller and shared < MIN_SHARED_DOCS * smaller:
        raise DualvecError(f"{collection} is not the collection {index} was built from: {shared:,} of its "
                           f"{len(ids):,} document ids are among the index's {len(indexed):,}; rank a "
                           "collection's queries against its own index")
    if shared < smaller:
        warnings.warn(f"{smaller - shared:,} document ids of {collection} are not in {index} (or the other way "
                      "round): was it built from another version of the collection?", stacklevel=1)


def queries_and_qrels(source: Path, split: str | None, number_by_order: bool = False, *, indexed=None,
                      index: str = "the index"):
    """Queries (and judgments, if any) from a collection directory or a queries file. ``indexed``: the
    document ids of the index they are for, which a collection directory's must match."""
    from ..text.collections import read_collection, read_smart, read_texts

    if source.is_dir():
        coll = read_collection(source)
        if indexed is not None:
            check_same_documents(coll.docs, indexed, str(source), index)
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


# -- tables: one helper for every command that prints one ------------------------------------------------

#: The forms a table is printed in (``--format``); help and error messages are built from this table.
OUTPUT_FORMATS = {
    "table": "aligned columns for reading",
    "tsv": "tab-separated: a header line, then one line per row",
    "json": "one JSON object per table (title, columns, rows, notes; one per line when several)",
}
OutputFormatOpt = Annotated[Optional[str], typer.Option("--format", help=(
    "Output: " + "; ".join(f"{k} ({v})" for k, v in OUTPUT_FORMATS.items())
    + ". Default: table in a terminal, tsv when stdout is a pipe or a file."))]


def output_format(name: str | None) -> str:
    """The format ``--format`` names, checked; ``None``: a table in a terminal, tsv for a pipe or a file."""
    if name is None:
        return "table" if out.is_terminal else "tsv"
    if name not in OUTPUT_FORMATS:
        raise DualvecError(f"unknown --format {name!r}: use one of {', '.join(OUTPUT_FORMATS)}")
    return name


@dataclasses.dataclass(frozen=True)
class Col:
    """A column of a printed table: text, or a number shown with ``digits`` decimals (JSON keeps every
    digit). Numbers are never wrapped or cut, at any width; text folds."""

    name: str
    digits: int | None = None  # a float with this many decimals; None: not a float
    integer: bool = False  # a count (thousands separated in a table)

    def cell(self, value, tsv: bool = False) -> str:
        if value is None:
            return "" if tsv else "-"
        if self.integer:
            return str(int(value)) if tsv else f"{int(value):,}"
        if self.digits is not None:
            return f"{float(value):.{self.digits}f}"
        return printable(value) if tsv else escape(printable(value))

    @property
    def numeric(self) -> bool:
        return self.integer or self.digits is not None


def json_value(value):
    """A value as JSON holds it: numpy numbers as Python ones, a number that is not finite (a Spearman
    rho of constant scores) as null, since JSON has no NaN."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_rich(table) -> None:
    """A rich table on stdout, never cutting a cell: where the screen is too narrow for its numbers (and
    its text's longest words) the lines are left long (the terminal wraps them) rather than cropped."""
    from rich.measure import Measurement
    from rich.segment import Segments

    needed = Measurement.get(out, out.options.update_width(1 << 16), table).minimum
    width = max(out.width, needed)
    out.print(Segments(out.render(table, out.options.update_width(width))), crop=False)


class Report:
    """What a command prints: tables (and the notes beside them) in the ``--format`` chosen.

    ``table``: rich tables (numbers whole, text folded), notes as lines under them. ``tsv``: for each
    table a header line (once per command for the same columns) and one line per row; titles and notes
    go to stderr, so stdout holds rows alone. ``json``: one object per table, with its notes, written at
    :meth:`flush` (one per line when there are several).
    """

    def __init__(self, fmt: str | None):
        self.format = output_format(fmt)
        self._headers: set[tuple[str, ...]] = set()
        self._pending: list[dict] = []
        self._notes: list[str] = []

    def table(self, columns: list[Col], rows, title: str = "", *, caption: str = "", rich_table=None) -> None:
        """Print rows (sequences of values, one per column). ``rich_table``: a table built for the
        terminal instead of the plain one (the same data, laid out otherwise)."""
        rows = [list(r) for r in rows]
        if self.format == "json":
            self._pending.append({"title": title, "columns": [c.name for c in columns],
                                  "rows": [{c.name: json_value(v) for c, v in zip(columns, r)} for r in rows],
                                  **({"caption": caption} if caption else {})})
            return
        if self.format == "tsv":
            if title:
                err.print(escape(printable(title)), highlight=False, soft_wrap=True)
            header = tuple(c.name for c in columns)
            if header not in self._headers:
                self._headers.add(header)
                print("\t".join(printable(h) for h in header), flush=False)
            for r in rows:
                print("\t".join(c.cell(v, tsv=True) for c, v in zip(columns, r)))
            sys.stdout.flush()
            if caption:
                err.print(escape(printable(caption)), highlight=False, soft_wrap=True)
            return
        if rich_table is None:
            rich_table = Table(title=escape(printable(title)) if title else None,
                               caption=escape(printable(caption)) if caption else None)
            for i, c in enumerate(columns):
                rich_table.add_column(escape(c.name), **number_column(c.name, [c.cell(r[i]) for r in rows])
                                      if c.numeric else {"overflow": "fold"})
            for r in rows:
                rich_table.add_row(*(c.cell(v) for c, v in zip(columns, r)))
        print_rich(rich_table)

    def note(self, text: str) -> None:
        """A line of result beside the tables (a choice, a total): under them in a table, on stderr
        with tsv, in the JSON object's ``notes``."""
        if self.format == "json":
            self._notes.append(text)
        elif self.format == "tsv":
            err.print(escape(printable(text)), highlight=False, soft_wrap=True)
        else:
            out.print(escape(printable(text)), highlight=False, soft_wrap=True)

    def flush(self) -> None:
        """Write what JSON output holds (the notes go with the last table)."""
        if self.format != "json" or not (self._pending or self._notes):
            return
        if not self._pending:
            self._pending.append({"title": "", "columns": [], "rows": []})
        self._pending[-1]["notes"] = self._pending[-1].get("notes", []) + self._notes
        for obj in self._pending:
            print(json.dumps(obj, ensure_ascii=False, allow_nan=False))
        sys.stdout.flush()
        self._pending, self._notes = [], []


def number_column(header: str, cells) -> dict:
    """rich column settings for numbers: right-aligned, never wrapped, never narrower than they (or the
    header) are."""
    return {"justify": "right", "no_wrap": True, "min_width": max([len(header)] + [len(c) for c in cells])}

