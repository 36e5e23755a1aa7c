"""Relation page text -> plain records.

No rdflib, no click, no printing: this module only reads text.  The format is
described in the README ("The page format"); in short::

    [A ↔ B]
    Relations (N)
    {kind} {score} — {strength} [{n} facts]      (one per card)
    {summary}  |  Justification not yet generated — showing supporting facts
                  {fact text}...
    Facts (N)
    Sources
    [{domain} {count}]...                        (domain filter chips)
    {title} {domain} {person · org} {date} {n} facts
    {type}[{stance}]{text}...

>>> page = parse_page("Relations (1)\\nrelated 1.00 — strongly supporting 1 fact\\n"
...     "Ghana trades with Togo [1].\\nFacts (1)\\nSources\\n"
...     "Trade report example.org 1 fact\\nclaimGhana exports cocoa.", "p.txt")
>>> page.cards[0].kind, str(page.cards[0].score), page.facts[0].type
('related', '1.00', 'claim')
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterator

from .errors import PageError
from .entities import guess_entities  # re-exported: part of the parser's API
from .limits import get as limit
from .sourceline import DOMAIN as _DOMAIN, source_line

FACT_TYPES = (
    "claim",
    "account",
    "measurement",
    "formula",
    "quote",
    "procedure",
    "reference",
    "code",
    "image",
    "perspective",
)
STANCES = ("supports", "challenges", "neutral")
STRENGTHS = ("strongly supporting", "supporting", "neutral", "opposing", "strongly opposing")
PENDING = "Justification not yet generated — showing supporting facts"
ARROW = " ↔ "

_RELATIONS = re.compile(r"^Relations \((\d+)\)$")
_FACTS = re.compile(r"^Facts \((\d+)\)$")
_HEADER = re.compile(r"^(?P<kind>\S+) (?P<score>[-−]?\d+(?:\.\d+)?) — (?P<strength>.+?)(?: (?P<n>\d+) facts?)?$")
_GROUP = re.compile(r"^(?P<head>.+?) (?P<n>\d+) facts?$")
_CHIP = re.compile(r"^(?P<domain>(?=\S+\.\S)\S+|localhost) (?P<n>\d+)$")  # the lookahead: linear time
_CITATION = re.compile(r"\[(\d+)\]")
_TOKEN = re.compile(r"\{fact:[^{}]*\}")
@dataclass(frozen=True)
class Fact:
    """One fact line of the Facts section."""

    type: str
    text: str
    stance: str | None
    line: int
    position: int  # 1-based order on the page
    group: int  # index into Page.sources


@dataclass(frozen=True)
class SourceGroup:
    """One source line of the Facts section, with its facts' count as printed."""

    title: str
    domain: str | None
    author: str | None  # the person
    publisher: str | None  # the organisation
    published: str | None
    declared_facts: int
    line: int
    position: int
    author_guessed: bool = False  # a lone author part classified by heuristics


@dataclass(frozen=True)
class Citation:
    """A ``[n]`` marker in a summary, in order of appearance."""

    marker: int
    position: int


@dataclass(frozen=True)
class Card:
    """One relation card."""

    kind: str
    score: Decimal
    score_text: str
    strength: str
    declared_facts: int | None  # None when the header shows no count
    summary: str | None
    pending: bool  # "Justification not yet generated": listed facts follow
    listed: tuple[str, ...]  # the texts listed under a pending card
    line: int
    position: int
    listed_lines: tuple[int, ...] = ()

    @property
    def citations(self) -> list[Citation]:
        return [Citation(int(m), i) for i, m in enumerate(_CITATION.findall(self.summary or ""), 1)]

    @property
    def tokens(self) -> list[str]:
        return _TOKEN.findall(self.summary or "")


@dataclass(frozen=True)
class Chip:
    domain: str
    count: int
    line: int
    position: int


@dataclass
class Page:
    """A parsed relation page."""

    name: str
    checksum: str
    title: tuple[str, str] | None
    declared_relations: int
    cards: list[Card]
    declared_facts: int | None
    sources: list[SourceGroup]
    facts: list[Fact]
    chips: list[Chip] = field(default_factory=list)
    subject: str = ""
    object: str = ""
    entity_method: str = "title"  # title | summary | given
    warnings: list[str] = field(default_factory=list)
    has_sources_heading: bool = True

    def facts_of(self, group: int) -> list[Fact]:
        return [f for f in self.facts if f.group == group]


def decode(data: bytes, name: str) -> str:
    """Bytes -> text: UTF-8, an optional byte-order mark dropped."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise PageError(
            f"not UTF-8 text (byte 0x{data[e.start]:02x}); is this a page export? Save it as UTF-8 and try again",
            name,
            line,
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise PageError("binary data (a NUL byte), not a page export", name, line)
    return text


def lines_of(text: str) -> list[str]:
    """Split on any line ending and drop trailing white space."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return [ln.rstrip() for ln in re.split(r"\r\n|\r|\n", text)]


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_file(path: str, subject: str | None = None, object: str | None = None) -> Page:
    """Read and parse one page file.

    :raises PageError: the file cannot be read or is not a page.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as e:
        raise PageError(f"cannot read the file ({e.strerror}); check the path", path) from None
    return parse_bytes(data, path, subject, object)


def parse_bytes(data: bytes, name: str, subject: str | None = None, object: str | None = None) -> Page:
    """Parse the bytes of one page file (see :func:`parse_page`).

    :raises PageError: the bytes are not a page, or over the size limit (``limits``).
    """
    if len(data) > limit("MAX_PAGE_BYTES"):
        raise PageError(f"the page's size in bytes ({len(data):,}) is over the limit of {limit('MAX_PAGE_BYTES'):,}; "
                        "if it is genuine, raise it with EVIDENCEGRAPH_MAX_PAGE_BYTES", name)
    page = parse_page(decode(data, name), name, subject, object)
    page.checksum = checksum(data)
    return page


def parse_page(text: str, name: str = "<page>", subject: str | None = None, object: str | None = None) -> Page:
    """Parse the text of one relation page into a :class:`Page`.

    ``subject`` and ``object`` name the two entities explicitly; otherwise they
    come from the title line, else from the first summary.

    :raises PageError: the text is not a relation page; the error names the line.
    """
    return _Parser(text, name).parse(subject, object)


class _Parser:
    def __init__(self, text: str, name: str):
        self.name = name
        self.text = text
        self.rows = [(i, ln) for i, ln in enumerate(lines_of(text), 1) if ln.strip()]
        self.at = 0
        longest = limit("MAX_LINE")
        self.max_digits = limit("MAX_DIGITS")  # read once: number() runs for every count and citation
        for i, ln in self.rows:
            if len(ln) > longest:
                raise PageError(f"the line's length in characters ({len(ln):,}) is over the limit of {longest:,}; "
                                "if it is genuine, raise it with EVIDENCEGRAPH_MAX_LINE", name, i)

    def number(self, digits: str, what: str, line: int) -> int:
        """A count as printed on the page, refused past the limit on digits (``int`` of 5,000 digits fails)."""
        if len(digits) > self.max_digits:
            raise PageError(f"{what} has {len(digits):,} digits, over the limit of {self.max_digits}; "
                            "is the page damaged? (EVIDENCEGRAPH_MAX_DIGITS raises the limit)", self.name, line)
        return int(digits)

    def error(self, message: str, line: int | None = None) -> PageError:
        if line is None:
            line = self.rows[self.at][0] if self.at < len(self.rows) else self._last_line()
        return PageError(message, self.name, line)

    def _last_line(self) -> int:
        return self.rows[-1][0] if self.rows else 1

    def peek(self) -> tuple[int, str] | None:
        return self.rows[self.at] if self.at < len(self.rows) else None

    def take(self) -> tuple[int, str]:
        row = self.rows[self.at]
        self.at += 1
        return row

    def parse(self, subject: str | None, object: str | None) -> Page:
        if not self.rows:
            raise PageError("the page is empty; expected 'Relations (N)' and relation cards", self.name, 1)
        title = self._title()
        relations = self._relations()
        cards = list(self._cards())
        declared_facts: int | None = None
        sources: list[SourceGroup] = []
        facts: list[Fact] = []
        chips: list[Chip] = []
        has_sources = False
        row = self.peek()
        if row is None:
            if any(c.declared_facts or c.listed for c in cards):
                raise self.error(
                    "the page ends before 'Facts (N)'; it looks truncated, export it again",
                    self._last_line() + 1,
                )
        else:
            line, text = self.take()
            declared_facts = self.number(_FACTS.match(text).group(1), "the 'Facts (N)' count", line)  # type: ignore[union-attr]
            row = self.peek()
            if row is None:
                raise self.error(
                    "the page ends after 'Facts (N)' without 'Sources'; it looks truncated, export it again",
                    self._last_line() + 1,
                )
            if row[1] != "Sources":
                raise self.error(f"expected 'Sources' after 'Facts ({declared_facts})', found {_show(row[1])}")
            self.take()
            has_sources = True
            sources, facts, chips = self._facts_section()
        page = Page(
            name=self.name,
            checksum=checksum(self.text.encode("utf-8")),
            title=title,
            declared_relations=relations,
            cards=cards,
            declared_facts=declared_facts,
            sources=sources,
            facts=facts,
            chips=chips,
            has_sources_heading=has_sources,
        )
        _choose_entities(page, subject, object)
        return page

    def _title(self) -> tuple[str, str] | None:
        line, text = self.rows[0]
        if _RELATIONS.match(text):
            return None
        if ARROW in text:
            a, b = text.split(ARROW, 1)
            if a.strip() and b.strip():
                self.take()
                return a.strip(), b.strip()
        raise self.error(f"expected 'Relations (N)' or a title line 'A ↔ B', found {_show(text)}", line)

    def _relations(self) -> int:
        row = self.peek()
        if row is None:
            raise self.error("the page ends after its title; expected 'Relations (N)'", self._last_line() + 1)
        m = _RELATIONS.match(row[1])
        if not m:
            raise self.error(f"expected 'Relations (N)', found {_show(row[1])}")
        line, _ = self.take()
        return self.number(m.group(1), "the 'Relations (N)' count", line)

    def _cards(self) -> Iterator[Card]:
        position = 0
        while (row := self.peek()) is not None and not _FACTS.match(row[1]):
            line, text = self.take()
            m = _HEADER.match(text)
            if not m:
                raise self.error(
                    f"expected a relation card header like 'related 3.17 — strongly supporting 8 facts', found {_show(text)}",
                    line,
                )
            position += 1
            body: list[tuple[int, str]] = []
            while (nxt := self.peek()) is not None and not _FACTS.match(nxt[1]) and not _HEADER.match(nxt[1]):
                body.append(self.take())
            pending = bool(body) and body[0][1] == PENDING
            score_text = m.group("score").replace("−", "-")
            self.number(re.sub(r"\D", "", score_text), "the score", line)
            for n, t in [] if pending else body:
                for marker in _CITATION.findall(t):
                    self.number(marker, f"the citation marker [{marker[:8]}…]", n)
            yield Card(
                kind=m.group("kind"),
                score=Decimal(score_text),
                score_text=score_text,
                strength=m.group("strength"),
                declared_facts=self.number(m.group("n"), "the card's fact count", line) if m.group("n") else None,
                summary=None if pending or not body else "\n".join(t for _, t in body),
                pending=pending,
                listed=tuple(t for _, t in body[1:]) if pending else (),
                listed_lines=tuple(n for n, _ in body[1:]) if pending else (),
                line=line,
                position=position,
            )

    def _facts_section(self) -> tuple[list[SourceGroup], list[Fact], list[Chip]]:
        sources: list[SourceGroup] = []
        facts: list[Fact] = []
        chips: list[Chip] = []
        while self.peek() is not None:
            line, text = self.take()
            fact = _fact(text)
            known = fact is not None and fact[0] in FACT_TYPES
            if known and not (fact[1][:1].isascii() and fact[1][:1].islower() and _GROUP.match(text)):  # type: ignore[index]
                facts.append(self._fact_record(fact, text, line, facts, sources))  # type: ignore[arg-type]
                continue
            if not sources and (chip := _CHIP.match(text)) and _DOMAIN.match(chip.group("domain")):
                chips.append(Chip(chip.group("domain"), self.number(chip.group("n"), "the domain's count", line), line,
                                  len(chips) + 1))
                continue
            group = _GROUP.match(text)
            if group:
                count = self.number(group.group("n"), "the source's fact count", line)
                sources.append(_source(group.group("head"), count, line, len(sources) + 1))
                continue
            if fact is not None:
                facts.append(self._fact_record(fact, text, line, facts, sources))
                continue
            raise self.error(
                f"cannot read {_show(text)} as a source line ('Title domain … N facts') or a fact line "
                "('claimThe text…'); is the page complete?",
                line,
            )
        return sources, facts, chips

    def _fact_record(
        self, fact: tuple[str, str, str | None], text: str, line: int, facts: list[Fact], sources: list[SourceGroup]
    ) -> Fact:
        if not sources:
            raise self.error(f"a fact line before any source line: {_show(text)}; a source line ends in 'N facts'", line)
        return Fact(fact[0], fact[1], fact[2], line, len(facts) + 1, len(sources) - 1)


def _show(text: str, width: int = 60) -> str:
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def _fact(text: str) -> tuple[str, str, str | None] | None:
    """Split a fact line into (type, text, stance), or None if it is not one."""
    m = re.match(r"[a-z_]+", text)
    if not m:
        return None
    for t in sorted(FACT_TYPES, key=len, reverse=True):
        if text.startswith(t):
            return _stance(t, text[len(t) :])
    word = m.group()
    rest = text[len(word) :]
    if not rest or rest[0].isspace():
        return None
    for s in STANCES:
        if word.endswith(s) and len(word) > len(s):
            return word[: -len(s)], rest, s
    return word, rest, None


def _stance(type_: str, after: str) -> tuple[str, str, str | None] | None:
    for s in STANCES:
        if after.startswith(s) and len(after) > len(s):
            nxt = after[len(s)]
            if not (nxt.isascii() and nxt.islower()) and not nxt.isspace():
                return type_, after[len(s) :], s
    if not after or after[0].isspace():
        return None
    return type_, after, None


def _source(head: str, declared: int, line: int, position: int) -> SourceGroup:
    title, domain, author, publisher, published, guessed = source_line(head)
    return SourceGroup(title, domain, author, publisher, published, declared, line, position, guessed)


# --- entities ---------------------------------------------------------------


def _choose_entities(page: Page, subject: str | None, object: str | None) -> None:
    if subject and object:
        page.subject, page.object, page.entity_method = subject.strip(), object.strip(), "given"
        return
    if page.title:
        page.subject, page.object, page.entity_method = page.title[0], page.title[1], "title"
        return
    found: list[str] = []
    weak = False
    first = True
    texts = [c.summary for c in page.cards if c.summary] + [t for c in page.cards for t in c.listed]
    texts += [f.text for f in page.facts]
    for k, text in enumerate(texts):
        context = "\n".join(texts[:k] + texts[k + 1 :])
        names, w = guess_entities(_CITATION.sub("", _TOKEN.sub("", text)), context)
        for n in names:
            if n not in found:
                found.append(n)
                weak = weak or w or not first
        if len(found) >= 2:
            break
        first = False
    if len(found) < 2:
        raise PageError(
            "cannot tell which two entities this page relates (no 'A ↔ B' title line and fewer than two "
            "names in the summary); name them with --subject/--object or a sidecar file "
            f"{_sidecar_hint(page.name)}",
            page.name,
            page.cards[0].line if page.cards else 1,
        )
    page.subject, page.object, page.entity_method = found[0], found[1], "summary"
    if weak:
        page.warnings.append(
            f"{page.name}: the entities {found[0]!r} and {found[1]!r} are a weak guess from the text; "
            f"check them and name them with --subject/--object or {_sidecar_hint(page.name)} if wrong"
        )


def _sidecar_hint(name: str) -> str:
    stem = name[:-4] if name.endswith(".txt") else name
    return f"{stem}.entities.json"
