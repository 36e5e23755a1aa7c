"""Limits on what one input may ask of the parsers, and the checks that apply them.

One page or RDF file never stops a run: whatever it holds, it is refused with
a ``file:line: message`` error and the other inputs go on.  These limits keep
an input from taking the memory, the time or the stack of the whole process
before a parser gets to say no (a deeply nested JSON-LD document crashes
Oxigraph's parser; nested XML entities make a 1 KB file take gigabytes).

Each limit has a default and an environment variable that sets it (read when
the check runs, so a test or a script can change it):

========================================  =============================  ===========
limit                                     variable                       default
========================================  =============================  ===========
bytes in one page file                    EVIDENCEGRAPH_MAX_PAGE_BYTES   16 MiB
characters in one line of a page          EVIDENCEGRAPH_MAX_LINE         100,000
digits in a number on a page              EVIDENCEGRAPH_MAX_DIGITS       18
seconds to read, map and check one page   EVIDENCEGRAPH_PAGE_SECONDS     60
bytes in one RDF file                     EVIDENCEGRAPH_MAX_RDF_BYTES    2 GiB
nesting depth of JSON-LD and RDF/XML      EVIDENCEGRAPH_MAX_DEPTH        256
characters from XML entity expansion      EVIDENCEGRAPH_MAX_ENTITY_EXPANSION  10,000,000
========================================  =============================  ===========

No rdflib, no click: this module only looks at bytes.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import stat
import threading
from collections import Counter
from contextlib import contextmanager
from itertools import accumulate
from pathlib import Path
from typing import Iterator

DEFAULTS = {
    "MAX_PAGE_BYTES": 16 * 1024 * 1024,
    "MAX_LINE": 100_000,
    "MAX_DIGITS": 18,
    "PAGE_SECONDS": 60,
    "MAX_RDF_BYTES": 2 * 1024 * 1024 * 1024,
    "MAX_DEPTH": 256,
    "MAX_ENTITY_EXPANSION": 10_000_000,
}


class LimitError(ValueError):
    """An input over one of the limits; the message says which, and how to raise it."""


def get(name: str) -> int:
    """A limit's value: ``EVIDENCEGRAPH_{name}`` if set to a positive whole number, else the default.

    >>> get("MAX_DEPTH")
    256
    """
    raw = os.environ.get(f"EVIDENCEGRAPH_{name}", "").strip().replace("_", "")
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return DEFAULTS[name]


def over(what: str, value: int, name: str) -> LimitError:
    """The error for ``what`` (``value``) past the limit ``name``."""
    return LimitError(f"{what} ({value:,}) is over the limit of {get(name):,}; "
                      f"if the input is genuine, raise it with EVIDENCEGRAPH_{name}")


def read_file(path: str | Path, limit: str) -> bytes:
    """The bytes of a regular file of at most ``get(limit)`` bytes.

    Opened without blocking, so a FIFO or a device given as a file is refused
    rather than waited on (or read forever).

    :raises OSError: the file cannot be opened, or is not a regular file (``strerror`` says what it is).
    :raises LimitError: the file is larger than the limit.
    """
    most = get(limit)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode) else (
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "a socket")
            raise OSError(errno.EINVAL, f"{kind}, not a regular file")
        if info.st_size > most:
            raise over("the file's size in bytes", info.st_size, limit)
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as fh:
            # what fstat says, and one byte more to see a file that grew since: not ``most + 1`` at once,
            # which allocates the whole limit (16 MiB a page, 2 GiB an RDF file) for every read
            parts = [fh.read(min(info.st_size, most) + 1) or b""]
            got = len(parts[0])
            while got <= most:  # a file that grew, or a short read: on in bounded reads (FileIO.read(n)
                more = fh.read(min(most + 1 - got, max(got, 1 << 16)))  # allocates n bytes first)
                if not more:
                    break
                parts.append(more)
                got += len(more)
            data = parts[0] if len(parts) == 1 else b"".join(parts)
        if len(data) > most:
            raise over("the file's size in bytes", len(data), limit)
        return data
    finally:
        os.close(fd)


# --- RDF --------------------------------------------------------------------------

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")  # every byte but the brackets
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in JSON text (strings skipped).

    >>> json_depth(b'{"a": [1, {"b": "[[[{"}]}')
    3
    """
    bare = _JSON_STRING.sub(b"", data).translate(None, _BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, bare)), default=0)


_ENTITY_DECL = re.compile(rb"<!ENTITY\s+(%\s+)?([^\s\"'>]+)\s+(?:\"([^\"]*)\"|'([^']*)'|(.))", re.DOTALL)
_ENTITY_REF = re.compile(rb"&([A-Za-z_:][\w.:\-]*);")
_PREDEFINED = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


def xml_entity_expansion(data: bytes) -> int:
    """How many characters the document's internal entities expand to, in all.

    :raises LimitError: an entity definition refers to another entity (the
        "billion laughs"), a parameter entity, or an external entity.

    >>> xml_entity_expansion(b'<!DOCTYPE r [<!ENTITY x "http://x/#">]><r a="&x;b">&x;&amp;</r>')
    20
    """
    if b"<!ENTITY" not in data:
        return 0
    sizes: dict[bytes, int] = {}
    declarations = list(_ENTITY_DECL.finditer(data))
    if len(declarations) != data.count(b"<!ENTITY"):
        raise LimitError("the XML has an entity definition that cannot be read; only <!ENTITY name \"text\"> "
                         "is accepted")
    for m in declarations:
        name = m.group(2)
        value = m.group(3) if m.group(3) is not None else m.group(4)
        if m.group(1):
            raise LimitError(f"the XML defines a parameter entity (%{name.decode('utf-8', 'replace')}); "
                             "they are refused")
        if value is None:
            raise LimitError(f"the XML defines an external entity ({name.decode('utf-8', 'replace')}); "
                             "external entities are refused (no file or network is read)")
        if any(ref not in _PREDEFINED for ref in _ENTITY_REF.findall(value)):
            raise LimitError(f"the XML entity {name.decode('utf-8', 'replace')} is defined with other entities; "
                             "nested entity definitions are refused (they can expand without bound)")
        sizes[name] = len(value)
    uses = Counter(_ENTITY_REF.findall(data))
    return sum(sizes.get(name, 0) * n for name, n in uses.items())


def xml_depth(data: bytes, limit: int) -> int:
    """The nesting depth of XML elements, counted up to ``limit + 1`` (expat, no entity expansion)."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    depth = deepest = 0

    class Deep(Exception):
        pass

    def start(name: str, attrs: object) -> None:
        nonlocal depth, deepest
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                raise Deep

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.DefaultHandler = lambda text: None  # entity references are passed here, not expanded
    try:
        parser.Parse(data, True)
    except Deep:
        pass
    except expat.ExpatError:
        pass  # not well-formed: the RDF/XML parser says where
    return deepest


def check_rdf(data: bytes, fmt: str) -> None:
    """Refuse RDF that would take more than its share before the parser says anything.

    ``fmt`` is the format's name (``jsonld``, ``xml``, ...).

    :raises LimitError: over the size, nesting depth or entity expansion limit.
    """
    if len(data) > get("MAX_RDF_BYTES"):
        raise over("the data's size in bytes", len(data), "MAX_RDF_BYTES")
    if fmt == "jsonld":
        depth = json_depth(data)
        if depth > get("MAX_DEPTH"):
            raise over("the JSON nesting depth", depth, "MAX_DEPTH")
    elif fmt == "xml":
        expansion = xml_entity_expansion(data)
        if expansion > get("MAX_ENTITY_EXPANSION"):
            raise over("the text the XML entities expand to, in characters", expansion, "MAX_ENTITY_EXPANSION")
        depth = xml_depth(data, get("MAX_DEPTH"))
        if depth > get("MAX_DEPTH"):
            raise over("the XML nesting depth", depth, "MAX_DEPTH")


# --- time -------------------------------------------------------------------------


class TimeLimit(Exception):
    """Raised inside the guarded code when its time is up."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeLimit` in the block after ``seconds`` (wall clock).

    Only in the main thread of a process, where signals are delivered (the
    ingest workers, the command line); elsewhere the block runs unbounded.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    kept = _kept_in == os.getpid()  # a worker runs thousands of blocks: its handler stays, only the timer is set
    previous = None if kept else signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if not kept:
            signal.signal(signal.SIGALRM, previous)


_kept_in = 0  # the process whose SIGALRM handler is _expire for good (keep_time_limit_handler)


def keep_time_limit_handler() -> None:
    """In a worker process that runs nothing but time-limited blocks: install the handler once."""
    global _kept_in
    signal.signal(signal.SIGALRM, _expire)
    _kept_in = os.getpid()


def _expire(signum: int, frame: object) -> None:
    raise TimeLimit
