"""The persistent store: RDF in and out only.

An embedded Oxigraph store on disk (pyoxigraph), one named graph per page,
named by the page's IRI.  Writes are transactional: a page is in the store
whole or not at all.

The default graph is the union of the page graphs, kept materialised as a
set: a triple that several pages state is there once, so SPARQL over the
default graph has the standard (set) semantics, which Oxigraph's "default
graph as union" option does not give (it repeats a triple once per graph).
Writing a page adds its triples to it; removing or replacing a page takes
out the triples that no other page states.

Location: ``--store``, else ``EVIDENCEGRAPH_STORE``, else ``.evidencegraph/``.
A store folder holds ``evidencegraph-store.json`` (a marker with the format
version) and the Oxigraph database in ``oxigraph/``.  The default graph also
holds the store figures, counts the questions read (figures.py), kept up to
date at the end of every write (``flush``); exports and ``len`` leave them out.
"""

from __future__ import annotations

import json
import os
from _thread import allocate_lock  # (threading's Lock without importing threading on the way to a first row)
from collections import namedtuple
from pathlib import Path
TYPE_CHECKING = False  # (typing is not imported at run time: `query` starts faster without it)
if TYPE_CHECKING:
    from typing import Any, BinaryIO, Iterable, Iterator, Sequence

import pyoxigraph as ox

from . import __version__
from .errors import QueryError, StoreError
from .guard import LazyLog, one_line
from .formats import RdfFormat
from .figures import FIGURES_PENDING, FigureBook, Touched, figure_count, is_figure, one_request
from .sparqlcheck import check_query as check_query  # SERVICE and LOAD refused (callers import it from here)

if TYPE_CHECKING:  # imported where used: a query needs neither the history nor the search index
    from .revisions import History, NewRevision
    from .search import SearchIndex
    from .searchrows import Row

_OPENING = allocate_lock()  # opening a store's search index (search_index)
log = LazyLog(__name__)

MARKER = "evidencegraph-store.json"
JOURNAL = "ingest-journal.json"
SMALL_BATCH = 50  # pages; smaller batches are written in one transaction, larger ones bulk-loaded
STORE_FORMAT = 3  # 2: content-derived page IRIs, stances on listings, revisions beside the store; 3: figures
EG = "https://w3id.org/evidencegraph#"
_CHECKSUM = ox.NamedNode(EG + "checksum")
_FILE_NAME = ox.NamedNode(EG + "fileName")


def store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """``--store``, else ``EVIDENCEGRAPH_STORE``, else ``.evidencegraph`` in the current folder."""
    return Path(path or os.environ.get("EVIDENCEGRAPH_STORE") or ".evidencegraph")


if TYPE_CHECKING:
    from typing import NamedTuple

    class PageInfo(NamedTuple):
        graph: str
        name: str
        checksum: str
else:
    PageInfo = namedtuple("PageInfo", "graph name checksum")


class Store(FigureBook):
    """An embedded, persistent Oxigraph store of page graphs.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = Store(Path(d) / "s", create=True)
    ...     _ = store.replace_pages([("http://example.org/g", [ox.Quad(ox.NamedNode("http://example.org/a"),
    ...         ox.NamedNode("http://example.org/p"), ox.Literal("x"), ox.NamedNode("http://example.org/g"))])])
    ...     print([str(row["o"].value) for row in store.query("SELECT ?o WHERE { ?s ?p ?o }")])
    ...     store.close()
    ['x']
    """

    _history: "History | None" = None  # the revisions beside the store, opened on first use
    _search: "SearchIndex | None" = None  # the full-text index beside a local store (search.py), opened on first use
    db_is_local = True  # self.db is the embedded database (a remote store has none)

    def __init__(self, path: Path, create: bool = False, read_only: bool = False):
        self.path = path
        self.location = str(path)
        marker = path / MARKER
        if not marker.exists():
            if path.exists() and (not path.is_dir() or any(path.iterdir())):
                raise StoreError(
                    f"{path} is not an evidencegraph store (no {MARKER}); choose another folder with --store"
                )
            if not create:
                raise StoreError(f"no store at {path}; load pages first with: evidencegraph ingest PATH --store {path}")
            path.mkdir(parents=True, exist_ok=True)
            marker.write_text(json.dumps({"format": STORE_FORMAT, "created_by": f"evidencegraph {__version__}"}) + "\n")
        else:
            try:
                info = json.loads(marker.read_text())
                if not isinstance(info, dict):
                    raise ValueError("not a JSON object")
            except (OSError, ValueError) as e:
                raise StoreError(f"{marker} is damaged ({e}); restore it or start a new store") from None
            if info.get("format") == 1:
                raise StoreError(
                    f"{path} is a format-1 store (evidencegraph 0.1: page IRIs from file names, stances on facts); "
                    f"this version reads format {STORE_FORMAT}. Migrate it with: evidencegraph migrate --store {path} "
                    f"(the old store is kept beside it as {path.name}.format1)"
                )
            if info.get("format") == 2:
                raise StoreError(
                    f"{path} is a format-2 store (without the figures the questions read); this version reads format "
                    f"{STORE_FORMAT}. Migrate it in place with: evidencegraph migrate --store {path}"
                )
            if info.get("format") != STORE_FORMAT:
                raise StoreError(f"{path} has store format {info.get('format')}; this version reads {STORE_FORMAT}")
        db = path / "oxigraph"
        try:
            if read_only:
                if not db.exists():
                    db.mkdir()
                    ox.Store(str(db))  # an empty database, so that readers can open it
                self.db = ox.Store.read_only(str(db))
            else:
                self.db = ox.Store(str(db))
        except OSError as e:
            raise StoreError(f"cannot open the store at {path} ({e})") from None
        except RuntimeError as e:  # RocksDB: "Corruption: …"
            raise StoreError(f"the store at {path} is damaged ({one_line(e, 160)}); restore it from a backup, "
                             "or start a new store and ingest the pages (or an export) again") from None
        self.read_only = read_only
        self.recovered: list[str] = []
        self._touched = Touched()
        self._touched_pages = 0
        journal = path / JOURNAL
        if journal.exists():
            if read_only:
                log.warning("%s: an interrupted ingest left pages to roll back; run any ingest to recover", path)
            else:
                self._recover(journal)
        if not read_only and (path / FIGURES_PENDING).exists():  # a write died before its figures: count them all
            self._touched.everything = True
            self.update_figures()

    def figures_stale(self) -> None:
        """A write is about to change pages: until the figures follow, a crash must leave a mark (a remote
        store marks its own way: figures.RemoteFigureBook)."""
        mark = self.path / FIGURES_PENDING
        if not mark.exists():
            mark.touch()

    def _figures_counted(self) -> None:
        self.db.flush()
        (self.path / FIGURES_PENDING).unlink(missing_ok=True)

    def _run_updates(self, updates: Sequence[str]) -> None:
        """One request, so one transaction: a reader sees the old figures or the new, never none."""
        if updates:
            self.db.update(one_request(updates))

    @property
    def history(self) -> "History | None":
        """The revisions beside the store (revisions.py), opened on first use."""
        if self._history is None:
            from .revisions import History

            self._history = History(self.path, self.read_only)
        return self._history

    def _recover(self, journal: Path) -> None:
        """Roll back the batch an interrupted ingest was writing: only whole pages stay."""
        try:
            graphs = json.loads(journal.read_text())["graphs"]
        except (OSError, ValueError, KeyError) as e:
            raise StoreError(f"{journal} is damaged ({e}); remove it and re-ingest the last pages") from None
        if graphs:
            self.figures_stale()  # the figures counted the rolled-back pages: count them again
            self.db.update(_drop_pages(graphs))
            self.db.flush()
            if self.history:
                self.history.forget_current(graphs)
        journal.unlink()
        self.recovered = graphs
        log.warning("rolled back %d pages of an interrupted ingest", len(graphs))

    def write_batch(
        self, pages: Sequence[tuple[str, bytes, bytes]], replace: Sequence[str] = (), revisions: Sequence[NewRevision] = (),
        rows: dict[str, list[Row]] | None = None,
    ) -> None:
        """Bulk-load page graphs, given as UTF-8 N-Quads (and their triples as N-Triples, for the union).

        Oxigraph's bulk loader is several times faster than a transaction but
        not atomic, so the batch is journalled first: if the process dies
        mid-way, the next open rolls the batch back (see _recover).  The data
        is loaded leniently (IRIs are not parsed again): it comes from
        ``mapping``, whose IRIs are a checked base plus escaped parts.
        ``rows``: each page's rows for the search index (made from its N-Quads when not given);
        new texts are added first, and those of replaced pages that no page states any more are
        pruned after (search.py).
        """
        index = self.search_index()
        with index.writing():  # (the index is exact again once the store and it agree: search.py)
            self._write_batch(index, pages, replace, revisions, rows)

    def _write_batch(
        self, index: SearchIndex, pages: Sequence[tuple[str, bytes, bytes]], replace: Sequence[str],
        revisions: Sequence[NewRevision], rows: dict[str, list[Row]] | None,
    ) -> None:
        from .searchrows import rows_of_nquads

        index.add(rows[g] if rows is not None and g in rows else rows_of_nquads(q) for g, q, _ in pages)
        self.figures_stale()
        written = [g for g, _, _ in pages]
        # into a store with no pages, the keys this write touches are all there are: count them all at the end,
        # not page by page (the look-ups cost ~3 ms a page of a first ingest)
        first = next(iter(self.db.named_graphs()), None) is None
        old: list[Row] = []
        if replace:
            old = self._archive(replace)
            # a changed page swaps its old graph for the new one in one transaction:
            # if writing the new one fails, the old one stays
            replacing = set(replace)
            swap = [p for p in pages if p[0] in replacing]
            parts = []
            for g, _, triples in swap:
                text = triples.decode("utf-8")
                parts.append(f"GRAPH <{g}> {{ {text} }} {text}")
            body = " ".join(parts)
            self.db.update(f"{_drop_pages(list(replace))} ; INSERT DATA {{ {body} }}")
            pages = [p for p in pages if p[0] not in replacing]
        if pages:
            self._load(pages)
        self._touch(written, everything=first)
        if revisions and self.history:
            self.history.record_current(revisions)
        if old:
            index.prune(self, old)

    def _load(self, pages: Sequence[tuple[str, bytes, bytes]]) -> None:
        data = b"".join(part for _, q, t in pages for part in (q, t))
        if len(pages) < SMALL_BATCH:
            self.db.load(data, ox.RdfFormat.N_QUADS)  # one transaction: cheaper than a bulk load when small
            return
        journal = self.path / JOURNAL
        with open(journal, "w") as fh:
            json.dump({"graphs": [g for g, _, _ in pages]}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        self.db.bulk_load(data, ox.RdfFormat.N_QUADS, lenient=True)
        self.db.flush()
        journal.unlink()

    def _archive(self, graphs: Iterable[str]) -> list[Row]:
        """Keep the current revision of these pages as history before they are replaced or removed;
        returns their search-index rows (to prune the texts no page states afterwards)."""
        from .searchrows import rows_of_nquads

        rows: list[Row] = []
        graphs = list(graphs)
        self.figures_stale()
        self._touch(graphs)
        for g in graphs:
            data = self.graph_nquads(g)
            rows.extend(rows_of_nquads(data))
            checksum = self.checksum_of(g)
            if checksum is not None and self.history:
                self.history.archive(g, checksum, data, self.file_name_of(g))
        return rows

    def search_index(self) -> SearchIndex:
        """The full-text index beside the store (search.py), built on first use."""
        index = self._search
        if index is None:
            with _OPENING:  # (the server's threads may all ask at once: one index, built again at most once)
                index = self._search
                if index is None:
                    from .search import SearchIndex

                    index = SearchIndex(self.path, self.read_only, self)
                    index.ensure(self)
                    self._search = index
        return index

    def archive_revision(self, revision: NewRevision) -> None:
        """Keep a revision that is not current (an older file of a page) as history only."""
        if self.history:
            self.history.archive(revision.page, revision.checksum, revision.quads, revision.file_name, revision.file_path)

    def graph_nquads(self, graph: str) -> bytes:
        return ox.serialize(self.db.quads_for_pattern(None, None, None, ox.NamedNode(graph)), format=ox.RdfFormat.N_QUADS) or b""

    def file_name_of(self, graph: str) -> str:
        g = ox.NamedNode(graph)
        for q in self.db.quads_for_pattern(g, _FILE_NAME, None, g):
            return str(q.object.value)  # type: ignore[union-attr]
        return ""

    # --- pages ---------------------------------------------------------------

    def pages(self) -> dict[str, PageInfo]:
        """The pages in the store by graph IRI, with their file names and checksums.

        A named graph loaded from RDF without a page's checksum (an N-Quads file
        not made by evidencegraph) is listed too, with an empty name and checksum,
        so that it can be seen and removed.
        """
        found: dict[str, PageInfo] = {}
        names = {
            q.graph_name.value: str(q.object.value)  # type: ignore[union-attr]
            for q in self.db.quads_for_pattern(None, _FILE_NAME, None, None)
            if isinstance(q.graph_name, ox.NamedNode) and q.subject == q.graph_name
        }
        for q in self.db.quads_for_pattern(None, _CHECKSUM, None, None):
            g = q.graph_name
            if isinstance(g, ox.NamedNode) and q.subject == g:
                found[g.value] = PageInfo(g.value, names.get(g.value, ""), str(q.object.value))  # type: ignore[union-attr]
        for g in self.db.named_graphs():
            if isinstance(g, ox.NamedNode) and g.value not in found:
                found[g.value] = PageInfo(g.value, names.get(g.value, ""), "")
        return found

    def checksums(self) -> dict[str, str]:
        """graph IRI -> checksum of every current page (one scan of the checksum index)."""
        found: dict[str, str] = {}
        for q in self.db.quads_for_pattern(None, _CHECKSUM, None, None):
            g = q.graph_name
            if isinstance(g, ox.NamedNode) and q.subject == g:
                found[g.value] = str(q.object.value)  # type: ignore[union-attr]
        return found

    def checksum_of(self, graph: str) -> str | None:
        """The checksum of one page in the store, or None (an index lookup, not a scan)."""
        g = ox.NamedNode(graph)
        for q in self.db.quads_for_pattern(g, _CHECKSUM, None, g):
            return str(q.object.value)  # type: ignore[union-attr]
        return None

    def replace_pages(self, graphs: Sequence[tuple[str, list[ox.Quad]]], existing: Iterable[str] = ()) -> int:
        """Write page graphs in one transaction, replacing those named in ``existing``.

        Returns the number of quads written to the page graphs.
        """
        index = self.search_index()
        with index.writing():
            return self._replace_pages(index, graphs, existing)

    def _replace_pages(self, index: SearchIndex, graphs: Sequence[tuple[str, list[ox.Quad]]], existing: Iterable[str]) -> int:
        quads = [q for _, qs in graphs for q in qs]
        replace = [g for g, _ in graphs if g in set(existing)]
        old = self._archive(replace)
        from .searchrows import rows_of_quads

        index.add(rows_of_quads(qs) for _, qs in graphs)
        self.figures_stale()
        if not replace:
            self.db.extend(quads + [ox.Quad(q.subject, q.predicate, q.object) for q in quads])
        else:
            body = "".join(f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} {q.object} }} {q.subject} {q.predicate} {q.object} . " for q in quads)
            self.db.update(f"{_drop_pages(replace)} ; INSERT DATA {{ {body} }}")
            index.prune(self, old)
        self._touch([g for g, _ in graphs])
        self.update_figures()
        return len(quads)

    def remove_pages(self, graphs: Iterable[str]) -> int:
        graphs = list(graphs)
        if graphs:
            index = self.search_index()
            with index.writing():
                old = self._archive(graphs)
                self.db.update(_drop_pages(graphs))
                index.prune(self, old)
            self.update_figures()
        return len(graphs)

    def flush(self) -> None:
        """Bring the store figures up to date with the writes so far, and make everything durable."""
        if not self.read_only:
            self.update_figures()
            self.db.flush()

    def close(self) -> None:
        """Release the database (and its lock) now, not when the object is collected."""
        if getattr(self, "db", None) is not None:
            self.flush()
            del self.db
            self.db = None  # type: ignore[assignment]
        if self._history is not None:
            self._history.close()
            self._history = None
        if self._search is not None:
            self._search.close()
            self._search = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        """The quads of the pages (their graphs and their union), not the store figures."""
        return len(self.db) - figure_count(self)

    # --- queries -------------------------------------------------------------

    def query(
        self,
        sparql: str,
        substitutions: dict[str, Any] | None = None,
        allow_service: bool = False,
        union: bool = False,
    ) -> Any:
        """Run SPARQL; the default graph is the (materialised) union of the pages.

        The contract's prefixes (``eg:``, ``rdfs:``, … see sparql.PREDECLARED) are declared.

        :raises QueryError: a syntax error (with line and column), or SERVICE when not allowed.
        """
        from .sparql import PREDECLARED, syntax_error

        check_query(sparql, allow_service)
        subs = {ox.Variable(k): v for k, v in (substitutions or {}).items()}
        try:
            return self.db.query(sparql, prefixes=PREDECLARED, use_default_graph_as_union=union, substitutions=subs or None)
        except SyntaxError as e:
            raise syntax_error(e, sparql) from None
        except OSError as e:
            raise QueryError(f"the query failed: {e}") from None
        except RuntimeError as e:
            raise query_failed(e, self.location) from None

    # --- export --------------------------------------------------------------

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """All quads, graph by graph (each graph's quads grouped by subject)."""
        graphs = [ox.NamedNode(graph)] if graph else sorted(self.db.named_graphs(), key=lambda g: g.value)
        for g in graphs:
            yield from self.db.quads_for_pattern(None, None, None, g)

    def export(self, fmt: RdfFormat, out: BinaryIO, graph: str | None = None) -> None:
        """Stream the store (or one page graph) in any of the six syntaxes.

        Quad formats keep the page graphs; triple formats get the union (the
        default graph), each triple once.
        """
        from .resources import PREFIXES
        from .writers import jsonld_chunks

        if graph and not self.has_graph(graph):
            raise StoreError(f"no page graph <{graph}> in the store; list pages with: evidencegraph pages")
        if fmt.name == "jsonld":
            for chunk in jsonld_chunks(self.quads(graph)):
                out.write(chunk.encode("utf-8"))
            return
        target = getattr(ox.RdfFormat, fmt.oxigraph)
        prefixes = PREFIXES if fmt.name in ("turtle", "trig", "xml") else None
        ox.serialize(self.quads(graph) if fmt.quads else self.union_triples(graph), out, target, prefixes=prefixes)

    def has_graph(self, graph: str) -> bool:
        return bool(self.db.contains_named_graph(ox.NamedNode(graph)))

    def union_triples(self, graph: str | None = None) -> Iterable[ox.Triple]:
        """The union of the page graphs (the default graph), or one page graph, as triples."""
        if graph:
            return (q.triple for q in self.db.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        return (q.triple for q in self.db.quads_for_pattern(None, None, None, ox.DefaultGraph()) if not is_figure(q))


def query_failed(e: RuntimeError, location: str) -> StoreError:
    """A query that failed while running (pyoxigraph raises RuntimeError): a damaged database, or a
    SERVICE that answered with something that is not SPARQL results."""
    if str(e).startswith(("Corruption", "IO error")):
        return StoreError(f"the store at {location} is damaged ({one_line(e, 160)}); restore it from a backup, "
                          "or start a new store and ingest the pages again")
    return StoreError(f"the query failed ({one_line(e, 160)}); if it uses SERVICE, the service sent an answer that "
                      "cannot be read: check it")


def _drop_pages(graphs: Sequence[str]) -> str:
    """SPARQL Update that removes page graphs and, from the default graph, the
    triples no other page states."""
    parts = []
    for g in graphs:
        parts.append(
            f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} "
            f"FILTER NOT EXISTS {{ GRAPH ?other {{ ?s ?p ?o }} FILTER (?other != <{g}>) }} }} ; "
            f"DROP SILENT GRAPH <{g}>"
        )
    return " ; ".join(parts)
