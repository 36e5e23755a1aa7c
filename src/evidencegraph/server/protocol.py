"""The SPARQL 1.1 Protocol: ``/sparql`` (query), ``/update`` and the named
questions (``/question/NAME``): parse a request, check it, run it in a
worker, answer in the negotiated type.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import pyoxigraph as ox

from .. import __version__
from ..errors import QueryError, UsageError
from ..sparqlcheck import check_query, mask
from .context import Context, form, iris, split_type, utf8
from .negotiation import GRAPH_TYPES, HTML, forced_format, negotiate
from .problem import Problem
from .results import graph_answer

SD = "http://www.w3.org/ns/sparql-service-description#"
RESYNC = (
    "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } } ;\n"
    "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } FILTER NOT EXISTS { ?s ?p ?o } }"
)


# --- /sparql ---------------------------------------------------------------------------


async def sparql(ctx: Context, request: Any) -> Any:
    """GET or POST a query (form or ``application/sparql-query``); GET without one: the service description."""
    params = parse_qsl(request.url.query, keep_blank_values=True)
    query: str | None = None
    if request.method == "POST":
        media, charset = split_type(request.headers.get("content-type"))
        body = await request.body()
        if media == "application/x-www-form-urlencoded":
            params += form(body)
        elif media == "application/sparql-query":
            query = utf8(body, charset, "query")
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
        return await service_description(ctx, request, accept)
    default = iris([v for k, v in params if k == "default-graph-uri"], "default-graph-uri")
    named = iris([v for k, v in params if k == "named-graph-uri"], "named-graph-uri")
    try:
        check_query(query, ctx.settings.allow_service)
    except QueryError as e:
        raise Problem(400, str(e)) from None
    given = bool(default or named)
    answer = await ctx.query(query, accept, forced_format(params), [g.value for g in default] if given else None,
                             [g.value for g in named] if given else None, None, str(request.url.replace(query="")))
    return ctx.respond(answer)


async def service_description(ctx: Context, request: Any, accept: str | None) -> Any:
    from starlette.responses import RedirectResponse

    media = negotiate(accept, GRAPH_TYPES + [HTML])
    if media == HTML and negotiate(accept, [HTML, *GRAPH_TYPES]) == HTML and "html" in (accept or ""):
        return RedirectResponse("/", 303)
    if media is None or media == HTML:
        raise Problem(406, f"the service description is RDF; acceptable: {', '.join(GRAPH_TYPES)}")
    settings = ctx.settings
    endpoint = str(request.url.replace(query=""))
    root = str(request.base_url)
    formats = "".join(
        f"  sd:resultFormat <http://www.w3.org/ns/formats/{n}> ;\n"
        for n in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "JSON-LD", "N-Triples", "N-Quads", "TriG", "RDF_XML"))
    update = " , sd:SPARQL11Update" if settings.allow_update else ""
    text = (
        f"@prefix sd: <{SD}> .\n@prefix void: <http://rdfs.org/ns/void#> .\n"
        f"@prefix dcterms: <http://purl.org/dc/terms/> .\n\n"
        f"<{endpoint}> a sd:Service ;\n"
        f"  sd:endpoint <{endpoint}> ;\n"
        f"  sd:supportedLanguage sd:SPARQL11Query{update} ;\n{formats}"
        f"  dcterms:description \"evidencegraph {__version__}: the default graph is the union of the page graphs "
        f"(one named graph per page); SERVICE is refused; results are cut at {settings.max_rows} rows; "
        f"queries time out after {settings.timeout:g} s.\" ;\n"
        f"  sd:defaultDataset [ a sd:Dataset ; void:sparqlEndpoint <{endpoint}> ;\n"
        f"    dcterms:source <{root}.well-known/void> ;\n"
        f"    sd:defaultGraph [ a sd:Graph ] ] .\n"
    )
    quads = list(ox.parse(text.encode(), ox.RdfFormat.TURTLE))
    return ctx.respond(graph_answer(quads, media))


# --- /question/NAME ---------------------------------------------------------------------


async def question(ctx: Context, request: Any) -> Any:
    """A named question, its parameters (``?key=value``) bound as RDF terms."""
    from ..queries import questions

    name = request.path_params["name"]
    found = questions()
    if name not in found:
        raise Problem(404, f"no question named {name!r}; the list is at /")
    q = found[name]
    params = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k not in ("format", "output")]
    try:
        subs = q.bind(dict(params))
    except UsageError as e:
        from .pages import wants_html

        if wants_html(request) and not params:
            return await question_form(q)
        raise Problem(400, str(e)) from None
    from .pages import wants_html

    if wants_html(request):
        return await question_html(ctx, q, dict(params), subs)
    accept, forced = request.headers.get("accept"), forced_format(parse_qsl(request.url.query))
    prepared = await ctx.in_worker(prepare_question, ctx, q, subs, accept, forced)  # one thread hop, as before
    if not isinstance(prepared, str):
        return ctx.respond(prepared)
    answer = await ctx.query(prepared, accept, forced, None, None, subs, None)
    return ctx.respond(answer)


def prepare_question(ctx: Context, q: Any, subs: dict[str, Any], accept: str | None, forced: Any) -> Any:
    """A named question's answer when the search index gives it alone (indexanswers.question_answer: serialised
    here, no query worker needed), else the SPARQL for a query worker to run (queries.question_sparql)."""
    from ..queries import INDEXED_QUESTIONS, question_sparql

    if q.name in INDEXED_QUESTIONS:
        import time

        from ..indexanswers import question_answer
        from .results import results_answer

        results = question_answer(ctx.store, q.name, subs)
        if results is not None:
            return results_answer(results, q.sparql, accept, forced, ctx.settings.max_rows,
                                  time.monotonic() + ctx.settings.timeout)
    return question_sparql(ctx.store, q.name, q.sparql, subs)


async def question_form(q: Any) -> Any:
    from starlette.responses import HTMLResponse

    from ..linkedhtml import page
    from ..webpages import question_form_html

    return HTMLResponse(page(q.name, question_form_html(q)), headers={"Vary": "Accept"})


async def question_html(ctx: Context, q: Any, values: dict[str, str], subs: dict[str, Any]) -> Any:
    """A named question for a browser: its form, its answer as a table of labelled links (no RDF download)."""
    from starlette.responses import HTMLResponse

    from ..linkedhtml import Renderer
    from ..webpages import question_page

    def render() -> str:
        from ..queries import question_sparql, question_text
        from ..indexanswers import question_answer
        from ..sparql import PREDECLARED

        shown = question_text(ctx.store, q.name, q.sparql)
        results = question_answer(ctx.store, q.name, subs)  # facts-mentioning, connected-via-source: the index alone
        if results is None:
            variables = {ox.Variable(k): v for k, v in subs.items()}
            sparql = question_sparql(ctx.store, q.name, q.sparql, subs)
            results = ctx.db.query(sparql, prefixes=PREDECLARED, substitutions=variables or None)
        else:
            shown = "# Answered from the store's search index, with the rows of this text:\n" + shown
        return question_page(Renderer(ctx.db, ctx.paths.local), q, values, results, ctx.settings.max_rows, shown)

    return HTMLResponse(await ctx.in_worker(render), headers={"Vary": "Accept"})


# --- /update ------------------------------------------------------------------------------


async def update(ctx: Context, request: Any) -> Any:
    """SPARQL 1.1 Update (``--allow-update`` and the token); the default graph re-derived after it."""
    from starlette.responses import Response

    ctx.authorize(request)
    params = parse_qsl(request.url.query, keep_blank_values=True)
    media, charset = split_type(request.headers.get("content-type"))
    body = await request.body()
    text: str | None = None
    if media == "application/x-www-form-urlencoded":
        params += form(body)
    elif media == "application/sparql-update":
        text = utf8(body, charset, "update")
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
    iris(using + using_named, "using-graph-uri")
    try:
        check_query(text, ctx.settings.allow_service)
    except QueryError as e:
        raise Problem(400, str(e)) from None
    text = add_using(text, using, using_named)
    base = str(request.url.replace(query=""))

    def apply() -> None:
        ctx.store.figures_stale()  # before the write: a crash in between leaves the mark
        index = ctx.store.search_index()
        refused: Problem | None = None
        with index.writing():  # (so does the index's; an update refused wrote nothing: the index is as exact as before)
            try:
                ctx.db.update(text, base_iri=base)
            except SyntaxError as e:
                refused = Problem(400, f"SPARQL Update syntax error: {e}")
            except (OSError, ValueError) as e:
                refused = Problem(400, f"the update failed: {e}")
            if refused is None:
                ctx.db.update(RESYNC)  # (which also drops the store figures from the default graph: counted again below)
                index.rebuild(ctx.store)  # the pages an update touched cannot be known: all of them
        if refused is not None:
            raise refused
        ctx.store.pages_changed(None)

    await ctx.writing(apply)
    return Response(status_code=204)


def add_using(update: str, using: list[str], using_named: list[str]) -> str:
    """Apply ``using-graph-uri``/``using-named-graph-uri`` as USING clauses.

    :raises Problem: the update has its own USING or WITH (400, as the protocol says).

    >>> add_using("INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }", ["http://g"], [])
    'INSERT { ?s ?p 1 } USING <http://g> WHERE { ?s ?p ?o }'
    """
    if not using and not using_named:
        return update
    masked = mask(update)
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
