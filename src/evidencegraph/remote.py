"""A remote store: page graphs on a SPARQL server (Oxigraph, Fuseki, GraphDB, Virtuoso, …).

The same interface as :class:`evidencegraph.store.Store`, over HTTP with the
standard library only:

* reads through the SPARQL 1.1 Protocol (the query endpoint);
* writes through the SPARQL 1.1 Graph Store HTTP Protocol (a ``PUT`` per
  page graph, which replaces it atomically), or through SPARQL Update when
  there is no Graph Store endpoint (``EVIDENCEGRAPH_GSP_URL=none``).

The default graph is not written: queries rely on the server's own
union-default-graph setting (see "Remote stores" in the README).

Location: ``--store http(s)://host:port/`` (the server's base URL), with
``EVIDENCEGRAPH_QUERY_URL``, ``EVIDENCEGRAPH_UPDATE_URL`` and
``EVIDENCEGRAPH_GSP_URL`` for endpoints elsewhere than Oxigraph server's
``query``, ``update`` and ``store``, and ``EVIDENCEGRAPH_USER`` /
``EVIDENCEGRAPH_PASSWORD`` (basic or digest) or ``EVIDENCEGRAPH_TOKEN``
(bearer) for credentials.

A server may cap its answers (Virtuoso's ``ResultSetMaxRows``, 10,000 rows by
default) without saying so in the results.  Nothing here trusts an answer
that could have been cut: a result is complete when it is shorter than a row
count the server has been seen to send whole (a probe of generated rows, see
``_complete``); the store's own reads (pages, export, statistics) split a
longer one into parts by a hash of their key until each part is provably
whole, and a query's answer that may have been cut is an error that names
the cap.
"""

from __future__ import annotations

import http.client
import os
import tempfile
import urllib.parse
from typing import Any, Iterable, Iterator, Sequence

import pyoxigraph as ox

from .errors import StoreError
from .remotehttp import Http, read_body
from .sparqltext import bind_values, canonical, decimals, query_form, update_batches
from .figures import FIGURES_GRAPH, RemoteFigureBook, Touched
from .store import EG, PageInfo, Store, check_query

__all__ = ["RemoteStore", "bind_values", "query_form"]

_RESULTS = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"
# A page graph: the graph named by its page node.  (?page and ?g apart, with a FILTER: Virtuoso 7
# answers GRAPH ?g { ?g eg:checksum ?c } with the graphs of every node that has a checksum.)
PAGE_GRAPH = f"GRAPH ?g {{ ?page a <{EG}Page> FILTER (?page = ?g) }}"
_PAGES = f"GRAPH ?g {{ ?page a <{EG}Page> ; <{EG}checksum> ?checksum OPTIONAL {{ ?page <{EG}fileName> ?name }} FILTER (?page = ?g) }}"
_FIGURED = f"GRAPH ?g {{ ?page a <{EG}Page> ; <{EG}listedFactCount> ?n FILTER (?page = ?g) }}"  # format 3
_SPO_KEY = 'CONCAT(COALESCE(STR(?s), ""), " ", STR(?p), " ", COALESCE(STR(?o), ""))'  # a blank node: ""
_PROBE_MIN = 1_000  # rows asked of the server the first time it has to show it sends an answer whole


class RemoteStore(RemoteFigureBook, Store):
    """Page graphs on a SPARQL 1.1 server, one named graph per page.

    A :class:`Store` by interface (every method is overridden; there is no
    embedded database, ``db``, behind it).
    """

    page_graph_pattern = PAGE_GRAPH  # binds ?g to each page graph (stats counts over these only)
    history = None  # revisions are kept beside a store folder only

    def __init__(  # no super().__init__(): there is nothing on disk to open
        self,
        location: str,
        query_url: str,
        update_url: str,
        gsp_url: str | None = None,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
    ):
        self.location = location
        self.query_url = query_url
        self.update_url = update_url
        self.gsp_url = gsp_url
        self.read_only = False
        self.recovered: list[str] = []
        self._touched = Touched()  # keys whose store figures the writes since the last flush changed (figures.py)
        self._touched_pages = 0
        self._start_marks()
        self.written = 0  # pages written by this process, for the message when a write fails
        self._whole = 0  # an answer shorter than this is complete: the server has sent this many rows
        self._cap: int | None = None  # the server's row cap, once seen
        self._http = Http([query_url, update_url, gsp_url or update_url], user, password, token)

    @classmethod
    def from_location(cls, location: str) -> "RemoteStore":
        """``http(s)://host:port/`` plus the ``EVIDENCEGRAPH_*`` endpoint and credential settings."""
        base = location if location.endswith("/") else location + "/"
        env = os.environ.get
        gsp = env("EVIDENCEGRAPH_GSP_URL") or urllib.parse.urljoin(base, "store")
        return cls(
            location,
            env("EVIDENCEGRAPH_QUERY_URL") or urllib.parse.urljoin(base, "query"),
            env("EVIDENCEGRAPH_UPDATE_URL") or urllib.parse.urljoin(base, "update"),
            None if gsp.lower() == "none" else gsp,
            env("EVIDENCEGRAPH_USER"),
            env("EVIDENCEGRAPH_PASSWORD"),
            env("EVIDENCEGRAPH_TOKEN"),
        )

    # --- HTTP ------------------------------------------------------------------

    def _post_query(self, sparql: str, accept: str) -> Any:
        form = urllib.parse.urlencode({"query": sparql}).encode("utf-8")
        return self._http.open("POST", self.query_url, form,
                              {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}, "query")

    def _select_bytes(self, sparql: str) -> tuple[bytes, str]:
        """A SELECT or ASK answer as sent (bytes, media type); notes a row cap the server declares."""
        with self._post_query(sparql, _RESULTS) as response:
            declared = response.headers.get("X-SPARQL-MaxRows")  # Virtuoso, when an answer reaches its cap
            if declared and declared.isdigit() and int(declared) > 0:
                self._cap = min(int(declared), self._cap or int(declared))
            return read_body(response, self.query_url), response.headers.get_content_type()

    def _rows(self, sparql: str) -> list[dict[str, Any]]:
        """A SELECT's rows as {variable: term} (not pyoxigraph's solutions, which no other thread may free)."""
        data, media_type = self._select_bytes(sparql)
        results = _parse_results(data, media_type, self.query_url)
        names = [v.value for v in results.variables]
        return [{n: row[n] for n in names if row[n] is not None} for row in results]

    def _select(self, sparql: str) -> Any:
        """A SELECT's solutions (or an ASK's boolean), checked whole: see _check_whole."""
        data, media_type = self._select_bytes(sparql)
        results = _parse_results(data, media_type, self.query_url)
        if isinstance(results, ox.QueryBoolean):
            return results
        if query_form(sparql) == "ASK":  # Virtuoso 7 answers ASK with a row: ?__ASK_RETVAL 1 or 0
            values = [t for row in results for t in row if t is not None]
            truth = bool(values) and str(values[0].value) in ("1", "true")
            return ox.parse_query_results(b'{"head":{},"boolean":%s}' % (b"true" if truth else b"false"),
                                          ox.QueryResultsFormat.JSON)
        n = sum(1 for _ in results)
        del results  # no query solutions left in a frame an error keeps (pyoxigraph's are unsendable)
        self._check_whole(n, "rows")
        return _parse_results(data, media_type, self.query_url)

    def _construct(self, sparql: str) -> Iterator[ox.Triple]:
        """The triples of a CONSTRUCT, streamed from the server (not checked against a cap)."""
        with self._post_query(sparql, f"{_NTRIPLES}, text/turtle;q=0.9, application/rdf+xml;q=0.8") as response:
            media_type = response.headers.get_content_type()
            fmt = ox.RdfFormat.from_media_type(media_type)
            if fmt is None:
                raise StoreError(f"{self.query_url} answered a CONSTRUCT with {media_type}, not RDF; "
                                 "check EVIDENCEGRAPH_QUERY_URL")
            try:
                for q in ox.parse(response, fmt):
                    yield q.triple
            except SyntaxError as e:
                raise StoreError(f"{self.query_url} sent RDF that does not parse ({e}); check the server") from None
            except (OSError, http.client.HTTPException) as e:
                raise StoreError(f"the connection to {self.query_url} broke ({e}); try again") from None

    # --- answers that a row cap could have cut -------------------------------------

    def _complete(self, n: int) -> bool:
        """Whether an answer of ``n`` rows (or triples) is whole: shorter than the server's row cap.

        A server does not say in its results that it cut them, so the first answer
        that is not known to be short enough is followed by a probe: a query of at
        least ``2n + 2`` generated rows (``VALUES`` of digits).  If they all come
        back, answers shorter than that are whole; if fewer do, that is the cap.
        """
        if n == 0 or n < self._whole:
            return True
        if self._cap is not None:
            return n < self._cap
        want = max(2 * n + 2, _PROBE_MIN)
        digits = len(str(want))
        head = " ".join(f"?d{i}" for i in range(digits))
        values = " ".join(f"VALUES ?d{i} {{ 0 1 2 3 4 5 6 7 8 9 }}" for i in range(digits))
        got = len(self._rows(f"SELECT {head} WHERE {{ {values} }} LIMIT {want}"))
        if got >= want:
            self._whole = got
            return n < got
        if got == 0:
            raise StoreError(f"{self.query_url} answers no rows to a query of generated rows (VALUES), so "
                             "whether it cuts answers cannot be told; check EVIDENCEGRAPH_QUERY_URL")
        self._cap = got
        return n < got

    def _check_whole(self, n: int, what: str) -> None:
        """:raises StoreError: an answer of ``n`` rows the server's cap may have cut."""
        if not self._complete(n):
            raise StoreError(
                f"{self.query_url} answers at most {self._cap} {what} (a row cap such as Virtuoso's "
                f"ResultSetMaxRows = {self._cap}); this answer has {n} and may be cut: page the query "
                "with LIMIT and OFFSET, or raise the server's cap"
            )

    def _select_all(self, head: str, where: str, key: str, prefix: str = "", distinct: bool = False) -> list[tuple[Any, ...]]:
        """Every row of ``SELECT head WHERE { where }`` as tuples of terms (in ``head``'s order), in parts by
        the MD5 of ``key`` while one may be cut.

        :raises StoreError: a part of over a cap's worth of rows with one key (16^5 parts deep).
        """
        narrowed = f'{where} FILTER (STRSTARTS(MD5({key}), "{prefix}"))' if prefix else where
        names = head.replace("?", "").split()
        rows = [tuple(row.get(n) for n in names)
                for row in self._rows(f"SELECT {'DISTINCT ' if distinct else ''}{head} WHERE {{ {narrowed} }}")]
        if self._complete(len(rows)):
            return rows
        if len(prefix) >= 5:
            self._check_whole(len(rows), "rows")
        return [row for digit in "0123456789abcdef" for row in self._select_all(head, where, key, prefix + digit, distinct)]

    def _update(self, sparql: str) -> None:
        self._http.send("POST", self.update_url, urllib.parse.urlencode({"update": sparql}).encode("utf-8"),
                        {"Content-Type": "application/x-www-form-urlencoded"}, "update")

    def _graph_url(self, graph: str) -> str:
        """The Graph Store URL of a graph: ``?graph=IRI``, or the IRI after a URL that ends in ``=``.

        >>> RemoteStore("x", "q", "u", "http://h/crud?graph-uri=")._graph_url("http://g/1#a")
        'http://h/crud?graph-uri=http%3A%2F%2Fg%2F1%23a'
        """
        assert self.gsp_url is not None
        if self.gsp_url.endswith("="):
            return self.gsp_url + urllib.parse.quote(graph, safe="")
        sep = "&" if "?" in self.gsp_url else "?"
        return f"{self.gsp_url}{sep}{urllib.parse.urlencode({'graph': graph})}"

    # --- writes ------------------------------------------------------------------

    def _put_graphs(self, graphs: Sequence[tuple[str, bytes]]) -> None:
        """Replace each graph with the given N-Triples: a PUT each, or SPARQL Updates of a few pages each.

        :raises StoreError: a write fails; the message says how many pages this process wrote before,
            ``written`` how many of these graphs.
        """
        before = self.written
        try:
            if self.gsp_url:
                for g, ntriples in graphs:
                    self._http.send("PUT", self._graph_url(g), ntriples, {"Content-Type": _NTRIPLES}, "graph store write")
                    self.written += 1
                return
            for part in update_batches(graphs):
                self._update(" ;\n".join(
                    f"DROP SILENT GRAPH {_iri(g)} ; INSERT DATA {{ GRAPH {_iri(g)} {{ {decimals(nt)} }} }}"
                    for g, nt in part))
                self.written += len(part)
        except StoreError as e:
            failed = StoreError(f"{e} ({self.written} pages written before it, each whole: "
                                "run the same command again to write the rest)")
            failed.written = self.written - before  # each PUT (or Update) is whole: those before it are there
            raise failed from None

    def write_batch(
        self, pages: Sequence[tuple[str, bytes, bytes]], replace: Sequence[str] = (), revisions: Sequence[Any] = (),
        rows: Any = None,
    ) -> None:
        """Write page graphs, given as UTF-8 N-Quads and the same triples as N-Triples.

        Each graph is replaced whole (``replace`` needs no special step); the
        union triples are not written (the server's default graph is the union).
        A remote store keeps the current revisions only (``revisions`` is not kept), and no search index (``rows``).
        The store figures follow at ``flush``.
        """
        self.figures_stale()
        self._touch(list(replace))
        self._put_graphs([(g, t) for g, _, t in pages])
        self._touch([g for g, _, _ in pages])

    def replace_pages(self, graphs: Sequence[tuple[str, list[ox.Quad]]], existing: Iterable[str] = ()) -> int:
        """Write page graphs, replacing any of the same name.  Returns the number of quads written."""
        self.figures_stale()
        self._touch([g for g, _ in graphs if g in set(existing)])
        self._put_graphs([(g, ox.serialize([q.triple for q in qs], format=ox.RdfFormat.N_TRIPLES) or b"") for g, qs in graphs])
        self._touch([g for g, _ in graphs])
        self.update_figures()
        return sum(len(qs) for _, qs in graphs)

    def remove_pages(self, graphs: Iterable[str]) -> int:
        names = list(graphs)
        if not names:
            return 0
        self.figures_stale()
        self._touch(names)
        if self.gsp_url:
            for g in names:
                self._http.send("DELETE", self._graph_url(g), None, {}, "graph store write", missing_ok=True)
        else:
            for i in range(0, len(names), 100):
                self._update(" ; ".join(f"DROP SILENT GRAPH {_iri(g)}" for g in names[i:i + 100]))
        self.update_figures()
        return len(names)

    db_is_local = False
    _figures_graph: str | None = FIGURES_GRAPH  # a named graph, which the server's union default graph shows

    @property
    def db(self) -> ox.Store:
        """:raises StoreError: always; what needs the embedded database (``serve``) needs a store folder."""
        raise StoreError(
            f"{self.location} is a SPARQL server, not a store folder: query it directly, "
            "or export it and ingest the export into a folder to serve it with evidencegraph"
        )

    @db.setter
    def db(self, value: ox.Store) -> None:
        raise StoreError("a remote store has no embedded database")

    def __len__(self) -> int:
        """The number of quads in the page graphs."""
        rows = self._rows(f"SELECT (COUNT(*) AS ?n) WHERE {{ {PAGE_GRAPH} GRAPH ?g {{ ?s ?p ?o }} }}")
        return int(rows[0]["n"].value) if rows else 0

    def flush(self) -> None:
        """Bring the store figures up to date; the pages are written when the server answers."""
        self.update_figures()

    def _run_updates(self, updates: Sequence[str]) -> None:
        for u in updates:
            self._update(u)

    def close(self) -> None:
        """Nothing to release: no connection outlives its request."""

    def __enter__(self) -> "RemoteStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- pages -------------------------------------------------------------------

    def pages(self) -> dict[str, PageInfo]:
        """The pages on the server by graph IRI, with their file names and checksums (all of them)."""
        found: dict[str, PageInfo] = {}
        for g, checksum, name in self._select_all("?g ?checksum ?name", _PAGES, "STR(?g)"):
            if isinstance(g, ox.NamedNode):
                found[g.value] = PageInfo(g.value, name.value if name is not None else "", checksum.value)
        return found

    def checksums(self) -> dict[str, str]:
        """graph IRI -> checksum of every current page on the server; "" for a page written before store
        format 3, without the figures the questions read, so that an ingest writes it again."""
        figured = {g.value for (g,) in self._select_all("?g", _FIGURED, "STR(?g)") if isinstance(g, ox.NamedNode)}
        return {g: info.checksum if g in figured else "" for g, info in self.pages().items() if info.checksum}

    def checksum_of(self, graph: str) -> str | None:
        """The checksum of one page on the server, or None."""
        g = str(ox.NamedNode(graph))
        for row in self._rows(f"SELECT ?c WHERE {{ GRAPH {g} {{ {g} <{EG}checksum> ?c }} }} LIMIT 1"):
            return str(row["c"].value)
        return None

    # --- queries -----------------------------------------------------------------

    def query(
        self,
        sparql: str,
        substitutions: dict[str, Any] | None = None,
        allow_service: bool = False,
        union: bool = False,
    ) -> Any:
        """Run SPARQL on the server; the default graph is whatever the server makes it (see the README).

        The query is parsed here first (the same syntax errors as the embedded
        store); ``substitutions`` are bound with a ``VALUES`` block of
        serialised RDF terms.  ``union`` is the server's business.

        :raises QueryError: a syntax error, SERVICE when not allowed, or a query the server refuses.
        :raises StoreError: an answer the server's row cap may have cut (see _complete).
        """
        from .sparql import parse, with_prefixes

        check_query(sparql, allow_service)
        if not allow_service:  # parse locally; with SERVICE allowed that could fetch, so leave it to the server
            parse(sparql)
        sparql = with_prefixes(sparql)
        if substitutions:
            sparql = bind_values(sparql, substitutions)
        if query_form(sparql) in ("CONSTRUCT", "DESCRIBE"):
            graph = ox.Store()
            sent = 0
            for t in self._construct(sparql):
                graph.add(ox.Quad(t.subject, t.predicate, t.object))
                sent += 1
            self._check_whole(sent, "triples")
            return graph.query("CONSTRUCT WHERE { ?s ?p ?o }")  # a real QueryTriples, each triple once
        return self._select(sparql)

    # --- export ------------------------------------------------------------------

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """The quads of every page graph (or of one), graph by graph, each sorted; all of them."""
        for g in [graph] if graph else sorted(self.pages()):
            name = ox.NamedNode(g)
            rows = self._select_all("?s ?p ?o", f"GRAPH {name} {{ ?s ?p ?o }}", _SPO_KEY)
            triples = sorted(((s, p, canonical(o)) for s, p, o in rows), key=lambda t: (str(t[0]), str(t[1]), str(t[2])))
            for s, p, o in triples:
                yield ox.Quad(s, p, o, name)

    def has_graph(self, graph: str) -> bool:
        return bool(self._select(f"ASK {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}"))

    def union_triples(self, graph: str | None = None) -> Iterable[ox.Triple]:
        """The union of the page graphs (or one graph), each triple once, whatever the server's default graph.

        Read graph by graph (each provably whole) into a temporary store on disk,
        which keeps each triple once.
        """
        if graph:
            yield from (q.triple for q in self.quads(graph))
            return
        with tempfile.TemporaryDirectory(prefix="evidencegraph-union-") as folder:
            union = ox.Store(folder)
            for g in sorted(self.pages()):
                union.extend(ox.Quad(q.subject, q.predicate, q.object) for q in self.quads(g))
            yield from (q.triple for q in union.quads_for_pattern(None, None, None, ox.DefaultGraph()))
            del union


def _iri(iri: str) -> str:
    """An IRI in SPARQL syntax, checked (pyoxigraph refuses a malformed one)."""
    return str(ox.NamedNode(iri))


def _parse_results(data: bytes, media_type: str, url: str) -> Any:
    fmt = ox.QueryResultsFormat.from_media_type(media_type)
    if fmt is None:
        raise StoreError(f"{url} answered with {media_type}, not SPARQL results; check EVIDENCEGRAPH_QUERY_URL")
    try:
        return ox.parse_query_results(data, fmt)
    except SyntaxError as e:
        raise StoreError(f"{url} sent results that do not parse ({e}); check the server") from None
