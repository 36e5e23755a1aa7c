"""Native equivalents of the shipped shapes' SHACL-SPARQL rules (fastshacl.py runs them instead of the
SPARQL; ``tests/test_fastshacl.py`` checks they report what pyshacl reports)."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any, Callable, Iterable, Sequence

from .mapping import Lit
from .shaclindex import EG, RDFS, XSD, Index, _lexical, _number

Row = tuple[Any, Any, dict[str, Any]]
# Each returns (focus, value, bindings) rows exactly as the rule's SELECT would.

def _int(t: Any) -> int | None:
    n = _number(t)
    return int(n) if n is not None and n == int(n) else None


def _page_fact_count(idx: Index, page: Any) -> int:
    return sum(len(idx.values(sl, EG + "factListing")) for sl in idx.values(page, EG + "sourceListing"))


def _distinct_entities(idx: Index, focus: Sequence[Any]) -> list[Row]:
    rows = []
    for f in focus:
        objects = idx.values(f, EG + "object")
        for v in dict.fromkeys(idx.values(f, EG + "subject")):
            if v in objects:
                rows.append((f, v, {"this": f, "value": v}))
    return rows


def _band(score: Decimal) -> str:
    if score >= Decimal("0.5"):
        return "strongly supporting"
    if score >= Decimal("0.1"):
        return "supporting"
    if score > Decimal("-0.1"):
        return "neutral"
    if score > Decimal("-0.5"):
        return "opposing"
    return "strongly opposing"


def _strength_matches(idx: Index, focus: Sequence[Any]) -> list[Row]:
    rows = []
    for f in focus:
        for score in idx.values(f, EG + "score"):
            if not (isinstance(score, Lit) and score.datatype == XSD + "decimal"):
                continue
            n = _number(score)
            if n is None:
                continue
            expected = _band(n)
            for value in idx.values(f, EG + "strength"):
                if _lexical(value) != expected:
                    rows.append((f, value, {"this": f, "value": value, "score": score, "expected": Lit(expected)}))
    return rows


def _score_matches(idx: Index, focus: Sequence[Any]) -> list[Row]:
    rows = []
    states = idx.rev(EG + "states")
    for f in focus:
        supported = len(set(idx.values(f, EG + "supportedBy")))
        declared = [n for card in states.get(f, ()) for c in idx.values(card, EG + "declaredFactCount")
                    if (n := _number(c)) is not None]
        facts = int(max(declared)) if declared else supported
        if not 0 <= facts <= 500:
            continue
        expected = Decimal(f"{math.log2(facts + 1):.2f}")
        for value in idx.values(f, EG + "score"):
            if not (isinstance(value, Lit) and value.datatype == XSD + "decimal"):
                continue
            n = _number(value)
            if n is None or n < 0:
                continue
            if abs(n - expected) > Decimal("0.005"):
                rows.append((f, value, {"this": f, "value": value, "facts": Lit(str(facts)), "expected": Lit(str(expected))}))
    return rows


_TOKEN = re.compile(r"\{fact:[^{}]*\}")


def _leftover_tokens(idx: Index, focus: Sequence[Any]) -> list[Row]:
    return [(f, v, {"this": f, "value": v}) for f in focus for v in idx.values(f, EG + "summary")
            if _lexical(v) is not None and _TOKEN.search(_lexical(v) or "")]


def _facts_heading(idx: Index, focus: Sequence[Any]) -> list[Row]:
    return [row for f in focus for row in _miscounted(idx, f, _page_fact_count(idx, f))]


def _differs(value: Any, count: int) -> bool:
    """``FILTER (?value != ?count)`` for a numeric ?value (other values: no row)."""
    n = _number(value)
    return n is not None and n != count


def _miscounted(idx: Index, f: Any, count: int, declared: str = EG + "declaredFactCount", name: str = "listed") -> list[Row]:
    """The rows of a rule "the declared count is what was counted": one per declared value that differs."""
    return [(f, value, {"this": f, "value": value, name: Lit(str(count))})
            for value in idx.values(f, declared) if _differs(value, count)]


def _relations_heading(idx: Index, focus: Sequence[Any]) -> list[Row]:
    return [row for f in focus
            for row in _miscounted(idx, f, len(idx.values(f, EG + "card")), EG + "declaredRelationCount", "cards")]


def _card_listed(idx: Index, focus: Sequence[Any]) -> list[Row]:
    rows = []
    for f in focus:
        if EG + "supportListed" not in idx.values(f, EG + "supportResolution"):
            continue
        listed = len(idx.values(f, EG + "listedSupport"))
        declared = idx.values(f, EG + "declaredFactCount") or [None]
        for d in declared:
            value = d if d is not None else Lit("0", XSD + "integer")
            if _differs(value, listed):
                rows.append((f, value, {"this": f, "value": value, "listed": Lit(str(listed))}))
    return rows


def _card_page(idx: Index, focus: Sequence[Any]) -> list[Row]:
    rows = []
    pages_of = idx.rev(EG + "card")
    for f in focus:
        if EG + "supportFromPage" not in idx.values(f, EG + "supportResolution"):
            continue
        pages = pages_of.get(f, [])
        if not pages:
            continue
        listed = sum(_page_fact_count(idx, p) for p in pages)
        for page in pages:
            if all(c == f for c in idx.values(page, EG + "card")):
                rows += _miscounted(idx, f, listed)
    return rows


def _citation_resolves(idx: Index, focus: Sequence[Any]) -> list[Row]:
    rows = []
    cards_of = idx.rev(EG + "citation")
    pages_of = idx.rev(EG + "card")
    for f in focus:
        pages = [p for card in cards_of.get(f, ()) for p in pages_of.get(card, ())]
        if not pages:
            continue
        listed = sum(_page_fact_count(idx, p) for p in pages)
        for value in idx.values(f, EG + "marker"):
            n = _number(value)
            if n is not None and n > listed:
                rows.append((f, value, {"this": f, "value": value, "listed": Lit(str(listed))}))
    return rows


def _source_listing(idx: Index, focus: Sequence[Any]) -> list[Row]:
    return [row for f in focus for row in _miscounted(idx, f, len(idx.values(f, EG + "factListing")))]


def _pairs(focus: Sequence[Any], values_of: Callable[[Any], Iterable[Any]]) -> list[Row]:
    """(focus, value, other) for each two values of a focus node, value < other by their text:
    what the store-level rules report (two labels of an entity, two pages of a relation)."""
    rows = []
    for f in focus:
        values = sorted(set(values_of(f)), key=lambda v: v.value if isinstance(v, Lit) else str(v))
        for i, value in enumerate(values):
            for other in values[i + 1 :]:
                rows.append((f, value, {"this": f, "value": value, "other": other}))
    return rows


def _variant_names(idx: Index, focus: Sequence[Any]) -> list[Row]:
    return _pairs(focus, lambda f: idx.values(f, RDFS + "label"))


def _one_page_per_relation(idx: Index, focus: Sequence[Any]) -> list[Row]:
    cards_of = idx.rev(EG + "states")
    pages_of = idx.rev(EG + "card")
    return _pairs(focus, lambda f: [p for c in cards_of.get(f, ()) for p in pages_of.get(c, ())])


NATIVE: dict[str, Callable[[Index, Sequence[Any]], list[Row]]] = {
    "egsh:EntityVariantNames": _variant_names,
    "egsh:OnePagePerRelation": _one_page_per_relation,
    "egsh:DistinctEntities": _distinct_entities,
    "egsh:StrengthMatchesScore": _strength_matches,
    "egsh:ScoreMatchesFacts": _score_matches,
    "egsh:LeftoverTokens": _leftover_tokens,
    "egsh:FactsHeadingCount": _facts_heading,
    "egsh:RelationsHeadingCount": _relations_heading,
    "egsh:CardListedCount": _card_listed,
    "egsh:CardPageCount": _card_page,
    "egsh:CitationResolves": _citation_resolves,
    "egsh:SourceListingCount": _source_listing,
}
