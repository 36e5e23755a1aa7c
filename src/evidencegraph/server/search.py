"""``/search?q=…&type=…&kind=…&limit=…``: the store's full-text index (search.py), as JSON, or
as a page for browsers.

The index is an SQLite file beside the store, opened read-only: each request
reads what the last committed write left, so another process's ingest is
seen at once (no snapshot to reopen).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from ..errors import UsageError
from .context import Context
from .problem import Problem

MAX_LIMIT = 1000


async def search(ctx: Context, request: Any) -> Any:
    from starlette.responses import HTMLResponse, Response

    from ..search import index_of
    from .pages import wants_html

    params = dict(parse_qsl(request.url.query, keep_blank_values=True))
    text = params.get("q", "")
    html = wants_html(request)
    if not text.strip():
        if html:
            return HTMLResponse(_page(text, params, []), headers={"Vary": "Accept"})
        raise Problem(400, "give the words to look for: /search?q=WORDS (&type=claim, &kind=fact|source|entity, &limit=N)")
    try:
        limit = int(params.get("limit", "20"))
    except ValueError:
        raise Problem(400, f"limit must be a whole number, not {params['limit']!r}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise Problem(400, f"limit must be between 1 and {MAX_LIMIT}")

    def find() -> list[Any]:
        return index_of(ctx.store).search(text, params.get("type") or None, params.get("kind") or None, limit)

    try:
        hits = await ctx.in_worker(find)
    except UsageError as e:
        raise Problem(400, str(e)) from None
    if html:
        return HTMLResponse(_page(text, params, hits, ctx), headers={"Vary": "Accept"})
    body = json.dumps({"query": text, "hits": [h.as_json() for h in hits]}, ensure_ascii=False) + "\n"
    return Response(body, 200, media_type="application/json", headers={"Vary": "Accept"})


def _page(text: str, params: dict[str, str], hits: list[Any], ctx: Context | None = None) -> str:
    from ..linkedhtml import esc, page
    from ..searchhits import MARK

    def link(iri: str, label: str) -> str:
        local = ctx.paths.local(iri) if ctx else None
        return f'<a href="{esc(local or iri)}">{esc(label)}</a>'

    def marked(s: str) -> str:
        return esc(s).replace(esc(MARK[0]), "<mark>").replace(esc(MARK[1]), "</mark>")

    form = (
        '<form method="get" action="/search"><input name="q" size="40" value="' + esc(text) + '"> '
        '<input name="type" size="12" placeholder="fact type" value="' + esc(params.get("type", "")) + '"> '
        '<button type="submit">search</button></form>'
    )
    rows = []
    for h in hits:
        where = "; ".join(link(s["source"], s["title"]) for s in h.sources)
        pages = ", ".join(link(p, p.rsplit("/", 1)[-1]) for p in h.pages)
        more = f" (of {h.page_count})" if h.page_count > len(h.pages) else ""
        kind = esc(h.kind + (f" ({h.type})" if h.type else ""))
        node = esc((ctx.paths.local(h.node) if ctx else None) or h.node)
        rows.append(f'<tr><td>{kind}</td><td><a href="{node}">{marked(h.marked)}</a></td>'
                    f"<td>{where}</td><td>{pages}{more}</td></tr>")
    table = ("<table><thead><tr><th>kind</th><th>text</th><th>sources</th><th>pages</th></tr></thead><tbody>"
             + "".join(rows) + "</tbody></table>") if hits else ("<p>no match</p>" if text.strip() else "")
    return page("search", f"<h1>Search</h1>{form}{table}")
