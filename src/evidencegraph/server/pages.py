"""Linked-data documents and the pages for people: ``/id/…`` (303 to the
document), ``/doc/…`` (HTML or RDF by negotiation), ``/ontology``,
``/.well-known/void`` and the query page ``/``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from .context import Context
from .iris import uri_to_iri
from .negotiation import DOCUMENT_TYPES, GRAPH_TYPES, HTML, RESULT_TYPES, choose, forced_format
from .problem import Problem
from .results import Answer, graph_answer


def _rest(request: Any, prefix: str) -> str:
    raw: str = (request.scope.get("raw_path") or request.url.path.encode()).decode("utf-8", "replace")
    return raw[len(prefix):] if raw.startswith(prefix) else raw.lstrip("/")


def _iri(ctx: Context, rest: str) -> str:
    """The IRI a ``/id/`` or ``/doc/`` path names (400 when it cannot be one: ``<``, ``>``, ``"``…)."""
    import pyoxigraph as ox

    iri = ctx.paths.iri(rest)
    try:
        ox.NamedNode(iri)
    except ValueError:
        raise Problem(400, f"{iri} is not an IRI; escape the characters <>\"{{}}|^` and spaces as %XX") from None
    return iri


def _media(request: Any, offers: list[str]) -> str:
    return choose(request.headers.get("accept"), forced_format(parse_qsl(request.url.query)), offers, 1)


async def resource(ctx: Context, request: Any) -> Any:
    """``/id/…``: 303 See Other to the document, when the store knows the IRI."""
    from starlette.responses import RedirectResponse

    from ..linked import exists

    rest = _rest(request, "/id/")
    iri = _iri(ctx, rest)
    if not await ctx.in_worker(exists, ctx.db, iri):
        raise Problem(404, f"the store says nothing about <{iri}>")
    return RedirectResponse("/doc/" + rest, 303, headers={"Vary": "Accept"})


async def document(ctx: Context, request: Any) -> Any:
    """``/doc/…``: the description of an IRI, HTML or RDF."""
    from starlette.responses import HTMLResponse

    from ..linked import describe, exists
    from ..linkedhtml import Renderer

    rest = _rest(request, "/doc/")
    iri = _iri(ctx, rest)
    media = _media(request, DOCUMENT_TYPES)
    doc_path = "/doc/" + rest
    if media == HTML:
        def render() -> str | None:
            r = Renderer(ctx.db, ctx.paths.local)
            if uri_to_iri(rest) in ("page", "page/"):
                return r.page_list(dict(parse_qsl(request.url.query)))
            return r.document(iri, doc_path, dict(parse_qsl(request.url.query)))

        text = await ctx.in_worker(render)
        if text is None:
            raise Problem(404, f"the store says nothing about <{iri}>")
        return HTMLResponse(text, headers={"Vary": "Accept"})

    def rdf() -> Answer | None:
        if not exists(ctx.db, iri):
            return None
        return graph_answer(describe(ctx.db, iri), media)

    answer = await ctx.in_worker(rdf)
    if answer is None:
        raise Problem(404, f"the store says nothing about <{iri}>")
    return ctx.respond(answer)


async def ontology(ctx: Context, request: Any) -> Any:
    """``/ontology``: the ontology, HTML or RDF."""
    from starlette.responses import HTMLResponse

    from ..linked import ontology_quads
    from ..linkedhtml import Renderer

    media = _media(request, DOCUMENT_TYPES)
    if media == HTML:
        return HTMLResponse(Renderer(ctx.db, ctx.paths.local).ontology(), headers={"Vary": "Accept"})
    return ctx.respond(graph_answer(list(ontology_quads()), media))


async def void(ctx: Context, request: Any) -> Any:
    """``/.well-known/void``: the VoID description of the store."""
    from ..stats import void_description

    if wants_html(request):
        from starlette.responses import HTMLResponse

        from ..webpages import void_page

        def html() -> str:
            return void_page(void_description(ctx.store, ctx.settings.base + "void"))

        text = await ctx.in_worker(html, timeout=max(ctx.settings.timeout, 60.0))
        return HTMLResponse(text, headers={"Vary": "Accept"})
    media = _media(request, GRAPH_TYPES)

    def build() -> Answer:
        return graph_answer(void_description(ctx.store, ctx.settings.base + "void"), media)

    return ctx.respond(await ctx.in_worker(build, timeout=max(ctx.settings.timeout, 60.0)))


async def home(ctx: Context, request: Any) -> Any:
    """``/``: the query page (YASGUI, or a plain editor when the build had no npm)."""
    from starlette.responses import HTMLResponse

    from ..webpages import query_page

    return HTMLResponse(query_page(ctx.settings.max_rows, ctx.settings.timeout))


async def questions(ctx: Context, request: Any) -> Any:
    """``/question/``: the named questions, each with a form (HTML; JSON for scripts)."""
    from starlette.responses import HTMLResponse, JSONResponse

    from ..queries import questions_json
    from ..webpages import questions_page

    if wants_html(request):
        return HTMLResponse(questions_page(), headers={"Vary": "Accept"})
    return JSONResponse(questions_json(), headers={"Vary": "Accept"})


async def asset(ctx: Context, request: Any) -> Any:
    """``/assets/…``: the front end's scripts and the third-party files, from the package."""
    from starlette.responses import Response

    from ..webassets import asset as find

    found = find(request.path_params["name"])
    if found is None:
        raise Problem(404, f"no such file: {request.url.path}")
    body, media = found
    return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=3600"})


def wants_html(request: Any) -> bool:
    """A browser: ``format=html``, or an Accept that prefers HTML to every RDF and results type."""
    return choose_html(request.headers.get("accept"), parse_qsl(request.url.query))


def choose_html(accept: str | None, params: list[tuple[str, str]]) -> bool:
    from .negotiation import negotiate

    forced = forced_format(params)
    if forced:
        return forced[1] == HTML
    return bool(accept) and "html" in (accept or "") and negotiate(accept, [HTML, *GRAPH_TYPES, *RESULT_TYPES]) == HTML


def not_found(request: Any, problem: Problem) -> Any:
    from starlette.responses import HTMLResponse

    from ..webpages import not_found_page

    return HTMLResponse(not_found_page(request.url.path, problem.message), 404, headers={"Vary": "Accept"})


async def nowhere(ctx: Context, request: Any) -> Any:
    """No route: a 404 (HTML for browsers)."""
    raise Problem(404, f"nothing here: {request.url.path}; the query page is at /")
