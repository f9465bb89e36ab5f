"""The explorer and the demo: serve, demo."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..training.word2vec import train
from ._common import (
    TRAIN,
    ProgressOpt,
    Report,
    app,
    count_option,
    err,
    friendly,
    open_model,
    out,
    refuse_index,
    say_if_compiling,
)
from .model import _show_neighbours

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
    from ..serve import listening_socket, serve

    hint = (f"to explore it with its own model, run 'dualvec serve {model_path} --index {model_path}'; "
            f"or 'dualvec serve MODEL --index {model_path}'")
    if model_path != index:
        refuse_index(model_path, hint)  # before the port is taken
    sock = listening_socket(host, port)  # a busy port: one error line, before the model loads
    ranker = None
    if index is not None:
        from ..ranking import Ranker

        ranker = Ranker.load(index)
    model = ranker.model if ranker is not None and model_path == index else open_model(model_path)
    from ..serve.api import model_mismatch

    mismatch = model_mismatch(model, ranker)  # kept, with a warning here and a banner in the page:
    if mismatch:  # Search needs the index's own model; the model asked for is what the other views show
        warnings.warn(mismatch, stacklevel=1)
    err.print(f"dualvec explorer on http://{host}:{port}/  (API: /docs; ctrl-c to stop)")
    serve(model, ranker, host=host, port=port, sock=sock)


@app.command("demo")
@friendly
def demo_cmd(
    corpus: Annotated[Optional[Path], typer.Argument(
        metavar="CORPUS", help="Corpus to train on (default: the docstrings and comments of the installed Python standard library).")] = None,
    words: Annotated[Optional[list[str]], typer.Option("--word", "-w", help="Words to show (repeatable).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Also save the model here.")] = None,
    epochs: Annotated[int, typer.Option(help="Passes over the corpus.", min=1)] = 5,
    topn: Annotated[int, count_option("Neighbours shown per word.")] = 8,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Then open the web explorer on the model "
                                                                   "(http://127.0.0.1:8000/).")] = False,
    port: Annotated[int, typer.Option(help="Port for --serve.", min=1, max=65535)] = 8000,
    progress: ProgressOpt = None,
) -> None:
    """The whole job end to end: train a skip-gram model and show IN-IN next to IN-OUT neighbours."""
    if serve:  # a busy port: one error line now, not after the training
        from ..serve import listening_socket

        sock = listening_socket("127.0.0.1", port)
    if corpus is None:
        from ..text.datasets import stdlib_docs

        err.print("corpus: docstrings and comments of the installed Python standard library")
        source = list(stdlib_docs())
    else:
        source = corpus
    say_if_compiling(TRAIN.vector_size, True, TRAIN.batch, progress)
    model = train(source, sg=True, epochs=epochs, min_count=5, progress=progress)
    last = model.history[-1]
    err.print(f"trained {model}: {model.vocab.total_words:,} words, last epoch {last.words_per_second:,.0f} words/s, "
              f"loss {last.loss:.4f}")
    shown = [w for w in (words or DEMO_WORDS) if w in model] or model.words[50:56]
    out.print("IN-IN finds words of the same type; IN-OUT finds words that occur together.")
    report = Report("table")  # a demo is read, not parsed
    for word in shown:
        _show_neighbours(report, model, word, ["in-in", "in-out"], topn)
    if output is not None:
        model.save(output)
        err.print(f"saved to {output}")
    if serve:
        from ..serve import serve as run_server

        err.print(f"dualvec explorer on http://127.0.0.1:{port}/  (ctrl-c to stop)")
        run_server(model, host="127.0.0.1", port=port, sock=sock)


# -- ranking ------------------------------------------------------------------------------
