"""Corpora every machine has offline.

:func:`stdlib_docs` yields the English prose of the installed Python standard
library: module, class and function docstrings plus comments, one paragraph
per item (about 0.4 M words). It lets ``dualvec demo`` and the tests train on
real text without downloading anything.
"""

from __future__ import annotations

import ast
import io
import sysconfig
import tokenize
from collections.abc import Iterator
from pathlib import Path

_SKIP_DIRS = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"}


def stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(p for p in root.rglob("*.py") if not _SKIP_DIRS.intersection(p.relative_to(root).parts))


def _docstrings(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node)
            if doc:
                yield from (para for para in doc.split("\n\n") if para.strip())


def _comments(source: str) -> Iterator[str]:
    block: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                block.append(tok.string.lstrip("#").strip())
            elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) and block:
                yield " ".join(block)
                block = []
    except (tokenize.TokenError, SyntaxError):
        pass
    if block:
        yield " ".join(block)


def stdlib_docs() -> Iterator[str]:
    """Docstring paragraphs and comment blocks of the standard library, in file order."""
    for path in stdlib_files():
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        yield from _docstrings(tree)
        yield from _comments(source)
