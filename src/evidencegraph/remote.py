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
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterable, Iterator, Sequence

import pyoxigraph as ox

from .errors import QueryError, StoreError
from .store import EG, PageInfo, Store, check_query

TIMEOUT = 300.0  # seconds without a byte from the server
_RESULTS = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"
_PAGES = (
    f"SELECT ?g ?checksum ?name WHERE {{ GRAPH ?g {{ ?g <{EG}checksum> ?checksum "
    f"OPTIONAL {{ ?g <{EG}fileName> ?name }} }} }}"
)
_MASK = re.compile(  # strings, IRIs and comments: where keywords and braces do not count
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|<[^<>\"{}|^`\\\s]*>"
    r"|#[^\n]*",
)
_PROLOGUE = re.compile(r"\s*(?:PREFIX\s+[^\s:]*:|BASE)\s*", re.IGNORECASE)


class RemoteStore(Store):
    """Page graphs on a SPARQL 1.1 server, one named graph per page.

    A :class:`Store` by interface (every method is overridden; there is no
    embedded database, ``db``, behind it).
    """

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
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        handlers: list[urllib.request.BaseHandler] = []
        if user is not None:
            passwords = urllib.request.HTTPPasswordMgrWithPriorAuth()
            for url in {query_url, update_url, gsp_url or update_url}:
                passwords.add_password(None, url, user, password or "", is_authenticated=True)
            handlers = [urllib.request.HTTPBasicAuthHandler(passwords), urllib.request.HTTPDigestAuthHandler(passwords)]
        self._opener = urllib.request.build_opener(*handlers)

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

    def _open(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], what: str, missing_ok: bool = False
    ) -> Any:
        """Send one request; the open response (close it), or None for a 404 when ``missing_ok``.

        :raises StoreError: the server cannot be reached or answers with an error.
        :raises QueryError: the server refuses a query (400).
        """
        request = urllib.request.Request(url, body, {**headers, **self._headers}, method=method)
        try:
            return self._opener.open(request, timeout=TIMEOUT)
        except urllib.error.HTTPError as e:
            with e:
                detail = _first_line(e.read())
            if e.code == 404 and missing_ok:
                return None
            if e.code in (401, 403):
                raise StoreError(
                    f"{url} refused the {what} ({e.code} {e.reason}); set EVIDENCEGRAPH_USER and "
                    "EVIDENCEGRAPH_PASSWORD, or EVIDENCEGRAPH_TOKEN, to credentials allowed to do it"
                ) from None
            if e.code == 400 and what == "query":
                raise QueryError(f"the server refused the query: {detail}; fix the query and try again") from None
            if e.code in (404, 405):
                setting = {"query": "QUERY", "update": "UPDATE"}.get(what, "GSP")
                raise StoreError(
                    f"{url} is not a SPARQL {what} endpoint ({e.code} {e.reason}); "
                    f"set EVIDENCEGRAPH_{setting}_URL (see Remote stores in the README)"
                ) from None
            raise StoreError(f"the SPARQL server failed the {what} ({e.code} {e.reason}: {detail}); "
                             "check the server's log and try again") from None
        except ValueError as e:
            raise StoreError(f"{url} is not a valid URL ({e}); fix --store or the EVIDENCEGRAPH_*_URL settings") from None
        except (OSError, http.client.HTTPException) as e:
            reason = getattr(e, "reason", None) or e
            raise StoreError(
                f"cannot reach the SPARQL server at {url} ({reason}); start it, or fix --store "
                "(and EVIDENCEGRAPH_QUERY_URL, _UPDATE_URL, _GSP_URL)"
            ) from None

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str], what: str,
              missing_ok: bool = False) -> None:
        response = self._open(method, url, body, headers, what, missing_ok)
        if response is not None:
            with response:
                _read(response, url)

    def _post_query(self, sparql: str, accept: str) -> Any:
        form = urllib.parse.urlencode({"query": sparql}).encode("utf-8")
        return self._open("POST", self.query_url, form,
                          {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}, "query")

    def _select(self, sparql: str) -> Any:
        with self._post_query(sparql, _RESULTS) as response:
            return _parse_results(_read(response, self.query_url), response.headers.get_content_type(), self.query_url)

    def _construct(self, sparql: str) -> Iterator[ox.Triple]:
        """The triples of a CONSTRUCT, streamed from the server."""
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

    def _update(self, sparql: str) -> None:
        self._send("POST", self.update_url, urllib.parse.urlencode({"update": sparql}).encode("utf-8"),
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
        """Replace each graph with the given N-Triples: a PUT each, or one SPARQL Update."""
        if self.gsp_url:
            for g, ntriples in graphs:
                self._send("PUT", self._graph_url(g), ntriples, {"Content-Type": _NTRIPLES}, "graph store write")
            return
        parts = [f"DROP SILENT GRAPH {_iri(g)} ; INSERT DATA {{ GRAPH {_iri(g)} {{ {nt.decode('utf-8')} }} }}" for g, nt in graphs]
        if parts:
            self._update(" ;\n".join(parts))

    def write_batch(
        self, pages: Sequence[tuple[str, bytes, bytes]], replace: Sequence[str] = (), revisions: Sequence[Any] = (),
        rows: Any = None,
    ) -> None:
        """Write page graphs, given as UTF-8 N-Quads and the same triples as N-Triples.

        Each graph is replaced whole (``replace`` needs no special step); the
        union triples are not written (the server's default graph is the union).
        A remote store keeps the current revisions only (``revisions`` is not kept), and no search index (``rows``).
        """
        self._put_graphs([(g, t) for g, _, t in pages])

    def replace_pages(self, graphs: Sequence[tuple[str, list[ox.Quad]]], existing: Iterable[str] = ()) -> int:
        """Write page graphs, replacing any of the same name.  Returns the number of quads written."""
        self._put_graphs([(g, ox.serialize([q.triple for q in qs], format=ox.RdfFormat.N_TRIPLES) or b"") for g, qs in graphs])
        return sum(len(qs) for _, qs in graphs)

    def remove_pages(self, graphs: Iterable[str]) -> int:
        names = list(graphs)
        if self.gsp_url:
            for g in names:
                self._send("DELETE", self._graph_url(g), None, {}, "graph store write", missing_ok=True)
        elif names:
            self._update(" ; ".join(f"DROP SILENT GRAPH {_iri(g)}" for g in names))
        return len(names)

    db_is_local = False

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
        rows = list(self._select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"))
        return int(rows[0]["n"].value) if rows else 0

    def flush(self) -> None:
        """Nothing to do: each request is done when the server answers."""

    def close(self) -> None:
        """Nothing to release: no connection outlives its request."""

    def __enter__(self) -> "RemoteStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- pages -------------------------------------------------------------------

    def pages(self) -> dict[str, PageInfo]:
        """The pages on the server by graph IRI, with their file names and checksums."""
        found: dict[str, PageInfo] = {}
        for row in self._select(_PAGES):
            g, name = row["g"], row["name"]
            if isinstance(g, ox.NamedNode):
                found[g.value] = PageInfo(g.value, name.value if name is not None else "", row["checksum"].value)
        return found

    def has_checksum(self, checksum: str) -> bool:
        if getattr(self, "_checksums", None) is None:
            self._checksums = {info.checksum for info in self.pages().values()}
        return checksum in self._checksums

    def checksum_of(self, graph: str) -> str | None:
        """The checksum of one page on the server, or None."""
        g = str(ox.NamedNode(graph))
        for row in self._select(f"SELECT ?c WHERE {{ GRAPH {g} {{ {g} <{EG}checksum> ?c }} }} LIMIT 1"):
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
            graph.extend(ox.Quad(t.subject, t.predicate, t.object) for t in self._construct(sparql))
            return graph.query("CONSTRUCT WHERE { ?s ?p ?o }")  # a real QueryTriples, each triple once
        return self._select(sparql)

    # --- export ------------------------------------------------------------------

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """The quads of every page graph (or of one), graph by graph, each sorted."""
        for g in [graph] if graph else sorted(self.pages()):
            name = ox.NamedNode(g)
            triples = self._construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {name} {{ ?s ?p ?o }} }}")
            for t in sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object))):
                yield ox.Quad(t.subject, t.predicate, t.object, name)

    def has_graph(self, graph: str) -> bool:
        return bool(self._select(f"ASK {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}"))

    def union_triples(self, graph: str | None = None) -> Iterable[ox.Triple]:
        """The union of the page graphs (or one graph), each triple once, whatever the server's default graph."""
        if graph:
            where = f"GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }}"
        else:
            where = f"GRAPH ?g {{ ?g <{EG}checksum> ?c }} GRAPH ?g {{ ?s ?p ?o }}"
        return self._construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ {where} }} }}")


def _iri(iri: str) -> str:
    """An IRI in SPARQL syntax, checked (pyoxigraph refuses a malformed one)."""
    return str(ox.NamedNode(iri))


def _read(response: Any, url: str) -> bytes:
    try:
        return bytes(response.read())
    except (OSError, http.client.HTTPException) as e:
        raise StoreError(f"the connection to {url} broke ({e}); try again") from None


def _parse_results(data: bytes, media_type: str, url: str) -> Any:
    fmt = ox.QueryResultsFormat.from_media_type(media_type)
    if fmt is None:
        raise StoreError(f"{url} answered with {media_type}, not SPARQL results; check EVIDENCEGRAPH_QUERY_URL")
    try:
        return ox.parse_query_results(data, fmt)
    except SyntaxError as e:
        raise StoreError(f"{url} sent results that do not parse ({e}); check the server") from None


def _first_line(body: bytes, limit: int = 200) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _masked(sparql: str) -> str:
    """The query with strings, IRIs and comments blanked out, offsets kept."""
    return _MASK.sub(lambda m: " " * len(m.group()), sparql)


def query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE.

    >>> query_form("PREFIX ask: <http://x/> # CONSTRUCT\\nselect * { ?s ask:p 'ASK' }")
    'SELECT'
    """
    masked = _masked(sparql)
    pos = 0
    while m := _PROLOGUE.match(masked, pos):
        pos = m.end()
    word = re.match(r"\s*(\w+)", masked[pos:])
    return word.group(1).upper() if word else ""


def bind_values(sparql: str, substitutions: dict[str, Any]) -> str:
    """Bind variables to RDF terms with a ``VALUES`` block at the start of the query's WHERE clause.

    The terms are serialised (N-Triples syntax, escaped), never pasted as raw text.

    >>> bind_values("SELECT ?e WHERE { ?x <http://x/p> ?e }", {"e": ox.Literal('a" } #')})
    'SELECT ?e WHERE { VALUES (?e) { ("a\\\\" } #") }  ?x <http://x/p> ?e }'
    """
    names, terms = [], []
    for name, value in substitutions.items():
        if not isinstance(value, (ox.NamedNode, ox.Literal)):
            raise QueryError(f"parameter {name}: only IRIs and literals can be bound, not {value!r}")
        names.append(str(ox.Variable(name)))
        terms.append(str(value))
    block = f" VALUES ({' '.join(names)}) {{ ({' '.join(terms)}) }} "
    where = re.search(r"\bWHERE\s*\{", _masked(sparql), re.IGNORECASE)
    if where is None:
        where = re.search(r"\{", _masked(sparql))
    if where is None:
        raise QueryError("the query has no WHERE clause to bind parameters in")
    return sparql[: where.end()] + block + sparql[where.end():]
