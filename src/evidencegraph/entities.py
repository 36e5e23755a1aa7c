"""Which two entities a page is about, when its title line does not say: the first two named in its summary.

A guess (the export drops the markup); page.py marks it ``entity_method
"summary"`` and warns when it is weak.  No rdflib, no click.
"""

from __future__ import annotations

import re

_LEADING = frozenset(
    """The A An In On As At By For From According While Although Though This That These Those
    Both Its Their His Her Our Most Many Some Several Since When Where After Before During
    Under Over However Moreover Furthermore Also And But Or If Despite Through Between
    Among Such Each Every Other Another One Two""".split()
)
_CONNECTORS = frozenset("of on for de del della di du da der von van la le al bin".split())
_WORD = re.compile(r"[^\s\[\](),.;:!?\"“”]+")


_PREPOSITIONS = frozenset("between of with in among for on to from across about against within".split())


def guess_entities(text: str, context: str = "") -> tuple[list[str], bool]:
    """The named entities a text mentions, in order, and whether the guess is weak.

    ``context`` is the rest of the page: a capitalised word at the start of a
    sentence counts as a name only if it is not also used as a common word
    there, and a guess that rests on one such word is weak.

    >>> guess_entities("Belgium is a member state of the European Union [1].", "Belgium hosts NATO.")
    (['Belgium', 'European Union'], False)
    >>> guess_entities("Trade between the Netherlands and Côte d’Ivoire grew.", "trade rose")
    (['Netherlands', 'Côte d’Ivoire'], False)
    """
    found: list[str] = []
    weak = False
    everything = f"{text}\n{context}"
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        words = [(m.group(), m.start()) for m in _WORD.finditer(sentence)]
        i = 0
        while i < len(words):
            if not _capital(words[i][0]):
                i += 1
                continue
            j = i
            span = [words[i]]
            while j + 1 < len(words) and not _possessive(span[-1][0]):
                nxt = words[j + 1][0]
                gap = sentence[span[-1][1] + len(span[-1][0]) : words[j + 1][1]]
                if gap != " ":
                    break
                if _capital(nxt):
                    span.append(words[j + 1])
                    j += 1
                elif nxt in _CONNECTORS and j + 2 < len(words) and _capital(words[j + 2][0]):
                    span.extend([words[j + 1], words[j + 2]])
                    j += 2
                else:
                    break
            names = [w for w, _ in span]
            initial = span[0][1] == 0
            while names and names[0] in _LEADING:
                names.pop(0)
                initial = False
            while names and names[-1] in _CONNECTORS:
                names.pop()
            i = j + 1
            if not names:
                continue
            name = _strip_possessive(" ".join(names))
            if initial and len(names) == 1:
                following = words[j + 1][0] if j + 1 < len(words) else ""
                if following in _PREPOSITIONS or _mentions(everything, name.lower()):
                    continue  # a common word that starts the sentence
                if len(re.findall(rf"(?<!\w){re.escape(name)}(?!\w)", everything)) < 2 and len(found) < 2:
                    weak = True
            if name not in found:
                found.append(name)
    return found, weak


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text) is not None


def _capital(word: str) -> bool:
    if word[0].isupper():
        return True
    m = re.match(r"^(?:d|l|al|el)['’](\w)", word)
    return bool(m and m.group(1).isupper())


def _possessive(word: str) -> bool:
    return word.endswith(("'s", "’s"))


def _strip_possessive(name: str) -> str:
    return name[:-2] if _possessive(name) else name
