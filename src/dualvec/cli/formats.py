"""Format commands: import and export."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..corpus import TOKENIZER_PRESETS
from ..errors import DualvecError
from ..formats import FORMATS, export_model, get_format, import_model
from ..model import OUT_HS_LINEARISED
from ._common import (
    LowercaseOpt,
    TokenPatternOpt,
    app,
    err,
    friendly,
    make_tokenizer,
    open_model,
)


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
    tok = make_tokenizer(tokenizer, token_pattern, lowercase)
    if tok is not None:
        model.tokenizer = tok
    model.save(output)
    err.print(f"imported {model} into {output}")
