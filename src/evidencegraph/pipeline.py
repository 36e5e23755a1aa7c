"""Pages in: find page files, parse them, map them to RDF, validate them; find and remove pages.

Used by ``convert`` (pages -> RDF, no store), ``validate`` and, through
ingestion.py, ``ingest`` (pages -> store).  A page that cannot be read is
reported and skipped; the others go on.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Iterable, Iterator

from .errors import DataError, EvidenceGraphError, PageError, ShapesError, UsageError
from .guard import unexpected
from .formats import RdfFormat
from .mapping import Triple, page_triples
from .page import Page, checksum, parse_bytes
from .shapes import Report, Result
from .vocab import DEFAULT_BASE

if TYPE_CHECKING:
    from .store import Store
    from .usershapes import UserShapes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageFile:
    """A page file and the name it is known by (relative to the folder given)."""

    path: Path
    name: str


def find_pages(paths: Iterable[str | Path], glob: str = "*.txt") -> list[PageFile]:
    """The page files named, and those under the folders named (recursively, by ``glob``).

    A path that does not exist is listed too: reading it reports "cannot read the file".
    """
    return list(iter_pages(paths, glob))


def iter_pages(paths: Iterable[str | Path], glob: str = "*.txt") -> Iterator[PageFile]:
    """find_pages, one at a time: a folder's file names are listed (as strings) up front,
    the PageFile objects made as they are consumed (100k of them weigh ~50 MB)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            if "/" in glob or "**" in glob:
                names = sorted(p.relative_to(path).as_posix() for p in path.rglob(glob) if p.is_file())
            else:
                names = sorted(_files_named(path, glob), key=lambda n: n.split("/"))
            for n in names:
                yield PageFile(path / n, n)
        else:
            yield PageFile(path, path.name)


def _files_named(root: Path, pattern: str) -> Iterator[str]:
    """Names (relative, with ``/``) of the files under ``root`` whose name matches ``pattern``.

    What ``root.rglob(pattern)`` finds, without a ``stat`` per file (which
    costs seconds on 100k pages): symlinked folders are not entered, a
    folder that cannot be read is skipped with a warning.
    """
    from fnmatch import fnmatchcase

    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(root / rel if rel else root) as entries:
                for e in entries:
                    name = f"{rel}/{e.name}" if rel else e.name
                    if e.is_dir(follow_symlinks=False):
                        stack.append(name)
                    elif fnmatchcase(e.name, pattern) and e.is_file():
                        yield name
        except OSError as err:
            log.warning("%s: cannot read the folder (%s); its pages are skipped", root / rel, err.strerror)


def sidecar_path(path: Path) -> Path:
    """``page.txt`` -> ``page.entities.json``: names the two entities of one page."""
    stem = path.name[:-4] if path.name.endswith(".txt") else path.name
    return path.with_name(stem + ".entities.json")


def read_bytes(pf: PageFile) -> bytes:
    """:raises PageError: the file cannot be read, is not a regular file (a FIFO is not waited on), or is too large."""
    from .limits import LimitError, read_file

    try:
        return read_file(pf.path, "MAX_PAGE_BYTES")
    except OSError as e:
        raise PageError(f"cannot read the file ({e.strerror}); check the path", str(pf.path)) from None
    except LimitError as e:
        raise PageError(str(e), str(pf.path)) from None


def read_page(pf: PageFile, subject: str | None = None, object: str | None = None, data: bytes | None = None) -> Page:
    """Parse one page file; entities from the arguments, else a sidecar file, else the page.

    :raises PageError: the page or its sidecar cannot be read.
    """
    if not (subject and object):
        side = sidecar_path(pf.path)
        if side.exists():
            subject, object = _read_sidecar(side)
    page = parse_bytes(read_bytes(pf) if data is None else data, str(pf.path), subject, object)
    page.name = pf.path.name  # provenance: the page's identity is its two entities, not its file
    return page


def _read_sidecar(side: Path) -> tuple[str, str]:
    from .limits import LimitError, read_file

    try:
        data = json.loads(read_file(side, "MAX_LINE").decode("utf-8"))
        subject, object = data["subject"], data["object"]
        if not (isinstance(subject, str) and isinstance(object, str) and subject.strip() and object.strip()):
            raise ValueError
        return subject, object
    except json.JSONDecodeError as e:
        raise PageError(f"the sidecar file is not JSON ({e.msg})", str(side), e.lineno) from None
    except LimitError as e:
        raise PageError(f"the sidecar file is too large: {e}", str(side)) from None
    except (KeyError, ValueError, TypeError, OSError, RecursionError):
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
    from .limits import get, time_limit

    outcome = outcome if outcome is not None else Outcome()
    for pf in files:
        try:
            with time_limit(get("PAGE_SECONDS")):
                page = read_page(pf, subject, object)
        except PageError as e:
            if e.path == str(pf.path):
                e = PageError(e.message, str(pf.path), e.line)
            outcome.errors.append(e)
            continue
        except Exception as e:  # one page never stops a run
            outcome.errors.append(unexpected(e, str(pf.path), "read"))
            continue
        outcome.warnings.extend(page.warnings)
        yield page


def page_graphs(
    pages: Iterable[Page], base: str = DEFAULT_BASE, wiki: str | None = None, outcome: Outcome | None = None
) -> Iterator[tuple[Page, str, list[Triple]]]:
    """Each page's graph; with ``outcome``, a page that fails to map is reported there and skipped."""
    for page in pages:
        try:
            g, triples = page_triples(page, base, wiki)
        except Exception as e:
            if outcome is None:
                raise
            outcome.errors.append(unexpected(e, page.name, "map"))
            continue
        yield page, g, triples


def validate_page(page: Page, triples: list[Triple], engine: str = "fast", shapes: "UserShapes | None" = None) -> Report:
    """SHACL-validate one page's graph (and with a user's ``shapes``); results name the page file."""
    from .mapping import to_oxigraph
    from .loaders import to_rdflib
    from .shapes import validate_graph, validate_triples

    if shapes is not None and shapes.only:
        report = Report([], None, len(triples))
    elif engine == "fast":
        report = validate_triples(triples)
    else:
        report = validate_graph(to_rdflib(to_oxigraph("urn:x-page", triples)), engine)
    if shapes is not None:
        from .usershapes import merge, validate_quads

        report.results = merge(report.results, validate_quads(shapes, to_oxigraph("urn:x-page", triples), triples))

        report.graph = None  # made again from the results
    report.results = [r if r.file else _with_file(r, page.name) for r in report.results]
    return report


def _with_file(result: Result, name: str) -> Result:
    from dataclasses import replace

    return replace(result, file=name)


def checked_graphs(
    graphs: Iterable[tuple[Page, str, list[Triple]]], outcome: Outcome, strict: bool = False, engine: str = "fast",
    shapes: "UserShapes | None" = None,
) -> Iterator[tuple[Page, str, list[Triple]]]:
    """Validate each page graph on the way through; under ``strict`` drop those that fail."""
    for page, g, triples in graphs:
        try:
            report = validate_page(page, triples, engine, shapes)
        except Exception as e:  # one page never stops a run
            outcome.errors.append(unexpected(e, page.name, "validate"))
            continue
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
    wiki: str | None = None,
    shapes: "UserShapes | None" = None,
) -> Outcome:
    """Pages -> RDF in one format, written to ``out``; no store.

    Each page is validated on the way (unless ``validate`` is false); under
    ``strict`` a page with violations or warnings is left out.  Output is
    deterministic: quads sorted, no blank nodes, no timestamps.
    """
    from .mapping import to_oxigraph
    from .resources import require_files
    from .writers import write_quads

    require_files()  # (a copy without its shapes would fail every page alone)
    if subject and not object or object and not subject:
        raise UsageError("give both --subject and --object, or neither")
    outcome = Outcome()
    graphs: Iterable[tuple[Page, str, list[Triple]]] = page_graphs(
        parse_pages(find_pages(paths, glob), subject, object, outcome), base, wiki, outcome
    )
    if validate:
        graphs = checked_graphs(graphs, outcome, strict, shapes=shapes)
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
    engine: str = "fast",
    shapes: "UserShapes | None" = None,
) -> Outcome:
    """Validate pages (``*.txt``, parsed first) and RDF files (any of the six syntaxes).

    Unreadable inputs are collected in ``outcome.errors``; the rest are validated.
    """
    from .formats import choose_rdf_format
    from .loaders import read_rdf, read_rdf_file
    from .resources import require_files

    require_files()
    outcome = Outcome()
    pages: list[PageFile] = []
    for raw in paths:
        if raw == "-":
            if not input_format:
                raise UsageError("reading stdin needs its format: give -i/--input-format")
            from .limits import get

            data = (stdin or open(0, "rb")).read(get("MAX_RDF_BYTES") + 1)  # one byte over: refused by read_rdf
            try:
                quads = read_rdf(data, choose_rdf_format(input_format, None), "<stdin>")
            except EvidenceGraphError as e:
                outcome.errors.append(e)
                continue
            _validate_rdf(quads, "<stdin>", outcome, engine, shapes)
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
        except Exception as e:  # one input never stops a run
            outcome.errors.append(DataError(str(unexpected(e, str(path), "read", "the data"))))
            continue
        _validate_rdf(quads, str(path), outcome, engine, shapes)
    for _ in checked_graphs(page_graphs(parse_pages(pages, subject, object, outcome), base, None, outcome), outcome,
                            engine=engine, shapes=shapes):
        pass
    return outcome


def _validate_rdf(quads: list[Any], name: str, outcome: Outcome, engine: str = "fast",
                  shapes: "UserShapes | None" = None) -> None:
    from .loaders import to_rdflib
    from .shapes import validate_graph

    try:
        report = validate_graph(to_rdflib(quads), engine) if shapes is None or not shapes.only else Report([], None, len(quads))
        if shapes is not None:
            from .usershapes import merge, validate_quads

            report.results = merge(report.results, validate_quads(shapes, quads))

            report.graph = None  # made again from the results
    except ShapesError:
        raise
    except Exception as e:  # one input never stops a run
        outcome.errors.append(DataError(str(unexpected(e, name, "validate", "the data"))))
        return
    report.results = [r if r.file else _with_file(r, name) for r in report.results]
    outcome.report.extend(report)


def base_from_env(base: str | None) -> str:
    """``--base``, else ``EVIDENCEGRAPH_BASE``, else the default; ending in ``/`` or ``#``.

    :raises UsageError: not an absolute IRI (every IRI minted is the base plus escaped parts,
        so a valid base makes them valid).
    """
    base = base or os.environ.get("EVIDENCEGRAPH_BASE") or DEFAULT_BASE
    if not base.endswith(("/", "#")):
        base += "/"
    check_base(base)
    return base


def check_base(base: str) -> None:
    """:raises UsageError: the base is not an absolute IRI."""
    import pyoxigraph as ox

    try:
        ox.NamedNode(base)
    except ValueError as e:
        raise UsageError(f"--base (or EVIDENCEGRAPH_BASE) {base!r} is not an absolute IRI ({e}); "
                         "give one like https://example.org/kg/") from None


def find_page(raw: str, store: "Store", glob: str = "*.txt", base: str = DEFAULT_BASE) -> list[str]:
    """The page graphs an argument names: a page IRI, its two entities (``A ↔ B``, ``A <-> B`` or
    the page key ``a--b``), a file name, or a file or folder on disk (matched by content,
    then by the page's entities, then by the path it was ingested from)."""
    from .identity import page_iri

    pages = store.pages()
    if raw in pages or "://" in raw and store.has_graph(raw):  # a graph loaded from foreign RDF too
        return [raw]
    for sep in ("↔", "<->", "--"):
        if sep in raw:
            a, b = (x.strip() for x in raw.split(sep, 1))
            if a and b and page_iri(a, b, base) in pages:
                return [page_iri(a, b, base)]
    path = Path(raw)
    if path.exists():
        files = [pf.path for pf in iter_pages([path], glob)] if path.is_dir() else [path]
        by_checksum = {info.checksum: g for g, info in pages.items()}
        history = getattr(store, "history", None)
        by_path = history.paths() if history else {}
        hits = []
        for f in files:
            try:
                data = f.read_bytes()
            except OSError:
                continue
            g = by_checksum.get(checksum(data)) or by_path.get(os.path.abspath(f))
            if g is None:
                try:
                    page = read_page(PageFile(f, f.name), data=data)
                    g = page_iri(page.subject, page.object, base)
                except PageError:
                    g = None
            if g in pages:
                hits.append(g)
        return sorted(set(hits))
    named = {g for g, info in pages.items() if info.name in (raw, path.name)}
    history = getattr(store, "history", None)
    if not named and history:
        named = {g for g in history.pages_named(path.name) if g in pages}
    return sorted(named)


def remove(names: Iterable[str], store: "Store", glob: str = "*.txt", base: str = DEFAULT_BASE) -> tuple[list[str], list[str]]:
    """Drop pages from the store: by page IRI, entities, file name, file path or folder (see find_page).

    Returns (removed page names, arguments that matched no page).  Shared nodes
    stay as long as another page mentions them (they live in every page graph
    that mentions them); the removed pages' revisions stay in the history.
    """
    pages = store.pages()
    chosen: list[str] = []
    missing: list[str] = []
    for raw in names:
        hits = find_page(raw, store, glob, base)
        if not hits:
            missing.append(raw)
        chosen.extend(hits)
    chosen = sorted(set(chosen))
    store.remove_pages(chosen)
    store.flush()
    return [pages[g].name if g in pages and pages[g].name else g for g in chosen], missing


def validate_store_graphs(
    store: "Store", engine: str = "fast", full: bool = False, shapes: "UserShapes | None" = None
) -> Outcome:
    """Validate the store: each page graph on its own (with a user's ``shapes`` too), then the store-level
    rules over every node (storecheck); with ``full``, the merged default graph as one graph instead
    (what validating the store's export gives, and slower)."""
    from .loaders import to_rdflib
    from .shapes import validate_graph
    from .storecheck import check_store

    outcome = Outcome()
    pages = store.pages()
    names = {g: info.name for g, info in pages.items()}
    if full:
        union = list(store.union_triples())
        report = validate_graph(to_rdflib(union), engine) if shapes is None or not shapes.only else Report([], None, len(union))  # type: ignore[arg-type]
        if shapes is not None:
            from .usershapes import merge, validate_quads

            report.results = merge(report.results, validate_quads(shapes, union))
            report.graph = None
        outcome.report.extend(report)
        return outcome
    for g, info in sorted(pages.items()):
        quads = list(store.quads(g))
        report = validate_graph(to_rdflib(quads), engine) if shapes is None or not shapes.only else Report([], None, len(quads))
        if shapes is not None:
            from .usershapes import merge, validate_quads

            report.results = merge(report.results, validate_quads(shapes, quads))

            report.graph = None  # made again from the results
        report.results = [r if r.file else _with_file(r, info.name) for r in report.results]
        outcome.report.extend(report)
    outcome.report.extend(check_store(store, None, names))
    return outcome
