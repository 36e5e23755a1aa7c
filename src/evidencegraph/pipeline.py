"""Pages in: find page files, parse them, map them to RDF.

Used by ``convert`` (pages -> RDF, no store) and ``ingest`` (pages -> store).
A page that cannot be read is reported and skipped; the others go on.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterable, Iterator

from .errors import DataError, EvidenceGraphError, Interrupted, PageError, StoreError, UsageError
from .guard import sigint_deferred, sigint_ignored, unexpected, worker_init
from .formats import RdfFormat
from .mapping import Triple, page_triples
from .page import Page, checksum, parse_bytes
from .shapes import Report, Result
from .vocab import DEFAULT_BASE

if TYPE_CHECKING:
    from .store import Store

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
    page.name = pf.name
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
    pages: Iterable[Page], base: str = DEFAULT_BASE, outcome: Outcome | None = None
) -> Iterator[tuple[Page, str, list[Triple]]]:
    """Each page's graph; with ``outcome``, a page that fails to map is reported there and skipped."""
    for page in pages:
        try:
            g, triples = page_triples(page, base)
        except Exception as e:
            if outcome is None:
                raise
            outcome.errors.append(unexpected(e, page.name, "map"))
            continue
        yield page, g, triples


def validate_page(page: Page, triples: list[Triple], engine: str = "fast") -> Report:
    """SHACL-validate one page's graph; results name the page file."""
    from .mapping import to_oxigraph
    from .loaders import to_rdflib
    from .shapes import validate_graph, validate_triples

    if engine == "fast":
        report = validate_triples(triples)
    else:
        report = validate_graph(to_rdflib(to_oxigraph("urn:x-page", triples)), engine)
    report.results = [r if r.file else _with_file(r, page.name) for r in report.results]
    return report


def _with_file(result: Result, name: str) -> Result:
    from dataclasses import replace

    return replace(result, file=name)


def checked_graphs(
    graphs: Iterable[tuple[Page, str, list[Triple]]], outcome: Outcome, strict: bool = False, engine: str = "fast"
) -> Iterator[tuple[Page, str, list[Triple]]]:
    """Validate each page graph on the way through; under ``strict`` drop those that fail."""
    for page, g, triples in graphs:
        try:
            report = validate_page(page, triples, engine)
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
        parse_pages(find_pages(paths, glob), subject, object, outcome), base, outcome
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
    engine: str = "fast",
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
            from .limits import get

            data = (stdin or open(0, "rb")).read(get("MAX_RDF_BYTES") + 1)  # one byte over: refused by read_rdf
            try:
                quads = read_rdf(data, choose_rdf_format(input_format, None), "<stdin>")
            except EvidenceGraphError as e:
                outcome.errors.append(e)
                continue
            _validate_rdf(quads, "<stdin>", outcome, engine)
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
        _validate_rdf(quads, str(path), outcome, engine)
    for _ in checked_graphs(page_graphs(parse_pages(pages, subject, object, outcome), base, outcome), outcome, engine=engine):
        pass
    return outcome


def _validate_rdf(quads: list[Any], name: str, outcome: Outcome, engine: str = "fast") -> None:
    from .loaders import to_rdflib
    from .shapes import validate_graph

    try:
        report = validate_graph(to_rdflib(quads), engine)
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


@dataclass
class IngestOutcome(Outcome):
    """What an ingest did, with where the time went.

    ``stages``: seconds per stage; read, parse, map, validate and serialize
    are summed over the worker processes (CPU time), load is the wall time of
    the store's writes.
    """

    loaded: int = 0
    replaced: int = 0
    unchanged: int = 0
    quads: int = 0
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    recovered: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Job:
    path: str
    name: str
    base: str
    subject: str | None
    object: str | None
    validate: bool
    known_checksum: str | None  # of the page in the store, if there is one
    duplicate_of: str | None = None  # another input of this run has the same page name
    rdf: bool = False  # an RDF dataset file: loaded by the main process, not a worker


@dataclass
class _Done:
    name: str
    path: str = ""
    rdf: bool = False
    replaces: bool = False  # the page is in the store and has changed
    graph: str = ""
    unchanged: bool = False
    error: tuple[str, str, int | None] | None = None
    warnings: list[str] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    conforms: bool = True
    conforms_strict: bool = True
    quads: bytes = b""  # N-Quads of the page graph, UTF-8
    triples: bytes = b""  # the same triples as N-Triples, for the default graph (the union)
    count: int = 0
    times: dict[str, float] = field(default_factory=dict)


def _work(job: _Job) -> _Done:
    """One page, start to finish short of the store: read, parse, map, validate, serialize.

    Runs in a worker process; returns plain picklable data.
    """
    from time import perf_counter

    from .mapping import nquad_lines, page_triples

    done = _Done(job.name, job.path, job.rdf, job.known_checksum is not None)
    if job.rdf:
        return done
    t0 = perf_counter()
    pf = PageFile(Path(job.path), job.name)
    try:
        if job.duplicate_of:
            raise PageError(
                f"another file of this run (from {job.duplicate_of}) has the page name {job.name!r}; "
                "rename one, or ingest the folders in separate runs",
                job.path,
            )
        data = read_bytes(pf)
        t1 = perf_counter()
        if job.known_checksum is not None and job.known_checksum == checksum(data):
            done.unchanged = True
            return done
        page = read_page(pf, job.subject, job.object, data)
    except PageError as e:
        done.error = (e.message, e.path, e.line)
        return done
    t2 = perf_counter()
    done.warnings = page.warnings
    g, triples = page_triples(page, job.base)
    done.graph = g
    t3 = perf_counter()
    if job.validate:
        report = validate_page(page, triples)
        done.results = report.results
        done.conforms, done.conforms_strict = report.conforms(), report.conforms(strict=True)
    t4 = perf_counter()
    quad_lines, triple_lines = nquad_lines(g, triples)
    done.quads, done.triples = "".join(quad_lines).encode("utf-8"), "".join(triple_lines).encode("utf-8")
    done.count = len(quad_lines)
    t5 = perf_counter()
    done.times = {"read": t1 - t0, "parse": t2 - t1, "map": t3 - t2, "validate": t4 - t3, "serialize": t5 - t4}
    return done


def _guarded_work(job: _Job) -> _Done:
    """:func:`_work` under the time limit per page; whatever the page does, a _Done (with its error)."""
    from .limits import get, time_limit

    try:
        with time_limit(get("PAGE_SECONDS")):
            return _work(job)
    except Exception as e:  # one page never stops a run
        err = unexpected(e, job.path, "process")
        return _Done(job.name, job.path, job.rdf, error=(err.message, err.path, err.line))


def _stopped(e: BaseException, outcome: IngestOutcome, pending: int) -> Interrupted:
    """The one line for an ingest that stopped part way: why, and what the store kept."""
    written = outcome.loaded + outcome.replaced + (e.written if isinstance(e, StoreError) else 0)
    why = "interrupted" if isinstance(e, KeyboardInterrupt) else f"stopped: {e}"
    return Interrupted(
        f"{why}; {written} page{'s' if written != 1 else ''} written and kept whole ({outcome.loaded} loaded, "
        f"{outcome.replaced} replaced, {outcome.unchanged} unchanged"
        + (f", {e.written} of the batch that failed" if isinstance(e, StoreError) and e.written else "")
        + "), the rest not written"
        + (f" ({pending - (e.written if isinstance(e, StoreError) else 0)} read but not yet written)" if pending else "")
        + "; run the same ingest again to load the rest (pages already written are skipped as unchanged)"
    )


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def ingest(
    paths: Iterable[str | Path],
    store: "Store",
    base: str = DEFAULT_BASE,
    subject: str | None = None,
    object: str | None = None,
    validate: bool = True,
    strict: bool = False,
    glob: str = "*.txt",
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
    jobs: int | None = None,
) -> IngestOutcome:
    """Pages and folders into the store: parse, validate, load.

    Pages are parsed, mapped, validated and serialised in ``jobs`` worker
    processes (default: the core count) and bulk-loaded in batches; each
    batch is journalled, so an interrupted ingest is rolled back to whole
    pages when the store is next opened.  A page whose file is unchanged (same
    checksum) is skipped; a changed one replaces its graph.  RDF dataset files
    (``.nq``, ``.trig``, ``.jsonld``, e.g. an export) load their named graphs.
    """
    import multiprocessing
    from time import perf_counter

    from .mapping import page_iri

    start = perf_counter()
    paths = list(paths)
    if subject and not object or object and not subject:
        raise UsageError("give both --subject and --object, or neither")
    check_base(base)  # the store loads minted IRIs without re-checking them
    outcome = IngestOutcome(recovered=list(getattr(store, "recovered", [])))
    stages = dict.fromkeys(("read", "parse", "map", "validate", "serialize", "load"), 0.0)
    # Jobs are made one at a time as the workers take them, so 100k pages cost no 100k objects here.
    seen: dict[str, str] = {}  # page IRI -> the argument it came from, to refuse a name given twice

    def jobs_of(raw: str | Path) -> Iterator[_Job]:
        for pf in iter_pages([raw], glob):
            if pf.path.suffix.lower() in RDF_SUFFIXES:
                yield _Job(str(pf.path), pf.name, base, None, None, validate, None, rdf=True)
                continue
            g = page_iri(pf.name, base)
            if g in seen:
                yield _Job(str(pf.path), pf.name, base, subject, object, validate, None, duplicate_of=seen[g])
                continue
            seen[g] = str(raw)
            yield _Job(str(pf.path), pf.name, base, subject, object, validate, store.checksum_of(g))

    todo: Iterator[_Job] = (job for raw in paths for job in jobs_of(raw))
    first = list(itertools.islice(todo, 2))  # one page needs no worker processes
    todo = itertools.chain(first, todo)

    batch: list[_Done] = []

    def flush() -> None:
        if not batch:
            return
        t = perf_counter()
        replace = [d.graph for d in batch if d.replaces]
        with sigint_deferred():  # a write and its count go together
            store.write_batch([(d.graph, d.quads, d.triples) for d in batch], replace)
            outcome.quads += sum(d.count for d in batch)
            outcome.replaced += len(replace)
            outcome.loaded += len(batch) - len(replace)
        stages["load"] += perf_counter() - t
        log.info("wrote %d pages (%d so far)", len(batch), outcome.loaded + outcome.replaced)
        batch.clear()

    jobs = jobs or default_jobs()
    pool = multiprocessing.get_context("fork").Pool(jobs, worker_init) if jobs > 1 and len(first) > 1 else None
    # Backpressure: at most this many pages are in flight (being worked on, or
    # done and waiting for the store), or the workers, faster than the store,
    # would pile every page's N-Quads up in this process's memory.
    window = threading.BoundedSemaphore(max(2 * batch_size, 64))
    stop = threading.Event()  # set when the run fails or is interrupted: the feeder must not wait on

    def feed() -> Iterator[_Job]:
        for job in todo:
            while not window.acquire(timeout=0.1):
                if stop.is_set():
                    return
            if stop.is_set():
                return
            yield job

    try:
        results = pool.imap(_guarded_work, feed(), chunksize=8) if pool else map(_guarded_work, todo)
        for done in results:
            if pool:
                window.release()
            if progress:
                progress(1)
            for k, v in done.times.items():
                stages[k] += v
            if done.rdf:
                flush()  # the pages so far first: one writer, in order
                try:
                    load_rdf_pages(Path(done.path), store, outcome)
                except StoreError:
                    raise
                except EvidenceGraphError as e:
                    outcome.errors.append(e)
                except Exception as e:  # one input never stops a run
                    outcome.errors.append(DataError(str(unexpected(e, done.path, "load", "the data"))))
                continue
            if done.error:
                outcome.errors.append(PageError(*done.error))
                continue
            if done.unchanged:
                outcome.unchanged += 1
                continue
            outcome.warnings.extend(done.warnings)
            outcome.report.results.extend(done.results)
            if strict and not done.conforms_strict:
                outcome.refused.append(done.name)
                continue
            batch.append(done)
            if len(batch) >= batch_size:
                flush()
        flush()
    except BaseException as e:
        stop.set()
        with sigint_ignored():
            if pool:
                pool.terminate()  # the workers end now; the pages they were on are not written
                pool.join()
                pool = None
        if isinstance(e, (KeyboardInterrupt, StoreError)):
            raise _stopped(e, outcome, len(batch)) from None
        raise
    finally:
        stop.set()
        if pool:
            pool.close()
            pool.join()
    store.flush()
    outcome.seconds = perf_counter() - start
    outcome.stages = stages
    return outcome


RDF_SUFFIXES = {".nq", ".nquads", ".trig", ".jsonld"}


def load_rdf_pages(path: Path, store: "Store", outcome: IngestOutcome) -> None:
    """Load an RDF dataset file (an export) into the store: its named graphs are pages.

    :raises EvidenceGraphError: the file cannot be read or parsed, or has no named graphs.
    """
    import pyoxigraph as ox

    from .loaders import read_rdf_file

    quads = read_rdf_file(path)
    graphs: dict[str, list[ox.Quad]] = {}
    for q in quads:
        if isinstance(q.graph_name, ox.DefaultGraph):
            continue  # the default graph of an export is the union of its pages
        graphs.setdefault(q.graph_name.value, []).append(q)
    if not graphs:
        raise DataError(f"{path}: no named graphs; ingest loads page graphs (export with -f nq, trig or jsonld)")
    items = sorted(graphs.items())
    replace = {g for g, _ in items if store.has_graph(g)}  # a graph without a page's checksum too
    outcome.quads += store.replace_pages(items, replace)
    for g, _ in items:
        if g in replace:
            outcome.replaced += 1
        else:
            outcome.loaded += 1


def remove(names: Iterable[str], store: "Store", glob: str = "*.txt") -> tuple[list[str], list[str]]:
    """Drop pages from the store, by page name, page IRI, file path or folder.

    Returns (removed page names, arguments that matched no page).  Shared nodes
    stay as long as another page mentions them (they live in every page graph
    that mentions them).
    """
    pages = store.pages()
    by_name: dict[str, list[str]] = {}
    for g, info in pages.items():
        by_name.setdefault(info.name, []).append(g)
    chosen: list[str] = []
    missing: list[str] = []
    for raw in names:
        if raw in pages:
            chosen.append(raw)
            continue
        path = Path(raw)
        files = [pf.path for pf in find_pages([path], glob)] if path.is_dir() else [path] if path.exists() else []
        candidates = {raw}.union(*(_path_ends(f) for f in files)) | (set() if path.is_dir() else {path.name})
        hits = [g for c in candidates for g in by_name.get(c, [])]
        if not hits:
            missing.append(raw)
        chosen.extend(hits)
    chosen = sorted(set(chosen))
    store.remove_pages(chosen)
    store.flush()
    return [pages[g].name for g in chosen], missing


def _path_ends(path: Path) -> set[str]:
    """The names a file may have been ingested under: its path relative to any folder above it.

    A page's name is its path relative to the folder given to ``ingest`` (or
    its file name), so ``remove`` matches a file by every such ending.

    >>> sorted(_path_ends(Path("/data/sub/x.txt")))
    ['data/sub/x.txt', 'sub/x.txt', 'x.txt']
    """
    parts = path.resolve().parts[1:]
    return {"/".join(parts[i:]) for i in range(len(parts))}


def validate_store_graphs(store: "Store", engine: str = "fast") -> Outcome:
    """Validate each page graph of the store on its own (a page graph is self-contained)."""
    from .loaders import to_rdflib
    from .shapes import validate_graph

    outcome = Outcome()
    for g, info in sorted(store.pages().items()):
        report = validate_graph(to_rdflib(store.quads(g)), engine)
        report.results = [r if r.file else _with_file(r, info.name) for r in report.results]
        outcome.report.extend(report)
    return outcome
