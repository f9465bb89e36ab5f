"""Evaluation commands: evaluate, tune."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from ..errors import DualvecError
from ..evaluation.ir import DEFAULT_MEASURES
from ._common import (
    INDEX_HELP,
    Col,
    OutputFormatOpt,
    ProgressOpt,
    Report,
    SplitOpt,
    number_column,
    app,
    err,
    friendly,
    queries_and_qrels,
    renamed,
)


def _qrels(path: Path, split: Optional[str]):
    from ..text.collections import read_qrels

    if path.is_dir():
        _, qrels = queries_and_qrels(path, split)
        if qrels is None:
            raise DualvecError(f"{path} holds no judgments")
        return qrels
    return read_qrels(path)


def _wrappable(pipeline: str) -> str:
    """``bm25+rm3(docs=5,terms=10)`` with spaces where a line may break: after each ``+`` and comma."""
    return pipeline.replace("+", " + ").replace(",", ", ")


#: Below this share of judged documents found in an index, tune warns (they may come from another collection).
MIN_JUDGED_SHARE = 0.5


def check_judged(qrels, doc_ids, qrels_name: str, where: str, warn_below: float | None = MIN_JUDGED_SHARE) -> None:
    """Refuse judgments none of whose documents is in ``doc_ids`` (a table of 0.0000 otherwise says
    nothing of why); warn when fewer than ``warn_below`` of them are."""
    import warnings

    judged = {d for docs in qrels.values() for d in docs}
    if not judged:
        raise DualvecError(f"{qrels_name} judges no document")
    ids = doc_ids if isinstance(doc_ids, (set, frozenset, dict)) else set(doc_ids)
    found = sum(1 for d in judged if d in ids)
    if found == 0:
        raise DualvecError(f"no judged document of {qrels_name} is in {where}: are they from the same collection?")
    if warn_below is not None and found < warn_below * len(judged):
        warnings.warn(f"only {found:,} of the {len(judged):,} judged documents of {qrels_name} "
                      f"({found / len(judged):.0%}) are in {where}: are they from the same collection?", stacklevel=1)


def check_run(run, qrels, run_name: str, qrels_name: str) -> None:
    """Refuse a run that shares no query, or no judged document, with the judgments."""
    common = [q for q in run if q in qrels]
    if not common:
        raise DualvecError(f"no query of {run_name} is judged in {qrels_name}: are they from the same collection "
                           f"(and split)?")
    check_judged({q: qrels[q] for q in common}, {d for q in common for d in run[q]}, qrels_name, run_name,
                 warn_below=None)


@app.command("evaluate")
@friendly
def evaluate_cmd(
    run_paths: Annotated[list[Path], typer.Argument(metavar="RUN...", help="TREC run file(s); the first is the baseline.")],
    qrels_path: Annotated[Path, typer.Option("--qrels", "-q", help="Judgments: a collection directory (quirks "
                                                                  "handled) or a TREC/BEIR qrels file.")],
    split: SplitOpt = None,
    measures: Annotated[str, typer.Option(help="Comma-separated ir-measures names.")] = ",".join(DEFAULT_MEASURES),
    fmt: OutputFormatOpt = None,
) -> None:
    """Metrics of one or more runs, with a paired randomisation test of each against the first."""
    from ..evaluation import evaluate, paired_randomization_test
    from ..text.collections import read_run

    report = Report(fmt)
    names = [m.strip() for m in measures.split(",") if m.strip()]
    if not names:
        raise DualvecError("--measures names no measure (e.g. nDCG@10,AP)")
    qrels = _qrels(qrels_path, split)
    runs = [read_run(p) for p in run_paths]
    for p, run in zip(run_paths, runs):
        check_run(run, qrels, str(p), str(qrels_path))
    results = [evaluate(run, qrels, names) for run in runs]
    columns = [Col("run")]
    for m in names:
        columns += [Col(m, digits=4), Col(f"p {m}", digits=3)]
    rows = []
    for p, res in zip(run_paths, results):
        row: list = [p.name]
        for m in names:
            base = res is results[0]
            row += [res.aggregate[m],
                    None if base else paired_randomization_test(res.per_query[m], results[0].per_query[m])]
        rows.append(row)
    report.table(columns, rows, f"{len(next(iter(results[0].per_query.values()))):,} judged queries",
                 caption=f"p: paired randomisation test against {run_paths[0].name}" if len(runs) > 1 else "")
    report.flush()


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
    learner: Annotated[str, typer.Option(help="Learned ranker(s) tried beside the pipeline grid, each chosen only "
                                              "where an inner cross-validation on the training queries says it "
                                              "pays: auto (coordinate_ascent, and lightgbm where installed), "
                                              "coordinate_ascent, lightgbm, or none.")] = "auto",
    progress: ProgressOpt = None,
    fmt: OutputFormatOpt = None,
) -> None:
    """Choose the pipeline (BM25, RM3, embedding expansion, the DESM mixture) and its parameters on judged queries.

    Without --folds: BM25's k1 and b (BM25 alone), then pipeline and alpha, on SPLIT.
    With --folds K: K-fold cross-validation over SPLIT's queries, never ranking a
    query with a choice made on it; -o/--output writes that run. Beside the grid, learned rankers
    over the BM25 and RM3 pools (--learner) compete in each fold, chosen by an inner
    cross-validation on its training queries alone; --save stores a winning one in the index.
    """
    from ..evaluation import tune_bm25
    from ..evaluation.pipelines import (
        ALPHAS,
        cross_validate_pipelines,
        iter_table,
        pipeline_grid,
        score_grid,
    )
    from ..text.collections import read_collection, write_run
    from ..ranking import Ranker

    run = renamed("--run", run, "--output", output)
    report = Report(fmt)
    coll = read_collection(collection)
    if split is None:
        split = "test" if "test" in coll.qrels else next(iter(coll.qrels), "test")
    queries, qrels = coll.split_queries(split), coll.qrels[split]
    ranker = Ranker.load(index_path, mmap=False)
    check_judged(qrels, ranker.doc_ids, f"{collection} ('{split}')", f"the index {index_path}")
    pipelines = pipeline_grid("in-out" if ranker.model.out_vectors is not None else "in-in")
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
    title = f"mean {measure} over {len(queries):,} '{split}' queries, by DESM weight alpha"
    rows = list(iter_table(grid))
    columns = [Col("pipeline"), *(Col(f"{a}", digits=4) for a in ALPHAS)]
    table = None
    if report.format == "table":
        # Light borders and one space between columns leave the pipeline names room at 120 columns; they
        # wrap at their parts, never cut (rows that differ only at the end were indistinguishable).
        table = Table(title=title, box=box.MINIMAL_HEAVY_HEAD, show_edge=False, padding=(0, 0, 0, 1),
                      collapse_padding=True)
        table.add_column("pipeline", overflow="fold")
        for a in ALPHAS:
            table.add_column(f"{a}", **number_column(f"{a}", [f"{v:.4f}" for _, r in rows for v in r]))
        for name, row in rows:
            table.add_row(escape(_wrappable(name)), *(f"{v:.4f}" for v in row))
    report.table(columns, [(name, *row) for name, row in rows], title, rich_table=table)
    learning = _Learning(ranker, queries, qrels, learner, mode, measure, progress, report)
    if folds is None:
        report.note(f"chosen: {choice.describe()}  ({measure} {choice.score:.4f}); alpha {choice.alpha}")
    else:
        from ..evaluation import evaluate

        for f, c in enumerate(cv.choices, start=1):
            report.note(f"fold {f}: {c.describe()}  ({measure} {c.score:.4f} on the other folds)")
        if cv.at_edge:
            report.note(f"at the edge of the grid (the best may lie beyond): {', '.join(cv.at_edge)}")
        score = evaluate(cv.run, qrels, [measure]).aggregate[measure]
        if learning.on:
            report.note(f"cross-validated {measure} of the pipeline grid alone: {score:.4f}")
            cv.run = learning.cross_validate(ranker, grid, folds)
            score = evaluate(cv.run, qrels, [measure]).aggregate[measure]
        report.note(f"cross-validated {measure}: {score:.4f}")
        if run is not None:
            write_run(cv.run, run, tag="dualvec-cv")
            err.print(f"wrote the cross-validated run to {run}")
        choice = grid.best(grid.query_ids)  # what --save stores: the choice on every query
    final = learning.decide(grid) if learning.on and (save or folds is None) else None
    if save:
        ranker.config.alpha = choice.alpha
        ranker.config.rm3, ranker.config.expansion = choice.pipeline.rm3, choice.pipeline.expansion
        ranker.config.learned = None
        what = choice.describe()
        if final is not None:
            ranker.config.rm3 = ranker.config.expansion = None  # the features add RM3 themselves
            ranker.config.learned, what = final.to_dict(), _describe_learner(final)
        ranker.save(index_path)
        err.print(f"saved {what} (k1={ranker.config.k1}, b={ranker.config.b}) into {index_path}")
    report.flush()


class _Learning:
    """tune's learned ranker: the features of every judged query (computed once), the
    learner-or-pipeline choice per fold, and the final decision on every query."""

    def __init__(self, ranker, queries, qrels, learner: str, mode: str, measure: str, progress, report: Report):
        from ..ranking.learned import LEARNERS, make_learner

        if learner not in ("auto", "none") and learner not in LEARNERS:
            raise DualvecError(f"unknown learner {learner!r}; use one of auto, {', '.join(LEARNERS)}, none")
        self.on = learner != "none" and mode == "rerank"
        self.qrels, self.measure, self.report = qrels, measure, report
        if not self.on:
            return
        from ..evaluation.learning import default_learners, feature_pools

        if learner == "auto":
            self.make = default_learners()
        else:
            make_learner(learner)  # a missing LightGBM fails here, before the work
            self.make = {learner: lambda: make_learner(learner)}
        judged = {q: t for q, t in queries.items() if q in qrels}
        self.pools = feature_pools(ranker.with_config(learned=None), judged, progress=progress)
        self.names = ranker.features().names

    def cross_validate(self, ranker, grid, folds: int):
        from ..evaluation.learning import cross_validate_choice

        cv = cross_validate_choice(ranker, grid, self.pools, self.qrels, k=folds, make=self.make,
                                   measure=self.measure)
        for f, c in enumerate(cv.choices, start=1):
            inner = ", ".join(f"{k} {v:.4f}" for k, v in c.inner.items())
            what = _describe_learner(c.learner) if c.learner is not None else c.description
            self.report.note(f"fold {f}, chosen by inner cross-validation ({inner}): {what}")
        return cv.run

    def decide(self, grid):
        """The learner fitted on every query, if it beats the pipeline grid in a cross-validation
        over them; else None (the pipeline grid's choice stands)."""
        from ..evaluation.learning import best_family, fit_learner, inner_scores

        inner = inner_scores(grid, self.pools, self.qrels, self.names, grid.query_ids, k=5, make=self.make,
                             measure=self.measure, seed=0)
        scores = ", ".join(f"{k} {v:.4f}" for k, v in inner.items())
        family = best_family(inner)
        if family == "pipeline":
            self.report.note(f"on every query, the pipeline grid ({scores}): keeping its choice")
            return None
        learner = fit_learner(self.pools, self.qrels, grid.query_ids, self.names, self.make[family])
        self.report.note(f"on every query, the learner ({scores}): {_describe_learner(learner)}")
        return learner


def _describe_learner(learner) -> str:
    from ..evaluation.learning import describe_learner

    return describe_learner(learner)
