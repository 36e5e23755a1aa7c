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
    for w in outcome.warnings:
        click.echo(f"warning: {w}", err=True)
    for e in outcome.errors:
        click.echo(f"error: {e}", err=True)


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
@click.option("--glob", default="*.txt", show_default=True, help="Which files to read in folders.")
@handle_errors
def convert(
    pages: tuple[str, ...],
    fmt: str | None,
    output: str | None,
    base: str | None,
    subject: str | None,
    object_: str | None,
    glob: str,
) -> None:
    """Convert PAGES (files or folders) to RDF, on stdout or -o FILE; no store.

    The pages' named graphs are kept in nq, trig and jsonld; turtle, nt and
    xml get their union.
    """
    from .formats import choose_rdf_format
    from .pipeline import base_from_env, convert as run

    rdf = choose_rdf_format(fmt, output, default="turtle")
    with output_stream(output) as out:
        outcome = run(pages, rdf, out, base_from_env(base), subject, object_, glob=glob)
    report_outcome(outcome)
    if outcome.failed:
        raise Failed(f"{outcome.failed} of {outcome.failed + len(outcome.pages)} pages could not be read; the rest were converted")


@cli.command()
@click.argument("data", type=click.Path(path_type=str))
@click.option("-f", "--format", "fmt", help="The syntax of DATA; guessed from its extension.")
@click.option("--page", "page_iri", help="The page IRI to render when DATA holds several.")
@handle_errors
def render(data: str, fmt: str | None, page_iri: str | None) -> None:
    """Render a page's graph (an RDF file) back into page text."""
    from .formats import choose_rdf_format
    from .render import read_rdf, render_graph

    rdf = choose_rdf_format(fmt, data if data != "-" else None)
    raw = sys.stdin.buffer.read() if data == "-" else _read_bytes(data)
    click.echo(render_graph(read_rdf(raw, rdf.oxigraph), page_iri), nl=False)


def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise EvidenceGraphError(f"{path}: cannot read the file ({e.strerror})") from None


def main() -> None:
    cli(prog_name="evidencegraph")
