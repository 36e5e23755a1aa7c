"""A source line of a page's Sources section: ``{title} {domain} {person · org} {date}``.

The title runs up to the last word that is a domain (the first, when the
title is itself a URL); a date is one of the forms the product prints
(ISO, "Mar 3, 2024", "3 March 2024", "2 days ago", …); a lone author part is
the publisher unless it reads as a list of people's names (the product's
extractor leaves the person empty when in doubt), and is marked as guessed.

>>> source_line("Trade report example.org Jane Doe · Reuters 2024-05-01")
('Trade report', 'example.org', 'Jane Doe', 'Reuters', '2024-05-01', False)
>>> source_line("Trade report example.org Reuters")
('Trade report', 'example.org', None, 'Reuters', None, True)
"""

from __future__ import annotations

import re

UNKNOWN_SOURCE = "Unknown source"
DOMAIN = re.compile(
    r"^(?:(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]*[a-z][a-z0-9-]*|localhost|\d{1,3}(?:\.\d{1,3}){3})$"
)
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
DATE = re.compile(
    r"(?:^| )(?P<date>\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?"
    rf"|{_MONTH} \d{{1,2}}, \d{{4}}"
    r"|\d{1,2} " + _MONTH + r" \d{4}"
    r"|(?:\d+|an?) (?:second|minute|hour|day|week|month|year)s? ago"
    r"|just now|yesterday|today)$"
)
_ORG_WORDS = frozenset(
    """council institute institution university college school centre center foundation
    agency ministry department office bureau commission committee association society
    union organisation organization group news times post press journal review magazine
    media network bank fund trust company corporation corp inc ltd llc gmbh co service
    services board court parliament government party forum programme program project
    laboratory lab labs research reuters bloomberg associated world international
    national european federal state global economist guardian""".split()
)


def source_line(head: str) -> tuple[str, str | None, str | None, str | None, str | None, bool]:
    """``{title} {domain} {person · org} {date}`` (the count of facts already taken off): title, domain,
    author, publisher, date as printed, and whether the author/publisher split was guessed."""
    published = None
    m = DATE.search(head)
    if m and m.start("date") > 0:
        published = m.group("date")
        head = head[: m.start("date")].rstrip()
    tokens = head.split(" ")
    domain = None
    rest: list[str] = []
    if head == UNKNOWN_SOURCE or head.startswith(UNKNOWN_SOURCE + " "):
        title = UNKNOWN_SOURCE
        rest = tokens[2:]
    else:
        candidates = [i for i in range(1, len(tokens)) if DOMAIN.match(tokens[i])]
        if candidates:
            i = 1 if tokens[0].startswith(("http://", "https://")) and 1 in candidates else candidates[-1]
            title, domain, rest = " ".join(tokens[:i]), tokens[i], tokens[i + 1 :]
        else:
            title = head
    author, publisher, guessed = _authors(" ".join(rest))
    return title, domain, author, publisher, published, guessed


def _authors(text: str) -> tuple[str | None, str | None, bool]:
    """``person · org``; a lone part is the organisation (the product's extractor
    leaves the person empty when in doubt), unless it is a comma-separated list
    of people's names."""
    if not text:
        return None, None, False
    if " · " in text:
        person, org = text.split(" · ", 1)
        return person or None, org or None, False
    return (text, None, True) if _looks_like_people(text) else (None, text, True)


def _looks_like_people(text: str) -> bool:
    """``Jane Doe, John Smith``: two or more names of 2-4 capitalised words."""
    parts = [p.strip() for p in re.split(r",|\band\b", text)]
    return len(parts) >= 2 and all(_looks_like_person(p) for p in parts)


def _looks_like_person(text: str) -> bool:
    words = text.split()
    if not 2 <= len(words) <= 4:
        return False
    for w in words:
        if w.lower().strip(".") in _ORG_WORDS or not w[0].isupper() or w.isupper() and len(w) > 2:
            return False
    return True
