"""What the commands share: the options several take, the output file, the closing line, and the
library's errors turned into one line and an exit code (0 success; 1 data does not conform or some
inputs could not be read; 2 usage).  cli.py, cli_read.py and cli_revisions.py hold the commands.
"""

from __future__ import annotations

import functools
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

import click

from .cliout import BadQuery, result_counts
from .errors import EvidenceGraphError, QueryError, UsageError
from .guard import crash_log, one_line, quiet_stdout

FORMAT_NAMES = ["turtle", "jsonld", "nt", "nq", "trig", "xml"]


class Failed(click.ClickException):
    """Some inputs failed (already reported): exit 1 with a summary line."""

    exit_code = 1


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's errors into click errors with the right exit code.

    No traceback reaches a user: Ctrl-C, a full disk or an error nobody
    planned for is one line (the last with where its details were written).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except QueryError as e:
            raise BadQuery(str(e)) from None
        except UsageError as e:
            raise click.UsageError(str(e)) from None
        except EvidenceGraphError as e:
            err = click.ClickException(str(e))
            err.exit_code = e.exit_code  # type: ignore[misc]
            raise err from None
        except BrokenPipeError:
            quiet_stdout()
            sys.stderr.close()
            sys.exit(1)
        except KeyboardInterrupt:
            raise Failed("interrupted") from None
        except OSError as e:  # a full disk, a write refused: outside the data's control
            quiet_stdout()
            import errno

            where = f"{e.filename}: " if e.filename else ""
            if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
                raise Failed(f"{where}cannot write: {e.strerror}; free some space and try again") from None
            raise Failed(f"{where}{e.strerror or e}; check the path, the disk space and the permissions") from None
        except Exception as e:
            raise Failed(f"unexpected {type(e).__name__}: {one_line(e)}; the details are in {crash_log(e)} "
                         "(please report it)") from None

    return wrapper


@contextmanager
def output_stream(path: str | None) -> Iterator[BinaryIO]:
    """``-o FILE`` or stdout, binary.  A file is written whole or not at all."""
    if not path or path == "-":
        yield sys.stdout.buffer
        sys.stdout.flush()
        return
    target = Path(path)
    if target.exists() and not target.is_file():  # a device or a FIFO: written as it is
        with open(target, "wb") as fh:
            yield fh
        return
    tmp = target.with_name(f".{target.name}.part")
    try:
        fh = open(tmp, "wb")
    except OSError as e:
        hint = "the folder does not exist" if not target.parent.is_dir() else "check the permissions"
        raise EvidenceGraphError(f"{path}: cannot write the file ({e.strerror}); {hint}") from None
    try:
        with fh:
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
    if result_counts(outcome):
        parts.append(result_counts(outcome))
    line = "; ".join(parts)
    if outcome.failed or outcome.refused or outcome.nonconforming:
        raise Failed(line)
    click.echo(line, err=True)


def glob_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--glob", default="*.txt", show_default=True, help="Which files to read in folders (recursively)."
    )(fn)


def page_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What every command that reads pages takes: base IRI, wiki, entities, validation, which files."""
    return base_option(wiki_option(entity_options(validation_options(glob_option(fn)))))


def wiki_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--wiki-base", "wiki", envvar="EVIDENCEGRAPH_WIKI_BASE", metavar="URL",
        help="The product's wiki address: entities and relations get rdfs:seeAlso links to its "
        "/nodes/… and /edges?… pages [env EVIDENCEGRAPH_WIKI_BASE].",
    )(fn)


def validation_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--strict", is_flag=True, help="Leave out pages with violations or warnings (and exit 1)."
    )(fn)
    fn = click.option(
        "--validate/--no-validate", default=True, show_default=True, help="SHACL-validate each page on the way."
    )(fn)
    return fn


def user_shapes_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--shapes FILE`` (repeatable) and ``--shapes-only``: a user's own SHACL rules."""
    fn = click.option(
        "--shapes-only", is_flag=True, help="Validate with the --shapes files alone, not the shipped shapes."
    )(fn)
    fn = click.option(
        "--shapes", "shapes_files", multiple=True, metavar="FILE", type=click.Path(path_type=str),
        help="Your own SHACL shapes (any RDF syntax; repeatable), checked as well as the shipped ones.",
    )(fn)
    return fn


def load_user_shapes(files: tuple[str, ...], only: bool, validate: bool = True, engine: str | None = None) -> Any:
    """The user's shapes, read and checked before any data is (exit 2 on a bad file); None without --shapes."""
    if only and not files:
        raise UsageError("--shapes-only needs at least one --shapes FILE")
    if not files:
        return None
    if not validate:
        raise UsageError("--shapes needs validation: drop --no-validate")
    from .usershapes import load_shapes

    return load_shapes(files, only, "pyshacl" if engine == "pyshacl" else None)


def _read_bytes(path: str) -> bytes:
    from .limits import LimitError, read_file

    try:
        return read_file(path, "MAX_RDF_BYTES")
    except OSError as e:
        raise EvidenceGraphError(f"{path}: cannot read the file ({e.strerror})") from None
    except LimitError as e:
        raise EvidenceGraphError(f"{path}: {e}") from None


def store_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--store",
        "store_dir",
        envvar="EVIDENCEGRAPH_STORE",
        metavar="DIR|URL",
        help="The store: a folder [env EVIDENCEGRAPH_STORE; default .evidencegraph] or a SPARQL endpoint URL.",
    )(fn)
