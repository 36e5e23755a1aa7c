"""Pages in: find page files, parse them, map them to RDF.

Used by ``convert`` (pages -> RDF, no store) and ``ingest`` (pages -> store).
A page that cannot be read is reported and skipped; the others go on.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

from .errors import EvidenceGraphError, PageError, UsageError
from .formats import RdfFormat
from .mapping import Triple, page_triples
from .page import Page, parse_file
from .shapes import Report, Result
from .vocab import DEFAULT_BASE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageFile:
    """A page file and the name it is known by (relative to the folder given)."""

    path: Path
    name: str


def find_pages(paths: Iterable[str | Path], glob: str = "*.txt") -> list[PageFile]:
    """The page files named, and those under the folders named (recursively, by ``glob``).

    :raises PageError: a path that does not exist.
    """
    found: list[PageFile] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for p in sorted(path.rglob(glob)):
                if p.is_file():
                    found.append(PageFile(p, p.relative_to(path).as_posix()))
        elif path.exists():
            found.append(PageFile(path, path.name))
        else:
            found.append(PageFile(path, path.name))  # reported when read: "cannot read the file"
    return found


def sidecar_path(path: Path) -> Path:
    """``page.txt`` -> ``page.entities.json``: names the two entities of one page."""
    stem = path.name[:-4] if path.name.endswith(".txt") else path.name
    return path.with_name(stem + ".entities.json")


def read_page(pf: PageFile, subject: str | None = None, object: str | None = None) -> Page:
    """Parse one page file; entities from the arguments, else a sidecar file, else the page.

    :raises PageError: the page or its sidecar cannot be read.
    """
    if not (subject and object):
        side = sidecar_path(pf.path)
        if side.exists():
            subject, object = _read_sidecar(side)
    page = parse_file(str(pf.path), subject, object)
    page.name = pf.name
    return page


def _read_sidecar(side: Path) -> tuple[str, str]:
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
        subject, object = data["subject"], data["object"]
        if not (isinstance(subject, str) and isinstance(object, str) and subject.strip() and object.strip()):
            raise ValueError
        return subject, object
    except json.JSONDecodeError as e:
        raise PageError(f"the sidecar file is not JSON ({e.msg})", str(side), e.lineno) from None
    except (KeyError, ValueError, TypeError, OSError):
        raise PageError(
            'the sidecar file must be {"subject": "…", "object": "…"} with two non-empty names', str(side), 1
        ) from None


@dataclass
class Outcome:
    """What happened to the pages of one run."""

    pages: list[Page] = field(default_factory=list)
    errors: list[EvidenceGraphError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    report: Report = field(default_factory=Report)
    refused: list[str] = field(default_factory=list)  # pages left out under --strict

    @property
    def failed(self) -> int:
        return len(self.errors)

    @property
    def nonconforming(self) -> int:
        return len({r.file for r in self.report.violations})


def parse_pages(
    files: Iterable[PageFile],
    subject: str | None = None,
    object: str | None = None,
    outcome: Outcome | None = None,
) -> Iterator[Page]:
    """Parse pages one by one; errors and warnings are collected in ``outcome``."""
    outcome = outcome if outcome is not None else Outcome()
    for pf in files:
        try:
            page = read_page(pf, subject, object)
        except PageError as e:
            if e.path == str(pf.path):
                e = PageError(e.message, str(pf.path), e.line)
            outcome.errors.append(e)
            continue
        outcome.warnings.extend(page.warnings)
        yield page


def page_graphs(pages: Iterable[Page], base: str = DEFAULT_BASE) -> Iterator[tuple[Page, str, list[Triple]]]:
    for page in pages:
        g, triples = page_triples(page, base)
        yield page, g, triples


def validate_page(page: Page, triples: list[Triple]) -> Report:
    """SHACL-validate one page's graph; results name the page file."""
    from .mapping import to_oxigraph
    from .loaders import to_rdflib
    from .shapes import validate_graph

    report = validate_graph(to_rdflib(to_oxigraph("urn:x-page", triples)))
    report.results = [r if r.file else _with_file(r, page.name) for r in report.results]
    return report


def _with_file(result: Result, name: str) -> Result:
    from dataclasses import replace

    return replace(result, file=name)


def checked_graphs(
    graphs: Iterable[tuple[Page, str, list[Triple]]], outcome: Outcome, strict: bool = False
) -> Iterator[tuple[Page, str, list[Triple]]]:
    """Validate each page graph on the way through; under ``strict`` drop those that fail."""
    for page, g, triples in graphs:
        report = validate_page(page, triples)
        outcome.report.extend(report)
        if not report.conforms(strict):
            if strict:
                outcome.refused.append(page.name)
                continue
        outcome.pages.append(page)
        yield page, g, triples


def convert(
    paths: Iterable[str | Path],
    fmt: RdfFormat,
    out: BinaryIO,
    base: str = DEFAULT_BASE,
    subject: str | None = None,
    object: str | None = None,
    validate: bool = True,
    strict: bool = False,
    glob: str = "*.txt",
) -> Outcome:
    """Pages -> RDF in one format, written to ``out``; no store.

    Each page is validated on the way (unless ``validate`` is false); under
    ``strict`` a page with violations or warnings is left out.  Output is
    deterministic: quads sorted, no blank nodes, no timestamps.
    """
    from .mapping import to_oxigraph
    from .writers import write_quads

    if subject and not object or object and not subject:
        raise UsageError("give both --subject and --object, or neither")
    outcome = Outcome()
    graphs: Iterable[tuple[Page, str, list[Triple]]] = page_graphs(
        parse_pages(find_pages(paths, glob), subject, object, outcome), base
    )
    if validate:
        graphs = checked_graphs(graphs, outcome, strict)
    else:
        graphs = _collect(graphs, outcome)
    quads = [q for _, g, triples in graphs for q in to_oxigraph(g, triples)]
    quads = sorted(set(quads), key=lambda q: (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)))
    write_quads(quads, fmt, out)
    return outcome


def _collect(graphs: Iterable[tuple[Page, str, list[Triple]]], outcome: Outcome) -> Iterator[tuple[Page, str, list[Triple]]]:
    for item in graphs:
        outcome.pages.append(item[0])
        yield item


def validate_inputs(
    paths: Iterable[str],
    input_format: str | None = None,
    subject: str | None = None,
    object: str | None = None,
    base: str = DEFAULT_BASE,
    glob: str = "*.txt",
    stdin: BinaryIO | None = None,
) -> Outcome:
    """Validate pages (``*.txt``, parsed first) and RDF files (any of the six syntaxes).

    Unreadable inputs are collected in ``outcome.errors``; the rest are validated.
    """
    from .formats import choose_rdf_format
    from .loaders import read_rdf, read_rdf_file, to_rdflib
    from .shapes import validate_graph

    outcome = Outcome()
    pages: list[PageFile] = []
    for raw in paths:
        if raw == "-":
            if not input_format:
                raise UsageError("reading stdin needs its format: give -i/--input-format")
            data = (stdin or open(0, "rb")).read()
            try:
                quads = read_rdf(data, choose_rdf_format(input_format, None), "<stdin>")
            except EvidenceGraphError as e:
                outcome.errors.append(e)
                continue
            _validate_rdf(quads, "<stdin>", outcome)
            continue
        path = Path(raw)
        if path.is_dir() or path.suffix.lower() == ".txt" and not input_format:
            pages.extend(find_pages([path], glob))
            continue
        try:
            quads = read_rdf_file(path, input_format)
        except UsageError:
            raise
        except EvidenceGraphError as e:
            outcome.errors.append(e)
            continue
        _validate_rdf(quads, str(path), outcome)
    for _ in checked_graphs(page_graphs(parse_pages(pages, subject, object, outcome), base), outcome):
        pass
    return outcome


def _validate_rdf(quads: list, name: str, outcome: Outcome) -> None:
    from .loaders import to_rdflib
    from .shapes import validate_graph

    report = validate_graph(to_rdflib(quads))
    report.results = [r if r.file else _with_file(r, name) for r in report.results]
    outcome.report.extend(report)


def base_from_env(base: str | None) -> str:
    base = base or os.environ.get("EVIDENCEGRAPH_BASE") or DEFAULT_BASE
    if not base.endswith(("/", "#")):
        base += "/"
    return base
