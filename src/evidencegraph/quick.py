"""The command line's entry: ``evidencegraph query`` for scripts, started without click.

A script that runs ``evidencegraph query ... -f tsv`` many times pays the start-up
every time, and click with our command definitions is most of it.  When the
command line is a plain ``query`` with a results format for scripts (json, xml,
csv, tsv) and nothing else that needs the full command line, it is run here;
anything else (``--help``, a table, ``-o``, ``--allow-service``, an unknown
option, an error before the first byte of output) goes to the click command
line in ``cli.py``, which gives the usual answer or message.  The output is the
same either way (tests/test_quick.py runs both).
"""

from __future__ import annotations

import os
import sys
from collections import namedtuple

TYPE_CHECKING = False  # (typing is not imported at run time: this module is about start-up time)
if TYPE_CHECKING:
    from typing import Any, NamedTuple

FORMATS = ("json", "xml", "csv", "tsv")  # the results formats for scripts (a table goes to the full command line)
OPTIONS = {"--store": "store", "-f": "fmt", "--format": "fmt", "-Q": "name", "--question": "name",
           "-p": "params", "--param": "params"}


if TYPE_CHECKING:
    class Plan(NamedTuple):
        sparql: str | None
        store: str | None
        fmt: str
        name: str | None
        params: tuple[str, ...]
else:
    Plan = namedtuple("Plan", "sparql store fmt name params")


def plan(argv: list[str]) -> Plan | None:
    """What ``argv`` asks for when it is a plain query for a script; None for anything else."""
    if not argv or argv[0] != "query":
        return None
    found: dict[str, Any] = {"params": []}
    positional: list[str] = []
    rest = argv[1:]
    while rest:
        token = rest.pop(0)
        if token == "--":
            positional += rest
            break
        key, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
        if key in OPTIONS:
            if not eq:
                if not rest:
                    return None
                value = rest.pop(0)
            field = OPTIONS[key]
            if field == "params":
                found["params"].append(value)
            elif field in found:
                return None  # given twice: click's rules (the last wins) are not repeated here
            else:
                found[field] = value
        elif token.startswith("-"):
            return None  # another option, or - (the query on stdin)
        else:
            positional.append(token)
    if len(positional) > 1 or found.get("fmt") not in FORMATS:
        return None
    if positional and (positional[0] == "-" or (positional[0].startswith("@") and not os.path.isfile(positional[0][1:]))):
        return None  # stdin or a pipe: read once, by the full command line
    return Plan(positional[0] if positional else None, found.get("store") or os.environ.get("EVIDENCEGRAPH_STORE") or None,
                found["fmt"], found.get("name"), tuple(found["params"]))


def run(p: Plan) -> bool:
    """Run the plan; False (nothing written) when the full command line should take it instead."""
    from .errors import EvidenceGraphError
    from .queries import parse_params, question, read_query, run_question, write_results
    from .store import check_query
    from .stores import open_store

    location, writing = str(p.store), False
    try:
        if p.name and not p.sparql:
            q = question(p.name)
            text, subs = q.sparql, q.bind(parse_params(p.params))
        elif p.sparql and not p.name and not p.params:
            from .sparql import explicit_star

            text, subs = explicit_star(read_query(p.sparql)), {}
        else:
            return False
        check_query(text, False)
        from .sparqltext import query_form

        if query_form(text) in ("CONSTRUCT", "DESCRIBE"):
            return False  # an RDF answer: the full command line (nothing has been run yet)
        _logging()
        with open_store(p.store, read_only=True) as store:
            location = store.location
            writing = True  # from here on an error is told here: the query is not run a second time
            # facts-mentioning: from the search index
            results = run_question(store, p.name, text, subs) if p.name else store.query(text, subs)
            write_results(results, p.fmt, sys.stdout.buffer)
            results = None
        sys.stdout.flush()
    except EvidenceGraphError as e:
        if not writing:
            return False  # the full command line says it, with its usage line where one is due
        fail(e, location)
    except BaseException as e:  # Ctrl-C, a closed pipe, a full disk: told the way the full command line tells it
        fail(e, location)
    return True


def _logging() -> None:
    """The full command line's log on stderr (guard.setup_logging), set up at a logger's first use, not before."""
    from . import guard

    guard.CONFIGURE_LOGGING = True


def fail(e: BaseException, location: str) -> None:
    """Say what went wrong while the answer was written, as the command line does, and exit."""
    import click

    from .clioptions import handle_errors
    from .store import query_failed

    def again() -> None:
        if isinstance(e, RuntimeError):
            raise query_failed(e, location) from None
        raise e

    try:
        handle_errors(again)()
    except click.ClickException as c:
        c.show()
        sys.exit(c.exit_code)


def main() -> None:
    p = plan(sys.argv[1:])
    if p is None or not run(p):
        from .cli import main as full

        full()
