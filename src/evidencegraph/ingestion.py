"""Pages into the store: the ingest.

Pages are read, parsed, mapped, validated and serialised in worker
processes (pipeline.py does each step); the store is written in batches from
a thread of its own, with each batch's store-level check, revisions and
search rows.  A page is known by its two entities (CONTRACT.md, Identity).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from .errors import DataError, EvidenceGraphError, Interrupted, PageError, StoreError, UsageError
from .guard import sigint_ignored, unexpected, worker_init
from .page import checksum
from .pipeline import Outcome, PageFile, check_base, iter_pages, read_bytes, read_page, validate_page
from .shapes import Result
from .vocab import DEFAULT_BASE

if TYPE_CHECKING:
    from .store import Store
    from .usershapes import UserShapes

log = logging.getLogger(__name__)


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
    triples: bytes = b""  # the page graph's triples as N-Triples (UTF-8), for the default graph (the union)
    count: int = 0
    times: dict[str, float] = field(default_factory=dict)
    checks: list[tuple[str, str, str]] = field(default_factory=list)  # values other pages could contradict
    rows: list[Any] = field(default_factory=list)  # the page's rows for the search index (search.py)

    @property
    def quads(self) -> bytes:
        """N-Quads of the page graph, UTF-8: made from the triples where they are needed, not sent through
        the pipe from the worker as well."""
        from .mapping import quads_of_triples

        return quads_of_triples(self.graph, self.triples)


# The checksums of the store's current pages when the run began: a worker skips a file whose content
# is one of them (unchanged) right after reading it.  Set in each worker by _init_worker (the pool forks,
# so the set is not pickled), or passed to _guarded_work when there is no pool.
_KNOWN: frozenset[str] = frozenset()


def _init_worker(known: frozenset[str]) -> None:
    from .limits import keep_time_limit_handler

    global _KNOWN
    worker_init()
    keep_time_limit_handler()
    _KNOWN = known


def _work(job: _Job, known: frozenset[str] | None = None) -> _Done:
    """One page, start to finish short of the store: read, parse, map, validate, serialize.

    Runs in a worker process; returns plain picklable data.
    """
    from time import perf_counter

    from .mapping import ntriple_lines, page_triples
    from .storecheck import values_to_check

    done = _Done(job.name, job.path, job.rdf)
    if job.rdf:
        return done
    t0 = perf_counter()
    pf = PageFile(Path(job.path), job.name)
    try:
        data = read_bytes(pf)
        t1 = perf_counter()
        done.checksum = checksum(data)
        if done.checksum in (_KNOWN if known is None else known):
            done.unchanged = True
            return done
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
    triple_lines = ntriple_lines(triples)
    done.triples = "".join(triple_lines).encode("utf-8")
    done.count = len(triple_lines)
    if job.index:
        from .searchrows import rows_of_mapping

        done.rows = rows_of_mapping(triples)
    t5 = perf_counter()
    done.times = {"read": t1 - t0, "parse": t2 - t1, "map": t3 - t2, "validate": t4 - t3, "serialize": t5 - t4}
    return done


def _guarded_work(job: _Job, known: frozenset[str] | None = None) -> _Done:
    """:func:`_work` under the time limit per page; whatever the page does, a _Done (with its error)."""
    from .limits import get, time_limit

    try:
        with time_limit(get("PAGE_SECONDS")):
            return _work(job, known)
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

    from .resources import require_files
    from .revisions import NewRevision
    from .storecheck import Checker

    require_files()  # (a copy without its shapes would fail every page alone)
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
                       shapes=shapes.key if shapes is not None and not rdf else None, index=local)

    # Jobs are made one at a time as the workers take them, so 100k pages cost no 100k objects here.
    todo: Iterator[_Job] = (job for raw in paths for job in jobs_of(raw))
    first = list(itertools.islice(todo, 2))  # one page needs no worker processes
    todo = itertools.chain(first, todo)

    # graph -> checksum of the current pages, read once (not a look-up per page); kept up to date by the run
    known = store.checksums()
    batch: list[_Done] = []
    replacing: set[str] = set()
    # page IRI -> (path, mtime) of the file of this run that is its current revision; not the _Done, whose
    # N-Quads would then stay in memory for the whole run (a gigabyte at 10k pages)
    this_run: dict[str, tuple[str, float]] = {}

    def revision(d: _Done, with_quads: bool = True) -> NewRevision:
        """(The quads only for a revision kept as history alone: a current one's are the page graph.)"""
        return NewRevision(d.graph, d.checksum, Path(d.path).name, os.path.abspath(d.path), d.quads if with_quads else b"")

    # The store is written in a thread of its own (pyoxigraph lets go of the GIL while it loads), so this
    # loop keeps taking pages from the workers, and the progress callback keeps counting them, during a
    # write.  One write at a time, in order: a batch waits for the one before it (at most two in memory).
    # The store-level check of a batch runs in the same thread, after its write.
    from concurrent.futures import Future, ThreadPoolExecutor

    writer = ThreadPoolExecutor(1, thread_name_prefix="evidencegraph-store-writer")
    writing: list[Future[None]] = []

    def write(pages: list[_Done], replace: list[str]) -> None:
        t = perf_counter()
        store.write_batch([(d.graph, d.quads, d.triples) for d in pages], replace,
                          [revision(d, with_quads=False) for d in pages],
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
            earlier_path, earlier_mtime = earlier
            done_is_newer = done.mtime >= earlier_mtime
            newer, older = (done.path, earlier_path) if done_is_newer else (earlier_path, done.path)
            outcome.warnings.append(
                f"{done.path}: the same page ({done.graph}) as {earlier_path}; "
                f"{newer} is newer and is the current revision, {older} is kept as history"
            )
            if not done_is_newer:
                store.archive_revision(revision(done))
                outcome.archived += 1
                return
            flush(then_wait=True)  # the earlier file must be in the store before the newer one replaces it
        this_run[done.graph] = (done.path, done.mtime)
        existing = known.get(done.graph)
        known[done.graph] = done.checksum
        if existing == done.checksum:
            outcome.unchanged += 1
            return
        if existing is not None:
            replacing.add(done.graph)
        batch.append(done)
        if len(batch) >= batch_size:
            flush()

    jobs = jobs or default_jobs()
    unchanged = frozenset(known.values())
    pool = (multiprocessing.get_context("fork").Pool(jobs, _init_worker, (unchanged,))
            if jobs > 1 and len(first) > 1 else None)
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
        results = (pool.imap(_guarded_work, feed(), chunksize=8) if pool
                   else (_guarded_work(job, unchanged) for job in todo))
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
                    known.update(store.checksums())  # the pages it brought (workers still skip by the old set)
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
