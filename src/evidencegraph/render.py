"""A page's graph -> page text: the inverse of page.py and mapping.py.

render(parse(page)) gives the page back, up to byte-order mark, line endings,
blank lines and trailing spaces, which proves the graph loses nothing the
page shows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from typing import Any, Iterable

from .errors import DataError
from .page import ARROW, PENDING
from .vocab import NAMESPACE

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DCTERMS_TITLE = "http://purl.org/dc/terms/title"
SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"


class _Graph:
    def __init__(self, triples: Iterable[Any]):
        self.po: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        self.types: dict[str, set[str]] = defaultdict(set)
        for t in triples:
            s = t.subject.value
            p = t.predicate.value
            self.po[s][p].append(t.object)
            if p == RDF_TYPE:
                self.types[t.object.value].add(s)

    def values(self, s: str, p: str) -> list[Any]:
        return self.po.get(s, {}).get(p, [])

    def one(self, s: str, p: str, default: Any = None) -> Any:
        v = self.values(s, p)
        return v[0].value if v else default

    def eg(self, s: str, name: str, default: Any = None) -> Any:
        return self.one(s, NAMESPACE + name, default)

    def eg_all(self, s: str, name: str) -> list[str]:
        return [o.value for o in self.values(s, NAMESPACE + name)]

    def by_position(self, nodes: Iterable[str]) -> list[str]:
        return sorted(nodes, key=lambda n: int(self.eg(n, "position", 0)))


def _count(n: int) -> str:
    return f"{n} fact" if n == 1 else f"{n} facts"


def _score(lexical: str) -> str:
    return lexical if re.fullmatch(r"-?\d+\.\d\d", lexical) else f"{Decimal(lexical):.2f}"


def render_graph(triples: Iterable[Any], page: str | None = None) -> str:
    """The text of the page whose graph holds these triples (pyoxigraph triples or quads).

    :raises DataError: the triples hold no page, or several and ``page`` names none of them.
    """
    g = _Graph(triples)
    pages = sorted(g.types.get(NAMESPACE + "Page", ()))
    if page is not None:
        pages = [p for p in pages if p == page]
    if len(pages) != 1:
        raise DataError(
            "no eg:Page in the data; render needs a page's graph" if not pages
            else f"the data holds {len(pages)} pages; name one with --page"
        )
    p = pages[0]
    out: list[str] = []
    cards = g.by_position(g.eg_all(p, "card"))
    if g.eg(p, "hasTitleLine") == "true" and cards:
        rel = g.eg(cards[0], "states")
        out.append(g.one(g.eg(rel, "subject"), RDFS_LABEL) + ARROW + g.one(g.eg(rel, "object"), RDFS_LABEL))
    out.append(f"Relations ({g.eg(p, 'declaredRelationCount')})")
    for card in cards:
        rel = g.eg(card, "states")
        header = f"{g.eg(rel, 'kind')} {_score(g.eg(rel, 'score'))} — {g.eg(rel, 'strength')}"
        declared = g.eg(card, "declaredFactCount")
        if declared is not None:
            header += " " + _count(int(declared))
        out.append(header)
        if g.eg(card, "summaryPending") == "true":
            out.append(PENDING)
            out.extend(g.eg(item, "listedText") for item in g.by_position(g.eg_all(card, "listedSupport")))
        else:
            summaries = g.eg_all(rel, "summary")
            if summaries:
                out.append(summaries[0] if len(summaries) == 1 else _pick_summary(g, card, summaries))
    declared_facts = g.eg(p, "declaredFactCount")
    if declared_facts is not None:
        out.append(f"Facts ({declared_facts})")
        out.append("Sources")
        for chip in g.by_position(g.eg_all(p, "domainChip")):
            out.append(f"{g.eg(chip, 'domain')} {g.eg(chip, 'chipCount')}")
        for listing in g.by_position(g.eg_all(p, "sourceListing")):
            out.append(_source_line(g, listing))
            for fl in g.by_position(g.eg_all(listing, "factListing")):
                out.append(_fact_line(g, g.eg(fl, "listsFact")))
    return "\n".join(out) + "\n"


def _pick_summary(g: _Graph, card: str, summaries: list[str]) -> str:
    # A relation stated by several pages may carry several summaries in a
    # merged graph; the card's citation count tells which one is this page's.
    n = len(g.eg_all(card, "citation"))
    for s in sorted(summaries):
        if len(re.findall(r"\[\d+\]", s)) == n:
            return s
    return sorted(summaries)[0]


def _source_line(g: _Graph, listing: str) -> str:
    src = g.eg(listing, "listsSource")
    parts = [g.one(src, DCTERMS_TITLE)]
    for value in (g.eg(src, "domain"),):
        if value:
            parts.append(value)
    author = " · ".join(x for x in (g.eg(src, "author"), g.eg(src, "publisher")) if x)
    if author:
        parts.append(author)
    if g.eg(src, "published"):
        parts.append(g.eg(src, "published"))
    parts.append(_count(int(g.eg(listing, "declaredFactCount"))))
    return " ".join(parts)


def _fact_line(g: _Graph, fact: str) -> str:
    ftype = g.eg(fact, "factType")
    word = g.one(ftype, SKOS_PREF) or ftype.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return f"{word}{g.eg(fact, 'stance', '')}{g.eg(fact, 'text')}"


def normalise_page_text(text: str) -> str:
    """BOM dropped, line endings unified, trailing spaces and blank lines removed."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = (ln.rstrip() for ln in re.split(r"\r\n|\r|\n", text))
    return "\n".join(ln for ln in lines if ln) + "\n"
