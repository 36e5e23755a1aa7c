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

from .errors import DataError, EvidenceGraphError, Interrupted, PageError, ShapesError, StoreError, UsageError
from .guard import sigint_deferred, sigint_ignored, unexpected, worker_init
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
    from .writers import write_quads

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
    archived: int = 0  # older files of a page, kept as history only


@dataclass(frozen=True)
class _Job:
    path: str
    name: str
    base: str
    subject: str | None
    object: str | None
    validate: bool
    wiki: str | None = None
    rdf: bool = False  # an RDF dataset file: loaded by the main process, not a worker
    unchanged: bool = False  # its content is a current page's already: nothing to do
    shapes: tuple[tuple[str, ...], bool, str] | None = None  # a user's shapes (UserShapes.key), read once per worker
    index: bool = False  # make the page's search-index rows (a local store keeps the index)


@dataclass
class _Done:
    name: str
    path: str = ""
    rdf: bool = False
    graph: str = ""
    checksum: str = ""
    mtime: float = 0.0
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
    checks: list[tuple[str, str, str]] = field(default_factory=list)  # values other pages could contradict
    rows: list[Any] = field(default_factory=list)  # the page's rows for the search index (search.py)


def _work(job: _Job) -> _Done:
    """One page, start to finish short of the store: read, parse, map, validate, serialize.

    Runs in a worker process; returns plain picklable data.
    """
    from time import perf_counter

    from .mapping import nquad_lines, page_triples
    from .storecheck import values_to_check

    done = _Done(job.name, job.path, job.rdf)
    if job.rdf:
        return done
    t0 = perf_counter()
    pf = PageFile(Path(job.path), job.name)
    try:
        if job.unchanged:
            done.unchanged = True
            return done
        data = read_bytes(pf)
        t1 = perf_counter()
        done.checksum = checksum(data)
        try:
            done.mtime = os.stat(job.path).st_mtime
        except OSError:
            pass
        page = read_page(pf, job.subject, job.object, data)
    except PageError as e:
        done.error = (e.message, e.path, e.line)
        return done
    t2 = perf_counter()
    done.warnings = page.warnings
    g, triples = page_triples(page, job.base, job.wiki)
    done.graph = g
    done.checks = values_to_check(triples, job.base)
    t3 = perf_counter()
    if job.validate:
        shapes = None
        if job.shapes:
            from .usershapes import load_shapes

            shapes = load_shapes(*job.shapes)
        report = validate_page(page, triples, shapes=shapes)
        done.results = report.results
        done.conforms, done.conforms_strict = report.conforms(), report.conforms(strict=True)
    t4 = perf_counter()
    quad_lines, triple_lines = nquad_lines(g, triples)
    done.quads, done.triples = "".join(quad_lines).encode("utf-8"), "".join(triple_lines).encode("utf-8")
    done.count = len(quad_lines)
    if job.index:
        from .search import rows_of_mapping

        done.rows = rows_of_mapping(triples)
    t5 = perf_counter()
    done.times = {"read": t1 - t0, "parse": t2 - t1, "map": t3 - t2, "validate": t4 - t3, "serialize": t5 - t4}
    return done


def _unchanged(path: Path, store: "Store") -> bool:
    """Whether this file's content is a current page already (then no worker needs to parse it)."""
    import stat

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or device: never opened here
            return False
        data = path.read_bytes()
    except OSError:
        return False  # the worker reports it
    return store.has_checksum(checksum(data))


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
    wiki: str | None = None,
    shapes: "UserShapes | None" = None,
) -> IngestOutcome:
    """Pages and folders into the store: parse, validate, load.

    Pages are parsed, mapped, validated and serialised in ``jobs`` worker
    processes (default: the core count) and bulk-loaded in batches; each
    batch is journalled, so an interrupted ingest is rolled back to whole
    pages when the store is next opened.  A page is known by its two
    entities: a file whose content is already a current page is skipped; a
    page with other content becomes the page's new revision (the old one is
    kept as history); two files of one page in one run: the newer file
    (modification time) is current, with a warning naming both.  After each
    batch the store-level rules (conflicting values where pages meet) run
    over what the batch touched.  RDF dataset files (``.nq``, ``.trig``,
    ``.jsonld``, e.g. an export) load their named graphs.
    A user's ``shapes`` (see usershapes.py) run in the workers too, on each page.
    """
    import multiprocessing
    from time import perf_counter

    from .revisions import NewRevision
    from .storecheck import Checker

    start = perf_counter()
    paths = list(paths)
    if subject and not object or object and not subject:
        raise UsageError("give both --subject and --object, or neither")
    check_base(base)  # the store loads minted IRIs without re-checking them
    outcome = IngestOutcome(recovered=list(getattr(store, "recovered", [])))
    stages = dict.fromkeys(("read", "parse", "map", "validate", "serialize", "load", "check"), 0.0)
    checker = Checker(store) if getattr(store, "db_is_local", False) else None
    local = bool(getattr(store, "db_is_local", False))

    def jobs_of(raw: str | Path) -> Iterator[_Job]:
        for pf in iter_pages([raw], glob):
            rdf = pf.path.suffix.lower() in RDF_SUFFIXES
            yield _Job(str(pf.path), pf.name, base, None if rdf else subject, None if rdf else object, validate, wiki, rdf,
                       not rdf and _unchanged(pf.path, store), shapes=shapes.key if shapes is not None and not rdf else None,
                       index=local)

    # Jobs are made one at a time as the workers take them, so 100k pages cost no 100k objects here.
    todo: Iterator[_Job] = (job for raw in paths for job in jobs_of(raw))
    first = list(itertools.islice(todo, 2))  # one page needs no worker processes
    todo = itertools.chain(first, todo)

    batch: list[_Done] = []
    replacing: set[str] = set()
    this_run: dict[str, _Done] = {}  # page IRI -> the file of this run that is its current revision

    def revision(d: _Done) -> NewRevision:
        return NewRevision(d.graph, d.checksum, Path(d.path).name, os.path.abspath(d.path), d.quads)

    # The store is written in a thread of its own (pyoxigraph lets go of the GIL while it loads), so this
    # loop keeps taking pages from the workers, and the progress callback keeps counting them, during a
    # write.  One write at a time, in order: a batch waits for the one before it (at most two in memory).
    # The store-level check of a batch runs in the same thread, after its write.
    from concurrent.futures import Future, ThreadPoolExecutor

    writer = ThreadPoolExecutor(1, thread_name_prefix="evidencegraph-store-writer")
    writing: list[Future[None]] = []

    def write(pages: list[_Done], replace: list[str]) -> None:
        t = perf_counter()
        store.write_batch([(d.graph, d.quads, d.triples) for d in pages], replace, [revision(d) for d in pages],
                          rows={d.graph: d.rows for d in pages} if local else None)
        t2 = perf_counter()
        stages["load"] += t2 - t
        if checker:
            names = {d.graph: d.name for d in pages}
            outcome.report.extend(checker.check((c for d in pages for c in d.checks), names))
        stages["check"] += perf_counter() - t2
        outcome.quads += sum(d.count for d in pages)
        outcome.replaced += len(replace)
        outcome.loaded += len(pages) - len(replace)
        log.info("wrote %d pages (%d so far)", len(pages), outcome.loaded + outcome.replaced)

    def wait() -> None:
        while writing:
            writing.pop().result()  # a failed write raises here

    def flush(then_wait: bool = False) -> None:
        if batch:
            wait()
            writing.append(writer.submit(write, list(batch), [d.graph for d in batch if d.graph in replacing]))
            batch.clear()
            replacing.clear()
        if then_wait:
            wait()

    def accept(done: _Done) -> None:
        """New page, new revision of a page, or an older file of a page this run already has."""
        earlier = this_run.get(done.graph)
        if earlier is not None:
            newer, older = (done, earlier) if done.mtime >= earlier.mtime else (earlier, done)
            outcome.warnings.append(
                f"{done.path}: the same page ({done.graph}) as {earlier.path}; "
                f"{newer.path} is newer and is the current revision, {older.path} is kept as history"
            )
            if older is done:
                store.archive_revision(revision(done))
                outcome.archived += 1
                return
            flush(then_wait=True)  # the earlier file must be in the store before the newer one replaces it
        this_run[done.graph] = done
        existing = store.checksum_of(done.graph)
        if existing == done.checksum:
            outcome.unchanged += 1
            return
        if existing is not None:
            replacing.add(done.graph)
        batch.append(done)
        if len(batch) >= batch_size:
            flush()

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
                flush(then_wait=True)  # the pages so far first: one writer, in order
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
            accept(done)
        flush(then_wait=True)
    except BaseException as e:
        stop.set()
        with sigint_ignored():
            if pool:
                pool.terminate()  # the workers end now; the pages they were on are not written
                pool.join()
                pool = None
            try:  # a write under way finishes (a page is written whole), and is counted
                wait()
            except StoreError as failed:
                e = failed if not isinstance(e, StoreError) else e
            except Exception:  # noqa: BLE001 - the first error is the one to report
                pass
            writer.shutdown(wait=True)
        if isinstance(e, (KeyboardInterrupt, StoreError)):
            raise _stopped(e, outcome, len(batch)) from None
        raise
    finally:
        stop.set()
        writer.shutdown(wait=True)
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
    from .storecheck import check_store

    outcome.report.extend(check_store(store, [g for g, _ in items]))  # exports bring relations too: the full rules
    for g, _ in items:
        if g in replace:
            outcome.replaced += 1
        else:
            outcome.loaded += 1


def find_page(raw: str, store: "Store", glob: str = "*.txt", base: str = DEFAULT_BASE) -> list[str]:
    """The page graphs an argument names: a page IRI, its two entities (``A ↔ B``, ``A <-> B`` or
    the page key ``a--b``), a file name, or a file or folder on disk (matched by content,
    then by the page's entities, then by the path it was ingested from)."""
    from .mapping import page_iri

    pages = store.pages()
    if raw in pages:
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
    return [pages[g].name for g in chosen], missing


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
