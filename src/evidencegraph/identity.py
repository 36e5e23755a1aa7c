"""The identity rules (CONTRACT.md, Identity): the IRIs of what a page names, and the product's ids.

IRIs are content-derived, so the same entity, source, fact,
relation or page read from two pages, or from two exports of one page, is one
node:

- entity: ``{base}entity/{key}``, the key of its name (:func:`entity_key`:
  case, composition, spacing and punctuation ignored),
- source: ``{base}source/{hash of domain and title}``,
- fact: ``{base}fact/{hash of type word and normalised text}`` (not its source:
  the product lists a fact under its first source, in no fixed order),
- relation: ``{base}relation/{kind}/{key A}--{key B}`` (keys sorted for the
  undirected kind ``related``),
- page: ``{base}page/{key A}--{key B}`` (keys sorted: an edge page shows every
  relation between two nodes), its parts as fragments (``#card-1``…).

Entities and relations also carry the product's own UUIDs (``eg:upstreamId``): its
slug of a name and its edge key, as the Open Knowledge Tree computes them.

>>> entity_iri("Côte d’Ivoire")
'https://w3id.org/evidencegraph/id/entity/côte-d-ivoire'
>>> upstream_node_id("Belgium")
'011611dc-d953-5ace-bd32-07d8e6d58a31'
>>> relation_iri("related", "European Union", "Belgium") == relation_iri("related", "belgium", "European union")
True
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
import uuid
from urllib.parse import quote

from . import __version__
from .page import FACT_TYPES
from .vocab import DEFAULT_BASE, NAMESPACE


def content_hash(*parts: str) -> str:
    """16 hex digits of the SHA-1 of the parts (a source's, a fact's IRI; a name with no letter or digit)."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def normalise_label(label: str) -> str:
    """NFC, white space collapsed: a name or text as stored."""
    return " ".join(unicodedata.normalize("NFC", label).split())


_NOT_ALNUM = re.compile(r"[\W_]+")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_UPSTREAM_NS = uuid.uuid5(uuid.NAMESPACE_URL, "knowledge-tree")
UNDIRECTED_KINDS = frozenset({"related"})


def entity_key(name: str) -> str:
    """The key an entity's identity rests on: the product's slug, but keeping non-ASCII letters.

    NFC, lower-case, every run of characters that are not letters or digits
    becomes one ``-``, leading and trailing ``-`` removed.  A name with no
    letter or digit at all keys by a hash of its normalised form.

    >>> entity_key("Côte d’Ivoire"), entity_key("  côte D'IVOIRE "), entity_key("European Union")
    ('côte-d-ivoire', 'côte-d-ivoire', 'european-union')
    >>> entity_key("—")
    '_1b93795b9768a163'
    """
    key = _NOT_ALNUM.sub("-", unicodedata.normalize("NFC", name).lower()).strip("-")
    return key or "_" + content_hash(normalise_label(name))


def product_slug(name: str) -> str:
    """The Open Knowledge Tree's slug of a node name (empty for a name with no ASCII letter or digit)."""
    return _NOT_SLUG.sub("-", name.lower()).strip("-")[:200]


@functools.lru_cache(maxsize=65536)  # an entity is on many pages: a worker computes its uuid5 once
def upstream_node_id(name: str) -> str | None:
    """The product's node UUID: uuid5(uuid5(NAMESPACE_URL, "knowledge-tree"), slug)."""
    slug = product_slug(normalise_label(name))
    return str(uuid.uuid5(_UPSTREAM_NS, slug)) if slug else None


def edge_key(kind: str, a: str, b: str) -> str | None:
    """The product's edge key ``{kind}:{slugA}--{slugB}`` (slugs sorted for undirected kinds)."""
    sa, sb = product_slug(normalise_label(a)), product_slug(normalise_label(b))
    if not (sa and sb):
        return None
    if kind in UNDIRECTED_KINDS and sb < sa:
        sa, sb = sb, sa
    return f"{kind}:{sa}--{sb}"


@functools.lru_cache(maxsize=65536)
def upstream_edge_id(kind: str, a: str, b: str) -> str | None:
    key = edge_key(kind, a, b)
    return str(uuid.uuid5(_UPSTREAM_NS, key)) if key else None


def _quote(text: str, keep: str = "") -> str:
    """Percent-encode what an IRI path segment may not hold; keep other non-ASCII as is."""
    if text.isascii():
        return quote(text, safe=_SAFE_ASCII + keep)
    # RFC 3987 ucschar: printable non-ASCII, except the specials block U+FFF0-U+FFFF (e.g. U+FFFD)
    return "".join(ch if 0x7F < ord(ch) and not 0xFFF0 <= ord(ch) <= 0xFFFF and ch.isprintable()
                   else quote(ch, safe=_SAFE_ASCII + keep) for ch in text)


_SAFE_ASCII = "!$&'()*+,;=:@-._~"


def entity_iri(label: str, base: str = DEFAULT_BASE) -> str:
    return f"{base}entity/{_quote(entity_key(label))}"


def source_iri(domain: str | None, title: str, base: str = DEFAULT_BASE) -> str:
    return f"{base}source/{content_hash(domain or '', normalise_label(title))}"


def fact_iri(type_word: str, text: str, base: str = DEFAULT_BASE) -> str:
    return f"{base}fact/{content_hash(type_word, normalise_label(text))}"


def relation_iri(kind: str, a: str, b: str, base: str = DEFAULT_BASE) -> str:
    """A relation by its kind and its two entities' names (in key order for undirected kinds)."""
    ka, kb = entity_key(a), entity_key(b)
    if kind in UNDIRECTED_KINDS and kb < ka:
        ka, kb = kb, ka
    return f"{base}relation/{_quote(kind)}/{_quote(ka)}--{_quote(kb)}"


def page_iri(a: str, b: str, base: str = DEFAULT_BASE) -> str:
    """A page by its two entities' names, unordered."""
    ka, kb = sorted((entity_key(a), entity_key(b)))
    return f"{base}page/{_quote(ka)}--{_quote(kb)}"


def fact_type_iri(word: str, base: str = DEFAULT_BASE) -> str:
    return NAMESPACE + word if word in FACT_TYPES else f"{base}factType/{_quote(word)}"


def agent_iri(base: str = DEFAULT_BASE) -> str:
    return f"{base}agent/evidencegraph/{__version__}"
