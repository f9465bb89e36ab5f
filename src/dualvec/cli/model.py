"""Model commands: train, neighbors, probable, similarity, info."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import DualvecError
from ..evaluation.embeddings import RESTRICT_VOCAB
from ..formats import FORMATS, detect_format, import_model
from ..model import SPACES, DualVectors
from ..training.word2vec import train
from ..training import TrainingParams
from ._common import (
    MODEL_HELP,
    TRAIN,
    Col,
    OutputFormatOpt,
    Report,
    LowercaseOpt,
    ProgressOpt,
    TokenizerOpt,
    TokenPatternOpt,
    app,
    count_option,
    err,
    friendly,
    index_kind,
    make_tokenizer,
    number_column,
    open_model,
    out,
    printable,
    say_if_compiling,
    spaces_arg,
    validate_options,
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
    for_ranking: Annotated[bool, typer.Option(
        "--for-ranking", help="A model for ranking: after word2vec, tune both spaces for DESM on pairs cut from "
                              "CORPUS's documents (title/body, sentence/context, crops; InfoNCE). Reads "
                              "WikiExtractor output (a folder or its .tar.gz) one <doc> at a time.")] = False,
    progress: ProgressOpt = None,
) -> None:
    """Train word2vec on CORPUS and save both spaces to a model directory (--for-ranking: then tune
    them for ranking)."""
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

    _refuse_judgments(corpus)
    kind = collection_kind(corpus)
    if kind is not None:
        err.print(f"corpus: {kind}, training on the title and text of each document", highlight=False)
    tok = make_tokenizer(tokenizer, token_pattern, lowercase)  # bad options fail before any status line
    validate_options(TrainingParams(**options))
    say_if_compiling(vector_size, bool(sg), batch, progress)
    start = time.perf_counter()
    model = train(corpus, tokenizer=tok, encoding_errors=encoding_errors, progress=progress, **options)
    trained = time.perf_counter()
    if for_ranking:
        model = _tune_for_ranking(model, corpus, workers, progress)
    tuned = time.perf_counter()
    model.save(output)
    saved = time.perf_counter()
    train_s = sum(h.seconds for h in model.history)
    words = sum(h.words for h in model.history)
    err.print(f"saved {model} to {output}")
    err.print(f"read the corpus in {trained - start - train_s:.2f} s; {len(model.history)} epoch(s) in {train_s:.2f} s "
              f"({words / max(train_s, 1e-9):,.0f} words/s, last loss {model.history[-1].loss:.4f}); "
              f"saved in {saved - tuned:.2f} s", soft_wrap=True)
    if for_ranking:
        err.print(f"tuned for ranking in {tuned - trained:.2f} s: {model.tuning['pairs_per_epoch']:,} pairs an epoch "
                  f"from {model.tuning['documents']:,} documents, loss {model.tuning['loss'][0]:.3f} -> "
                  f"{model.tuning['loss'][-1]:.3f}", soft_wrap=True)


def _tune_for_ranking(model: DualVectors, corpus: Path, workers: int | None, progress: bool | None) -> DualVectors:
    """``model`` tuned for ranking on ``corpus``'s documents, through the analysis ``dualvec index`` gives DESM."""
    from dataclasses import replace

    from ..progress import labelled
    from ..ranking.in_domain import tune_for_ranking
    from ..training.contrastive import FOR_RANKING, corpus_documents

    settings = replace(FOR_RANKING, workers=workers or (model.params.workers if model.params else 1))
    with labelled("for ranking"):
        return tune_for_ranking(model, corpus_documents(corpus), settings=settings, progress=progress)


def _refuse_judgments(corpus: Path) -> None:
    """Relevance judgments (a qrels file or folder, a run) are not text: training on them made a model of
    a few dozen ids and numbers."""
    from ..text.collections import collection_kind, judgments_kind

    judged = judgments_kind(corpus)
    if judged is None:
        return
    home = next((p for p in corpus.resolve().parents[:2] if collection_kind(p) is not None), None)
    raise DualvecError(f"{corpus}: {judged}, not text to train on"
                       + (f"; train on the collection's documents: 'dualvec train {home} -o MODEL'" if home else ""))


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


def _show_neighbours(report: Report, model: DualVectors, word, spaces: list[str], topn: int, negative=(),
                     cosmul: bool = False) -> None:
    """Neighbours of ``word`` (a word, or a list of words added up, less ``negative``) in each pairing:
    side by side in a table, each word with its count; one row per (pairing, rank) in tsv and JSON."""
    positive = [word] if isinstance(word, str) else list(word)
    negative = list(negative)
    what = "3CosMul neighbours of" if cosmul else "neighbours of"
    measure = "3CosMul" if cosmul else "cos"
    find = model.most_similar_cosmul if cosmul else model.most_similar
    results = [find(positive, negative, space=s, topn=min(topn, len(model))) for s in spaces]
    query = " + ".join(positive) + "".join(f" - {w}" for w in negative)
    caption = ("OUT here is hierarchical softmax's linearised approximation; 'dualvec probable' ranks by the "
               "exact HS probability") if any(model.is_approximate(s) for s in spaces) else ""

    def count(w: str):
        return int(model.vocab.counts[model.vocab.index[w]]) if model.counts_known else None

    columns = [Col("query"), Col("space"), Col("rank", integer=True), Col("word"), Col("count", integer=True),
               Col(measure, digits=3)]
    rows = [(query, s, i, w, count(w), c) for s, res in zip(spaces, results) for i, (w, c) in enumerate(res, 1)]
    table = None
    if report.format == "table":
        table = Table(title=_query_title(model, positive, negative, what), caption=caption or None)
        table.add_column("#", **number_column("#", [str(max((len(r) for r in results), default=1))]), style="dim")
        for s, res in zip(spaces, results):
            table.add_column(_space_label(model, s), overflow="fold")
            table.add_column(measure, **number_column(measure, [f"{c:.3f}" for _, c in res]), style="dim")
        for i in range(max((len(r) for r in results), default=0)):  # never a row with nothing in it
            row = [str(i + 1)]
            for res in results:
                row += [_with_count(model, res[i][0]), f"{res[i][1]:.3f}"] if i < len(res) else ["", ""]
            table.add_row(*row)
    report.table(columns, rows, f"{what} {query}", caption=caption, rich_table=table)


def _spaces_of(model: DualVectors, space: str) -> list[str]:
    """The pairings ``--space`` names; ``all`` on a file with one space (a word2vec export of IN or OUT)
    is that space alone, said once."""
    spaces = spaces_arg(space)
    if space == "all" and model.out_vectors is None:
        err.print("note: this model holds one space (a word2vec file is read as IN): showing IN-IN only",
                  highlight=False)
        return ["in-in"]
    if model.out_vectors is None and any("out" in s for s in spaces):
        raise DualvecError(f"--space {space} needs OUT vectors, and this model holds IN vectors only (a word2vec "
                           "file is read as IN; import it with --out-file for both): use --space in-in")
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
    fmt: OutputFormatOpt = None,
) -> None:
    """Nearest neighbours of WORD in any pairing of the IN and OUT spaces, with each word's count.

    With --plus/--minus: one query, the sum of the positive words' unit vectors less the
    negative ones' (king + woman - man), as gensim's most_similar.
    """
    if not words and not positive and not negative:
        raise DualvecError("give a WORD, or --plus/--minus words")
    model = open_model(model_path)
    spaces = _spaces_of(model, space)
    report = Report(fmt)
    for word in words or []:
        _show_neighbours(report, model, word, spaces, topn)
    if positive or negative:
        _show_neighbours(report, model, positive or [], spaces, topn, negative=negative or [])
    report.flush()


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
    fmt: OutputFormatOpt = None,
) -> None:
    """Analogies: the words nearest A + B - C, so 'king woman man' answers 'C is to A as B is to ?'
    (queen); gensim's most_similar(positive=[A, B], negative=[C])."""
    model = open_model(model_path)
    report = Report(fmt)
    _show_neighbours(report, model, [word_a, word_b], _spaces_of(model, space), topn, negative=[word_c],
                     cosmul=cosmul)
    report.flush()


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
    restrict_vocab: Annotated[int, typer.Option(help=(
        "Analogies: answer among this many most frequent words, skipping questions with a word outside them "
        f"(gensim's default, {RESTRICT_VOCAB:,}); counted apart from questions with an unknown word."),
        min=1)] = RESTRICT_VOCAB,
    sections: Annotated[bool, typer.Option("--sections/--no-sections", help="Analogies: accuracy per "
                                           "section too.")] = False,
    fmt: OutputFormatOpt = None,
) -> None:
    """Word-similarity (Spearman's rho against human scores) and analogy accuracy, in each pairing, with
    gensim's file formats and its rules (words lowercased; pairs and questions with an unknown word skipped
    and counted; analogy questions outside --restrict-vocab counted apart)."""
    from ..evaluation.embeddings import analogy_accuracy, word_similarity

    if not pairs and not analogies:
        raise DualvecError("give --pairs FILE and/or --analogies FILE")
    report = Report(fmt)
    model = open_model(model_path)
    spaces = _spaces_of(model, space)
    columns = [Col("benchmark"), Col("section"), Col("measure"), *(Col(_space_label(model, s), digits=4)
                                                                   for s in spaces),
               Col("evaluated", integer=True), Col("unknown word", integer=True),
               Col(f"outside {restrict_vocab:,} most frequent", integer=True)]
    rows = []
    for path in pairs or []:
        res = [word_similarity(model, path, space=s) for s in spaces]
        rows.append([path.name, "", "Spearman rho", *(None if r.undefined else r.spearman for r in res),
                     res[0].pairs, res[0].skipped, None])
        notes = {(r.undefined, "" if r.undefined.startswith("the human") else f" in {_space_label(model, s)}")
                 for s, r in zip(spaces, res) if r.undefined}
        for why, where in sorted(notes):  # constant human scores: one note for every pairing
            report.note(f"{path.name}: Spearman rho{where} is undefined: {why}")
    for path in analogies or []:
        res = [analogy_accuracy(model, path, space=s, restrict_vocab=restrict_vocab) for s in spaces]
        rows.append([path.name, "", "accuracy", *(r.accuracy for r in res), res[0].evaluated, res[0].unknown,
                     res[0].restricted])
        if sections:
            for name in res[0].sections:
                cells = [c / n if n else None for c, n in (r.sections[name] for r in res)]
                rows.append([path.name, name, "accuracy", *cells, res[0].sections[name][1], None, None])
    report.table(columns, rows, f"{model_path}: word similarity and analogies")
    report.flush()


@app.command("probable")
@friendly
def probable_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="A hierarchical-softmax model.")],
    words: Annotated[list[str], typer.Argument(metavar="WORD...", help="Query word(s).")],
    topn: Annotated[int, count_option("How many words.")] = 10,
    fmt: OutputFormatOpt = None,
) -> None:
    """Words most likely near WORD under hierarchical softmax: the exact log P(w | IN[word])."""
    report = Report(fmt)
    model = open_model(model_path)
    topn = min(topn, len(model))
    columns = [Col("query"), Col("rank", integer=True), Col("word"), Col("log P", digits=3)]
    for word in words:
        rows = [(word, i, w, lp) for i, (w, lp) in enumerate(model.most_probable(word, topn=topn), start=1)]
        report.table(columns, rows, f"most probable near {word!r} (exact HS)")
    report.flush()


@app.command("similarity")
@friendly
def similarity_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help=MODEL_HELP)],
    word_a: Annotated[str, typer.Argument(metavar="A", help="First word (looked up in the pairing's first space).")],
    word_b: Annotated[str, typer.Argument(metavar="B", help="Second word (in the pairing's second space).")],
    space: Annotated[str, typer.Option(help=f"One of {', '.join(SPACES)}, or 'all'.")] = "all",
    fmt: OutputFormatOpt = None,
) -> None:
    """Cosine similarity of A (in the first space) and B (in the second)."""
    report = Report(fmt)
    model = open_model(model_path)
    rows = [(s, word_a, word_b, model.similarity(word_a, word_b, space=s)) for s in _spaces_of(model, space)]
    report.table([Col("space"), Col("A"), Col("B"), Col("cosine", digits=4)], rows,
                 f"cosine similarity of {word_a!r} and {word_b!r}")
    report.flush()


@app.command("info")
@friendly
def info_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL_OR_INDEX", help=MODEL_HELP + " Or an index "
                                               "(dualvec index, with or without --engine).")],
    fmt: OutputFormatOpt = None,
) -> None:
    """Vocabulary size, dimensions, what the OUT space is and how the model was trained; for an index, its
    documents, models (each with its fingerprint and training), BM25 and DESM settings, stages, learned
    ranker and size on disk."""
    report = Report(fmt)
    kind = index_kind(model_path)
    if kind == "ranker":
        rows = _ranker_index_rows(model_path)
    elif kind == "centroids":
        rows = _centroid_index_rows(model_path)
    else:
        detected = detect_format(model_path)
        model = import_model(model_path, format=detected)
        rows = [("format", FORMATS[detected].description), *_model_rows("", model)]
        for h in model.history:
            rows.append((f"epoch {h.epoch}", f"loss {h.loss:.4f}, {h.words_per_second:,.0f} words/s"))
    report.table([Col("field"), Col("value")], rows, str(model_path))
    report.flush()


def _model_rows(prefix: str, model: DualVectors) -> list[tuple[str, object]]:
    """A model's summary as (field, value) rows, each field starting with ``prefix``."""
    info = model.info()
    params = info.pop("params") or {}
    rows: list[tuple[str, object]] = [(f"{prefix}{k}", v) for k, v in info.items()]
    rows.append((f"{prefix}fingerprint", model.fingerprint))
    if params:
        rows.append((f"{prefix}trained with", ", ".join(f"{k}={v}" for k, v in params.items())))
    return rows


def _disk_sizes(root: Path, parts) -> list[tuple[str, int]]:
    """Bytes on disk under ``root``: in total, then of each part (``(label, test(relative path))``, the
    first that matches); symbolic links are not followed."""
    import os

    totals = {label: 0 for label, _ in parts}
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            try:
                size = path.lstat().st_size
            except OSError:
                continue
            total += size
            rel = path.relative_to(root).parts
            label = next((label for label, test in parts if test(rel)), None)
            if label is not None:
                totals[label] += size
    return [("size on disk (bytes)", total)] + [(f"  {label} (bytes)", n) for label, n in totals.items() if n]


def _ranker_index_rows(path: Path) -> list[tuple[str, object]]:
    """``dualvec info`` of a ranker index (``dualvec index``)."""
    from dataclasses import asdict

    from ..atomic import read_header
    from ..ranking import Ranker
    from ..ranking.ranker import INDEX_HEADER

    header = read_header(path / INDEX_HEADER, path) or {}
    ranker = Ranker.load(path)  # every part checked: a corrupt index is refused here, in one line
    config = ranker.config
    rows: list[tuple[str, object]] = [
        ("format", f"{header.get('format')} version {header.get('format_version')} (ranker index: BM25 + DESM; "
                   "dualvec search, rank, rerank, tune, serve --index)"),
        ("documents", len(ranker.doc_ids)),
        ("document texts kept", ranker.texts is not None),
        *_model_rows("model: ", ranker.model),
    ]
    for name, extra in ranker.extra_models.items():
        rows += _model_rows(f"model {name!r}: ", extra.model)
    stages = " + ".join(["bm25"] + [s.name for s in config.stages()])
    rows += [
        ("BM25 k1", config.k1), ("BM25 b", config.b), ("BM25 method", config.bm25_method),
        ("stop words", config.stopwords), ("stemmer", config.stemmer),
        ("DESM weight", config.alpha), ("DESM space", config.space), ("DESM normalization", config.normalization),
        ("DESM models", config.desm_models + ("" if not ranker.extra_models else
                                              f" (the index's own and {', '.join(ranker.extra_models)})")),
        ("first stage", "the mixture over every document (fused)" if config.first_stage == "fused" else "BM25"),
        ("first-stage depth", config.first_stage_k),
        ("stages", stages),
        *((f"stage {s.name}", ", ".join(f"{k}={v}" for k, v in asdict(s).items())) for s in config.stages()),
    ]
    if ranker.learned is not None:
        from ..evaluation.learning import describe_learner

        rows.append(("learned ranker", describe_learner(ranker.learned)))
    else:
        rows.append(("learned ranker", None))
    data = header.get("data") if isinstance(header.get("data"), str) else ""

    def part(*names):
        return lambda rel: len(rel) > 1 and rel[0] == data and any(
            rel[1] == n or rel[1].startswith(n + "_") or rel[1].startswith(n + ".") for n in names)

    parts = [("model", part("model")),
             *((f"model {name!r}", part(f"model-{name}", f"centroids-{name}")) for name in ranker.extra_models),
             ("BM25", part("bm25")), ("centroids", part("centroids")), ("document texts", part("texts"))]
    return rows + _disk_sizes(path, parts)


def _centroid_index_rows(path: Path) -> list[tuple[str, object]]:
    """``dualvec info`` of a sharded centroid index (``dualvec index --engine``)."""
    from ..scale import CentroidIndex
    from ..scale.index import MANIFEST
    from ..store import load_json

    index = CentroidIndex.load(path)  # checked whole: a corrupt index is refused here
    manifest = load_json(path / MANIFEST, max_bytes=1 << 28, root=path)
    analysis = manifest.get("analysis") or {}
    rows: list[tuple[str, object]] = [
        ("format", f"{manifest.get('format')} version {manifest.get('format_version')} (sharded centroid index: "
                   "dualvec rerank)"),
        ("documents", len(index)),
        ("shards", len(manifest.get("shards", []))),
        ("documents per shard", manifest.get("chunk_size")),
        ("spaces", ", ".join(manifest.get("spaces", []))),
        ("stop words", analysis.get("stopwords")),
        ("built from", manifest.get("source")),
        *_model_rows("model: ", index.model),
    ]
    extra_models = getattr(index, "extra_models", {})  # models beside its own, where the index records any
    for name, extra in extra_models.items():
        rows += _model_rows(f"model {name!r}: ", extra.model)
    if extra_models:
        rows.append(("DESM models", index.desm_models))
    parts = [("model", lambda rel: rel[0] == "model"),
             *((f"model {name!r}", lambda rel, d=f"model-{name}": rel[0] == d) for name in extra_models),
             ("shards", lambda rel: rel[0] == "shards")]
    return rows + _disk_sizes(path, parts)
