"""Model commands: train, neighbors, probable, similarity, info."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import DualvecError
from ..formats import FORMATS, detect_format, import_model
from ..model import SPACES, DualVectors
from ..training.word2vec import train
from ..training import TrainingParams
from ._common import (
    MODEL_HELP,
    TRAIN,
    LowercaseOpt,
    ProgressOpt,
    TokenizerOpt,
    TokenPatternOpt,
    app,
    count_option,
    err,
    friendly,
    make_tokenizer,
    open_model,
    out,
    printable,
    say_if_compiling,
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
    from ..text.collections import collection_kind
    from ..store import check_model_target

    check_model_target(output)  # before training: a directory that is not a model is refused untouched

    kind = collection_kind(corpus)
    if kind is not None:
        err.print(f"corpus: {kind}, training on the title and text of each document", highlight=False)
    tok = make_tokenizer(tokenizer, token_pattern, lowercase)  # bad options fail before any status line
    TrainingParams(**options).validate()
    say_if_compiling(vector_size, bool(sg), batch, progress)
    start = time.perf_counter()
    model = train(corpus, tokenizer=tok, encoding_errors=encoding_errors, progress=progress, **options)
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


def _with_count(model: DualVectors, word: str) -> str:
    """A word and, dimmed, how often training saw it (models that know their counts)."""
    text = escape(printable(word))
    if not model.counts_known:
        return text
    return f"{text} [dim]{int(model.vocab.counts[model.vocab.index[word]]):,}[/]"


def _query_title(model: DualVectors, positive: list[str], negative: list[str], what: str) -> str:
    terms = " + ".join(repr(w) for w in positive) + "".join(f" - {w!r}" for w in negative)
    title = escape(printable(f"{what} {terms}"))
    if len(positive) == 1 and not negative and model.counts_known and positive[0] in model.vocab.index:
        title += f" ({int(model.vocab.counts[model.vocab.index[positive[0]]]):,} occurrences)"
    return title


def _neighbour_table(model: DualVectors, word, spaces: list[str], topn: int, negative=(),
                     cosmul: bool = False) -> Table:
    """Neighbours of ``word`` (a word, or a list of words added up, less ``negative``) in each pairing,
    side by side, each word with its count."""
    positive = [word] if isinstance(word, str) else list(word)
    negative = list(negative)
    what = "3CosMul neighbours of" if cosmul else "neighbours of"
    table = Table(title=_query_title(model, positive, negative, what), show_lines=False)
    find = model.most_similar_cosmul if cosmul else model.most_similar
    results = [find(positive, negative, space=s, topn=min(topn, len(model))) for s in spaces]
    table.add_column("#", justify="right", style="dim")
    for s in spaces:
        table.add_column(_space_label(model, s), no_wrap=True)
        table.add_column("cos" if not cosmul else "3CosMul", justify="right", style="dim")
    if any(model.is_approximate(s) for s in spaces):
        table.caption = ("OUT here is hierarchical softmax's linearised approximation; "
                         "'dualvec probable' ranks by the exact HS probability")
    for i in range(max((len(r) for r in results), default=0)):  # never a row with nothing in it
        row = [str(i + 1)]
        for res in results:
            row += [_with_count(model, res[i][0]), f"{res[i][1]:.3f}"] if i < len(res) else ["", ""]
        table.add_row(*row)
    return table


def _spaces_of(model: DualVectors, space: str) -> list[str]:
    """The pairings ``--space`` names; ``all`` on a file with one space (a word2vec export of IN or OUT)
    is that space alone, said once."""
    spaces = spaces_arg(space)
    if space == "all" and model.out_vectors is None:
        err.print("note: this model holds one space (a word2vec file is read as IN): showing IN-IN only",
                  highlight=False)
        return ["in-in"]
    return spaces


@app.command("neighbors")
@friendly
def neighbors_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help=MODEL_HELP)],
    words: Annotated[Optional[list[str]], typer.Argument(metavar="WORD...", help="Query word(s), one table "
                                                         "each (or none, with --plus/--minus).")] = None,
    space: Annotated[str, typer.Option(help=f"One of {', '.join(SPACES)}, or 'all' for side by side.")] = "in-out",
    topn: Annotated[int, count_option("How many neighbours.")] = 10,
    positive: Annotated[Optional[list[str]], typer.Option(
        "--plus", help="A word added to one combined query (repeatable; gensim's positive).")] = None,
    negative: Annotated[Optional[list[str]], typer.Option(
        "--minus", help="A word subtracted from that query (repeatable; gensim's negative; not --negative, "
                        "which is train's negative samples).")] = None,
) -> None:
    """Nearest neighbours of WORD in any pairing of the IN and OUT spaces, with each word's count.

    With --plus/--minus: one query, the sum of the positive words' unit vectors less the
    negative ones' (king + woman - man), as gensim's most_similar.
    """
    if not words and not positive and not negative:
        raise DualvecError("give a WORD, or --plus/--minus words")
    model = open_model(model_path)
    spaces = _spaces_of(model, space)
    for word in words or []:
        out.print(_neighbour_table(model, word, spaces, topn))
    if positive or negative:
        out.print(_neighbour_table(model, positive or [], spaces, topn, negative=negative or []))


@app.command("analogy")
@friendly
def analogy_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help=MODEL_HELP)],
    word_a: Annotated[str, typer.Argument(metavar="A", help="The word to move from (king).")],
    word_b: Annotated[str, typer.Argument(metavar="B", help="The word added (woman).")],
    word_c: Annotated[str, typer.Argument(metavar="C", help="The word subtracted (man).")],
    space: Annotated[str, typer.Option(help=f"One of {', '.join(SPACES)}, or 'all' for side by side.")] = "in-in",
    topn: Annotated[int, count_option("How many answers.")] = 10,
    cosmul: Annotated[bool, typer.Option("--cosmul/--cosadd", help="Rank by 3CosMul (Levy and Goldberg) "
                                         "instead of 3CosAdd (the summed vector).")] = False,
) -> None:
    """Analogies: the words nearest A + B - C, so 'king woman man' answers 'C is to A as B is to ?'
    (queen); gensim's most_similar(positive=[A, B], negative=[C])."""
    model = open_model(model_path)
    out.print(_neighbour_table(model, [word_a, word_b], _spaces_of(model, space), topn, negative=[word_c],
                               cosmul=cosmul))


@app.command("evaluate-words")
@friendly
def evaluate_words_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help=MODEL_HELP)],
    pairs: Annotated[Optional[list[Path]], typer.Option(
        "--pairs", help="Word-pair file (word1<TAB>word2<TAB>score: WordSim-353, SimLex-999; repeatable).")] = None,
    analogies: Annotated[Optional[list[Path]], typer.Option(
        "--analogies", help="Analogy questions ('a b c d' lines, ': section' headers: questions-words.txt; "
                            "repeatable).")] = None,
    space: Annotated[str, typer.Option(help=f"One of {', '.join(SPACES)}, or 'all'.")] = "all",
    restrict_vocab: Annotated[int, typer.Option(help="Analogies: answer among this many most frequent words "
                                                     "(gensim's default).", min=1)] = 30_000,
    sections: Annotated[bool, typer.Option("--sections/--no-sections", help="Analogies: accuracy per "
                                           "section too.")] = False,
) -> None:
    """Word-similarity (Spearman's rho against human scores) and analogy accuracy, in each pairing, with
    gensim's file formats and its rules (words lowercased; pairs and questions with an unknown word skipped
    and counted)."""
    from ..evaluation.embeddings import analogy_accuracy, word_similarity

    if not pairs and not analogies:
        raise DualvecError("give --pairs FILE and/or --analogies FILE")
    model = open_model(model_path)
    spaces = _spaces_of(model, space)
    table = Table(title=escape(printable(f"{model_path}: word similarity and analogies")))
    table.add_column("benchmark")
    table.add_column("measure")
    for s in spaces:
        table.add_column(_space_label(model, s), justify="right")
    table.add_column("evaluated / skipped", justify="right", style="dim")
    for path in pairs or []:
        res = [word_similarity(model, path, space=s) for s in spaces]
        table.add_row(escape(printable(path.name)), "Spearman rho", *(f"{r.spearman:.4f}" for r in res),
                      f"{res[0].pairs:,} / {res[0].skipped:,}")
    for path in analogies or []:
        res = [analogy_accuracy(model, path, space=s, restrict_vocab=restrict_vocab) for s in spaces]
        table.add_row(escape(printable(path.name)), "accuracy", *(f"{r.accuracy:.4f}" for r in res),
                      f"{res[0].evaluated:,} / {res[0].skipped:,}")
        if sections:
            for name in res[0].sections:
                cells = [f"{c / n:.4f}" if n else "-" for c, n in (r.sections[name] for r in res)]
                table.add_row(f"  {escape(printable(name))}", "accuracy", *cells,
                              f"{res[0].sections[name][1]:,}")
    out.print(table)


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
    model = open_model(model_path)
    spaces = _spaces_of(model, space)
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
