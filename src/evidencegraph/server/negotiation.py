"""Media types and content negotiation (``Accept`` with q-values, ``format=``)."""

from __future__ import annotations

from ..formats import RDF_FORMATS, RdfFormat
from .problem import Problem

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
# Documents: Turtle first for clients that say nothing, HTML for browsers.
DOCUMENT_TYPES = GRAPH_TYPES[:1] + [HTML] + GRAPH_TYPES[1:]
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

Forced = tuple[str | None, str | None]


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


def choose(accept: str | None, forced: Forced | None, offers: list[str], which: int) -> str:
    """The media type of an answer: ``format=`` first, then ``Accept``.

    ``which`` picks the results (0) or graph (1) half of a ``format=`` value.

    :raises Problem: 406, nothing acceptable.
    """
    if forced and forced[which] and forced[which] in offers:
        return forced[which]  # type: ignore[return-value]
    media = negotiate(accept, offers)
    if media is None:
        raise Problem(406, f"none of the accepted types ({accept}) can carry this result; acceptable: {', '.join(offers)}")
    return media


def forced_format(params: list[tuple[str, str]]) -> Forced | None:
    """``format=`` / ``output=`` (as many clients send) -> (results type, graph type).

    >>> forced_format([("format", "ttl")])
    (None, 'text/turtle')
    """
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


def rdf_format_for(media: str) -> RdfFormat:
    for f in RDF_FORMATS.values():
        if f.media_type == media:
            return f
    raise KeyError(media)


def content_type(media: str) -> str:
    """The ``Content-Type`` header of a media type (with the charset of text types)."""
    texty = media.startswith("text/") or media.endswith(("json", "+xml", "trig", "triples", "quads"))
    return f"{media}; charset=utf-8" if texty else media


def body_format(media: str) -> RdfFormat:
    """The RDF syntax of a request body from its media type (415 when not RDF)."""
    if not media:
        raise Problem(400, "say the body's RDF syntax with Content-Type (text/turtle, application/n-triples, …)")
    generic = {"text/plain", "application/json", "application/xml", "text/xml"}
    for f in RDF_FORMATS.values():
        if media == f.media_type or media in ALIASES.get(f.media_type, set()) - generic:
            return f
    raise Problem(415, f"unsupported Content-Type {media}; use one of {', '.join(GRAPH_TYPES)} (or multipart/form-data of them)")
