"""Is a SPARQL query or update safe to run here?  ``SERVICE`` (and an
update's ``LOAD``) make the engine fetch over the network; they are refused
unless allowed.

pyoxigraph (0.5) has no switch to turn ``SERVICE`` off and no parser of its
own to ask, so the decision is made from the query's tokens, read as the
SPARQL grammar reads them, with rdflib's SPARQL parser as a second opinion:

1. A lexer that follows the SPARQL 1.1 grammar (section 19.8): strings (the
   four kinds, with their escapes), IRI references, comments (``#`` up to a
   carriage return *or* a line feed) and escaped characters of prefixed
   names are tokens of their own, so a keyword is what is left between them.
   A ``SERVICE`` or ``LOAD`` keyword there is refused.
2. When the text mentions the word anywhere else (in a string, an IRI, a
   comment), rdflib parses it too (after the two lexical differences between
   rdflib and Oxigraph are evened out: rdflib ends a comment at a line feed
   only, and expands ``\\u`` escapes before parsing rather than in strings and
   IRIs only); a ``SERVICE`` pattern or a ``LOAD`` in its tree is refused.

Either is enough to refuse; a query rdflib cannot parse is judged by 1.
"""

from __future__ import annotations

import re
TYPE_CHECKING = False  # (typing is not imported at run time: `query` starts faster without it)
if TYPE_CHECKING:
    from typing import Any

from .errors import QueryError

_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\r\n]|\\.)*"'
    r"|'(?:[^'\\\r\n]|\\.)*'"
    r"|<[^<>\"{}|^`\\\x00-\x20]*>"
    r"|\\[_~.\-!$&'()*+,;=/?#@%]"  # PN_LOCAL_ESC: an escaped character of a prefixed name
    r"|#[^\r\n]*",
    re.DOTALL,
)
_KEYWORD = re.compile(r"(?<![\w?$:.@\-\\])(SERVICE|LOAD)(?![\w:\-])", re.IGNORECASE)
_NOT_BREAK = re.compile(r"[^\r\n]")
_UCHAR = re.compile(r"\\[uU][0-9A-Fa-f]{4}")
_MENTION = re.compile(r"SERVICE|LOAD", re.IGNORECASE)

REFUSED = {
    "SERVICE": "SERVICE is refused: the query would fetch data over the network; allow it with --allow-service",
    "LOAD": "LOAD is refused: the update would fetch data over the network",
}


def mask(text: str) -> str:
    """The text with strings, IRIs, comments and escaped characters blanked (same length, line breaks
    kept, so that offsets and line numbers still point into the original).

    >>> mask("SELECT * { ?s ?p 'x' } # SERVICE\\rLIMIT 1")
    'SELECT * { ?s ?p     }          \\rLIMIT 1'
    """
    return _TOKENS.sub(lambda m: _NOT_BREAK.sub(" ", m.group(0)), text)


def network_keywords(sparql: str) -> set[str]:
    """The keywords that would reach the network (``SERVICE``, ``LOAD``), upper-cased.

    >>> sorted(network_keywords("SELECT * { #\\rSERVICE <http://x/> { ?s ?p ?o } }"))
    ['SERVICE']
    >>> sorted(network_keywords("SELECT ?service { ?s <http://x/SERVICE> 'LOAD' } # SERVICE"))
    []
    """
    found = {m.group(1).upper() for m in _KEYWORD.finditer(mask(sparql))}
    if not _MENTION.search(sparql):
        return found
    return found | _parsed_keywords(sparql)


def _parsed_keywords(sparql: str) -> set[str]:
    """``SERVICE``/``LOAD`` in rdflib's parse tree of the query (or update); empty when it does not parse."""
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    text = _UCHAR.sub(lambda m: "x" * len(m.group(0)), sparql.replace("\r\n", "\n").replace("\r", "\n"))
    for parse in (parseQuery, parseUpdate):
        try:
            tree = parse(text)
        except Exception:  # pyparsing errors, RecursionError, ValueError: not rdflib's SPARQL
            continue
        found: set[str] = set()
        _walk(tree, found, 0)
        return found
    return set()


def _walk(node: Any, found: set[str], depth: int) -> None:
    from rdflib.plugins.sparql.parserutils import CompValue

    if depth > 200:
        return
    if isinstance(node, CompValue):
        if node.name == "ServiceGraphPattern":
            found.add("SERVICE")
        elif node.name == "Load":
            found.add("LOAD")
        for value in node.values():
            _walk(value, found, depth + 1)
    elif isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
        for value in node:
            _walk(value, found, depth + 1)
    elif isinstance(node, dict):
        for value in node.values():
            _walk(value, found, depth + 1)


def check_query(sparql: str, allow_service: bool = False) -> None:
    """Refuse SERVICE (and LOAD) unless allowed.

    :raises QueryError: the query or update would fetch data over the network.

    >>> check_query("SELECT * WHERE { ?s <http://x/SERVICE> 'SERVICE' }")
    >>> check_query("SELECT * WHERE { #\\rSERVICE <http://x/> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    evidencegraph.errors.QueryError: SERVICE is refused: the query would fetch data over the network; allow it with --allow-service
    """
    if allow_service:
        return
    found = network_keywords(sparql)
    for keyword in ("SERVICE", "LOAD"):
        if keyword in found:
            raise QueryError(REFUSED[keyword])
