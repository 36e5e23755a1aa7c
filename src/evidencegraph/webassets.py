"""The web front end's files: our scripts and, when the build had npm, YASGUI and Cytoscape.js.

Everything is served from the package (``_web/``), never from a CDN.  The
third-party files are fetched by the build (``hatch_build.py``) into
``_web/vendor/`` with their licences and notices; without them the query
page is a plain editor and entity pages have no picture (their tables stay).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .sparql import PREDECLARED

WEB = Path(__file__).resolve().parent / "_web"
VENDOR = WEB / "vendor"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".txt": "text/plain; charset=utf-8", ".json": "application/json"}
OURS = ("query.js", "graph.js")
THIRD_PARTY = ("yasgui.min.js", "yasgui.min.css", "cytoscape.min.js", "THIRD-PARTY-NOTICES.txt")


def has_yasgui() -> bool:
    return (VENDOR / "yasgui.min.js").is_file() and (VENDOR / "yasgui.min.css").is_file()


def has_cytoscape() -> bool:
    return (VENDOR / "cytoscape.min.js").is_file()


@lru_cache(maxsize=16)
def asset(name: str) -> tuple[bytes, str] | None:
    """The bytes and media type of a served file (``query.js``, ``vendor/yasgui.min.js``…), or None.

    Only the files named in OURS and THIRD_PARTY are served (no path from the request reaches the disk),
    and ``prefixes.json``: the predeclared prefixes, for YASGUI's prefix completion.

    >>> asset("../../etc/passwd") is None, asset("prefixes.json")[1]
    (True, 'application/json')
    """
    if name == "prefixes.json":
        return json.dumps(PREDECLARED).encode("utf-8"), TYPES[".json"]
    if name in OURS:
        path = WEB / name
    elif name.startswith("vendor/") and name[len("vendor/"):] in THIRD_PARTY:
        path = VENDOR / name[len("vendor/"):]
    else:
        return None
    if not path.is_file():
        return None
    return path.read_bytes(), TYPES[path.suffix]
