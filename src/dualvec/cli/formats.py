"""Format commands: import and export."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..text.tokenize import TOKENIZER_PRESETS
from ..errors import DualvecError
from ..formats import FORMATS, export_model, get_format, import_model
from ..model import OUT_HS_LINEARISED
from ._common import (
    MODEL_HELP,
    LowercaseOpt,
    TokenPatternOpt,
    app,
    err,
    friendly,
    make_tokenizer,
    one_of,
    open_model,
    renamed,
)


@app.command("export")
@friendly
def export_cmd(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help=MODEL_HELP)],
    out_file: Annotated[Optional[Path], typer.Argument(metavar="OUT_FILE", help="File or directory to write (the "
                                                       "same as -o).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File or directory to write.")] = None,
    space: Annotated[Optional[str], typer.Option(help="Space to write: in or out (word2vec format; default in).")
                     ] = None,
    which: Annotated[Optional[str], typer.Option("--which", hidden=True, help="Deprecated name of --space.")] = None,
    binary: Annotated[bool, typer.Option("--binary/--text", help="word2vec.c binary or text layout.")] = False,
    format: Annotated[str, typer.Option("--format", help="; ".join(
        f"{f.name}: {f.description}" for f in FORMATS.values() if f.save is not None))] = "word2vec",
    limit: Annotated[Optional[int], typer.Option(help="projector: only the N most frequent words (the "
                                                      "Projector is slow above ~100,000 points).", min=1)] = None,
) -> None:
    """Write a model for other tools: one space as a word2vec.c file, a gensim model, or both spaces for the
    TensorFlow Embedding Projector (--format projector: OUT_FILE is a directory)."""
    output = one_of("output", out_file, output, "-o/--output")
    which = renamed("--which", which, "--space", space, "in")
    if which not in ("in", "out"):
        raise DualvecError(f"--space must be 'in' or 'out', not {which!r}")
    fmt = get_format(format, writable=True)
    model = open_model(model_path)
    if model.out_kind == OUT_HS_LINEARISED and (which == "out" or not fmt.separate_out):
        warnings.warn("this model's OUT vectors are hierarchical softmax's linearised approximation, "
                      "not trained per-word vectors", stacklevel=1)
    if limit is not None and fmt.name != "projector":
        raise DualvecError("--limit goes with --format projector")
    export_model(model, output, format=fmt.name, which=which, binary=binary, limit=limit)
    n = min(len(model), limit or len(model))
    if fmt.name == "projector":
        what = f"{n} words x {1 if model.out_vectors is None else 2} spaces"
        err.print(f"wrote {what} to {output}/vectors.tsv and metadata.tsv (load both at "
                  "https://projector.tensorflow.org/, colour by 'space')", soft_wrap=True)
        return
    what = f"{which.upper()} vectors" if fmt.separate_out else "vectors"
    err.print(f"wrote {n} {what} to {output} ({fmt.description})")


@app.command("import")
@friendly
def import_cmd(
    source: Annotated[Path, typer.Argument(metavar="SOURCE", help="gensim model (any version), fastText .bin/.vec, word2vec.c "
                                                "text/binary, GloVe (both spaces), or DESM IN file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="dualvec model directory to write.")],
    format: Annotated[str, typer.Option("--format", help=f"auto, or one of {', '.join(n for n, f in FORMATS.items() if f.load)}.")] = "auto",
    out_file: Annotated[Optional[Path], typer.Option(help="word2vec/DESM: a second file with the OUT vectors.")] = None,
    vocab: Annotated[Optional[Path], typer.Option(help="GloVe vectors.bin: its vocab.txt (default: the one beside "
                                                       "it). GloVe's -model 0 text: --format glove.")] = None,
    tokenizer: Annotated[Optional[str], typer.Option(
        help=f"Record how the model's text was tokenised ({', '.join(TOKENIZER_PRESETS)}), for ranking with "
             "it later.")] = None,
    token_pattern: TokenPatternOpt = None,
    lowercase: LowercaseOpt = None,
) -> None:
    """Convert a model from another tool into a dualvec model directory (both spaces where it has them)."""
    from ..store import check_model_target

    check_model_target(output)  # before the work: a directory that is not a model is refused untouched
    model = import_model(source, format=format, out_path=out_file, mmap=False, vocab_path=vocab)
    tok = make_tokenizer(tokenizer, token_pattern, lowercase)
    if tok is not None:
        model.tokenizer = tok
    model.save(output)
    err.print(f"imported {model} into {output}")
