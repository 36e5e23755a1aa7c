"""How results read on a terminal: tables, grouped warnings, summaries, a progress bar.

Plain text in, plain text out (no click): the command line prints what these
return.  Tables abbreviate IRIs with the contract's prefixes, right-align
numbers and fit a width; warnings of one kind are counted on one line.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence, TextIO

import pyoxigraph as ox

from .sparql import PREDECLARED

NUMERIC = {
    "http://www.w3.org/2001/XMLSchema#" + t
    for t in ("integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
              "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong")
}


def short_iri(iri: str) -> str:
    """An IRI as ``prefix:local`` when it is in a predeclared namespace, else ``<iri>``.

    >>> short_iri("https://w3id.org/evidencegraph#Fact"), short_iri("http://example.org/x")
    ('eg:Fact', '<http://example.org/x>')
    """
    for prefix, ns in PREDECLARED.items():
        if iri.startswith(ns) and re.fullmatch(r"[A-Za-z_][\w.-]*", iri[len(ns):] or "-"):
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


def cell(t: Any) -> str:
    """An RDF term as people read it: IRIs prefixed or in <>, literals as their text."""
    if t is None:
        return ""
    if isinstance(t, ox.NamedNode):
        return short_iri(t.value)
    if isinstance(t, ox.BlankNode):
        return f"_:{t.value}"
    if isinstance(t, ox.Literal):
        return t.value
    return str(t)


def is_number(t: Any) -> bool:
    return isinstance(t, ox.Literal) and t.datatype.value in NUMERIC


def table(names: Sequence[str], rows: Iterable[Sequence[Any]], width: int | None = None) -> str:
    """An aligned table of RDF terms (or plain values): a header, a rule, one line per row.

    Columns whose values are all numbers are right-aligned.  With ``width``,
    the widest columns are cut (with ``…``) until a line fits.

    >>> one = ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    >>> print(table(["kind", "n"], [[ox.NamedNode("https://w3id.org/evidencegraph#claim"), one]]))
    kind      n
    --------  -
    eg:claim  1
    """
    raw = [list(r) for r in rows]
    numeric = [bool(raw) and all(r[i] is None or is_number(r[i]) or isinstance(r[i], (int, float)) for r in raw)
               and any(r[i] is not None for r in raw) for i in range(len(names))]
    text = [[c if isinstance(c, str) else cell(c) if not isinstance(c, (int, float)) else f"{c:,}" if isinstance(c, int) else str(c)
             for c in r] for r in raw]
    widths = [max([len(n)] + [len(r[i]) for r in text]) for i, n in enumerate(names)]
    if width:
        widths = _fit(widths, [len(n) for n in names], width)
    def fmt(cells: Sequence[str]) -> str:
        parts = []
        for i, (c, w) in enumerate(zip(cells, widths)):
            c = c if len(c) <= w else c[: max(w - 1, 0)] + "…"
            parts.append(c.rjust(w) if numeric[i] else c.ljust(w))
        return "  ".join(parts).rstrip()
    lines = [fmt(names), "  ".join("-" * w for w in widths)] + [fmt(r) for r in text]
    return "\n".join(lines) + "\n"


def _fit(widths: list[int], minimum: list[int], total: int) -> list[int]:
    widths = list(widths)
    floor = [max(m, 6) for m in minimum]
    while sum(widths) + 2 * (len(widths) - 1) > total:
        i = max(range(len(widths)), key=lambda k: widths[k] - floor[k])
        if widths[i] <= floor[i]:
            break
        widths[i] -= 1
    return widths


# --- warnings, grouped --------------------------------------------------------------


@dataclass
class Group:
    """Warnings (or validation results) of one kind."""

    severity: str  # warning | violation
    kind: str
    lines: list[str] = field(default_factory=list)  # each in full, as --verbose prints them
    places: list[str] = field(default_factory=list)  # where each is (page, or page:line)
    example: str = ""  # the first one's message (a validation result's)


def warning_kind(text: str) -> str:
    """A parse warning without what is particular to one page (names, quoted values).

    >>> warning_kind("a.txt: the entities 'A' and 'B' are a weak guess; name them in a.entities.json")
    'the entities … and … are a weak guess; name them in PAGE.entities.json'
    """
    text = re.sub(r"^[^:\s]+(?:\.txt)?: ", "", text, count=1)
    text = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "…", text)
    return re.sub(r"\S+\.entities\.json", "PAGE.entities.json", text)


def grouped(warnings: Sequence[str], results: Sequence[Any]) -> list[Group]:
    """Parse warnings and validation results, grouped by kind (in order of first appearance)."""
    groups: dict[tuple[str, str], Group] = {}
    for w in warnings:
        kind = warning_kind(w)
        g = groups.setdefault(("warning", kind), Group("warning", kind))
        g.lines.append(w)
        g.places.append(w.split(": ", 1)[0] if ": " in w else "")
    for r in results:
        severity = "violation" if r.severity == "Violation" else "warning"
        kind = r.constraint or r.shape or r.component
        where = f"{r.file}:{r.line}" if r.line else (r.file or "")
        g = groups.setdefault((severity, kind), Group(severity, kind, example=r.message))
        mine = f" ({r.shape})" if r.shape and ":" in r.shape and not r.shape.startswith("egsh:") else ""  # a user's shape
        g.lines.append(f"{where}: {r.message} [{r.focus}]{mine}")
        g.places.append(where)
    return list(groups.values())


def warning_lines(warnings: Sequence[str], results: Sequence[Any], verbose: bool = False) -> list[str]:
    """Violations one line each; warnings one line per kind (count, where, an example), or with ``verbose`` one each.

    >>> for line in warning_lines(["a.txt: 'A' is a guess", "b.txt: 'B' is a guess"], []):
    ...     print(line)
    warning: 2 × … is a guess: a.txt, b.txt (--verbose lists them)
    """
    out = []
    for g in grouped(warnings, results):
        if verbose or len(g.lines) == 1 or g.severity == "violation":
            out += [f"{g.severity}: {line}" for line in g.lines]
            continue
        places = list(dict.fromkeys(p for p in g.places if p))
        where = ", ".join(places[:3]) + (f" and {len(places) - 3:,} more" if len(places) > 3 else "")
        example = f"; e.g. {g.example}" if g.example else ""
        out.append(f"{g.severity}: {len(g.lines):,} × {g.kind}: {where}{example} (--verbose lists them)")
    return out


def counts(warnings: Sequence[str], results: Sequence[Any]) -> dict[str, int]:
    """Counts by kind, for a JSON summary."""
    return {f"{g.severity}: {g.kind}": len(g.lines) for g in grouped(warnings, results)}


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# --- progress -------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on a terminal: count, percentage, rate and time left.

    Redrawn at most ten times a second; ``close`` clears the line.
    """

    def __init__(self, total: int, label: str = "ingest", unit: str = "pages", stream: TextIO | None = None,
                 width: int | None = None):
        import shutil

        self.total, self.label, self.unit = total, label, unit
        self.stream = stream or sys.stderr
        self.width = width or shutil.get_terminal_size((80, 24)).columns
        self.done = 0
        self.start = time.monotonic()
        self._drawn = 0.0

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._drawn >= 0.1 or self.done >= self.total:
            self._drawn = now
            self.stream.write("\r" + self.line(now - self.start) + "\x1b[K")
            self.stream.flush()

    def line(self, elapsed: float) -> str:
        """The bar's text after ``elapsed`` seconds.

        >>> Progress(2000, width=72).line(0.0)
        'ingest      0/2,000   0% [                    ]'
        >>> p = Progress(2000, width=72); p.done = 500; p.line(2.0)
        'ingest    500/2,000  25% [#####               ]  250 pages/s  0:06 left'
        """
        total = max(self.total, 1)
        share = min(self.done / total, 1.0)
        count = f"{self.done:>{len(f'{self.total:,}')},}/{self.total:,}"
        tail = ""
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            left = max(self.total - self.done, 0) / rate
            tail = f"  {rate:,.0f} {self.unit}/s  {int(left // 60)}:{int(left % 60):02d} left"
        head = f"{self.label}  {count} {share:4.0%} "
        room = max(self.width - len(head) - len(tail) - 3, 10)
        room = min(room, 20)
        filled = int(room * share)
        return f"{head}[{'#' * filled}{' ' * (room - filled)}]{tail}"

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


# --- listings -------------------------------------------------------------------------


def pages_output(pages: Iterable[Any], fmt: str = "table", width: int | None = None) -> str:
    """The store's pages (``PageInfo``: name, checksum, graph) as a table, JSON or TSV with a header line."""
    import json

    rows = sorted(pages, key=lambda p: p.name)
    if fmt == "json":
        return json.dumps([{"name": p.name, "checksum": p.checksum, "graph": p.graph} for p in rows], indent=2,
                          ensure_ascii=False) + "\n"
    if fmt == "tsv":
        return "".join(f"{a}\t{b}\t{c}\n" for a, b, c in [("name", "checksum", "graph")]
                       + [(p.name or "-", p.checksum or "-", p.graph) for p in rows])
    if not rows:
        return ""
    # a graph loaded from an RDF file without a page's checksum shows "-"
    return table(["name", "checksum", "graph"], [[p.name or "-", p.checksum[:12] or "-", f"<{p.graph}>"] for p in rows], width)
