"""What a person types as SPARQL: predeclared prefixes and syntax errors in words.

Wherever a user types a query (``evidencegraph query``, the server's
endpoint and query page) the contract's prefixes are declared already, so
``eg:Entity`` works without a ``PREFIX`` line; a query's own declarations
win.  A query that does not parse gets a two-line error: where (line,
column, the query line with a caret under the spot) and what was expected,
in words, instead of pyoxigraph's list of grammar rules and Unicode ranges.

No store, no click: this module only reads query text.
"""

from __future__ import annotations

import re
TYPE_CHECKING = False  # (typing is not imported at run time: `query` starts faster without it)
if TYPE_CHECKING:
    from typing import Any

from .errors import QueryError
from .resources import PREFIXES

#: The contract's prefixes (CONTRACT.md), and rdf:.  Declared in every query a user types.
PREDECLARED = {name: ns for name, ns in PREFIXES.items() if name != "sh"}

QUERY_FORMS = ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
UPDATE_WORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")

_PROLOGUE = re.compile(r"\s*(?:PREFIX\s+[\w.-]*:\s*<?\s*>?|BASE\s+<?\s*>?)", re.IGNORECASE)
_DECLARED = re.compile(r"\bPREFIX\s+([\w.-]*):", re.IGNORECASE)
_PREFIXED = re.compile(r"(?<![\w?$:.-])([A-Za-z][\w.-]*)?:(?=[\w%\\]|\s|$|[;,.)\]}])")
_POSITION = re.compile(r"^error at (\d+):(\d+): (.*)$", re.DOTALL)


def masked(sparql: str) -> str:
    """The query with strings, IRIs and comments blanked out, every offset kept."""
    from .sparqlcheck import mask

    return mask(sparql)


def first_word(sparql: str) -> tuple[str, int]:
    """The first word after the prologue (PREFIX and BASE declarations), and its offset.

    >>> first_word("PREFIX ex: <http://x/> # SELECT\\n  selec * {}")
    ('selec', 34)
    """
    text = masked(sparql)
    pos = 0
    while m := _PROLOGUE.match(text, pos):
        if m.end() == pos:
            break
        pos = m.end()
    word = re.compile(r"\s*([A-Za-z]+)").match(text, pos)
    return (word.group(1), word.start(1)) if word else ("", pos)


def prefix_block(sparql: str) -> str:
    """PREFIX declarations for the predeclared prefixes the query does not declare itself, on one line.

    For servers that do not take predeclared prefixes: prepend it (a query's
    own declaration of a prefix wins, as it comes later).

    >>> prefix_block("PREFIX eg: <http://x/> SELECT * {}").startswith("PREFIX rdf: ")
    True
    """
    own = {m.group(1) for m in _DECLARED.finditer(masked(sparql))}
    return " ".join(f"PREFIX {p}: <{iri}>" for p, iri in PREDECLARED.items() if p not in own)


def with_prefixes(sparql: str) -> str:
    """The query with the predeclared prefixes it lacks declared on a line of their own before it."""
    block = prefix_block(sparql)
    return f"{block}\n{sparql}" if block else sparql


def parse(sparql: str, **options: Any) -> None:
    """Parse the query (with the predeclared prefixes) and nothing else.

    :raises QueryError: the query does not parse; the message says where and what was expected.
    """
    import pyoxigraph as ox

    try:
        ox.Store().query(sparql, prefixes=PREDECLARED, **options)
    except SyntaxError as e:
        raise syntax_error(e, sparql) from None


def syntax_error(error: SyntaxError | str, sparql: str) -> QueryError:
    """pyoxigraph's syntax error -> a QueryError of two lines: where, with a caret, and what was expected.

    >>> print(syntax_error(SyntaxError("error at 1:10: expected CONSTRUCT"), "SELEC * WHERE { ?s ?p ?o }"))
    SPARQL syntax error at line 1, column 1: SELEC * WHERE { ?s ?p ?o }
                                             ^ SELEC is not a query form: did you mean SELECT? (SELECT, CONSTRUCT, ASK or DESCRIBE)
    """
    raw = str(error)
    m = _POSITION.match(raw)
    line, column, expected = (int(m.group(1)), int(m.group(2)), m.group(3)) if m else (1, 1, raw)
    word, offset = first_word(sparql)
    upper = word.upper()
    if upper in UPDATE_WORDS:
        line, column = _line_col(sparql, offset)
        what = (f"{upper} is SPARQL Update, which changes data; a query only reads (SELECT, CONSTRUCT, ASK or DESCRIBE): "
                "the store changes with ingest and remove, or a server's /update with --allow-update")
        return _error(sparql, line, column, what, update=True)
    if upper not in QUERY_FORMS:
        line, column = _line_col(sparql, offset)
        if not word:
            return _error(sparql, line, column, "the query is empty: start it with SELECT, CONSTRUCT, ASK or DESCRIBE")
        import difflib

        close = difflib.get_close_matches(upper, QUERY_FORMS + ("PREFIX", "BASE"), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]}? " if close else ""
        return _error(sparql, line, column, f"{word} is not a query form: {hint}(SELECT, CONSTRUCT, ASK or DESCRIBE)")
    if "Prefix not found" in expected:
        missing = undeclared_prefix(sparql)
        if missing:
            name, at = missing
            line, column = _line_col(sparql, at)
            return _error(sparql, line, column, f"the prefix {name}: is not declared: add PREFIX {name}: <…> "
                          f"(declared already: {', '.join(p + ':' for p in PREDECLARED)})")
    quote = re.search(r"[\"']", masked(sparql))
    if quote is not None:
        line, column = _line_col(sparql, quote.start())
        return _error(sparql, line, column, f"this string is never closed: end it with {quote.group()} on the same line "
                      "(or use triple quotes for text over several lines)")
    lines = sparql.split("\n")
    if line > len(lines) or (line == len(lines) and column > len(lines[-1])):
        opened = unclosed(sparql)
        if opened is not None:
            line, column = _line_col(sparql, opened)
            return _error(sparql, line, column, f"this {sparql[opened]} is never closed: the query ends before its "
                          f"{ {'{': '}', '(': ')', '[': ']'}[sparql[opened]]}")
        line, column = len(lines), len(lines[-1]) + 1
        if expected_words(expected):
            return _error(sparql, line, column, f"the query ends too early: expected {expected_words(expected)}")
    words = expected_words(expected)
    return _error(sparql, line, column, f"expected {words}" if words else
                  "the query does not parse here: check the triple patterns (subject predicate object .) and brackets")


def _error(sparql: str, line: int, column: int, what: str, update: bool = False) -> QueryError:
    lines = sparql.split("\n") or [""]
    text = lines[min(line, len(lines)) - 1].replace("\t", " ").rstrip("\r")
    start = 0
    if len(text) > 70:  # a window of the line around the spot
        start = max(0, min(column - 35, len(text) - 70))
        text = ("…" if start else "") + text[start:start + 70] + ("…" if start + 70 < len(text) else "")
        start -= 1 if start else 0
    head = f"SPARQL syntax error at line {line}, column {column}: "
    caret = " " * (len(head) + column - 1 - start) + "^ " + what
    err = QueryError(f"{head}{text}\n{caret}")
    err.line, err.column, err.expected, err.update = line, column, what, update  # type: ignore[attr-defined]
    return err


def _line_col(sparql: str, offset: int) -> tuple[int, int]:
    before = sparql[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def undeclared_prefix(sparql: str) -> tuple[str, int] | None:
    """The first prefixed name whose prefix is neither declared nor predeclared, and its offset.

    >>> undeclared_prefix("PREFIX ex: <http://x/> SELECT * { ?s ex:p foaf:name, 'a:b' }")
    ('foaf', 42)
    """
    text = masked(sparql)
    known = set(PREDECLARED) | {m.group(1) for m in _DECLARED.finditer(text)}
    for m in _PREFIXED.finditer(text):
        name = m.group(1) or ""
        before = text[: m.start()].rstrip()
        if before.upper().endswith("PREFIX"):
            continue
        if name not in known:
            return name, m.start()
    return None


def unclosed(sparql: str) -> int | None:
    """The offset of the first bracket (``{``, ``(``, ``[``) that is never closed, if any."""
    stack: list[int] = []
    pairs = {"}": "{", ")": "(", "]": "["}
    text = masked(sparql)
    for i, ch in enumerate(text):
        if ch in "{([":
            stack.append(i)
        elif ch in pairs:
            if stack and text[stack[-1]] == pairs[ch]:
                stack.pop()
            else:
                return None  # a stray closer: not an "unclosed" problem
    return stack[0] if stack else None


_FUNCTIONS = {"ABS", "AVG", "DAY", "IRI", "MAX", "MD5", "MIN", "NOW", "STR", "SUM", "URI", "STRSTARTS", "isLITERAL"}
_NOISE = {"LATERAL", "PREDICATE", "SERVICE"}  # alternatives of the grammar's extensions: no help to a person
_PUNCTUATION = {'","': "“,”", '"."': "“.”", '";"': "“;”", '"{"': "“{”", '"}"': "“}”", '"("': "“(”", '")"': "“)”"}


def expected_words(expected: str) -> str:
    """pyoxigraph's ``expected one of …`` list, in words.

    >>> expected_words('expected one of ",", ".", ";", "{", "{|", "}", "~", [\\'A\\' ..= \\'Z\\'], [_]')
    'a name, “,”, “.”, “;”, “{” or “}”'
    >>> expected_words("expected one of ABS, AVG, DAY, IRI, MAX, STR, [_], isLITERAL")
    'an expression (a variable, a literal, an IRI or a function call such as STR(…))'
    >>> expected_words("expected BY")
    'BY'
    """
    body = re.sub(r"^expected (one of )?", "", expected.strip())
    items = _items(body)
    words: list[str] = []
    if len(_FUNCTIONS & set(items)) >= 3:
        return "an expression (a variable, a literal, an IRI or a function call such as STR(…))"
    ranges = [i for i in items if i.startswith("[") and i != "[_]"]
    if any(i.replace(" ", "") == "['0'..='9']" for i in ranges):
        words.append("a number")
    if any(i.replace(" ", "") != "['0'..='9']" for i in ranges):
        words.append("a name")
    for i in items:
        if i.startswith("["):
            continue
        if i in _PUNCTUATION:
            words.append(_PUNCTUATION[i])
        elif i.startswith('"'):
            continue  # rare tokens ("{|", "~", escapes): noise for a person
        elif i == "Prefix not found":
            words.append("a declared prefix")
        elif re.fullmatch(r"[A-Za-z]+", i) and i not in _NOISE:
            words.append(i.upper())
    words = list(dict.fromkeys(words))
    if not words:
        return ""
    if len(words) > 6:
        words = words[:6] + ["…"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _items(body: str) -> list[str]:
    """Split pyoxigraph's list at top-level commas (not inside [...] or quotes)."""
    items, depth, quote, cur = [], 0, False, ""
    for i, ch in enumerate(body):
        if quote:
            cur += ch
            if ch == '"' and body[i - 1] != "\\":
                quote = False
            continue
        if ch == '"':
            quote = True
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items


_STAR = re.compile(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?(\*)", re.IGNORECASE)


def explicit_star(sparql: str) -> str:
    """``SELECT *`` with its variables spelt out in the order they first appear in the query.

    pyoxigraph orders the columns of ``SELECT *`` by name (``?o ?p ?s``);
    people expect the order they wrote.  A query that does not parse, or has
    no top-level ``SELECT *``, is returned as it is.

    >>> explicit_star("SELECT * WHERE { ?s ?p ?o }")
    'SELECT ?s ?p ?o WHERE { ?s ?p ?o }'
    """
    import pyoxigraph as ox

    text = masked(sparql)
    word, offset = first_word(sparql)
    if word.upper() != "SELECT":
        return sparql
    m = _STAR.match(text, offset)
    if m is None:
        return sparql
    try:
        results = ox.Store().query(sparql, prefixes=PREDECLARED)
    except (SyntaxError, OSError, ValueError):
        return sparql
    names = [v.value for v in getattr(results, "variables", [])]
    if not names:
        return sparql

    def first(name: str) -> int:
        found = re.search(rf"[?$]{re.escape(name)}\b", text)
        return found.start() if found else len(text)

    ordered = sorted(names, key=first)
    return sparql[: m.start(1)] + " ".join(f"?{n}" for n in ordered) + sparql[m.end(1):]


def typed_query(db: Any, sparql: str, **options: Any) -> Any:
    """Run a query a person typed on a pyoxigraph store: the server's (and any front end's) one call.

    The contract's prefixes predeclared, ``SELECT *`` in the order written,
    and a syntax error as a two-line QueryError in words.  ``options`` go to
    ``pyoxigraph.Store.query`` (``base_iri``, ``default_graph``, ``substitutions``…).

    >>> import pyoxigraph as ox
    >>> [v.value for v in typed_query(ox.Store(), "SELECT * { ?x a eg:Entity ; rdfs:label ?a }").variables]
    ['x', 'a']

    :raises QueryError: the query does not parse.
    """
    try:
        return db.query(explicit_star(sparql), prefixes=PREDECLARED, **options)
    except SyntaxError as e:
        raise syntax_error(e, sparql) from None
