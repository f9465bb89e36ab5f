"""Model commands: train, neighbors, probable, similarity, info."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..formats import FORMATS, detect_format, import_model
from ..model import SPACES, DualVectors
from ..trainer import train
from ._common import (
    TRAIN,
    LowercaseOpt,
    ProgressOpt,
    TokenizerOpt,
    TokenPatternOpt,
    MODEL_HELP,
    app,
    count_option,
    err,
    friendly,
    make_tokenizer,
    open_model,
    out,
    printable,
    spaces_arg,
)


@app.command("train")
@friendly
def train_cmd(
    corpus: Annotated[Path, typer.Argument(metavar="CORPUS", help=(
        "Text file (one sentence per line; .gz/.bz2 ok) or a directory of them; or a collection as "
        "'dualvec index' reads it (BEIR directory, .jsonl, .tsv, .parquet, Cranfield): its documents' title "
        "and text."))],
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
    from ..irdata import collection_kind

    kind = collection_kind(corpus)
    if kind is not None:
        err.print(f"corpus: {kind}, training on the title and text of each document", highlight=False)
    start = time.perf_counter()
    model = train(corpus, tokenizer=make_tokenizer(tokenizer, token_pattern, lowercase),
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
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help=MODEL_HELP)],
    words: Annotated[list[str], typer.Argument(metavar="WORD...", help="Query word(s).")],
    space: Annotated[str, typer.Option(help=f"One of {', '.join(SPACES)}, or 'all' for side by side.")] = "in-out",
    topn: Annotated[int, count_option("How many neighbours.")] = 10,
) -> None:
    """Nearest neighbours of WORD in any pairing of the IN and OUT spaces."""
    spaces = spaces_arg(space)
    model = open_model(model_path)
    for word in words:
        out.print(_neighbour_table(model, word, spaces, topn))


@app.command("probable")
@friendly
def probable_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="A hierarchical-softmax model.")],
    words: Annotated[list[str], typer.Argument(metavar="WORD...", help="Query word(s).")],
    topn: Annotated[int, count_option("How many words.")] = 10,
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
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help=MODEL_HELP)],
    word_a: Annotated[str, typer.Argument(metavar="A", help="First word (looked up in the pairing's first space).")],
    word_b: Annotated[str, typer.Argument(metavar="B", help="Second word (in the pairing's second space).")],
    space: Annotated[str, typer.Option(help=f"One of {', '.join(SPACES)}, or 'all'.")] = "all",
) -> None:
    """Cosine similarity of A (in the first space) and B (in the second)."""
    spaces = spaces_arg(space)
    model = open_model(model_path)
    for s in spaces:
        out.print(f"{s}\t{model.similarity(word_a, word_b, space=s):.4f}")


@app.command("info")
@friendly
def info_cmd(model_path: Annotated[Path, typer.Argument(metavar="MODEL", help=MODEL_HELP)]) -> None:
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
