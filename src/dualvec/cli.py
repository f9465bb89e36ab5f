"""The ``dualvec`` command line.

Every command prints a one-line ``error: ...`` and exits with status 1 on bad
input (a missing corpus, an unknown word, a corrupt model), never a traceback.
"""

from __future__ import annotations

import functools
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .corpus import TOKENIZER_PRESETS, RegexTokenizer
from .errors import DualvecError

try:  # typer >= 0.26 carries its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors
from .formats import FORMATS, detect_format, export_model, get_format, import_model
from .model import OUT_HS_LINEARISED, SPACES, DualVectors, parse_space
from .evaluation.ir import DEFAULT_MEASURES
from .ranking import RankerConfig
from .trainer import train
from .training import TrainingParams

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


def _tokenizer(preset: str | None, pattern: str | None, lowercase: bool | None) -> RegexTokenizer | None:
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


def _spaces(space: str) -> list[str]:
    """``"all"`` -> every pairing; otherwise the one pairing, checked."""
    if space == "all":
        return list(SPACES)
    parse_space(space)
    return [space]


@app.command("train")
@friendly
def train_cmd(
    corpus: Annotated[Path, typer.Argument(help="Text file (one sentence per line; .gz/.bz2 ok) or directory.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to write.")],
    sg: Annotated[int, typer.Option(help="1 = skip-gram, 0 = CBOW.", min=0, max=1)] = int(TRAIN.sg),
    hs: Annotated[int, typer.Option(help="1 = hierarchical softmax.", min=0, max=1)] = int(TRAIN.hs),
    negative: Annotated[int, typer.Option(help="Negative samples per prediction (0 = none).", min=0)] = TRAIN.negative,
    ns_exponent: Annotated[float, typer.Option(help="Exponent of the noise distribution.")] = TRAIN.ns_exponent,
    cbow_mean: Annotated[int, typer.Option(help="CBOW: 1 = mean of context vectors, 0 = sum.", min=0,
                                           max=1)] = int(TRAIN.cbow_mean),
    batch: Annotated[bool, typer.Option("--batch/--exact", help="Batched updates (fast: shared negatives and "
                                        "small dense products) or the classic word2vec.c updates "
                                        "(exact).")] = TRAIN.batch,
    vector_size: Annotated[int, typer.Option(help="Dimensions.", min=1)] = TRAIN.vector_size,
    window: Annotated[int, typer.Option(help="Maximum context distance (randomly shrunk per word).",
                                        min=1)] = TRAIN.window,
    min_count: Annotated[int, typer.Option(help="Ignore words rarer than this.", min=1)] = TRAIN.min_count,
    max_vocab_size: Annotated[Optional[int], typer.Option(
        help="Prune rare words while counting above this many.")] = TRAIN.max_vocab_size,
    max_final_vocab: Annotated[Optional[int], typer.Option(
        help="Keep at most this many words.")] = TRAIN.max_final_vocab,
    sample: Annotated[float, typer.Option(help="Down-sampling threshold for frequent words (0 = off).")] = TRAIN.sample,
    epochs: Annotated[int, typer.Option(help="Passes over the corpus.", min=1)] = TRAIN.epochs,
    alpha: Annotated[float, typer.Option(help="Initial learning rate.")] = TRAIN.alpha,
    min_alpha: Annotated[float, typer.Option(help="Final learning rate (linear decay).")] = TRAIN.min_alpha,
    workers: Annotated[Optional[int], typer.Option(help="Training threads (default: CPUs, at most 4).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (workers=1 makes runs reproducible).")] = TRAIN.seed,
    tokenizer: TokenizerOpt = "default",
    token_pattern: TokenPatternOpt = None,
    lowercase: LowercaseOpt = None,
    encoding_errors: Annotated[str, typer.Option(help="Bad UTF-8: strict, replace or ignore.")] = "strict",
    progress: ProgressOpt = None,
) -> None:
    """Train word2vec on CORPUS and save both spaces to a model directory."""
    options = dict(sg=bool(sg), hs=bool(hs), negative=negative, ns_exponent=ns_exponent, cbow_mean=bool(cbow_mean),
                   batch=batch,
                   vector_size=vector_size, window=window, min_count=min_count, max_vocab_size=max_vocab_size,
                   max_final_vocab=max_final_vocab, sample=sample, epochs=epochs, alpha=alpha,
                   min_alpha=min_alpha, seed=seed)
    if workers is not None:
        options["workers"] = workers
    start = time.perf_counter()
    model = train(corpus, tokenizer=_tokenizer(tokenizer, token_pattern, lowercase),
                  encoding_errors=encoding_errors, progress=progress, **options)
    trained = time.perf_counter()
    model.save(output)
    saved = time.perf_counter()
    train_s = sum(h.seconds for h in model.history)
    words = sum(h.words for h in model.history)
    err.print(f"saved {model} to {output}")
    err.print(f"read the corpus in {trained - start - train_s:.2f} s; {len(model.history)} epoch(s) in {train_s:.2f} s "
              f"({words / max(train_s, 1e-9):,.0f} words/s, last loss {model.history[-1].loss:.4f}); "
              f"saved in {saved - trained:.2f} s", soft_wrap=True)


def _space_label(model: DualVectors, space: str) -> str:
    """``IN-OUT``, marked when OUT is an approximation (hierarchical softmax)."""
    return space.upper() + (" (approx.)" if model.is_approximate(space) else "")


def _neighbour_table(model: DualVectors, word: str, spaces: list[str], topn: int) -> Table:
    topn = min(topn, len(model))  # never more rows than words
    table = Table(title=escape(printable(f"neighbours of {word!r}")), show_lines=False)
    results = [model.most_similar(word, space=s, topn=topn) for s in spaces]
    table.add_column("#", justify="right", style="dim")
    for s in spaces:
        table.add_column(_space_label(model, s))
        table.add_column("cos", justify="right", style="dim")
    if any(model.is_approximate(s) for s in spaces):
        table.caption = ("OUT here is hierarchical softmax's linearised approximation; "
                         "'dualvec probable' ranks by the exact HS probability")
    for i in range(topn):
        row = [str(i + 1)]
        for res in results:
            row += [escape(printable(res[i][0])), f"{res[i][1]:.3f}"] if i < len(res) else ["", ""]
        table.add_row(*row)
    return table


@app.command("neighbors")
@friendly
def neighbors_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="Model directory or word2vec file.")],
    words: Annotated[list[str], typer.Argument(metavar="WORD...", help="Query word(s).")],
    space: Annotated[str, typer.Option(help=f"One of {', '.join(SPACES)}, or 'all' for side by side.")] = "in-out",
    topn: Annotated[int, typer.Option(help="How many neighbours.", min=1)] = 10,
) -> None:
    """Nearest neighbours of WORD in any pairing of the IN and OUT spaces."""
    spaces = _spaces(space)
    model = open_model(model_path)
    for word in words:
        out.print(_neighbour_table(model, word, spaces, topn))


@app.command("probable")
@friendly
def probable_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="A hierarchical-softmax model.")],
    words: Annotated[list[str], typer.Argument(metavar="WORD...", help="Query word(s).")],
    topn: Annotated[int, typer.Option(help="How many words.", min=1)] = 10,
) -> None:
    """Words most likely near WORD under hierarchical softmax: the exact log P(w | IN[word])."""
    model = open_model(model_path)
    topn = min(topn, len(model))
    for word in words:
        table = Table(title=escape(printable(f"most probable near {word!r} (exact HS)")))
        table.add_column("#", justify="right", style="dim")
        table.add_column("word")
        table.add_column("log P", justify="right")
        for i, (w, lp) in enumerate(model.most_probable(word, topn=topn), start=1):
            table.add_row(str(i), escape(printable(w)), f"{lp:.3f}")
        out.print(table)


@app.command("similarity")
@friendly
def similarity_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL")],
    word_a: Annotated[str, typer.Argument(metavar="A")],
    word_b: Annotated[str, typer.Argument(metavar="B")],
    space: Annotated[str, typer.Option(help=f"One of {', '.join(SPACES)}, or 'all'.")] = "all",
) -> None:
    """Cosine similarity of A (in the first space) and B (in the second)."""
    spaces = _spaces(space)
    model = open_model(model_path)
    for s in spaces:
        out.print(f"{s}\t{model.similarity(word_a, word_b, space=s):.4f}")


@app.command("export")
@friendly
def export_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL")],
    output: Annotated[Path, typer.Argument(metavar="OUT_FILE")],
    which: Annotated[str, typer.Option(help="Space to write: in or out (word2vec format).")] = "in",
    binary: Annotated[bool, typer.Option("--binary/--text", help="word2vec.c binary or text layout.")] = False,
    format: Annotated[str, typer.Option("--format", help="; ".join(
        f"{f.name}: {f.description}" for f in FORMATS.values() if f.save is not None))] = "word2vec",
) -> None:
    """Write a model for other tools: one space as a word2vec.c file, or a gensim model."""
    if which not in ("in", "out"):
        raise DualvecError(f"--which must be 'in' or 'out', not {which!r}")
    fmt = get_format(format, writable=True)
    model = open_model(model_path)
    if model.out_kind == OUT_HS_LINEARISED and (which == "out" or not fmt.separate_out):
        warnings.warn("this model's OUT vectors are hierarchical softmax's linearised approximation, "
                      "not trained per-word vectors", stacklevel=1)
    export_model(model, output, format=fmt.name, which=which, binary=binary)
    what = f"{which.upper()} vectors" if fmt.separate_out else "vectors"
    err.print(f"wrote {len(model)} {what} to {output} ({fmt.description})")


@app.command("import")
@friendly
def import_cmd(
    source: Annotated[Path, typer.Argument(help="gensim model (any version), fastText .bin/.vec, word2vec.c "
                                                "text/binary, or DESM IN file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="dualvec model directory to write.")],
    format: Annotated[str, typer.Option("--format", help=f"auto, or one of {', '.join(FORMATS)}.")] = "auto",
    out_file: Annotated[Optional[Path], typer.Option(help="word2vec/DESM: a second file with the OUT vectors.")] = None,
    tokenizer: Annotated[Optional[str], typer.Option(
        help=f"Record how the model's text was tokenised ({', '.join(TOKENIZER_PRESETS)}), for ranking with "
             "it later.")] = None,
    token_pattern: TokenPatternOpt = None,
    lowercase: LowercaseOpt = None,
) -> None:
    """Convert a model from another tool into a dualvec model directory (both spaces where it has them)."""
    model = import_model(source, format=format, out_path=out_file, mmap=False)
    tok = _tokenizer(tokenizer, token_pattern, lowercase)
    if tok is not None:
        model.tokenizer = tok
    model.save(output)
    err.print(f"imported {model} into {output}")


@app.command("info")
@friendly
def info_cmd(model_path: Annotated[Path, typer.Argument(metavar="MODEL")]) -> None:
    """Vocabulary size, dimensions, what the OUT space is and how the model was trained."""
    fmt = detect_format(model_path)
    model = import_model(model_path, format=fmt)
    table = Table(show_header=False, title=str(model_path))
    table.add_row("format", FORMATS[fmt].description)
    info = model.info()
    params = info.pop("params") or {}
    for k, v in info.items():
        table.add_row(k, "-" if v is None else str(v))
    for k, v in params.items():
        table.add_row(f"  {k}", str(v))
    for h in model.history:
        table.add_row(f"  epoch {h.epoch}", f"loss {h.loss:.4f}, {h.words_per_second:,.0f} words/s")
    out.print(table)


DEMO_WORDS = ["socket", "thread", "exception", "encoding", "dictionary", "file"]


@app.command("serve")
@friendly
def serve_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="Any model dualvec reads (memory-mapped).")],
    index: Annotated[Optional[Path], typer.Option(help="An index (dualvec index) for the search view.")] = None,
    host: Annotated[str, typer.Option(help="Address to bind; the default serves this machine only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
) -> None:
    """A web explorer of both spaces and of DESM: neighbours, maps, shaded text, search."""
    from .serve import serve

    ranker = None
    if index is not None:
        from .ranking import Ranker

        ranker = Ranker.load(index)
    model = ranker.model if ranker is not None and model_path == index else open_model(model_path)
    err.print(f"dualvec explorer on http://{host}:{port}/  (API: /docs; ctrl-c to stop)")
    serve(model, ranker, host=host, port=port)


@app.command("demo")
@friendly
def demo_cmd(
    corpus: Annotated[Optional[Path], typer.Argument(
        help="Corpus to train on (default: the docstrings and comments of the installed Python standard library).")] = None,
    words: Annotated[Optional[list[str]], typer.Option("--word", "-w", help="Words to show (repeatable).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Also save the model here.")] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 5,
    topn: Annotated[int, typer.Option(min=1)] = 8,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Then open the web explorer on the model "
                                                                   "(http://127.0.0.1:8000/).")] = False,
    port: Annotated[int, typer.Option(help="Port for --serve.", min=1, max=65535)] = 8000,
    progress: ProgressOpt = None,
) -> None:
    """The whole job end to end: train a skip-gram model and show IN-IN next to IN-OUT neighbours."""
    if corpus is None:
        from .datasets import stdlib_docs

        err.print("corpus: docstrings and comments of the installed Python standard library")
        source = list(stdlib_docs())
    else:
        source = corpus
    model = train(source, sg=True, epochs=epochs, min_count=5, progress=progress)
    last = model.history[-1]
    err.print(f"trained {model}: {model.vocab.total_words:,} words, last epoch {last.words_per_second:,.0f} words/s, "
              f"loss {last.loss:.4f}")
    shown = [w for w in (words or DEMO_WORDS) if w in model] or model.words[50:56]
    out.print("IN-IN finds words of the same type; IN-OUT finds words that occur together.")
    for word in shown:
        out.print(_neighbour_table(model, word, ["in-in", "in-out"], topn))
    if output is not None:
        model.save(output)
        err.print(f"saved to {output}")
    if serve:
        from .serve import serve as run_server

        err.print(f"dualvec explorer on http://127.0.0.1:{port}/  (ctrl-c to stop)")
        run_server(model, host="127.0.0.1", port=port)


# -- ranking ------------------------------------------------------------------------------


def _queries_and_qrels(source: Path, split: str | None, number_by_order: bool = False):
    """Queries (and judgments, if any) from a collection directory or a queries file."""
    from .irdata import read_collection, read_smart, read_texts

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


@app.command("index")
@friendly
def index_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="dualvec model (its tokeniser is used).")],
    collection: Annotated[Path, typer.Argument(help="BEIR or Cranfield directory, or a documents file "
                                                    "(.jsonl, SMART, or id<TAB>text).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Index directory to write.")],
    space: Annotated[str, typer.Option(help="DESM space: in-out (the paper's), in-in, out-out, out-in.")] = RANK.space,
    alpha: Annotated[float, typer.Option(help="DESM weight in the BM25 mixture (0 = BM25, 1 = DESM).")] = RANK.alpha,
    k1: Annotated[float, typer.Option(help="BM25 k1.")] = RANK.k1,
    b: Annotated[float, typer.Option(help="BM25 b.")] = RANK.b,
    stopwords: Annotated[str, typer.Option(help="'english' or 'none' (applies to BM25 and DESM).")] = "english",
    stemmer: Annotated[str, typer.Option(help="Snowball stemmer for BM25 terms (PyStemmer), or 'none'.")
                       ] = RANK.stemmer or "none",
    rm3: Annotated[bool, typer.Option("--rm3/--no-rm3", help="RM3 pseudo-relevance feedback (Anserini's "
                                      "defaults).")] = RANK.rm3 is not None,
    expansion: Annotated[str, typer.Option(help="Expand queries with their nearest words in this space "
                                           "(in-out: words that occur with them), or 'none'.")
                         ] = RANK.expansion.space if RANK.expansion else "none",
    adapt: Annotated[int, typer.Option(help="First train the model this many more epochs on the collection's "
                                       "own text (its vocabulary grows).", min=0)] = 0,
    tokenizer: Annotated[Optional[str], typer.Option(
        help="Tokeniser for documents and queries when the model records none (an imported model): "
             f"{', '.join(TOKENIZER_PRESETS)}.")] = None,
    token_pattern: TokenPatternOpt = None,
    lowercase: LowercaseOpt = None,
    engine: Annotated[Optional[str], typer.Option(
        help="Build a sharded, streaming centroid index (for 'dualvec rerank' of another engine's run): "
             "'local' (this process) or 'dask' (a Dask cluster). Default: the in-memory BM25 + DESM index.")
                      ] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="With --engine dask: the scheduler's address "
                                                          "(default: start a LocalCluster).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="With --engine dask and no scheduler: LocalCluster "
                                                        "worker processes.", min=1)] = None,
    chunk_size: Annotated[int, typer.Option(help="With --engine: documents per shard.", min=1)] = 50_000,
    progress: ProgressOpt = None,
) -> None:
    """Index a collection for BM25 and DESM: precompute every document's IN and OUT centroid."""
    from .irdata import read_collection
    from .ranking import RM3, Expansion, Ranker

    model = open_model(model_path)
    tok = _tokenizer(tokenizer, token_pattern, lowercase)
    if tok is not None:
        model.tokenizer = tok
    if engine is not None:
        from .scale import build_index

        built = build_index(model, collection, output, chunk_size=chunk_size, engine=engine, scheduler=scheduler,
                            workers=workers, stopwords=None if stopwords == "none" else stopwords,
                            progress=progress)
        err.print(f"indexed {len(built):,} documents in {len(built.offsets) - 1} shards into {output}")
        return
    docs = read_collection(collection).docs
    if adapt:  # training copies the mapped matrices into memory itself
        model.train_more(list(docs.values()), epochs=adapt, progress=progress)
    ranker = Ranker(model, space=space, alpha=alpha, k1=k1, b=b,
                    stopwords=None if stopwords == "none" else stopwords,
                    stemmer=None if stemmer == "none" else stemmer,
                    rm3=RM3() if rm3 else None,
                    expansion=None if expansion == "none" else Expansion(space=expansion))
    ranker.index(docs, progress=progress).save(output)
    err.print(f"indexed {len(docs):,} documents into {output}" + (f" (model adapted, {adapt} epochs)" if adapt else ""))


def _result_table(ranker, query, results, explain: bool) -> Table:
    stages = " + ".join(["bm25"] + [s.name for s in ranker.config.stages()])
    table = Table(title=f"{escape(repr(query.text))}  ({stages}; desm {ranker.config.space}, "
                        f"alpha {ranker.config.alpha})")
    for col, just in [("#", "right"), ("doc", "left"), ("score", "right"), ("BM25", "right"), ("DESM", "right")]:
        table.add_column(col, justify=just)
    if explain:
        table.add_column("per term: BM25 | DESM")
    for rank, (doc, score) in enumerate(results, start=1):
        ex = ranker.explain(query, doc)
        row = [str(rank), escape(doc), f"{score:.3f}", f"{ex['bm25']:.2f}", f"{ex['desm']:.3f}"]
        if explain:
            bm = ", ".join(f"{t} {s:.2f}" for t, s in ex["bm25_terms"] if s)
            de = ", ".join(f"{t} {s:.3f}" for t, s in ex["desm_terms"])
            row.append(escape(f"{bm or '-'} | {de or '-'}"))
        table.add_row(*row)
    for stage, terms in query.added.items():
        table.caption = ((table.caption + "\n") if table.caption else "") + escape(
            f"{stage} added: " + ", ".join(f"{t} {w:.3f}" for t, w in sorted(terms.items(), key=lambda kv: -kv[1])))
    return table


@app.command("search")
@friendly
def search_cmd(
    index_path: Annotated[Path, typer.Argument(metavar="INDEX")],
    query: Annotated[Optional[str], typer.Argument(help="Query text; omit to read queries line by line.")] = None,
    k: Annotated[int, typer.Option("--k", "-k", help="Results to show.", min=1)] = 10,
    mode: Annotated[str, typer.Option(help="rerank (BM25 top-k, re-ordered) or full (whole collection).")] = "rerank",
    alpha: Annotated[Optional[float], typer.Option(help="DESM weight (default: the index's).")] = None,
    space: Annotated[Optional[str], typer.Option(help="DESM space (default: the index's).")] = None,
    explain: Annotated[bool, typer.Option("--explain/--no-explain", help="Show each query term's contribution.")] = True,
) -> None:
    """Rank documents for a query, showing BM25, DESM and each query term's share."""
    from .ranking import Ranker

    ranker = Ranker.load(index_path, **({"space": space} if space else {}))
    queries = [query] if query is not None else None
    if queries is None:
        err.print("type a query and press enter (ctrl-d to stop)")
        queries = (line.strip() for line in sys.stdin)
    for text in queries:
        if not text:
            continue
        q = ranker.analyze(text)
        results = ranker.search(q, k, mode=mode, alpha=alpha)
        if results:
            out.print(_result_table(ranker, q, results, explain))
        else:
            err.print(escape(f"{text!r}: no query word is in the collection or the model; nothing to rank"))


@app.command("rerank")
@friendly
def rerank_cmd(
    index_path: Annotated[Path, typer.Argument(metavar="INDEX", help="A centroid index (index --engine) or a "
                                                                     "ranker index.")],
    run: Annotated[Path, typer.Option("--run", help="The first stage's TREC run (any engine).")],
    queries_path: Annotated[Path, typer.Option("--queries", help="The queries: a collection directory, or a "
                                                                 ".jsonl / SMART / id<TAB>text file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="TREC run file to write.")],
    alpha: Annotated[float, typer.Option(help="DESM weight in the mixture (0 = the first stage, 1 = DESM).",
                                         min=0.0, max=1.0)] = RANK.alpha,
    space: Annotated[str, typer.Option(help="DESM space.")] = RANK.space,
    normalization: Annotated[str, typer.Option(help="minmax or zscore.")] = RANK.normalization,
    depth: Annotated[Optional[int], typer.Option(help="Documents kept per query (default: all).", min=1)] = None,
    tag: Annotated[str, typer.Option(help="Run tag.")] = "dualvec-rerank",
) -> None:
    """Re-order another engine's run (Anserini, Elasticsearch, bm25s) by the DESM mixture."""
    from .irdata import read_collection, read_run, write_run
    from .scale import CentroidIndex

    parse_space(space)
    queries = read_collection(queries_path).queries if queries_path.is_dir() else _queries_and_qrels(queries_path, None)[0]
    first = read_run(run)
    index = CentroidIndex.open(index_path)
    out_run = index.rerank(queries, first, alpha=alpha, space=space, normalization=normalization, depth=depth)
    write_run(out_run, output, tag=tag)
    err.print(f"re-ranked {len(out_run):,} queries into {output}")


@app.command("rank")
@friendly
def rank_cmd(
    index_path: Annotated[Path, typer.Argument(metavar="INDEX")],
    queries_path: Annotated[Path, typer.Argument(metavar="QUERIES", help="Collection directory, or a queries file "
                                                                           "(.jsonl, SMART, id<TAB>text).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="TREC run file to write.")],
    split: Annotated[Optional[str], typer.Option(help="Judged split of a collection directory (default: test).")] = None,
    k: Annotated[int, typer.Option("--k", "-k", help="Documents per query.", min=1)] = 100,
    mode: Annotated[str, typer.Option(help="rerank or full.")] = "rerank",
    alpha: Annotated[Optional[float], typer.Option(help="DESM weight (default: the index's).")] = None,
    space: Annotated[Optional[str], typer.Option(help="DESM space (default: the index's).")] = None,
    number_by_order: Annotated[bool, typer.Option(help="SMART queries: number them 1.. by order (Cranfield).")] = False,
    tag: Annotated[str, typer.Option(help="Run tag.")] = "dualvec",
    progress: ProgressOpt = None,
) -> None:
    """Rank a file of queries into a TREC run file."""
    from .irdata import write_run
    from .ranking import Ranker

    queries, _ = _queries_and_qrels(queries_path, split, number_by_order)
    ranker = Ranker.load(index_path, **({"space": space} if space else {}))
    write_run(ranker.run(queries, k=k, mode=mode, alpha=alpha, progress=progress), output, tag=tag)
    err.print(f"ranked {len(queries):,} queries into {output}")


def _qrels(path: Path, split: Optional[str]):
    from .irdata import read_qrels

    if path.is_dir():
        _, qrels = _queries_and_qrels(path, split)
        if qrels is None:
            raise DualvecError(f"{path} holds no judgments")
        return qrels
    return read_qrels(path)


@app.command("evaluate")
@friendly
def evaluate_cmd(
    run_paths: Annotated[list[Path], typer.Argument(metavar="RUN...", help="TREC run file(s); the first is the baseline.")],
    qrels_path: Annotated[Path, typer.Option("--qrels", "-q", help="Judgments: a collection directory (quirks "
                                                                  "handled) or a TREC/BEIR qrels file.")],
    split: Annotated[Optional[str], typer.Option(help="Split of a collection directory (default: test).")] = None,
    measures: Annotated[str, typer.Option(help="Comma-separated ir-measures names.")] = ",".join(DEFAULT_MEASURES),
) -> None:
    """Metrics of one or more runs, with a paired randomisation test of each against the first."""
    from .evaluation import evaluate, paired_randomization_test
    from .irdata import read_run

    names = [m.strip() for m in measures.split(",") if m.strip()]
    if not names:
        raise DualvecError("--measures names no measure (e.g. nDCG@10,AP)")
    qrels = _qrels(qrels_path, split)
    results = [evaluate(read_run(p), qrels, names) for p in run_paths]
    table = Table(title=f"{len(next(iter(results[0].per_query.values()))):,} judged queries")
    table.add_column("run")
    for m in names:
        table.add_column(m, justify="right")
    for p, res in zip(run_paths, results):
        cells = []
        for m in names:
            cell = f"{res.aggregate[m]:.4f}"
            if res is not results[0]:
                pval = paired_randomization_test(res.per_query[m], results[0].per_query[m])
                cell += f" (p={pval:.3f})"
            cells.append(cell)
        table.add_row(p.name, *cells)
    out.print(table)


@app.command("tune")
@friendly
def tune_cmd(
    index_path: Annotated[Path, typer.Argument(metavar="INDEX")],
    collection: Annotated[Path, typer.Argument(help="The indexed collection's directory (documents, queries, "
                                                    "judgments).")],
    split: Annotated[str, typer.Option(help="Judged split to tune on (with --folds: to cross-validate on).")
                     ] = "train",
    folds: Annotated[Optional[int], typer.Option(help="Cross-validate: choose on K-1 folds of the queries, rank "
                                                      "the held-out fold, for every fold.", min=2)] = None,
    run: Annotated[Optional[Path], typer.Option("--run", help="With --folds: write the cross-validated TREC run "
                                                              "here.")] = None,
    mode: Annotated[str, typer.Option(help="rerank or full.")] = "rerank",
    measure: Annotated[str, typer.Option(help="Metric to maximise.")] = "nDCG@10",
    save: Annotated[bool, typer.Option("--save/--no-save", help="Write the choice into the index.")] = False,
    progress: ProgressOpt = None,
) -> None:
    """Choose the pipeline (BM25, RM3, embedding expansion, the DESM mixture) and its parameters on judged queries.

    Without --folds: BM25's k1 and b (BM25 alone), then pipeline and alpha, on SPLIT.
    With --folds K: K-fold cross-validation over SPLIT's queries, never ranking a
    query with a choice made on it; --run writes that run.
    """
    from .evaluation import tune_bm25
    from .evaluation.pipelines import ALPHAS, cross_validate_pipelines, iter_table, pipeline_grid, score_grid
    from .irdata import read_collection, write_run
    from .ranking import Ranker

    coll = read_collection(collection)
    queries, qrels = coll.split_queries(split), coll.qrels[split]
    ranker = Ranker.load(index_path, mmap=False)
    pipelines = pipeline_grid("in-out" if ranker.model.out_vectors is not None else "in-in")
    table = Table(title=f"mean {measure} over {len(queries):,} '{split}' queries, by DESM weight alpha")
    table.add_column("pipeline")
    for a in ALPHAS:
        table.add_column(f"{a}", justify="right")
    if folds is None:
        if run is not None:
            raise DualvecError("--run writes a cross-validated run: give --folds too")
        bm = tune_bm25(ranker, coll.docs, queries, qrels, measure=measure)
        err.print(f"BM25 alone: k1={bm.params['k1']}, b={bm.params['b']} ({measure} {bm.score:.4f})")
        grid = score_grid(ranker, queries, qrels, pipelines=pipelines, mode=mode, measure=measure,
                          progress=progress)
        choice = grid.best(grid.query_ids)
    else:
        cv = cross_validate_pipelines(ranker, queries, qrels, k=folds, pipelines=pipelines, mode=mode,
                                      measure=measure, progress=progress)
        grid, choice = cv.grid, cv.choices[0]
    for name, row in iter_table(grid):
        table.add_row(name, *(f"{v:.4f}" for v in row))
    out.print(table)
    if folds is None:
        out.print(f"chosen: {choice.describe()}  ({measure} {choice.score:.4f}); alpha {choice.alpha}")
    else:
        from .evaluation import evaluate

        for f, c in enumerate(cv.choices, start=1):
            out.print(f"fold {f}: {c.describe()}  ({measure} {c.score:.4f} on the other folds)")
        if cv.at_edge:
            out.print(f"[yellow]at the edge of the grid (the best may lie beyond):[/] {', '.join(cv.at_edge)}")
        score = evaluate(cv.run, qrels, [measure]).aggregate[measure]
        out.print(f"cross-validated {measure}: {score:.4f}")
        if run is not None:
            write_run(cv.run, run, tag="dualvec-cv")
            err.print(f"wrote the cross-validated run to {run}")
        choice = grid.best(grid.query_ids)  # what --save stores: the choice on every query
    if save:
        ranker.config.alpha = choice.alpha
        ranker.config.rm3, ranker.config.expansion = choice.pipeline.rm3, choice.pipeline.expansion
        ranker.save(index_path)
        err.print(f"saved {choice.describe()} (k1={ranker.config.k1}, b={ranker.config.b}) into {index_path}")


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
