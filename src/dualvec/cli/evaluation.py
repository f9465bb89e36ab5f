"""Evaluation commands: evaluate, tune."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..errors import DualvecError
from ..evaluation.ir import DEFAULT_MEASURES
from ._common import INDEX_HELP, ProgressOpt, SplitOpt, app, err, friendly, out, queries_and_qrels, renamed


def _qrels(path: Path, split: Optional[str]):
    from ..irdata import read_qrels

    if path.is_dir():
        _, qrels = queries_and_qrels(path, split)
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
    split: SplitOpt = None,
    measures: Annotated[str, typer.Option(help="Comma-separated ir-measures names.")] = ",".join(DEFAULT_MEASURES),
) -> None:
    """Metrics of one or more runs, with a paired randomisation test of each against the first."""
    from ..evaluation import evaluate, paired_randomization_test
    from ..irdata import read_run

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
    index_path: Annotated[Path, typer.Argument(metavar="INDEX", help=INDEX_HELP)],
    collection: Annotated[Path, typer.Argument(metavar="COLLECTION", help="The indexed collection's directory (documents, queries, "
                                                    "judgments).")],
    split: Annotated[Optional[str], typer.Option(
        help="Judged split to tune on (with --folds: to cross-validate on; default: test, else the first it has). "
             "Without --folds the scores are on the queries tuned on: give --split train, or --folds.")] = None,
    folds: Annotated[Optional[int], typer.Option(help="Cross-validate: choose on K-1 folds of the queries, rank "
                                                      "the held-out fold, for every fold.", min=2)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="With --folds: write the cross-validated "
                                                                         "TREC run here.")] = None,
    run: Annotated[Optional[Path], typer.Option("--run", hidden=True, help="Deprecated name of --output.")] = None,
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
    from ..evaluation import tune_bm25
    from ..evaluation.pipelines import (
        ALPHAS,
        cross_validate_pipelines,
        iter_table,
        pipeline_grid,
        score_grid,
    )
    from ..irdata import read_collection, write_run
    from ..ranking import Ranker

    run = renamed("--run", run, "--output", output)
    coll = read_collection(collection)
    if split is None:
        split = "test" if "test" in coll.qrels else next(iter(coll.qrels), "test")
    queries, qrels = coll.split_queries(split), coll.qrels[split]
    ranker = Ranker.load(index_path, mmap=False)
    pipelines = pipeline_grid("in-out" if ranker.model.out_vectors is not None else "in-in")
    table = Table(title=f"mean {measure} over {len(queries):,} '{split}' queries, by DESM weight alpha")
    table.add_column("pipeline")
    for a in ALPHAS:
        table.add_column(f"{a}", justify="right")
    if folds is None:
        if run is not None:
            raise DualvecError("--output writes a cross-validated run: give --folds too")
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
        from ..evaluation import evaluate

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
