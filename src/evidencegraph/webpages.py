"""Pages for people beyond the documents of IRIs: the query page, named questions, VoID, 404.

The query page is YASGUI (served from the package, see webassets.py) when
the build had npm, else a plain editor that says so.  Every other page is
plain HTML that reads without JavaScript.  The server calls these; they
only format what it hands over (and read the store through a Renderer).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

import pyoxigraph as ox

from .linkedhtml import Renderer, esc, page
from .sparql import PREDECLARED
from .webassets import has_yasgui

EXAMPLE = """SELECT ?entity ?label (COUNT(DISTINCT ?relation) AS ?relations) WHERE {
  ?entity a eg:Entity ; rdfs:label ?label .
  OPTIONAL { { ?relation eg:subject ?entity } UNION { ?relation eg:object ?entity } }
}
GROUP BY ?entity ?label
ORDER BY DESC(?relations) ?label
LIMIT 100
"""


def prologue() -> str:
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREDECLARED.items())


def editable(question: Any) -> str:
    """A named question as a query to edit: its parameters bound with VALUES to the example of its help text."""
    text = str(question.sparql)
    for p in question.params:
        m = re.search(r'e\.g\. "([^"]+)"', p.help)
        value = m.group(1) if m else p.name
        literal = str(ox.Literal(value))
        block = f"\n  VALUES ?{p.name} {{ {literal} }}  # the parameter {p.name}: {p.help}"
        text = re.sub(r"\bWHERE\s*\{", lambda w: w.group(0) + block, text, count=1, flags=re.IGNORECASE)
    return text


def query_page(max_rows: int, timeout: float, endpoint: str = "/sparql") -> str:
    """``/``: YASGUI on the endpoint, the named questions as examples; a plain editor without YASGUI."""
    from .queries import questions

    qs = list(questions().values())
    config = {
        "endpoint": endpoint,
        "prefixesUrl": "/assets/prefixes.json",
        "prefixes": PREDECLARED,
        "example": prologue() + "\n" + EXAMPLE,
        "questions": [{"name": q.name, "description": q.description, "sparql": editable(q)} for q in qs],
    }
    data = json.dumps(config).replace("</", "<\\/")
    limits = (f'<p class="muted">POST {esc(endpoint)} · results cut at {max_rows:,} rows · time limit {timeout:g} s · '
              "the prefixes " + ", ".join(f"<code>{p}:</code>" for p in PREDECLARED) + " are declared already</p>")
    questions_list = "".join(
        f'<li><a href="/question/{esc(q.name)}">{esc(q.name)}</a> — {esc(q.description)}</li>' for q in qs)
    if has_yasgui():
        head = '<link rel="stylesheet" href="/assets/vendor/yasgui.min.css">'
        editor = ('<div id="yasgui"></div>'
                  '<p>Examples (open in a new tab): <span id="examples"></span></p>')
        note = ""
        scripts = '<script src="/assets/vendor/yasgui.min.js"></script><script src="/assets/query.js"></script>'
    else:
        head = ""
        editor = ""
        note = ('<p class="note">This is the plain query editor: the package was built without npm, so YASGUI '
                "(syntax highlighting, completion, paged results) is not included. Rebuild with npm installed "
                "(<code>pip install .</code>), or in a checkout run <code>python hatch_build.py</code>.</p>")
        scripts = f"<script>{PLAIN_SCRIPT}</script>"
    plain = (
        f'<form id="plain" method="post" action="{esc(endpoint)}">{note}'
        f'<textarea id="sparql" name="query" rows="14" spellcheck="false">{esc(config["example"])}</textarea>'
        '<p><button type="submit">Run query</button> '
        '<select id="accept" name="format" aria-label="result type">'
        '<option value="">any (a table, or Turtle for a graph)</option>'
        '<option value="json">SPARQL JSON</option><option value="csv">CSV</option><option value="tsv">TSV</option>'
        '<option value="turtle">Turtle</option><option value="jsonld">JSON-LD</option>'
        "</select></p></form><div id=\"out\"></div>"
    )
    body = (editor + plain + limits + f'<script type="application/json" id="eg-config">{data}</script>'
            + f"<h2>Named questions</h2><ul>{questions_list}</ul>"
            + '<h2>Browse</h2><ul><li><a href="/doc/page/">all pages</a></li><li><a href="/ontology">the ontology</a>'
            '</li><li><a href="/.well-known/void">the store in figures (VoID)</a></li><li><a href="/question/">named '
            'questions</a></li><li><a href="/assets/vendor/THIRD-PARTY-NOTICES.txt">third-party notices</a></li></ul>'
            + scripts)
    return page("evidencegraph", body, head=head)


# The plain editor: runs the query with fetch and shows a table (or the text of a graph).
PLAIN_SCRIPT = """
const out = document.getElementById('out');
const form = document.getElementById('plain');
form.addEventListener('submit', async ev => {
  ev.preventDefault();
  const chosen = document.getElementById('accept').value;
  const accept = {json: 'application/sparql-results+json', csv: 'text/csv', tsv: 'text/tab-separated-values',
                  turtle: 'text/turtle', jsonld: 'application/ld+json'}[chosen]
                 || 'application/sparql-results+json, text/turtle;q=0.9, */*;q=0.1';
  out.textContent = 'running…';
  try {
    const res = await fetch(form.action, {method: 'POST', body: document.getElementById('sparql').value,
                                          headers: {'Content-Type': 'application/sparql-query', 'Accept': accept}});
    const text = await res.text(), type = res.headers.get('Content-Type') || '';
    out.innerHTML = '';
    if (!res.ok || !type.startsWith('application/sparql-results+json')) {
      const pre = document.createElement('pre'); pre.textContent = (res.ok ? '' : res.status + ' ') + text; out.append(pre); return;
    }
    const j = JSON.parse(text);
    if ('boolean' in j) { out.textContent = String(j.boolean); return; }
    const t = document.createElement('table'), h = t.createTHead().insertRow();
    for (const v of j.head.vars) { const th = document.createElement('th'); th.textContent = v; h.append(th); }
    const body = t.createTBody();
    for (const b of j.results.bindings) { const r = body.insertRow();
      for (const v of j.head.vars) { const c = r.insertCell(), x = b[v]; if (x) c.textContent = x.value; } }
    const n = document.createElement('p'); n.textContent = j.results.bindings.length + ' rows'; out.append(n, t);
  } catch (e) { out.textContent = String(e); }
});
"""


# --- named questions -----------------------------------------------------------------


def questions_page() -> str:
    """``/question/`` for browsers: every named question with a form for its parameters."""
    from .queries import questions

    items = []
    for q in questions().values():
        inputs = "".join(f'<label>{esc(p.name)} <input name="{esc(p.name)}" placeholder="{esc(p.help)}" required>'
                         "</label> " for p in q.params)
        items.append(f'<li><form method="get" action="/question/{esc(q.name)}"><b>{esc(q.name)}</b> — '
                     f'{esc(q.description)}<br>{inputs}<button type="submit">ask</button></form></li>')
    return page("Named questions", f"<ul class=\"questions\">{''.join(items)}</ul>")


def question_form_html(question: Any, values: dict[str, str] | None = None) -> str:
    """A named question's description and a form for its parameters."""
    values = values or {}
    inputs = "".join(
        f'<label>{esc(p.name)} <input name="{esc(p.name)}" value="{esc(values.get(p.name, ""))}" '
        f'placeholder="{esc(p.help)}" required></label> ' for p in question.params)
    return (f"<p>{esc(question.description)}</p>" + (f'<form method="get" action="/question/{esc(question.name)}">'
            f'{inputs}<button type="submit">ask</button></form>' if question.params else ""))


def question_page(renderer: Renderer, question: Any, values: dict[str, str], results: Any, max_rows: int,
                  text: str | None = None) -> str:
    """A named question's answer for browsers: the form again, then the rows, IRIs shown by their labels."""
    form = question_form_html(question, values)
    table, count, cut = results_table(renderer, results, max_rows)
    note = f"{count:,} row{'s' if count != 1 else ''}" + (f" (cut at {max_rows:,})" if cut else "")
    links = ('<p class="formats">this answer as: '
             + "".join(f'<a href="?{esc(_query(values, fmt))}">{label}</a>'
                       for fmt, label in (("json", "SPARQL JSON"), ("csv", "CSV"), ("tsv", "TSV"))) + "</p>")
    sparql = f"<details><summary>the SPARQL</summary><pre>{esc(text or question.sparql)}</pre></details>"  # the text this store runs
    return page(question.name, f"{form}{links}<p class=\"muted\">{note}</p>"
                f"{table}{sparql}")


def _query(values: dict[str, str], fmt: str) -> str:
    from urllib.parse import urlencode

    return urlencode({**values, "format": fmt})


def results_table(renderer: Renderer, results: Any, max_rows: int) -> tuple[str, int, bool]:
    """SELECT (or ASK) results as an HTML table with labelled links; (html, rows, cut)."""
    if isinstance(results, ox.QueryBoolean):
        return f"<p><b>{'yes' if bool(results) else 'no'}</b></p>", 1, False
    names = [v.value for v in results.variables]
    rows: list[list[str]] = []
    cut = False
    for i, row in enumerate(results):
        if i >= max_rows:
            cut = True
            break
        cells = []
        for n in names:
            t = row[n]
            numeric = isinstance(t, ox.Literal) and t.datatype.value.endswith(("#integer", "#decimal", "#double"))
            cells.append(f'<span class="num">{esc(t.value)}</span>' if numeric else renderer.link(t) if t is not None else "")
        rows.append(cells)
    return renderer.table(names, rows, "no answer: nothing matched"), len(rows), cut


# --- VoID ----------------------------------------------------------------------------------


def void_page(quads: Iterable[ox.Quad]) -> str:
    """``/.well-known/void`` for browsers: the store's figures as tables (RDF clients get the VoID)."""
    from .stats import stats_summary

    summary = stats_summary(list(quads))
    names = {"triples": "triples (distinct, over all pages)", "quads": "quads (in the page graphs)",
             "pages": "pages", "resources": "typed resources", "subjects": "distinct subjects"}
    totals = "".join(f'<tr><td>{esc(names.get(k, k))}</td><td class="num">{v:,}</td></tr>'
                     for k, v in summary.items() if isinstance(v, int))
    parts = [f"<table><thead><tr><th>total</th><th class=\"num\">count</th></tr></thead><tbody>{totals}</tbody></table>"]
    for key, head in (("classes", "class"), ("properties", "property")):
        items = summary[key]
        assert isinstance(items, dict)
        rows = "".join(f'<tr><td>{esc(k)}</td><td class="num">{v:,}</td></tr>'
                       for k, v in sorted(items.items(), key=lambda kv: (-kv[1], kv[0])))
        parts.append(f"<h2>By {head}</h2><table><thead><tr><th>{head}</th><th class=\"num\">count</th></tr></thead>"
                     f"<tbody>{rows}</tbody></table>")
    formats = ('<p class="formats">the VoID description as: '
               + "".join(f'<a href="/.well-known/void?format={n}">{label}</a>'
                         for n, label in (("turtle", "Turtle"), ("jsonld", "JSON-LD"), ("nt", "N-Triples"))) + "</p>")
    return page("The store in figures", formats + "".join(parts))


# --- errors ----------------------------------------------------------------------------------


def not_found_page(path: str, message: str) -> str:
    """A 404 for browsers: what was not found and where to go instead."""
    return page("Not found", f"<p>{esc(message)}</p><p class=\"muted\">{esc(path)}</p>"
                '<ul><li><a href="/">the query page</a></li><li><a href="/doc/page/">all pages</a></li>'
                '<li><a href="/question/">named questions</a></li><li><a href="/ontology">the ontology</a></li></ul>')
