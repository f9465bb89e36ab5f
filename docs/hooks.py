"""mkdocs hooks: the command-line reference is rendered from the typer app when the site is built,
so it can never disagree with ``dualvec COMMAND --help``; and the docstrings' Sphinx roles
(``:meth:`DualVectors.save```), which mkdocstrings prints as they are, become plain code."""

from __future__ import annotations

import re

#: Where docs/cli.md wants the reference.
MARKER = "<!-- dualvec-cli-reference -->"


def cli_reference() -> str:
    """Markdown for every command, from typer's own docs generator (``typer ... utils docs``)."""
    import typer
    import typer.main
    from typer.cli import get_docs_for_click

    from dualvec.cli import app

    command = typer.main.get_command(app)
    ctx = typer.Context(command)
    ctx.ensure_object(dict)
    text = get_docs_for_click(obj=command, ctx=ctx, name="dualvec", title="dualvec")
    return text.split("\n", 1)[1].strip() + "\n"  # the page has its own title


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 -- mkdocs' hook signature
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_reference())
    return markdown


#: A Sphinx role before a rendered code span (``:class:<code>~a.b.C</code>``); ``~`` keeps the last name.
ROLE = re.compile(r":(?:meth|func|class|mod|attr|data|exc|obj|const):<code>(~?)([^<]*)</code>")


def _plain(match: re.Match) -> str:
    name = match.group(2).rsplit(".", 1)[-1] if match.group(1) else match.group(2)
    return f"<code>{name}</code>"


def on_page_content(html: str, page, config, files) -> str:  # noqa: ARG001 -- mkdocs' hook signature
    return ROLE.sub(_plain, html)
