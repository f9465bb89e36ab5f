"""Ranking commands: index, search, rerank, rank."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..text.tokenize import TOKENIZER_PRESETS
from ..errors import DualvecError
from ..model import parse_space
from ..ranking.in_domain import IN_DOMAIN_BY_DEFAULT, IN_DOMAIN_OPTIONS, TUNE_BY_DEFAULT
from ._common import (
    INDEX_HELP,
    QUERIES_HELP,
    RANK,
    AlphaAlias,
    Col,
    LowercaseOpt,
    OutputFormatOpt,
    ProgressOpt,
    Report,
    SplitOpt,
    TokenPatternOpt,
    app,
    count_option,
    err,
    friendly,
    make_tokenizer,
    number_column,
    one_of,
    open_model,
    out,
    printable,
    queries_and_qrels,
    desm_weight_value,
    renamed,
)


@app.command("index")
@friendly
def index_cmd(
    model_path: Annotated[Optional[Path], typer.Argument(
        metavar="MODEL", help="dualvec model (its tokeniser is used); leave it out to index with an "
                                "in-domain model alone.", show_default=False)] = None,
    collection: Annotated[Optional[Path], typer.Argument(
        metavar="COLLECTION", help="BEIR or Cranfield directory, or a documents file "
                                   "(.jsonl, SMART, or id<TAB>text).", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Index directory to write.")] = None,
    space: Annotated[str, typer.Option(help="DESM space: in-out (the paper's), in-in, out-out, out-in.")] = RANK.space,
    desm_weight: Annotated[Optional[float], typer.Option(
        help=f"DESM weight in the BM25 mixture (0 = BM25, 1 = DESM; default {RANK.alpha}).")
                                      ] = None,
    alpha: AlphaAlias = None,
    k1: Annotated[float, typer.Option(help="BM25 k1 (0 or more).")] = RANK.k1,
    b: Annotated[float, typer.Option(help="BM25 b (0 to 1).")] = RANK.b,
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
    dask_workers: Annotated[Optional[int], typer.Option(help="With --engine dask and no scheduler: LocalCluster "
                                                             "worker processes.", min=1)] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", hidden=True, min=1,
                                                   help="Deprecated name of --dask-workers.")] = None,
    chunk_size: Annotated[int, typer.Option(help="With --engine: documents per shard.", min=1)] = 50_000,
    in_domain: Annotated[bool, typer.Option(
        "--in-domain/--no-in-domain", help="Also train a model on the collection's own text and keep it in the "
                                           "index beside MODEL (its DESM scores are features of their own).")
                         ] = IN_DOMAIN_BY_DEFAULT,
    in_domain_epochs: Annotated[int, typer.Option(help="Epochs of the in-domain model.", min=1)
                                ] = IN_DOMAIN_OPTIONS["epochs"],
    in_domain_dim: Annotated[int, typer.Option(help="Dimensions of the in-domain model.", min=1)
                             ] = IN_DOMAIN_OPTIONS["vector_size"],
    tune: Annotated[bool, typer.Option(
        "--tune/--no-tune", help="Tune the in-domain model for ranking on pairs cut from the collection's "
                                 "documents (title/body, sentence/context, crops; no judgments); the index "
                                 "then ranks by it fused with BM25 over every document.")] = TUNE_BY_DEFAULT,
    local: Annotated[bool, typer.Option(
        "--local/--no-local", help="Expand each query with locally trained embeddings (Diaz et al. 2016: a "
                                   "model trained per query on its top documents; about a second a query).")
                     ] = False,
    progress: ProgressOpt = None,
) -> None:
    """Index a collection for BM25 and DESM: precompute every document's IN and OUT centroid.

    With MODEL, an in-domain model trained on the collection is kept beside it (--no-in-domain:
    not); without MODEL, the in-domain model is the index's only model."""
    from ..text.collections import read_collection
    from ..ranking import RM3, Expansion, Ranker
    from ..ranking.in_domain import IN_DOMAIN, MIN_TOKENS, count_tokens, train_in_domain, tune_in_domain
    from ..ranking.ranker import TUNED_MIXTURE
    from ..ranking.local import LocalEmbedding

    desm_weight = desm_weight_value(alpha, desm_weight)
    workers = renamed("--workers", workers, "--dask-workers", dask_workers)
    if model_path is None:  # both arguments are optional to click, so that MODEL can be left out
        raise DualvecError("no COLLECTION given: dualvec index [MODEL] COLLECTION -o INDEX")
    if output is None:
        raise DualvecError("no output given: -o/--output INDEX (the index directory to write)")
    if collection is None:  # index COLLECTION: the in-domain model alone
        model_path, collection, model = None, model_path, None
        if engine is not None:
            raise DualvecError("--engine needs a MODEL: dualvec index MODEL COLLECTION --engine ...")
        if adapt:
            raise DualvecError("--adapt trains MODEL further; without a MODEL there is nothing to adapt")
    else:
        model = open_model(model_path)
    tok = make_tokenizer(tokenizer, token_pattern, lowercase)
    if tok is not None and model is not None:
        model.tokenizer = tok
    if engine is None:
        Ranker.check_target(output)  # before the work: a directory that is not an index is refused untouched
        docs = read_collection(collection).docs
        texts = list(docs.values())
    else:  # the sharded index streams the collection; its models are trained on the same texts
        from ..scale.documents import iter_collection

        docs = None
        texts = [t for _, t in iter_collection(collection)] if in_domain or adapt else []
    if adapt:  # training copies the mapped matrices into memory itself
        model.train_more(texts, epochs=adapt, progress=progress)
    # The index's extra models, the same on every engine: the same command ranks the same.
    extra, trained = {}, ""
    if model is not None and in_domain and (n := count_tokens(texts, model.tokenizer)) < MIN_TOKENS:
        in_domain, trained = False, f"no in-domain model: {n:,} tokens is too little text to train one"
    if model is None or in_domain:
        from ..progress import labelled

        with labelled("in-domain model"):  # its bars say what they train, not just "epoch 1/15"
            own = train_in_domain(texts, tokenizer=model.tokenizer if model is not None else tok,
                                  epochs=in_domain_epochs, vector_size=in_domain_dim, progress=progress)
        trained = f"in-domain model: {len(own.words):,} words, {in_domain_dim} d, {in_domain_epochs} epochs"
        if tune:
            with labelled("in-domain model"):
                own = tune_in_domain(own, texts, stopwords=None if stopwords == "none" else stopwords,
                                     progress=progress)
            trained += f", tuned for ranking on {own.tuning['pairs_per_epoch']:,} pairs an epoch"
        if model is None:
            model = own
        else:
            extra[IN_DOMAIN] = own
    del texts
    # With a model tuned for ranking, the mixture it was chosen for (DESM weight, normalisation, first stage).
    mixture = dict(TUNED_MIXTURE) if any(m.tuning is not None for m in (model, *extra.values())) else {}
    mixture["alpha"] = desm_weight if desm_weight is not None else mixture.get("alpha", RANK.alpha)
    if engine is not None:  # the same models and the same mixture as the in-memory index
        from ..scale import build_index

        built = build_index(model, collection, output, chunk_size=chunk_size, engine=engine, scheduler=scheduler,
                            workers=workers, stopwords=None if stopwords == "none" else stopwords,
                            extra_models=extra, desm_models=mixture.get("desm_models", RANK.desm_models),
                            alpha=mixture["alpha"], normalization=mixture.get("normalization", RANK.normalization),
                            progress=progress)
        notes = [n for n in (f"model adapted, {adapt} epochs" if adapt else "", trained) if n]
        err.print(f"indexed {len(built):,} documents in {len(built.offsets) - 1} shards into {output}"
                  + (f" ({'; '.join(notes)})" if notes else ""))
        return
    ranker = Ranker(model, space=space, **mixture, k1=k1, b=b,
                    stopwords=None if stopwords == "none" else stopwords,
                    stemmer=None if stemmer == "none" else stemmer,
                    rm3=RM3() if rm3 else None,
                    expansion=None if expansion == "none" else Expansion(space=expansion),
                    local=LocalEmbedding() if local else None)
    ranker.index(docs, progress=progress, extra_models=extra).save(output)
    notes = [n for n in (f"model adapted, {adapt} epochs" if adapt else "", trained) if n]
    err.print(f"indexed {len(docs):,} documents into {output}" + (f" ({'; '.join(notes)})" if notes else ""))


#: Characters of a document's text shown under its title in ``search``.
SNIPPET_CHARS = 160


def _document_cell(ranker, doc: str) -> str:
    """A result's id, then its title (bold) and the start of its text, where the index keeps the texts."""
    from ..text.collections import split_title

    cell = escape(printable(doc))
    if ranker.texts is None:
        return cell
    title, body = split_title(ranker.texts[int(ranker.rows([doc])[0])])
    body = " ".join(body.split())
    snippet = body[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " ..." if len(body) > SNIPPET_CHARS else body
    if title:
        cell += f"  [bold]{escape(printable(title))}[/]"
    return cell + (f"\n[dim]{escape(printable(snippet))}[/]" if snippet else "")


def _nothing_to_rank(ranker, text: str) -> str:
    """Why a query ranks no document: no word at all, only stop words, or words neither the collection
    nor the model knows."""
    words = ranker.analyzer.tokenizer(text)
    if not words:
        return f"{text!r}: the query has no word (the tokeniser finds none); nothing to rank"
    if not ranker.analyzer.terms(text):
        return (f"{text!r}: every query word is a stop word ({', '.join(dict.fromkeys(words))}); nothing to rank "
                "(an index built with --stopwords none keeps them)")
    return f"{text!r}: no query word is in the collection or the model; nothing to rank"


def _show_results(report: Report, ranker, query, results, explain: bool, learned: bool = False,
                  desm_weight: float | None = None) -> None:
    """One query's results: a table with each document's title and snippet in a terminal; one row per
    document (id, scores, each term's share) in tsv and JSON."""
    stages = " + ".join(["bm25"] + [s.name for s in ranker.config.stages()])
    learned = learned and ranker.learned is not None
    weight = ranker.config.alpha if desm_weight is None else desm_weight  # the weight the results used
    used = ranker.desm_models_used()  # whose DESM ranks: one column each, raw ("" the index's own)
    names = ", ".join("the index's model" if n == "" else n for n in used)
    first = ("the mixture over every document, top " if ranker.config.first_stage == "fused" else "BM25 top ")
    how = (f"learned {ranker.learned.name} over the BM25 and RM3 pools" if learned else
           f"{first}{ranker.config.first_stage_k} -> {stages}; DESM {ranker.config.space} of {names}; "
           f"{ranker.config.normalization}-normalised, DESM weight {weight}")
    desm_cols = ["DESM" if len(used) == 1 else f"DESM {n or 'own'}" for n in used]
    columns = [Col("query"), Col("rank", integer=True), Col("document"), Col("score", digits=3),
               Col("BM25", digits=2), *(Col(c, digits=3) for c in desm_cols)]
    by_feature = learned and hasattr(ranker.learned, "weights_")
    if explain:
        columns.append(Col("per term: BM25 | DESM"))
        if by_feature:
            columns.append(Col("per feature: weight x normalised value"))
    rows, cells = [], []
    for rank, (doc, score) in enumerate(results, start=1):
        ex = ranker.explain(query, doc)
        row = [query.text, rank, doc, score, ex["bm25"],
               *(ex["desm"] if n == "" else ex["desm_by_model"][n] for n in used)]
        if explain:
            bm = ", ".join(f"{t} {s:.2f}" for t, s in ex["bm25_terms"] if s)
            de = ", ".join(f"{t} {s:.3f}" for t, s in ex["desm_terms"])
            row.append(f"{bm or '-'} | {de or '-'}")
            if by_feature:
                row.append(", ".join(f"{n} {c:+.3f}" for n, _, w, c in ex.get("features", ()) if w))
        rows.append(row)
        cells.append(_document_cell(ranker, doc))
    caption = "\n".join(f"{stage} added: " + ", ".join(f"{t} {w:.3f}" for t, w in sorted(terms.items(),
                                                                                       key=lambda kv: -kv[1]))
                        for stage, terms in query.added.items())
    title = f"{query.text!r}  ({how})"
    table = None
    if report.format == "table":
        table = Table(title=escape(printable(title)), caption=escape(caption) if caption else None)
        for i, c in enumerate(columns[1:], start=1):
            if c.numeric:
                table.add_column(c.name, **number_column(c.name, [c.cell(r[i]) for r in rows]))
            else:
                table.add_column(c.name, overflow="fold", ratio=3 if c.name == "document" else None)
        for row, cell in zip(rows, cells):
            table.add_row(*(cell if c.name == "document" else c.cell(v) for c, v in zip(columns[1:], row[1:])))
    report.table(columns, rows, title, caption=caption, rich_table=table)


@app.command("search")
@friendly
def search_cmd(
    index_path: Annotated[Path, typer.Argument(metavar="INDEX", help=INDEX_HELP)],
    query: Annotated[Optional[str], typer.Argument(metavar="QUERY",
                                                   help="Query text; omit to read queries line by line.")] = None,
    k: Annotated[int, count_option("Results to show.")] = 10,
    mode: Annotated[str, typer.Option(help="rerank (BM25 top-k, re-ordered) or full (whole collection).")] = "rerank",
    desm_weight: Annotated[Optional[float], typer.Option(help="DESM weight (default: the index's).")] = None,
    alpha: AlphaAlias = None,
    space: Annotated[Optional[str], typer.Option(help="DESM space (default: the index's).")] = None,
    explain: Annotated[bool, typer.Option("--explain/--no-explain", help="Show each query term's contribution.")] = True,
    fmt: OutputFormatOpt = None,
) -> None:
    """Rank documents for a query, showing BM25, DESM and each query term's share."""
    from ..ranking import Ranker

    desm_weight = desm_weight_value(alpha, desm_weight)
    report = Report(fmt)
    if query is not None and not query.strip():
        raise DualvecError("the query is empty (omit it to type queries one per line)")
    ranker = Ranker.load(index_path, **({"space": space} if space else {}))
    queries = [query] if query is not None else None
    if queries is None:
        err.print("type a query and press enter (ctrl-d to stop)")
        queries = (line.strip() for line in sys.stdin)
    for text in queries:
        if not text:
            continue
        q = ranker.analyze(text)
        results = ranker.search(q, k, mode=mode, alpha=desm_weight)
        if results:
            _show_results(report, ranker, q, results, explain, learned=desm_weight is None and mode == "rerank",
                          desm_weight=desm_weight)
            report.flush()  # each query's answer as it comes
        else:
            err.print(escape(printable(_nothing_to_rank(ranker, text))), highlight=False)


@app.command("rerank")
@friendly
def rerank_cmd(
    index_path: Annotated[Path, typer.Argument(metavar="INDEX", help="A centroid index (index --engine) or a "
                                                                     "ranker index.")],
    run: Annotated[Path, typer.Option("--run", help="The first stage's TREC run (any engine).")],
    queries_arg: Annotated[Optional[Path], typer.Argument(metavar="QUERIES", help=QUERIES_HELP)] = None,
    queries_opt: Annotated[Optional[Path], typer.Option("--queries", help="The same as QUERIES.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="TREC run file to write.")] = ...,
    desm_weight: Annotated[Optional[float], typer.Option(
        help="DESM weight in the mixture (0 = the first stage, 1 = DESM; default: the index's).")] = None,
    alpha: AlphaAlias = None,
    space: Annotated[str, typer.Option(help="DESM space.")] = RANK.space,
    normalization: Annotated[Optional[str], typer.Option(help="minmax or zscore (default: the index's).")] = None,
    depth: Annotated[Optional[int], typer.Option(help="Documents kept per query (default: all).", min=1)] = None,
    tag: Annotated[str, typer.Option(help="Run tag.")] = "dualvec-rerank",
) -> None:
    """Re-order another engine's run (Anserini, Elasticsearch, bm25s) by the DESM mixture."""
    from ..text.collections import check_run_id, read_collection, read_run, write_run
    from ..scale import CentroidIndex

    check_run_id(tag, "run tag")  # before any work
    desm_weight = desm_weight_value(alpha, desm_weight)
    queries_path = one_of("queries", queries_arg, queries_opt, "--queries")
    parse_space(space)
    queries = read_collection(queries_path).queries if queries_path.is_dir() else queries_and_qrels(queries_path, None)[0]
    first = read_run(run)
    if desm_weight is None and _learned_index(index_path):
        from ..ranking import Ranker

        ranker = Ranker.load(index_path)
        out_run = {q: dict(ranker.rerank(queries[q], list(docs))[:depth]) for q, docs in first.items() if q in queries}
        write_run(out_run, output, tag=tag)
        err.print(f"re-ranked {len(out_run):,} queries by the index's learned ranker into {output}")
        return
    # A weight or normalisation not given is the index's own (rerank_scored and CentroidIndex.rerank
    # read it): the mixture dualvec index chose, on every engine.
    if _has_extra_models(index_path):  # a ranker index with an in-domain model: mix its DESM as rank does
        from ..ranking import Ranker

        ranker = Ranker.load(index_path)
        missing = [q for q in first if q not in queries]
        if missing:
            raise DualvecError(f"the run has {len(missing)} query id(s) with no query text, "
                               f"e.g. {', '.join(map(repr, missing[:5]))}")
        out_run = {q: dict(ranker.rerank_scored(queries[q], docs, alpha=desm_weight, space=space,
                                                normalization=normalization)[:depth]) for q, docs in first.items()}
        write_run(out_run, output, tag=tag)
        err.print(f"re-ranked {len(out_run):,} queries by the index's models into {output}")
        return
    index = CentroidIndex.open(index_path)
    out_run = index.rerank(queries, first, alpha=desm_weight, space=space, normalization=normalization, depth=depth)
    write_run(out_run, output, tag=tag)
    err.print(f"re-ranked {len(out_run):,} queries into {output}")


def _ranker_header(path: Path) -> dict:
    """The ranker index header at ``path`` (bounded, a regular file), or ``{}`` when there is none."""
    from ..atomic import read_header

    header = read_header(path / "ranker.json", path)  # None if unreadable or not JSON
    return header if isinstance(header, dict) else {}


def _learned_index(path: Path) -> bool:
    """Is ``path`` a ranker index that holds a learned ranker (tune --save)?"""
    config = _ranker_header(path).get("config")
    return isinstance(config, dict) and bool(config.get("learned"))


def _has_extra_models(path: Path) -> bool:
    """Is ``path`` a ranker index whose mixture's DESM uses models beside its own (an in-domain one)?"""
    header = _ranker_header(path)
    config = header.get("config")
    return bool(header.get("extra_models")) and not (isinstance(config, dict) and config.get("desm_models") == "own")


@app.command("rank")
@friendly
def rank_cmd(
    index_path: Annotated[Path, typer.Argument(metavar="INDEX", help=INDEX_HELP)],
    queries_arg: Annotated[Optional[Path], typer.Argument(metavar="QUERIES", help=QUERIES_HELP)] = None,
    queries_opt: Annotated[Optional[Path], typer.Option("--queries", help="The same as QUERIES.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="TREC run file to write.")] = ...,
    split: SplitOpt = None,
    k: Annotated[int, count_option("Documents per query.")] = 100,
    mode: Annotated[str, typer.Option(help="rerank or full.")] = "rerank",
    desm_weight: Annotated[Optional[float], typer.Option(help="DESM weight (default: the index's).")] = None,
    alpha: AlphaAlias = None,
    space: Annotated[Optional[str], typer.Option(help="DESM space (default: the index's).")] = None,
    number_by_order: Annotated[bool, typer.Option(help="SMART queries: number them 1.. by order (Cranfield).")] = False,
    tag: Annotated[str, typer.Option(help="Run tag.")] = "dualvec",
    progress: ProgressOpt = None,
) -> None:
    """Rank a file of queries into a TREC run file."""
    from ..text.collections import check_run_id, write_run
    from ..ranking import Ranker

    check_run_id(tag, "run tag")  # before any work
    desm_weight = desm_weight_value(alpha, desm_weight)
    source = one_of("queries", queries_arg, queries_opt, "--queries")
    ranker = Ranker.load(index_path, **({"space": space} if space else {}))
    queries, _ = queries_and_qrels(source, split, number_by_order, indexed=ranker.doc_ids, index=str(index_path))
    write_run(ranker.run(queries, k=k, mode=mode, alpha=desm_weight, progress=progress), output, tag=tag)
    err.print(f"ranked {len(queries):,} queries into {output}")
