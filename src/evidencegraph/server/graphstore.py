"""The SPARQL 1.1 Graph Store Protocol at ``/store``: ``?graph=IRI``,
``?default``, or direct identification under ``/store/…``.

Reads always; writes only with ``--allow-update`` and the token, through the
store's page operations, so that the default graph stays the union of the
named graphs (and is never written directly: 405).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

import pyoxigraph as ox

from ..formats import RDF_FORMATS, RdfFormat
from ..resources import PREFIXES
from ..writers import write_quads
from .context import Context, iris, split_type
from .iris import iri_to_uri, uri_to_iri
from .negotiation import GRAPH_TYPES, body_format, choose, content_type, forced_format, rdf_format_for
from .problem import Problem
from .streaming import Pipe, stream


def target(request: Any) -> tuple[str, str | None]:
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
        iris(graphs, "graph")
        return "graph", graphs[0]
    return ("default", None) if has_default else ("none", None)


def multipart(header: str, body: bytes) -> list[tuple[RdfFormat, bytes]]:
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
        out.append((body_format(part.get_content_type()), data if isinstance(data, bytes) else b""))
    if not out:
        raise Problem(400, "the multipart/form-data body has no parts")
    return out


async def graph_store(ctx: Context, request: Any) -> Any:
    """GET/HEAD a graph; PUT, POST, DELETE it with ``--allow-update`` and the token."""
    from starlette.responses import Response

    kind, graph = target(request)
    if request.method in ("GET", "HEAD"):
        return await read(ctx, request, kind, graph)
    ctx.authorize(request)
    if kind == "default":
        raise Problem(405, "the default graph is the union of the named graphs (pages) and cannot be written "
                      "directly; write a named graph with ?graph=IRI", {"Allow": "GET, HEAD"})
    if request.method == "DELETE":
        if kind == "none":
            raise Problem(400, "name the graph to delete: ?graph=IRI")
        assert graph is not None
        return await delete(ctx, graph)
    header = request.headers.get("content-type")
    media, _ = split_type(header)
    body = await request.body()
    pieces = multipart(header or "", body) if media == "multipart/form-data" else [(body_format(media), body)]
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
        existed = bool(ctx.db.contains_named_graph(node))
        if replace or not existed:
            ctx.store.replace_pages([(graph, quads)], existing=[graph] if existed else [])
            if not quads:
                ctx.db.add_graph(node)
        else:
            ctx.store.figures_stale()
            index = ctx.store.search_index()
            with index.writing():
                ctx.db.extend(quads + [ox.Quad(q.subject, q.predicate, q.object) for q in quads])
                index.reindex(ctx.store, [graph])
            ctx.store.pages_changed([graph])  # the keys of what the graph holds now (figures.touched_by)
        return existed

    existed = await ctx.writing(write)
    if created_location:
        return Response(status_code=201, headers={"Location": iri_to_uri(created_location)})
    return Response(status_code=204 if existed else 201)


async def delete(ctx: Context, graph: str) -> Any:
    from starlette.responses import Response

    def drop() -> bool:
        if not ctx.db.contains_named_graph(ox.NamedNode(graph)):
            return False
        ctx.store.remove_pages([graph])
        return True

    if not await ctx.writing(drop):
        raise Problem(404, f"no graph <{graph}> in the store")
    return Response(status_code=204)


async def read(ctx: Context, request: Any, kind: str, graph: str | None) -> Any:
    """A graph, the default graph or the whole dataset, streamed (never built in memory)."""
    from starlette.responses import StreamingResponse

    accept = request.headers.get("accept")
    offers = GRAPH_TYPES if kind != "none" else [RDF_FORMATS[n].media_type for n in ("nq", "trig", "jsonld")]
    media = choose(accept, forced_format(parse_qsl(request.url.query)), offers, 1)
    fmt = rdf_format_for(media)
    db, store = ctx.db, ctx.store
    if kind == "graph":
        node = ox.NamedNode(graph)  # type: ignore[arg-type]
        if not await ctx.in_worker(lambda: bool(db.contains_named_graph(node))):
            raise Problem(404, f"no graph <{graph}> in the store")

    def produce(out: Pipe) -> None:
        if kind == "none":
            write_quads(store.quads(), fmt, out)  # type: ignore[arg-type]
            return
        source = node if kind == "graph" else ox.DefaultGraph()
        triples = (q.triple for q in db.quads_for_pattern(None, None, None, source))
        if fmt.quads or fmt.name == "jsonld":
            write_quads((ox.Quad(t.subject, t.predicate, t.object) for t in triples), fmt, out)  # type: ignore[arg-type]
        else:  # each triple is there once already: no set of the triples seen
            prefixes = PREFIXES if fmt.name in ("turtle", "xml") else None
            ox.serialize(triples, out, getattr(ox.RdfFormat, fmt.oxigraph), prefixes=prefixes)  # type: ignore[arg-type]

    return StreamingResponse(stream(produce), 200, headers={"Vary": "Accept"}, media_type=content_type(media))
