"""Linked-data documents and the pages for people: ``/id/…`` (303 to the
document), ``/doc/…`` (HTML or RDF by negotiation), ``/ontology``,
``/.well-known/void`` and the query page ``/``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from .context import Context, Settings
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

    from ..linked import Renderer, describe, exists

    rest = _rest(request, "/doc/")
    iri = _iri(ctx, rest)
    media = _media(request, DOCUMENT_TYPES)
    doc_path = "/doc/" + rest
    if media == HTML:
        def render() -> str | None:
            r = Renderer(ctx.db, ctx.paths.local)
            if uri_to_iri(rest) in ("page", "page/"):
                return r.page_list()
            return r.document(iri, doc_path)

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

    from ..linked import Renderer, ontology_quads

    media = _media(request, DOCUMENT_TYPES)
    if media == HTML:
        return HTMLResponse(Renderer(ctx.db, ctx.paths.local).ontology(), headers={"Vary": "Accept"})
    return ctx.respond(graph_answer(list(ontology_quads()), media))


async def void(ctx: Context, request: Any) -> Any:
    """``/.well-known/void``: the VoID description of the store."""
    from ..stats import void_description

    media = _media(request, GRAPH_TYPES)

    def build() -> Answer:
        return graph_answer(void_description(ctx.store, ctx.settings.base + "void"), media)

    return ctx.respond(await ctx.in_worker(build, timeout=max(ctx.settings.timeout, 60.0)))


async def home(ctx: Context, request: Any) -> Any:
    from starlette.responses import HTMLResponse

    return HTMLResponse(home_page(ctx.settings))


def home_page(settings: Settings) -> str:
    from ..linked import esc, page
    from ..queries import questions

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
      if (x.type === 'uri' && local(x.value)) { const a = document.createElement('a'); a.href = local(x.value); a.textContent = x.value; c.append(a); }
      else c.textContent = x.value; } }
  const n = document.createElement('p'); n.textContent = j.results.bindings.length + ' rows'; out.append(n, t);
}
const BASE = %s;
function local(iri) { return iri.startsWith(BASE) ? '/doc/' + iri.slice(BASE.length) : /^https?:[/][/]/i.test(iri) ? iri : null; }
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

