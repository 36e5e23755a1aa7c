"""Where the files shipped beside the code live: ontology, shapes, context, queries.

In an installed package they are package data (``evidencegraph/_data``); in
a source checkout they are the project's top-level folders.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
TYPE_CHECKING = False  # (typing is not imported at run time: `query` starts faster without it)
if TYPE_CHECKING:
    from typing import Any

_HERE = Path(__file__).resolve().parent


def _folder(name: str) -> Path:
    packaged = _HERE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _HERE.parents[1] / name


def ontology_path() -> Path:
    return _folder("ontology") / "evidencegraph.ttl"


def context_path() -> Path:
    return _folder("ontology") / "context.jsonld"


def shapes_path() -> Path:
    return _folder("shapes") / "evidencegraph.ttl"


def queries_dir() -> Path:
    return _HERE / "queries"


def missing_files() -> list[Path]:
    """The shipped files this installation lacks (a package copied without its data, a broken install)."""
    return [p for p in (ontology_path(), context_path(), shapes_path(), queries_dir()) if not p.exists()]


def require_files() -> None:
    """Raise one clear error when shipped files are missing, before any input is read (else every page
    would fail on its own with a FileNotFoundError)."""
    missing = missing_files()
    if missing:
        from .errors import EvidenceGraphError

        raise EvidenceGraphError(
            "this installation of evidencegraph is missing its shipped files: "
            + ", ".join(map(str, missing))
            + "; reinstall it (pip install evidencegraph, or pip install -e . in a checkout of the project)")


@lru_cache(maxsize=1)
def context() -> dict[str, Any]:
    """The JSON-LD context (the object under ``@context``)."""
    with open(context_path(), encoding="utf-8") as fh:
        ctx: dict[str, Any] = json.load(fh)["@context"]
    return ctx


PREFIXES = {
    "eg": "https://w3id.org/evidencegraph#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "sh": "http://www.w3.org/ns/shacl#",
}
