"""What the command line prints besides data: results grouped and counted, summaries, hints, errors.

Part of the command line (it uses click); the formatting itself is in the
library's console module.  cli.py's commands call these.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Sequence

import click

if TYPE_CHECKING:
    from .searchhits import Hit


class BadQuery(click.ClickException):
    """A query that does not parse or is refused: ``error: …`` (and a caret line), exit 2, no usage banner."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        first, _, rest = self.message.partition("\n")
        click.echo(f"error: {first}", err=True)
        if rest:
            click.echo("       " + rest.replace("\n", "\n       "), err=True)


def report_outcome(outcome: Any, quiet: bool = False, verbose: bool = False) -> None:
    """Warnings and validation results grouped by kind (``verbose``: one line each), then errors, on stderr.

    ``quiet``: errors only.
    """
    from .console import warning_lines

    if not quiet:
        for line in warning_lines(outcome.warnings, outcome.report.results, verbose or _verbose()):
            click.echo(line, err=True)
    for name in outcome.refused:
        click.echo(f"refused: {name}: does not conform (--strict)", err=True)
    for e in outcome.errors:
        click.echo(f"error: {e}", err=True)


def _verbose() -> bool:
    """``evidencegraph -v …``: the group's option."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.find_root().params.get("verbose"))


def result_counts(outcome: Any) -> str:
    """"N violations, M warnings" (parse warnings counted with the validation warnings), or ""."""
    from .console import plural

    warnings = len(outcome.report.warnings) + len(outcome.warnings)
    if not (outcome.report.results or outcome.warnings):
        return ""
    return f"{plural(len(outcome.report.violations), 'violation')}, {plural(warnings, 'warning')}"


def json_summary(outcome: Any, location: str) -> str:
    """An ingest's summary for scripts: counts, time, store, and warnings by kind."""
    import json

    from .console import counts

    return json.dumps({
        "loaded": outcome.loaded, "replaced": outcome.replaced, "unchanged": outcome.unchanged,
        "failed": outcome.failed, "refused": len(outcome.refused), "quads": outcome.quads,
        "seconds": round(outcome.seconds, 3), "store": location,
        "violations": len(outcome.report.violations),
        "warnings": len(outcome.report.warnings) + len(outcome.warnings),
        "kinds": counts(outcome.warnings, outcome.report.results),
        "errors": [str(e) for e in outcome.errors],
    }, indent=2, ensure_ascii=False)


class _NullBar:
    def update(self, n: int) -> None:
        pass

    def __enter__(self) -> "_NullBar":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _no_bar() -> _NullBar:
    return _NullBar()


def table_width() -> int | None:
    """The terminal's width when stdout is one (or ``COLUMNS`` is set); else None: tables are not cut."""
    import os
    import shutil

    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return shutil.get_terminal_size((80, 24)).columns
    return None


def ox_boolean() -> type:
    import pyoxigraph as ox

    return ox.QueryBoolean


def empty_hint(store: Any, name: str | None, substitutions: dict[str, Any]) -> str:
    """Why an answer may be empty: a label that matches nothing, with the closest labels."""
    from .answers import suggest_labels
    from .queries import question

    if name:
        for p in question(name).params:
            if p.kind == "label" and p.name in substitutions:
                value = str(substitutions[p.name].value)
                close = suggest_labels(store, value)
                if close:
                    return f"no answer: no entity is labelled {value!r}; did you mean {' or '.join(close)}?"
                if close == [] and not _has_label(store, value):
                    return f"no answer: no entity is labelled {value!r}; list some with: evidencegraph query -Q top-entities"
    return "no answer: the query matched nothing"


def _has_label(store: Any, value: str) -> bool:
    import pyoxigraph as ox

    return bool(store.query("ASK { ?e rdfs:label ?l FILTER (?l = ?v) }".replace("?v", str(ox.Literal(value)))))


def hits_output(hits: "Sequence[Hit]", fmt: str, width: int | None = None) -> str:
    """Hits as an aligned table (the match marked ``[…]``), JSON (a list) or TSV (with a header line)."""
    import json

    if fmt == "json":
        return json.dumps([h.as_json() for h in hits], ensure_ascii=False, indent=2) + "\n"
    if fmt == "tsv":
        lines = ["kind\ttext\tnode\ttype\tscore\tpages\tsources"]
        for h in hits:
            clean = h.text.replace("\t", " ").replace("\n", " ")
            lines.append(f"{h.kind}\t{clean}\t{h.node}\t{h.type}\t{h.score:.4f}\t{' '.join(h.pages)}\t"
                         + " ".join(s["source"] for s in h.sources))
        return "\n".join(lines) + "\n"
    from .console import table

    def where(h: "Hit") -> str:
        sources = "; ".join(s["title"] for s in h.sources)
        pages = f"{h.page_count} page{'s' if h.page_count != 1 else ''}"
        return f"{sources} ({pages})" if sources else pages

    rows = [[h.kind + (f" ({h.type})" if h.type else ""), h.marked, h.node, where(h)] for h in hits]
    return table(["kind", "text", "node", "sources / pages"], rows, width)
