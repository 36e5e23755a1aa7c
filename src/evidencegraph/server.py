"""``evidencegraph serve``: the store over HTTP.

An ASGI application (Starlette), served by uvicorn:

- ``/sparql``: the SPARQL 1.1 Protocol (GET, POST form, POST direct), with
  content negotiation (q-values) for results and graphs, ``default-graph-uri``
  and ``named-graph-uri``, a time limit and a result-size cap; ``SERVICE`` is
  refused.  GET without a query gives the SPARQL service description.
- ``/update``: SPARQL 1.1 Update, only with ``--allow-update`` and a bearer
  token (``EVIDENCEGRAPH_TOKEN``).
- ``/store``: the SPARQL 1.1 Graph Store Protocol (``?graph=IRI``,
  ``?default``, or direct identification under ``/store/…``); reads always,
  writes only with ``--allow-update`` and the token.
- ``/id/…``: every IRI under the base answers 303 See Other to its document
  ``/doc/…``, which is HTML for people and Turtle, JSON-LD, N-Triples… for
  RDF clients (``Vary: Accept``).  ``/ontology`` is the ontology,
  ``/.well-known/void`` the VoID description, ``/`` a query page with the
  named questions.

The default graph of the store is the materialised union of the page graphs
(see ``store.py``).  The server keeps it so: Graph Store writes go through
the store's page operations, and after a SPARQL Update the default graph is
re-derived from the named graphs — so writing the default graph directly has
no lasting effect, and the Graph Store Protocol refuses it.

Time limit: a query runs in a worker thread; the client gets 503 when it
runs longer than ``--timeout``.  pyoxigraph cannot cancel a query, so the
worker stops at the next result row it reads past the limit; a query that
computes its whole result before the first row (ORDER BY, GROUP BY over
much data) keeps its worker busy until it is done.  Workers are few
(``--workers``); when all are busy, new queries wait, within their own time
limit.

pyoxigraph query results are read and serialised in the thread that ran the
query (handing them to another thread crashed the process in a trial).
"""

from __future__ import annotations

import hmac
import html
import io
import json
import logging
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl, quote, unquote_to_bytes, urlencode

import pyoxigraph as ox

from . import __version__
from .errors import EvidenceGraphError, QueryError, UsageError
from .formats import RDF_FORMATS, RdfFormat
from .resources import PREFIXES
from .store import _STRINGS_IRIS_COMMENTS, Store, check_query
from .vocab import DEFAULT_BASE, NAMESPACE, ONTOLOGY

log = logging.getLogger(__name__)

RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"
RESULTS_CSV = "text/csv"
RESULTS_TSV = "text/tab-separated-values"
HTML = "text/html"
RESULT_TYPES = [RESULTS_JSON, RESULTS_XML, RESULTS_CSV, RESULTS_TSV]
BOOLEAN_TYPES = [RESULTS_JSON, RESULTS_XML]
# Graphs: Turtle first (the default), then the rest of the project's formats.
GRAPH_ORDER = ["turtle", "jsonld", "nt", "nq", "trig", "xml"]
GRAPH_TYPES = [RDF_FORMATS[n].media_type for n in GRAPH_ORDER]
ALIASES = {
    RESULTS_JSON: {"application/json"},
    RESULTS_XML: {"application/xml", "text/xml"},
    "application/ld+json": {"application/json"},
    "application/rdf+xml": {"application/xml", "text/xml"},
    "application/n-triples": {"text/plain"},
    "text/turtle": {"application/x-turtle"},
}
SHORT_NAMES = {
    "json": (RESULTS_JSON, "application/ld+json"),
    "xml": (RESULTS_XML, "application/rdf+xml"),
    "csv": (RESULTS_CSV, None),
    "tsv": (RESULTS_TSV, None),
    "html": (HTML, HTML),
    **{n: (None, f.media_type) for n, f in RDF_FORMATS.items()},
    "ttl": (None, "text/turtle"),
    "json-ld": (None, "application/ld+json"),
    "ntriples": (None, "application/n-triples"),
    "nquads": (None, "application/n-quads"),
    "rdfxml": (None, "application/rdf+xml"),
}
TRUNCATED_HEADER = "X-Evidencegraph-Truncated"
SD = "http://www.w3.org/ns/sparql-service-description#"


@dataclass
class Settings:
    """How the server runs; ``serve``'s options."""

    base: str = DEFAULT_BASE
    timeout: float = 30.0
    max_rows: int = 10000
    allow_update: bool = False
    token: str | None = None
    workers: int = 4
    allow_service: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Problem(Exception):
    """An HTTP error with a message for the client (plain text, no traceback)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class QueryTimeout(Exception):
    pass


def contained(fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn`` and let no pyoxigraph object leave this thread, not even through a traceback.

    An exception's traceback keeps the frames, and so the query results, alive;
    were it raised in the event loop's thread, the results would be dropped there,
    which pyoxigraph refuses (they are bound to the thread that made them).  So
    errors are re-raised as fresh exceptions once the originals (and their
    frames) are gone.
    """
    failure: tuple[Any, ...] | None = None
    try:
        return fn(*args)
    except QueryTimeout:
        failure = ("timeout",)
    except Problem as p:
        failure = ("problem", p.status, p.message, p.headers)
    except Exception:
        log.exception("a worker failed")
        failure = ("problem", 500, "internal error; the server log has the details", {})
    if failure[0] == "timeout":
        raise QueryTimeout()
    raise Problem(*failure[1:])


# --- content negotiation ------------------------------------------------------


def parse_accept(header: str) -> list[tuple[str, float]]:
    """``Accept`` -> [(media range, q)], skipping malformed parts.

    >>> parse_accept("text/turtle;q=0.5, application/ld+json")
    [('text/turtle', 0.5), ('application/ld+json', 1.0)]
    """
    out = []
    for part in header.split(","):
        media, *params = part.strip().split(";")
        media = media.strip().lower()
        if not media or "/" not in media:
            continue
        q = 1.0
        for p in params:
            k, _, v = p.strip().partition("=")
            if k.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(v)))
                except ValueError:
                    q = 0.0
        out.append((media, q))
    return out


def negotiate(accept: str | None, offers: list[str]) -> str | None:
    """The offer the client likes best (server order breaks ties); None when none is acceptable.

    >>> negotiate("text/csv;q=0.5, application/sparql-results+xml", RESULT_TYPES)
    'application/sparql-results+xml'
    >>> negotiate("application/*;q=0.2, text/csv", RESULT_TYPES)
    'text/csv'
    >>> negotiate("image/png", RESULT_TYPES) is None
    True
    """
    if not accept or not accept.strip():
        return offers[0]
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for offer in offers:
        names = {offer} | ALIASES.get(offer, set())
        kind = offer.split("/")[0]
        found: tuple[int, float] | None = None
        for media, q in ranges:
            if media in names:
                rank = 3
            elif media == f"{kind}/*":
                rank = 2
            elif media == "*/*":
                rank = 1
            else:
                continue
            if found is None or rank > found[0] or (rank == found[0] and q > found[1]):
                found = (rank, q)
        if found and found[1] > best_q:
            best, best_q = offer, found[1]
    return best


def rdf_format_for(media: str) -> RdfFormat:
    for f in RDF_FORMATS.values():
        if f.media_type == media:
            return f
    raise KeyError(media)


def content_type(media: str) -> str:
    return f"{media}; charset=utf-8" if media.startswith("text/") or media.endswith(("json", "+xml", "trig", "triples", "quads")) else media


# --- IRIs and server paths --------------------------------------------------------

_PCT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def uri_to_iri(raw: str) -> str:
    """Decode percent-encoded UTF-8 runs that are non-ASCII characters (RFC 3987, 3.2).

    >>> uri_to_iri("C%C3%B4te_d%E2%80%99Ivoire%5Fx%20")
    'Côte_d’Ivoire%5Fx%20'
    """

    def fix(m: re.Match[str]) -> str:
        text = m.group(0)
        out, i = [], 0
        data = unquote_to_bytes(text)
        # decode greedily, keeping ASCII bytes percent-encoded
        pieces = re.findall(r"%[0-9A-Fa-f]{2}", text)
        while i < len(data):
            b = data[i]
            if b < 0x80:
                out.append(pieces[i])
                i += 1
                continue
            width = 2 if b >> 5 == 0b110 else 3 if b >> 4 == 0b1110 else 4 if b >> 3 == 0b11110 else 0
            try:
                if not width:
                    raise UnicodeDecodeError("utf-8", data, i, i + 1, "bad lead byte")
                out.append(data[i : i + width].decode("utf-8"))
                i += width
            except UnicodeDecodeError:
                out.append(pieces[i])
                i += 1
        return "".join(out)

    return _PCT_RUN.sub(fix, raw)


def iri_to_uri(iri: str) -> str:
    """Percent-encode the non-ASCII characters of an IRI (for links and Location).

    >>> iri_to_uri("/doc/entity/Côte_d’Ivoire")
    '/doc/entity/C%C3%B4te_d%E2%80%99Ivoire'
    """
    return "".join(quote(ch, safe="") if ord(ch) > 0x7F else ch for ch in iri)


class Paths:
    """Map between the IRIs the data uses and the server's own paths."""

    def __init__(self, base: str):
        self.base = base

    def local(self, iri: str) -> str | None:
        """The server path that documents an IRI, or None when it is not ours."""
        if iri.startswith(self.base) and len(iri) > len(self.base):
            return iri_to_uri("/doc/" + iri[len(self.base) :])
        if iri.startswith(NAMESPACE):
            return "/ontology#" + iri[len(NAMESPACE) :]
        if iri == ONTOLOGY:
            return "/ontology"
        return None

    def iri(self, rest: str) -> str:
        """``/id/{rest}`` or ``/doc/{rest}`` (rest as sent, percent-encoded) -> the IRI."""
        return self.base + uri_to_iri(rest)


# --- query execution (in a worker thread) -----------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes
    media: str
    headers: dict[str, str] = field(default_factory=dict)


def _term_json(t: Any) -> dict[str, Any]:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            out["datatype"] = t.datatype.value
        return out
    if isinstance(t, ox.Triple):
        return {"type": "triple", "value": {
            "subject": _term_json(t.subject), "predicate": _term_json(t.predicate), "object": _term_json(t.object)}}
    return {"type": "literal", "value": str(t)}


def _check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise QueryTimeout()


_RESULT_FORMATS = {
    RESULTS_JSON: ox.QueryResultsFormat.JSON,
    RESULTS_XML: ox.QueryResultsFormat.XML,
    RESULTS_CSV: ox.QueryResultsFormat.CSV,
    RESULTS_TSV: ox.QueryResultsFormat.TSV,
}


def run_query(
    db: Any,
    sparql: str,
    accept: str | None,
    forced: tuple[str | None, str | None] | None,
    max_rows: int,
    deadline: float,
    default_graph: list[ox.NamedNode] | None = None,
    named_graphs: list[ox.NamedNode] | None = None,
    substitutions: dict[str, Any] | None = None,
    base_iri: str | None = None,
) -> Answer:
    """Run a query and serialise its results, all in this thread.

    :raises Problem: a bad query (400), nothing acceptable (406).
    :raises QueryTimeout: past the deadline.
    """
    kwargs: dict[str, Any] = {}
    if default_graph is not None or named_graphs is not None:
        kwargs["default_graph"] = default_graph or []
        kwargs["named_graphs"] = named_graphs or []
    if substitutions:
        kwargs["substitutions"] = {ox.Variable(k): v for k, v in substitutions.items()}
    try:
        results = db.query(sparql, base_iri=base_iri, **kwargs)
    except SyntaxError as e:
        raise Problem(400, f"SPARQL syntax error: {e}") from None
    except (OSError, ValueError, TypeError) as e:
        raise Problem(400, f"the query failed: {e}") from None
    _check(deadline)
    if isinstance(results, ox.QueryBoolean):
        media = _choose(accept, forced, BOOLEAN_TYPES, 0)
        return Answer(200, results.serialize(format=_RESULT_FORMATS[media]) or b"", media)
    if isinstance(results, ox.QuerySolutions):
        media = _choose(accept, forced, RESULT_TYPES, 0)
        names = [v.value for v in results.variables]
        bindings: list[dict[str, Any]] = []
        truncated = False
        try:
            for row in results:
                if len(bindings) >= max_rows:
                    truncated = True
                    break
                bindings.append({n: _term_json(row[n]) for n in names if row[n] is not None})
                if len(bindings) % 256 == 0:
                    _check(deadline)
        except (OSError, ValueError) as e:
            raise Problem(400, f"the query failed: {e}") from None
        _check(deadline)
        doc: dict[str, Any] = {}
        headers = {}
        note = f"results cut at {max_rows} rows (the server's --max-rows); add LIMIT/OFFSET to page through them"
        if truncated:
            doc["warning"] = note  # first: some readers (pyoxigraph) refuse keys after "results"
            headers[TRUNCATED_HEADER] = str(max_rows)
            headers["Warning"] = f'199 evidencegraph "{note}"'
        doc.update({"head": {"vars": names}, "results": {"bindings": bindings}})
        data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        if media != RESULTS_JSON:
            data = ox.parse_query_results(data, ox.QueryResultsFormat.JSON).serialize(format=_RESULT_FORMATS[media]) or b""
            if truncated and media == RESULTS_XML:
                data = data.replace(b"?>", f"?>\n<!-- {note} -->".encode(), 1) if data.startswith(b"<?xml") else (
                    f"<!-- {note} -->\n".encode() + data)
        return Answer(200, data, media, headers)
    # CONSTRUCT / DESCRIBE
    media = _choose(accept, forced, GRAPH_TYPES, 1)
    quads: list[ox.Quad] = []
    truncated = False
    try:
        for t in results:
            if len(quads) >= max_rows:
                truncated = True
                break
            quads.append(ox.Quad(t.subject, t.predicate, t.object))
            if len(quads) % 256 == 0:
                _check(deadline)
    except (OSError, ValueError) as e:
        raise Problem(400, f"the query failed: {e}") from None
    _check(deadline)
    return graph_answer(quads, media, truncated, max_rows)


def graph_answer(quads: list[ox.Quad], media: str, truncated: bool = False, max_rows: int = 0) -> Answer:
    from .writers import write_quads

    fmt = rdf_format_for(media)
    buf = io.BytesIO()
    headers = {}
    if truncated:
        note = f"results cut at {max_rows} triples (the server's --max-rows); add LIMIT/OFFSET to page through them"
        headers[TRUNCATED_HEADER] = str(max_rows)
        headers["Warning"] = f'199 evidencegraph "{note}"'
        if fmt.name in ("turtle", "nt", "nq", "trig"):
            buf.write(f"# {note}\n".encode())
    write_quads(quads, fmt, buf)
    data = buf.getvalue()
    if truncated and fmt.name == "xml":
        data = data.replace(b"?>", f"?>\n<!-- {note} -->".encode(), 1)
    return Answer(200, data, media, headers)


def _choose(accept: str | None, forced: tuple[str | None, str | None] | None, offers: list[str], which: int) -> str:
    if forced and forced[which] and forced[which] in offers:
        return forced[which]  # type: ignore[return-value]
    media = negotiate(accept, offers)
    if media is None:
        raise Problem(406, f"none of the accepted types ({accept}) can carry this result; acceptable: {', '.join(offers)}")
    return media


# --- SPARQL Update helpers ---------------------------------------------------------

RESYNC = (
    "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } } ;\n"
    "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } FILTER NOT EXISTS { ?s ?p ?o } }"
)


def _mask(text: str) -> str:
    """The text with strings, IRIs and comments blanked (same length)."""
    return _STRINGS_IRIS_COMMENTS.sub(lambda m: " " * len(m.group(0)), text)


def add_using(update: str, using: list[str], using_named: list[str]) -> str:
    """Apply ``using-graph-uri``/``using-named-graph-uri`` as USING clauses.

    :raises Problem: the update has its own USING or WITH (400, as the protocol says).

    >>> add_using("INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }", ["http://g"], [])
    'INSERT { ?s ?p 1 } USING <http://g> WHERE { ?s ?p ?o }'
    """
    if not using and not using_named:
        return update
    masked = _mask(update)
    depth, positions = 0, []
    for m in re.finditer(r"[{}]|(?<![?$:\w])(?:USING|WITH|WHERE)\b(?!:)", masked, re.IGNORECASE):
        tok = m.group(0)
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        elif depth == 0 and tok.upper() in ("USING", "WITH"):
            raise Problem(400, "the update has its own USING or WITH clause and the request names using-graph-uri/"
                          "using-named-graph-uri: give one or the other")
        elif depth == 0 and tok.upper() == "WHERE" and masked[: m.start()].rstrip().endswith("}"):
            positions.append(m.start())
    clause = "".join(f"USING {ox.NamedNode(g)} " for g in using) + "".join(
        f"USING NAMED {ox.NamedNode(g)} " for g in using_named)
    for pos in reversed(positions):
        update = update[:pos] + clause + update[pos:]
    return update


# --- the application ------------------------------------------------------------------


def _split_type(header: str | None) -> tuple[str, str | None]:
    """``Content-Type`` -> (media type, charset or None)."""
    if not header:
        return "", None
    media, *params = header.split(";")
    charset = None
    for p in params:
        k, _, v = p.strip().partition("=")
        if k.strip().lower() == "charset":
            charset = v.strip().strip('"').lower()
    return media.strip().lower(), charset


def _form(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise Problem(400, "the form body is not URL-encoded UTF-8") from None


def _utf8(body: bytes, charset: str | None, what: str) -> str:
    if charset and charset not in ("utf-8", "utf8"):
        raise Problem(415, f"send the {what} in UTF-8 (charset={charset} is not supported)")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, f"the {what} is not valid UTF-8") from None


def _iris(values: list[str], name: str) -> list[ox.NamedNode]:
    try:
        return [ox.NamedNode(v) for v in values]
    except ValueError as e:
        raise Problem(400, f"{name}: not an absolute IRI ({e})") from None


def _forced(params: list[tuple[str, str]]) -> tuple[str | None, str | None] | None:
    """``format=`` / ``output=`` (as many clients send) -> (results type, graph type)."""
    for key, value in params:
        if key in ("format", "output"):
            v = value.strip().lower()
            if v in SHORT_NAMES:
                return SHORT_NAMES[v]
            if v in RESULT_TYPES:
                return (v, None)
            if v in GRAPH_TYPES:
                return (None, v)
    return None


def _body_format(media: str) -> RdfFormat:
    """The RDF syntax of a request body from its media type (415 when not RDF)."""
    if not media:
        raise Problem(400, "say the body's RDF syntax with Content-Type (text/turtle, application/n-triples, …)")
    for f in RDF_FORMATS.values():
        if media == f.media_type or media in ALIASES.get(f.media_type, set()) - {"text/plain", "application/json", "application/xml", "text/xml"}:
            return f
    raise Problem(415, f"unsupported Content-Type {media}; use one of {', '.join(GRAPH_TYPES)} (or multipart/form-data of them)")


def _multipart(header: str, body: bytes) -> list[tuple[RdfFormat, bytes]]:
    """The RDF documents of a multipart/form-data body (the Graph Store Protocol allows several files)."""
    import email.parser
    import email.policy

    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + header.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise Problem(400, "the multipart/form-data body does not parse (boundary?)")
    out = []
    for part in message.iter_parts():
        data = part.get_payload(decode=True)
        out.append((_body_format(part.get_content_type()), data if isinstance(data, bytes) else b""))
    if not out:
        raise Problem(400, "the multipart/form-data body has no parts")
    return out


class Service:
    """The request handlers over one open store."""

    def __init__(self, store: Store, settings: Settings):
        import threading

        self.store = store
        self.db = store.db
        self.settings = settings
        self.paths = Paths(settings.base)
        self._limiter: Any = None
        self.write_lock = threading.Lock()

    # -- plumbing

    @property
    def limiter(self) -> Any:
        import anyio

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.settings.workers)
        return self._limiter

    async def in_worker(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """Run ``fn`` in a worker thread; 503 when it runs past the time limit."""
        import anyio

        limit = self.settings.timeout if timeout is None else timeout
        with anyio.move_on_after(limit):
            try:
                return await anyio.to_thread.run_sync(contained, fn, *args, abandon_on_cancel=True, limiter=self.limiter)
            except QueryTimeout:
                pass
        raise Problem(
            503,
            f"the query ran past the time limit of {limit:g} s (the server's --timeout); "
            "narrow it (LIMIT, more specific patterns) and try again",
        )

    async def writing(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a write in a worker thread, one at a time, to completion."""
        import anyio

        def locked() -> Any:
            with self.write_lock:
                return fn(*args)

        return await anyio.to_thread.run_sync(contained, locked)

    def authorize(self, request: Any) -> None:
        if not self.settings.allow_update:
            raise Problem(403, "this server is read-only; start it with --allow-update (and EVIDENCEGRAPH_TOKEN set) to accept writes")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expected = (self.settings.token or "").encode()
        if scheme.lower() != "bearer" or not token.strip() or not expected or not hmac.compare_digest(token.strip().encode(), expected):
            raise Problem(401, "writes need the header Authorization: Bearer <token> (the server's EVIDENCEGRAPH_TOKEN)",
                          {"WWW-Authenticate": 'Bearer realm="evidencegraph"'})

    def respond(self, answer: Answer, vary: bool = True) -> Any:
        from starlette.responses import Response

        headers = dict(answer.headers)
        if vary:
            headers["Vary"] = "Accept"
        return Response(answer.body, answer.status, headers=headers, media_type=content_type(answer.media))

    # -- SPARQL Protocol

    async def sparql(self, request: Any) -> Any:
        params = parse_qsl(request.url.query, keep_blank_values=True)
        query: str | None = None
        if request.method == "POST":
            media, charset = _split_type(request.headers.get("content-type"))
            body = await request.body()
            if media == "application/x-www-form-urlencoded":
                params += _form(body)
            elif media == "application/sparql-query":
                query = _utf8(body, charset, "query")
                if any(k == "query" for k, _ in params):
                    raise Problem(400, "give the query once: in the body or as query=, not both")
            elif media == "application/sparql-update":
                raise Problem(400, "SPARQL Update goes to /update, not /sparql")
            elif not media:
                raise Problem(400, "a POST needs Content-Type: application/x-www-form-urlencoded or application/sparql-query")
            else:
                raise Problem(415, f"unsupported Content-Type {media}; use application/x-www-form-urlencoded or application/sparql-query")
        if any(k == "update" for k, _ in params):
            raise Problem(400, "SPARQL Update goes to /update (POST), not /sparql")
        queries = [v for k, v in params if k == "query"]
        if len(queries) > 1:
            raise Problem(400, "give exactly one query parameter")
        if queries:
            query = queries[0]
        accept = request.headers.get("accept")
        if query is None:
            if request.method == "POST":
                raise Problem(400, "no query: send query=… or a body of type application/sparql-query")
            return await self.service_description(request, accept)
        default = _iris([v for k, v in params if k == "default-graph-uri"], "default-graph-uri")
        named = _iris([v for k, v in params if k == "named-graph-uri"], "named-graph-uri")
        try:
            check_query(query, self.settings.allow_service)
        except QueryError as e:
            raise Problem(400, str(e)) from None
        deadline = time.monotonic() + self.settings.timeout
        answer = await self.in_worker(
            run_query, self.db, query, accept, _forced(params), self.settings.max_rows, deadline,
            default if default or named else None, named if default or named else None, None,
            str(request.url.replace(query="")),
        )
        return self.respond(answer)

    async def service_description(self, request: Any, accept: str | None) -> Any:
        from starlette.responses import RedirectResponse

        media = negotiate(accept, GRAPH_TYPES + [HTML])
        if media == HTML and negotiate(accept, [HTML, *GRAPH_TYPES]) == HTML and "html" in (accept or ""):
            return RedirectResponse("/", 303)
        if media is None or media == HTML:
            raise Problem(406, f"the service description is RDF; acceptable: {', '.join(GRAPH_TYPES)}")
        endpoint = str(request.url.replace(query=""))
        root = str(request.base_url)
        formats = "".join(
            f"  sd:resultFormat <http://www.w3.org/ns/formats/{n}> ;\n"
            for n in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                      "Turtle", "JSON-LD", "N-Triples", "N-Quads", "TriG", "RDF_XML"))
        update = " , sd:SPARQL11Update" if self.settings.allow_update else ""
        text = (
            f"@prefix sd: <{SD}> .\n@prefix void: <http://rdfs.org/ns/void#> .\n"
            f"@prefix dcterms: <http://purl.org/dc/terms/> .\n\n"
            f"<{endpoint}> a sd:Service ;\n"
            f"  sd:endpoint <{endpoint}> ;\n"
            f"  sd:supportedLanguage sd:SPARQL11Query{update} ;\n{formats}"
            f"  dcterms:description \"evidencegraph {__version__}: the default graph is the union of the page graphs "
            f"(one named graph per page); SERVICE is refused; results are cut at {self.settings.max_rows} rows; "
            f"queries time out after {self.settings.timeout:g} s.\" ;\n"
            f"  sd:defaultDataset [ a sd:Dataset ; void:sparqlEndpoint <{endpoint}> ;\n"
            f"    dcterms:source <{root}.well-known/void> ;\n"
            f"    sd:defaultGraph [ a sd:Graph ] ] .\n"
        )
        quads = list(ox.parse(text.encode(), ox.RdfFormat.TURTLE))
        return self.respond(graph_answer(quads, media))

    # -- SPARQL Update

    async def update(self, request: Any) -> Any:
        from starlette.responses import Response

        self.authorize(request)
        params = parse_qsl(request.url.query, keep_blank_values=True)
        media, charset = _split_type(request.headers.get("content-type"))
        body = await request.body()
        text: str | None = None
        if media == "application/x-www-form-urlencoded":
            params += _form(body)
        elif media == "application/sparql-update":
            text = _utf8(body, charset, "update")
        elif not media:
            raise Problem(400, "a POST needs Content-Type: application/x-www-form-urlencoded or application/sparql-update")
        else:
            raise Problem(415, f"unsupported Content-Type {media}; use application/x-www-form-urlencoded or application/sparql-update")
        if any(k == "query" for k, _ in params):
            raise Problem(400, "queries go to /sparql, not /update")
        updates = [v for k, v in params if k == "update"]
        if text is not None and updates:
            raise Problem(400, "give the update once: in the body or as update=, not both")
        if len(updates) > 1:
            raise Problem(400, "give exactly one update parameter")
        if text is None:
            if not updates:
                raise Problem(400, "no update: send update=… or a body of type application/sparql-update")
            text = updates[0]
        using = [v for k, v in params if k == "using-graph-uri"]
        using_named = [v for k, v in params if k == "using-named-graph-uri"]
        _iris(using + using_named, "using-graph-uri")
        try:
            check_query(text, self.settings.allow_service)
        except QueryError as e:
            raise Problem(400, str(e)) from None
        text = add_using(text, using, using_named)
        base = str(request.url.replace(query=""))

        def apply() -> None:
            try:
                self.db.update(text, base_iri=base)
            except SyntaxError as e:
                raise Problem(400, f"SPARQL Update syntax error: {e}") from None
            except (OSError, ValueError) as e:
                raise Problem(400, f"the update failed: {e}") from None
            self.db.update(RESYNC)

        await self.writing(apply)
        return Response(status_code=204)

    # -- Graph Store Protocol

    def _target(self, request: Any) -> tuple[str, str | None]:
        """('graph', IRI) | ('default', None) | ('none', None) from the request."""
        rest = request.path_params.get("rest")
        if rest:
            raw = request.scope.get("raw_path") or request.url.path.encode()
            host = request.headers.get("host") or request.url.netloc
            return "graph", uri_to_iri(f"{request.url.scheme}://{host}{raw.decode('utf-8', 'replace')}")
        params = parse_qsl(request.url.query, keep_blank_values=True)
        graphs = [v for k, v in params if k == "graph"]
        has_default = any(k == "default" for k, _ in params)
        if len(graphs) > 1 or (graphs and has_default):
            raise Problem(400, "name one graph: ?graph=IRI or ?default")
        if graphs:
            _iris(graphs, "graph")
            return "graph", graphs[0]
        return ("default", None) if has_default else ("none", None)

    async def graph_store(self, request: Any) -> Any:
        kind, graph = self._target(request)
        if request.method in ("GET", "HEAD"):
            return await self._gsp_read(request, kind, graph)
        self.authorize(request)
        if kind == "default":
            raise Problem(405, "the default graph is the union of the named graphs (pages) and cannot be written "
                          "directly; write a named graph with ?graph=IRI", {"Allow": "GET, HEAD"})
        if request.method == "DELETE":
            if kind == "none":
                raise Problem(400, "name the graph to delete: ?graph=IRI")
            assert graph is not None
            return await self._gsp_delete(graph)
        header = request.headers.get("content-type")
        media, _ = _split_type(header)
        body = await request.body()
        pieces = _multipart(header or "", body) if media == "multipart/form-data" else [(self._body_format(media), body)]
        created_location = None
        if kind == "none":
            if request.method != "POST":
                raise Problem(400, "name the graph: ?graph=IRI (or POST to /store to create a new one)")
            graph = f"{request.base_url}store/graphs/{uuid.uuid4().hex}"
            created_location = graph
        assert graph is not None
        quads = []
        for fmt, data in pieces:
            try:
                quads += [ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(graph))
                          for q in ox.parse(data, getattr(ox.RdfFormat, fmt.oxigraph), base_iri=graph, rename_blank_nodes=True)]
            except SyntaxError as e:
                raise Problem(400, f"the {fmt.name} body does not parse: {e}") from None
        replace = request.method == "PUT"

        def write() -> bool:
            node = ox.NamedNode(graph)
            existed = bool(self.db.contains_named_graph(node))
            if replace or not existed:
                self.store.replace_pages([(graph, quads)], existing=[graph] if existed else [])
                if not quads:
                    self.db.add_graph(node)
            else:
                self.db.extend(quads + [ox.Quad(q.subject, q.predicate, q.object) for q in quads])
            return existed

        from starlette.responses import Response

        existed = await self.writing(write)
        if created_location:
            return Response(status_code=201, headers={"Location": iri_to_uri(created_location)})
        return Response(status_code=204 if existed else 201)

    def _body_format(self, media: str) -> RdfFormat:
        return _body_format(media)



    async def _gsp_delete(self, graph: str) -> Any:
        from starlette.responses import Response

        def drop() -> bool:
            if not self.db.contains_named_graph(ox.NamedNode(graph)):
                return False
            self.store.remove_pages([graph])
            return True

        if not await self.writing(drop):
            raise Problem(404, f"no graph <{graph}> in the store")
        return Response(status_code=204)

    async def _gsp_read(self, request: Any, kind: str, graph: str | None) -> Any:
        accept = request.headers.get("accept")
        offers = GRAPH_TYPES if kind != "none" else [RDF_FORMATS[n].media_type for n in ("nq", "trig", "jsonld")]
        media = _choose(accept, _forced(parse_qsl(request.url.query)), offers, 1)

        def read() -> Answer | None:
            if kind == "graph":
                node = ox.NamedNode(graph)  # type: ignore[arg-type]
                if not self.db.contains_named_graph(node):
                    return None
                quads = [ox.Quad(q.subject, q.predicate, q.object) for q in self.db.quads_for_pattern(None, None, None, node)]
            elif kind == "default":
                quads = list(self.db.quads_for_pattern(None, None, None, ox.DefaultGraph()))
            else:
                quads = list(self.store.quads())
            return graph_answer(quads, media)

        answer = await self.in_worker(read, timeout=max(self.settings.timeout, 60.0))
        if answer is None:
            raise Problem(404, f"no graph <{graph}> in the store")
        return self.respond(answer)

    # -- linked data

    def _rest(self, request: Any, prefix: str) -> str:
        raw: str = (request.scope.get("raw_path") or request.url.path.encode()).decode("utf-8", "replace")
        return raw[len(prefix):] if raw.startswith(prefix) else raw.lstrip("/")

    async def resource(self, request: Any) -> Any:
        """``/id/…``: 303 See Other to the document, when the store knows the IRI."""
        from starlette.responses import RedirectResponse

        from .linked import exists

        rest = self._rest(request, "/id/")
        iri = self.paths.iri(rest)
        if not await self.in_worker(exists, self.db, iri):
            raise Problem(404, f"the store says nothing about <{iri}>")
        return RedirectResponse("/doc/" + rest, 303, headers={"Vary": "Accept"})

    async def document(self, request: Any) -> Any:
        """``/doc/…``: the description of an IRI, HTML or RDF."""
        from starlette.responses import HTMLResponse

        from .linked import Renderer, describe, exists

        rest = self._rest(request, "/doc/")
        iri = self.paths.iri(rest)
        media = _choose(request.headers.get("accept"), _forced(parse_qsl(request.url.query)),
                        GRAPH_TYPES[:1] + [HTML] + GRAPH_TYPES[1:], 1)
        doc_path = "/doc/" + rest
        if media == HTML:
            def render() -> str | None:
                r = Renderer(self.db, self.paths.local)
                if uri_to_iri(rest) in ("page", "page/"):
                    return r.page_list()
                return r.document(iri, doc_path)

            text = await self.in_worker(render)
            if text is None:
                raise Problem(404, f"the store says nothing about <{iri}>")
            return HTMLResponse(text, headers={"Vary": "Accept"})

        def rdf() -> Answer | None:
            if not exists(self.db, iri):
                return None
            return graph_answer(describe(self.db, iri), media)

        answer = await self.in_worker(rdf)
        if answer is None:
            raise Problem(404, f"the store says nothing about <{iri}>")
        return self.respond(answer)

    async def ontology(self, request: Any) -> Any:
        from starlette.responses import HTMLResponse

        from .linked import Renderer, ontology_quads

        media = _choose(request.headers.get("accept"), _forced(parse_qsl(request.url.query)),
                        GRAPH_TYPES[:1] + [HTML] + GRAPH_TYPES[1:], 1)
        if media == HTML:
            return HTMLResponse(Renderer(self.db, self.paths.local).ontology(), headers={"Vary": "Accept"})
        return self.respond(graph_answer(list(ontology_quads()), media))

    async def void(self, request: Any) -> Any:
        from .stats import void_description

        media = _choose(request.headers.get("accept"), _forced(parse_qsl(request.url.query)), GRAPH_TYPES, 1)

        def build() -> Answer:
            return graph_answer(void_description(self.store, self.settings.base + "void"), media)

        return self.respond(await self.in_worker(build, timeout=max(self.settings.timeout, 60.0)))

    async def question(self, request: Any) -> Any:
        from .queries import questions

        name = request.path_params["name"]
        found = questions()
        if name not in found:
            raise Problem(404, f"no question named {name!r}; the list is at /")
        q = found[name]
        params = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k not in ("format", "output")]
        try:
            subs = q.bind(dict(params))
        except UsageError as e:
            raise Problem(400, str(e)) from None
        deadline = time.monotonic() + self.settings.timeout
        answer = await self.in_worker(
            run_query, self.db, q.sparql, request.headers.get("accept"), _forced(parse_qsl(request.url.query)),
            self.settings.max_rows, deadline, None, None, subs, None)
        return self.respond(answer)

    async def home(self, request: Any) -> Any:
        from starlette.responses import HTMLResponse

        return HTMLResponse(home_page(self.settings))


def home_page(settings: Settings) -> str:
    from .linked import esc, page
    from .queries import questions

    items = []
    for q in questions().values():
        inputs = "".join(
            f'<label>{esc(p.name)} <input name="{esc(p.name)}" placeholder="{esc(p.help)}" required></label> '
            for p in q.params)
        items.append(
            f'<li><form class="question" data-name="{esc(q.name)}"><b>{esc(q.name)}</b> — {esc(q.description)}<br>'
            f'{inputs}<button type="submit">run</button> '
            f'<button type="button" class="edit" data-sparql="{esc(q.sparql)}">edit as SPARQL</button></form></li>')
    script = """
const out = document.getElementById('out');
function show(res, data) {
  if (!res.ok) { out.innerHTML = ''; const p = document.createElement('pre'); p.textContent = res.status + ' ' + data; out.append(p); return; }
  const cut = res.headers.get('X-Evidencegraph-Truncated');
  const ct = res.headers.get('Content-Type') || '';
  out.innerHTML = '';
  if (cut) { const w = document.createElement('p'); w.textContent = 'Results cut at ' + cut + ' rows.'; out.append(w); }
  if (!ct.startsWith('application/sparql-results+json')) { const p = document.createElement('pre'); p.textContent = data; out.append(p); return; }
  const j = JSON.parse(data);
  if ('boolean' in j) { out.textContent = String(j.boolean); return; }
  const t = document.createElement('table'), h = t.insertRow();
  for (const v of j.head.vars) { const th = document.createElement('th'); th.textContent = v; h.append(th); }
  for (const b of j.results.bindings) { const r = t.insertRow();
    for (const v of j.head.vars) { const c = r.insertCell(), x = b[v];
      if (!x) continue;
      if (x.type === 'uri') { const a = document.createElement('a'); a.href = local(x.value); a.textContent = x.value; c.append(a); }
      else c.textContent = x.value; } }
  const n = document.createElement('p'); n.textContent = j.results.bindings.length + ' rows'; out.append(n, t);
}
const BASE = %s;
function local(iri) { return iri.startsWith(BASE) ? '/doc/' + iri.slice(BASE.length) : iri; }
async function run(url, opts) {
  out.textContent = 'running…';
  try { const res = await fetch(url, opts); show(res, await res.text()); } catch (e) { out.textContent = String(e); }
}
document.getElementById('query').addEventListener('submit', ev => { ev.preventDefault();
  const accept = document.getElementById('accept').value;
  run('/sparql', {method: 'POST', headers: {'Content-Type': 'application/sparql-query', 'Accept': accept},
                  body: document.getElementById('sparql').value}); });
for (const f of document.querySelectorAll('form.question')) {
  f.addEventListener('submit', ev => { ev.preventDefault();
    run('/question/' + f.dataset.name + '?' + new URLSearchParams(new FormData(f)), {headers: {'Accept': 'application/sparql-results+json'}}); });
  f.querySelector('.edit').addEventListener('click', () => { document.getElementById('sparql').value = f.querySelector('.edit').dataset.sparql; window.scrollTo(0, 0); });
}
""" % json.dumps(settings.base)
    options = "".join(f'<option value="{m}">{m}</option>' for m in RESULT_TYPES + GRAPH_TYPES)
    body = (
        '<form id="query"><textarea id="sparql" rows="10" spellcheck="false">'
        "PREFIX eg: &lt;https://w3id.org/evidencegraph#&gt;\nPREFIX rdfs: &lt;http://www.w3.org/2000/01/rdf-schema#&gt;\n\n"
        "SELECT ?entity ?label WHERE { ?entity a eg:Entity ; rdfs:label ?label } ORDER BY ?label LIMIT 100</textarea>"
        f'<p><button type="submit">Run query</button> as <select id="accept">{options}</select> '
        f'<span class="muted">POST /sparql · results cut at {settings.max_rows} rows · time limit {settings.timeout:g} s</span></p></form>'
        '<div id="out"></div><h2>Named questions</h2><ul>' + "".join(items) + "</ul>"
        '<h2>Browse</h2><ul><li><a href="/doc/page/">all pages</a></li><li><a href="/ontology">the ontology</a></li>'
        '<li><a href="/.well-known/void">VoID description</a></li><li><a href="/sparql">service description</a> '
        '(SPARQL 1.1 Protocol endpoint: <code>/sparql</code>; Graph Store: <code>/store</code>)</li></ul>'
        f"<script>{script}</script>"
    )
    return page("evidencegraph", body)


def create_app(store: Store, settings: Settings) -> Any:
    """The Starlette application over an open store."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    service = Service(store, settings)

    def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
        async def endpoint(request: Any) -> Any:
            try:
                return await fn(request)
            except Problem as p:
                return PlainTextResponse(p.message + "\n", p.status, headers=p.headers)
            except EvidenceGraphError as e:
                return PlainTextResponse(f"{e}\n", 400)
            except Exception:  # no traceback to clients; the log has it
                log.exception("request failed: %s %s", request.method, request.url.path)
                return PlainTextResponse("internal error; the server log has the details\n", 500)

        return endpoint

    write_methods = ["PUT", "POST", "DELETE"]
    routes = [
        Route("/", guarded(service.home), methods=["GET", "HEAD"]),
        Route("/sparql", guarded(service.sparql), methods=["GET", "HEAD", "POST"]),
        Route("/sparql/", guarded(service.sparql), methods=["GET", "HEAD", "POST"]),
        Route("/update", guarded(service.update), methods=["POST"]),
        Route("/store", guarded(service.graph_store), methods=["GET", "HEAD", *write_methods]),
        Route("/store/{rest:path}", guarded(service.graph_store), methods=["GET", "HEAD", *write_methods]),
        Route("/id/{rest:path}", guarded(service.resource), methods=["GET", "HEAD"]),
        Route("/doc/{rest:path}", guarded(service.document), methods=["GET", "HEAD"]),
        Route("/ontology", guarded(service.ontology), methods=["GET", "HEAD"]),
        Route("/.well-known/void", guarded(service.void), methods=["GET", "HEAD"]),
        Route("/question/{name}", guarded(service.question), methods=["GET", "HEAD"]),
    ]
    methods = ["GET", "HEAD", "POST"] + (["PUT", "DELETE"] if settings.allow_update else [])
    middleware = [
        Middleware(
            CORSMiddleware, allow_origins=["*"], allow_methods=methods,
            allow_headers=["Accept", "Content-Type", "Authorization"],
            expose_headers=[TRUNCATED_HEADER, "Location", "Warning", "Vary"], max_age=3600,
        )
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.service = service
    return app


# --- running --------------------------------------------------------------------------


def check_port(host: str, port: int) -> None:
    """Fail early, with a clear message, when the address cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise UsageError(f"cannot listen on {host}:{port} ({e.strerror}); choose another --port or --host") from None


def run(
    store_dir: str | None,
    host: str = "127.0.0.1",
    port: int = 8000,
    base: str | None = None,
    timeout: float = 30.0,
    max_rows: int = 10000,
    allow_update: bool = False,
    workers: int = 4,
    log_level: str = "info",
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the store until interrupted.

    :raises UsageError: --allow-update without EVIDENCEGRAPH_TOKEN, bad limits, or an address in use.
    :raises StoreError: no store at the location.
    """
    import uvicorn

    from .pipeline import base_from_env
    from .store import open_store

    token = os.environ.get("EVIDENCEGRAPH_TOKEN") or None
    if allow_update and not token:
        raise UsageError("--allow-update needs a token: set EVIDENCEGRAPH_TOKEN; clients then send Authorization: Bearer <token>")
    if timeout <= 0 or max_rows <= 0 or workers <= 0:
        raise UsageError("--timeout, --max-rows and --workers must be positive")
    check_port(host, port)
    settings = Settings(base=base_from_env(base), timeout=timeout, max_rows=max_rows, allow_update=allow_update,
                        token=token, workers=workers)
    with open_store(store_dir, read_only=not allow_update) as store:
        app = create_app(store, settings)
        config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="off")
        server = uvicorn.Server(config)
        shown = f"[{host}]" if ":" in host else host
        log.info("serving %s on http://%s:%d/ (%s)", store.location, shown, port,
                 "updates allowed with the token" if allow_update else "read-only")
        if ready:
            ready(f"http://{shown}:{port}/")
        _serve_until_stopped(server)


def _serve_until_stopped(server: Any) -> None:
    """Run uvicorn; Ctrl-C or SIGTERM is the normal way to stop (exit 0, no "Aborted!")."""
    import signal
    import threading

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
