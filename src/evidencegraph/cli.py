"""The command line: a thin click shell over the library.

Options in, one library call per command, errors to exit codes:
0 success; 1 data does not conform or some inputs could not be read; 2 usage.
The options and error handling the commands share: clioptions.py.
"""

from __future__ import annotations

import sys

import click

from . import __version__
from .clioptions import (
    Failed,
    _read_bytes,
    base_option,
    entity_options,
    finish,
    glob_option,
    handle_errors,
    load_user_shapes,
    output_stream,
    page_options,
    rdf_output_options,
    store_option,
    user_shapes_options,
)
from .cliout import json_summary, report_outcome, result_counts, table_width, _no_bar
from .errors import EvidenceGraphError
from .guard import crash_log, one_line, setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evidencegraph")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (repeat for debug).")
def cli(verbose: int) -> None:
    """Relation pages to linked data: parse, validate, store, query, export."""
    setup_logging(verbose)
    from .resources import require_files

    try:
        if not {"-h", "--help"} & set(sys.argv[1:]):  # (a command's help needs none of them)
            require_files()
    except EvidenceGraphError as e:
        raise click.ClickException(str(e)) from None


@cli.command()
@click.argument("pages", nargs=-1, required=True, type=click.Path(path_type=str))
@rdf_output_options
@page_options
@user_shapes_options
@click.option("-q", "--quiet", is_flag=True, help="Only errors and the closing line on stderr.")
@click.option("-v", "--verbose", is_flag=True, help="Every warning and validation result (else one line per kind).")
@handle_errors
def convert(
    pages: tuple[str, ...],
    fmt: str | None,
    output: str | None,
    base: str | None,
    wiki: str | None,
    subject: str | None,
    object_: str | None,
    validate: bool,
    strict: bool,
    glob: str,
    shapes_files: tuple[str, ...],
    shapes_only: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Convert PAGES (files or folders) to RDF, on stdout or -o FILE; no store.

    The pages' named graphs are kept in nq, trig and jsonld; turtle, nt and
    xml get their union.
    """
    from .formats import choose_rdf_format
    from .pipeline import base_from_env, convert as run

    rdf = choose_rdf_format(fmt, output, default="turtle")
    shapes = load_user_shapes(shapes_files, shapes_only, validate)
    with output_stream(output) as out:
        outcome = run(pages, rdf, out, base_from_env(base), subject, object_, validate, strict, glob=glob, wiki=wiki,
                      shapes=shapes)
    report_outcome(outcome, quiet, verbose)
    finish(outcome, "converted")


@cli.command()
@click.argument("data", nargs=-1, type=click.Path(path_type=str))
@click.option("--store", "store_dir", envvar="EVIDENCEGRAPH_STORE", help="The store to validate when no DATA is given.")
@click.option(
    "-f", "--format", "out_format", type=click.Choice(["text", "turtle", "json"]), default="text", show_default=True,
    help="text for people; turtle, the standard SHACL report; json, a plain list for scripts.",
)
@click.option("-i", "--input-format", help="The RDF syntax of DATA (needed for - on stdin); else from extensions.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--full", is_flag=True, help="With the store: validate its merged graph as one graph (slower; "
              "the default checks each page and the rules where pages meet).")
@click.option(
    "--engine", type=click.Choice(["fast", "pyshacl"]), default="fast", show_default=True,
    help="fast: evidencegraph's SHACL engine (--shapes files: pyshacl-turbo); pyshacl: the reference for both (slow, same verdicts).",
)
@user_shapes_options
@base_option
@entity_options
@glob_option
@handle_errors
def validate(
    data: tuple[str, ...],
    store_dir: str | None,
    out_format: str,
    input_format: str | None,
    strict: bool,
    full: bool,
    engine: str,
    shapes_files: tuple[str, ...],
    shapes_only: bool,
    base: str | None,
    subject: str | None,
    object_: str | None,
    glob: str,
) -> None:
    """SHACL-validate DATA: pages (*.txt) or RDF files; with no DATA, the store.

    Exit 0 when the data conforms (warnings allowed unless --strict), 1 when
    it does not or some input could not be read, 2 on usage errors.
    """
    from .pipeline import base_from_env, validate_inputs
    from .shapes import format_json, format_text, format_turtle

    shapes = load_user_shapes(shapes_files, shapes_only, engine=engine)
    if data:
        outcome = validate_inputs(
            data, input_format, subject, object_, base_from_env(base), glob, sys.stdin.buffer, engine, shapes
        )
    else:
        from .pipeline import validate_store_graphs
        from .stores import open_store

        with open_store(store_dir, read_only=True) as store:
            outcome = validate_store_graphs(store, engine, full, shapes)
    report = outcome.report
    errors = [str(e) for e in outcome.errors]
    text = format_text(report) if out_format == "text" else {"json": format_json, "turtle": format_turtle}[out_format](report, errors)
    click.echo(text, nl=False)
    for w in outcome.warnings:
        click.echo(f"warning: {w}", err=True)
    for e in outcome.errors:
        click.echo(f"error: {e}", err=True)
    summary = report.summary() if report.conforms(strict) or not strict else report.summary().replace("conforms", "does not conform (--strict)")
    if outcome.errors:
        summary += f"; {len(outcome.errors)} input{'s' if len(outcome.errors) != 1 else ''} could not be read"
    if outcome.errors or not report.conforms(strict):
        raise Failed(summary)
    click.echo(summary, err=True)


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=str))
@click.option("-f", "--format", "out_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people; json, a list for scripts (with each SHACL-SPARQL rule's SELECT).")
@handle_errors
def shapes(files: tuple[str, ...], out_format: str) -> None:
    """List the shipped shapes' rules (or those of shapes FILES): what each checks, its severity, its message."""
    from .shapelist import describe, format_json, format_text

    graph = None
    if files:
        from .usershapes import load_shapes

        graph = load_shapes(files).graph
    rules = describe(graph)
    click.echo({"text": format_text, "json": format_json}[out_format](rules), nl=False)


@cli.command()
@click.argument("data", type=click.Path(path_type=str))
@click.option("-f", "--format", "fmt", help="The syntax of DATA; guessed from its extension.")
@click.option("--page", "page_iri", help="The page IRI to render when DATA holds several.")
@handle_errors
def render(data: str, fmt: str | None, page_iri: str | None) -> None:
    """Render a page's graph (an RDF file) back into page text."""
    from .formats import choose_rdf_format
    from .loaders import read_rdf
    from .render import render_graph

    rdf = choose_rdf_format(fmt, data if data != "-" else None)
    raw = sys.stdin.buffer.read() if data == "-" else _read_bytes(data)
    click.echo(render_graph(read_rdf(raw, rdf, data), page_iri), nl=False)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@store_option
@page_options
@user_shapes_options
@click.option("--batch-size", default=500, show_default=True, help="Pages per bulk write (more: faster on big stores, more memory).")
@click.option("-j", "--jobs", type=int, help="Worker processes for parsing and validation [default: the core count].")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, no warnings; errors and the summary only.")
@click.option("-v", "--verbose", is_flag=True, help="Every warning and validation result (else one line per kind).")
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON on stdout (for scripts).")
@handle_errors
def ingest(
    paths: tuple[str, ...],
    store_dir: str | None,
    base: str | None,
    wiki: str | None,
    subject: str | None,
    object_: str | None,
    validate: bool,
    strict: bool,
    glob: str,
    shapes_files: tuple[str, ...],
    shapes_only: bool,
    batch_size: int,
    jobs: int | None,
    quiet: bool,
    verbose: bool,
    as_json: bool,
) -> None:
    """Load pages and folders into the store: parse, validate, load.

    Each page (known by its two entities) becomes its own named graph, written
    whole or not at all.  An unchanged page is skipped; a changed one becomes
    the page's current revision, the old one kept as history.  Pages that do
    not conform are loaded with their violations reported (exit 1), or left out
    with --strict.  Warnings of one kind are counted on one line (--verbose
    lists them).
    """
    from .console import Progress
    from .ingestion import ingest as run
    from .pipeline import base_from_env, iter_pages
    from .stores import open_store

    shapes = load_user_shapes(shapes_files, shapes_only, validate)
    show = not quiet and sys.stderr.isatty()
    total = sum(1 for _ in iter_pages(paths, glob)) if show else 0
    with open_store(store_dir, create=True) as store, (Progress(total) if show else _no_bar()) as bar:
        outcome = run(
            paths, store, base_from_env(base), subject, object_, validate, strict, glob, batch_size, bar.update, jobs,
            wiki=wiki,
            shapes=shapes,
        )
    if outcome.recovered:
        click.echo(f"warning: rolled back {len(outcome.recovered)} pages of an interrupted ingest", err=True)
    report_outcome(outcome, quiet, verbose)
    summary = (
        f"{outcome.loaded} loaded, {outcome.replaced} replaced, {outcome.unchanged} unchanged, "
        + (f"{outcome.archived} kept as history, " if outcome.archived else "")
        + f"{outcome.failed} failed"
        + (f", {len(outcome.refused)} refused" if outcome.refused else "")
        + f"; {outcome.quads} quads written in {outcome.seconds:.1f}s into {store.location}"
    )
    if result_counts(outcome):
        summary += "; " + result_counts(outcome)
    if as_json:
        click.echo(json_summary(outcome, store.location))
    if outcome.failed or outcome.refused or outcome.nonconforming:
        raise Failed(summary)
    click.echo(summary, err=True)


@cli.command()
@click.argument("pages", nargs=-1, required=True)
@store_option
@handle_errors
def remove(pages: tuple[str, ...], store_dir: str | None) -> None:
    """Drop PAGES (names, page IRIs, files or folders) from the store.

    A file or a folder matches the pages read from it, whichever folder was
    given to ingest.  Entities, sources and facts stay while another page
    mentions them.
    """
    from .pipeline import remove as run
    from .stores import open_store

    with open_store(store_dir) as store:
        removed, missing = run(pages, store)
    for name in removed:
        click.echo(f"removed {name}", err=True)
    for name in missing:
        click.echo(f"error: {name}: no such page in the store; list them with: evidencegraph pages", err=True)
    if missing:
        raise Failed(f"{len(removed)} removed, {len(missing)} not found")
    click.echo(f"{len(removed)} removed", err=True)


@cli.command()
@store_option
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json", "tsv"]), default="table", show_default=True,
              help="table for people; json or tsv (with a header line) for scripts.")
@handle_errors
def pages(store_dir: str | None, fmt: str) -> None:
    """List the pages in the store: file name, checksum, graph IRI."""
    from .console import pages_output
    from .stores import open_store

    with open_store(store_dir, read_only=True) as store:
        found = store.pages()
    click.echo(pages_output(found.values(), fmt, table_width()), nl=False)
    if fmt == "table":
        click.echo(f"{len(found):,} page{'s' if len(found) != 1 else ''}", err=True)


def main() -> None:
    try:
        cli(prog_name="evidencegraph")
    except Exception as e:  # outside a command (handle_errors covers those): still one line
        click.echo(f"Error: unexpected {type(e).__name__}: {one_line(e)}; the details are in {crash_log(e)} "
                   "(please report it)", err=True)
        sys.exit(1)


from . import cli_read, cli_revisions  # noqa: E402,F401  (the commands of these modules: registered on the group)
