"""The command line: a thin click shell over the library.

Options in, one library call per command, errors to exit codes:
0 success; 1 data does not conform or some inputs could not be read; 2 usage.
"""

from __future__ import annotations

import functools
import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

import click

from . import __version__
from .errors import EvidenceGraphError, UsageError

FORMAT_NAMES = ["turtle", "jsonld", "nt", "nq", "trig", "xml"]


class Failed(click.ClickException):
    """Some inputs failed (already reported): exit 1 with a summary line."""

    exit_code = 1


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's errors into click errors with the right exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UsageError as e:
            raise click.UsageError(str(e)) from None
        except EvidenceGraphError as e:
            err = click.ClickException(str(e))
            err.exit_code = e.exit_code
            raise err from None
        except BrokenPipeError:
            sys.stderr.close()
            sys.exit(1)

    return wrapper


@contextmanager
def output_stream(path: str | None) -> Iterator[BinaryIO]:
    """``-o FILE`` or stdout, binary.  A file is written whole or not at all."""
    if not path or path == "-":
        yield sys.stdout.buffer
        sys.stdout.flush()
        return
    target = Path(path)
    tmp = target.with_name(f".{target.name}.part")
    try:
        with open(tmp, "wb") as fh:
            yield fh
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def rdf_output_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``-f/--format`` and ``-o/--output`` for commands that write RDF."""
    fn = click.option(
        "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file, not stdout."
    )(fn)
    fn = click.option(
        "-f",
        "--format",
        "fmt",
        help=f"RDF syntax: {', '.join(FORMAT_NAMES)} (or a media type); guessed from -o's extension.",
    )(fn)
    return fn


def base_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--base",
        envvar="EVIDENCEGRAPH_BASE",
        help="Base of the minted IRIs [env EVIDENCEGRAPH_BASE; default https://w3id.org/evidencegraph/id/].",
    )(fn)


def entity_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--object", "object_", metavar="NAME", help="The page's second entity, when the guess is wrong.")(fn)
    fn = click.option("--subject", metavar="NAME", help="The page's first entity, when the guess is wrong.")(fn)
    return fn


def report_outcome(outcome: Any, quiet: bool = False) -> None:
    """Parse warnings, validation results (one line each) and errors, on stderr."""
    for w in outcome.warnings:
        click.echo(f"warning: {w}", err=True)
    if not quiet:
        for r in outcome.report.results:
            where = f"{r.file}:{r.line}" if r.line else (r.file or "")
            click.echo(f"{r.severity.lower()}: {where}: {r.message} [{r.focus}]", err=True)
    for name in outcome.refused:
        click.echo(f"refused: {name}: does not conform (--strict)", err=True)
    for e in outcome.errors:
        click.echo(f"error: {e}", err=True)


def finish(outcome: Any, done: str) -> None:
    """The closing line and exit code of a run over pages."""
    total = outcome.failed + len(outcome.pages) + len(outcome.refused)
    parts = [f"{len(outcome.pages)} of {total} pages {done}"]
    if outcome.failed:
        parts.append(f"{outcome.failed} could not be read")
    if outcome.refused:
        parts.append(f"{len(outcome.refused)} refused for not conforming")
    elif outcome.nonconforming:
        parts.append(f"{outcome.nonconforming} do not conform (kept; --strict leaves them out)")
    if outcome.report.results:
        parts.append(f"{len(outcome.report.violations)} violations, {len(outcome.report.warnings)} warnings")
    line = "; ".join(parts)
    if outcome.failed or outcome.refused or outcome.nonconforming:
        raise Failed(line)
    click.echo(line, err=True)


def validation_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--strict", is_flag=True, help="Leave out pages with violations or warnings (and exit 1)."
    )(fn)
    fn = click.option(
        "--validate/--no-validate", default=True, show_default=True, help="SHACL-validate each page on the way."
    )(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evidencegraph")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (repeat for debug).")
def cli(verbose: int) -> None:
    """Relation pages to linked data: parse, validate, store, query, export."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


@cli.command()
@click.argument("pages", nargs=-1, required=True, type=click.Path(path_type=str))
@rdf_output_options
@base_option
@entity_options
@validation_options
@click.option("--glob", default="*.txt", show_default=True, help="Which files to read in folders.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and the closing line on stderr.")
@handle_errors
def convert(
    pages: tuple[str, ...],
    fmt: str | None,
    output: str | None,
    base: str | None,
    subject: str | None,
    object_: str | None,
    validate: bool,
    strict: bool,
    glob: str,
    quiet: bool,
) -> None:
    """Convert PAGES (files or folders) to RDF, on stdout or -o FILE; no store.

    The pages' named graphs are kept in nq, trig and jsonld; turtle, nt and
    xml get their union.
    """
    from .formats import choose_rdf_format
    from .pipeline import base_from_env, convert as run

    rdf = choose_rdf_format(fmt, output, default="turtle")
    with output_stream(output) as out:
        outcome = run(pages, rdf, out, base_from_env(base), subject, object_, validate, strict, glob=glob)
    report_outcome(outcome, quiet)
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
@base_option
@entity_options
@click.option("--glob", default="*.txt", show_default=True, help="Which files to read in folders.")
@handle_errors
def validate(
    data: tuple[str, ...],
    store_dir: str | None,
    out_format: str,
    input_format: str | None,
    strict: bool,
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

    if data:
        outcome = validate_inputs(data, input_format, subject, object_, base_from_env(base), glob, sys.stdin.buffer)
    else:
        from .store import validate_store

        outcome = validate_store(store_dir)
    report = outcome.report
    text = {"text": format_text, "json": format_json, "turtle": format_turtle}[out_format](report)
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


def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise EvidenceGraphError(f"{path}: cannot read the file ({e.strerror})") from None


def main() -> None:
    cli(prog_name="evidencegraph")
