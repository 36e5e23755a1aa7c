"""RDF and result formats: names, file extensions and media types, in one table."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

from .errors import UsageError


TYPE_CHECKING = False  # (typing is not imported at run time: `query` starts faster without it)
if TYPE_CHECKING:
    from typing import NamedTuple

    class RdfFormat(NamedTuple):
        name: str
        extensions: tuple[str, ...]
        media_type: str
        quads: bool  # keeps named graphs
        oxigraph: str  # attribute of pyoxigraph.RdfFormat
        rdflib: str  # rdflib plugin name
else:
    RdfFormat = namedtuple("RdfFormat", "name extensions media_type quads oxigraph rdflib")


RDF_FORMATS = {
    f.name: f
    for f in (
        RdfFormat("turtle", (".ttl", ".turtle"), "text/turtle", False, "TURTLE", "turtle"),
        RdfFormat("jsonld", (".jsonld", ".json-ld"), "application/ld+json", True, "JSON_LD", "json-ld"),
        RdfFormat("nt", (".nt", ".ntriples"), "application/n-triples", False, "N_TRIPLES", "nt"),
        RdfFormat("nq", (".nq", ".nquads"), "application/n-quads", True, "N_QUADS", "nquads"),
        RdfFormat("trig", (".trig",), "application/trig", True, "TRIG", "trig"),
        RdfFormat("xml", (".rdf", ".owl", ".xml"), "application/rdf+xml", False, "RDF_XML", "xml"),
    )
}
ALIASES = {
    "ttl": "turtle",
    "json-ld": "jsonld",
    "ntriples": "nt",
    "n-triples": "nt",
    "nquads": "nq",
    "n-quads": "nq",
    "rdfxml": "xml",
    "rdf/xml": "xml",
    "rdf": "xml",
}
def rdf_format(name: str) -> RdfFormat:
    """The RDF format for a name, alias or media type.

    >>> rdf_format("ttl").name
    'turtle'
    >>> rdf_format("application/n-quads").name
    'nq'
    """
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key in RDF_FORMATS:
        return RDF_FORMATS[key]
    for f in RDF_FORMATS.values():
        if f.media_type == key:
            return f
    raise UsageError(f"unknown RDF format {name!r}; use one of {', '.join(RDF_FORMATS)}")


def rdf_format_from_path(path: str | Path) -> RdfFormat | None:
    """The RDF format a file name's extension names, or None.

    >>> rdf_format_from_path("out.trig").name
    'trig'
    """
    suffix = Path(path).suffix.lower()
    for f in RDF_FORMATS.values():
        if suffix in f.extensions:
            return f
    return None


def choose_rdf_format(name: str | None, path: str | Path | None, default: str | None = None) -> RdfFormat:
    """An explicit name wins; else the output file's extension; else the default.

    :raises UsageError: nothing names a format.
    """
    if name:
        return rdf_format(name)
    if path and str(path) != "-":
        found = rdf_format_from_path(path)
        if found:
            return found
        if default is None:
            raise UsageError(f"cannot tell the format from the name {str(path)!r}; give -f/--format")
    if default is None:
        raise UsageError("the -f/--format option must be set when writing to stdout")
    return rdf_format(default)

